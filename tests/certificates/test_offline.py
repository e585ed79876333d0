"""Offline verification: a token, the trust list and signed status lists; no network, no database."""

from datetime import timedelta

import pytest

from certificates.compact import compact_claims, sign_compact_token
from certificates.credentials import sign_credential
from certificates.offline import StatusListSet, verify_offline, verify_status_list
from certificates.status_list import new_bitstring, set_bit, status_list_credential
from certificates.verify import Outcome, StepName

from .conftest import NOW, trust_list_of


def signed_list(issuer, purpose, set_indexes=(), *, url=None, signer=None, valid_until=NOW + timedelta(days=1)):
    bits = new_bitstring()
    for index in set_indexes:
        set_bit(bits, index)
    credential = status_list_credential(
        list_url=url or issuer.status_url(purpose),
        issuer={"id": issuer.id, "name": issuer.name},
        purpose=purpose,
        bits=bits,
        valid_from=NOW - timedelta(hours=2),
        valid_until=valid_until,
    )
    signer = signer or issuer
    return sign_credential(credential, signer.key, signer.kid, issued_at=NOW - timedelta(hours=2))


def lists_of(issuer, revoked=(), suspended=()):
    return {
        issuer.status_url("revocation"): signed_list(issuer, "revocation", revoked),
        issuer.status_url("suspension"): signed_list(issuer, "suspension", suspended),
    }


@pytest.fixture
def token(issuer, make_credential):
    return sign_credential(make_credential(issuer), issuer.key, issuer.kid, issued_at=NOW - timedelta(days=10))


def test_valid_offline(issuer, token):
    result = verify_offline(token, trust_list_of(issuer), lists_of(issuer), now=NOW)
    assert result.outcome is Outcome.VALID
    assert result.step(StepName.STATUS).detail == "neither revoked nor suspended"


def test_revoked_offline(issuer, token):
    result = verify_offline(token, trust_list_of(issuer), lists_of(issuer, revoked=[9041]), now=NOW)
    assert result.outcome is Outcome.REVOKED


def test_suspended_offline(issuer, token):
    assert verify_offline(token, trust_list_of(issuer), lists_of(issuer, suspended=[77120]), now=NOW).outcome is (
        Outcome.SUSPENDED
    )
    # Another index set in the same list does not touch this credential.
    assert verify_offline(token, trust_list_of(issuer), lists_of(issuer, suspended=[77121]), now=NOW).outcome is (
        Outcome.VALID
    )


def test_missing_status_lists_leave_the_status_unknown(issuer, token):
    assert verify_offline(token, trust_list_of(issuer), {}, now=NOW).outcome is Outcome.STATUS_UNKNOWN


def test_a_forged_status_list_is_not_believed(make_issuer, make_credential):
    board, rogue = make_issuer("IE-HPB"), make_issuer("XX-ROGUE")
    token = sign_credential(make_credential(board), board.key, board.kid, issued_at=NOW - timedelta(days=10))
    trust = trust_list_of(board, rogue)
    # Signed by another trusted issuer: it claims to be the board's list but the kid is not the board's.
    lists = lists_of(board)
    lists[board.status_url("revocation")] = signed_list(board, "revocation", [], signer=rogue)
    result = verify_offline(token, trust, lists, now=NOW)
    assert result.outcome is Outcome.STATUS_UNKNOWN
    # A list the rogue issues in its own name, published under the board's URL.
    lists[board.status_url("revocation")] = signed_list(rogue, "revocation", [], url=board.status_url("revocation"))
    assert verify_offline(token, trust, lists, now=NOW).outcome is Outcome.STATUS_UNKNOWN


def test_lists_must_be_signed_current_and_at_their_own_url(issuer, token):
    trust = trust_list_of(issuer)
    revocation, suspension = issuer.status_url("revocation"), issuer.status_url("suspension")
    cases = {
        "unsigned dict": {"@context": [], "type": ["VerifiableCredential", "BitstringStatusListCredential"]},
        "expired list": signed_list(issuer, "revocation", valid_until=NOW - timedelta(minutes=1)),
        "wrong url": signed_list(issuer, "revocation", url=revocation + "0"),
        "wrong purpose": signed_list(issuer, "suspension", url=revocation),
    }
    for name, document in cases.items():
        lists = {revocation: document, suspension: signed_list(issuer, "suspension")}
        assert verify_offline(token, trust, lists, now=NOW).outcome is Outcome.STATUS_UNKNOWN, name
    statuses = StatusListSet({revocation: cases["wrong url"]}, trust, now=NOW)
    assert "published for" in statuses.problems[revocation]


def test_a_tampered_status_list_is_not_used(issuer, token):
    lists = lists_of(issuer, revoked=[9041])
    head, body, signature = lists[issuer.status_url("revocation")].split(".")
    clean = signed_list(issuer, "revocation").split(".")[1]
    lists[issuer.status_url("revocation")] = f"{head}.{clean}.{signature}"  # the revoked bit removed
    assert verify_offline(token, trust_list_of(issuer), lists, now=NOW).outcome is Outcome.STATUS_UNKNOWN


def test_enveloped_status_lists_are_accepted(issuer, token):
    lists = {
        url: {
            "@context": ["https://www.w3.org/ns/credentials/v2"],
            "id": "data:application/vc+jwt," + jws,
            "type": "EnvelopedVerifiableCredential",
        }
        for url, jws in lists_of(issuer, revoked=[9041]).items()
    }
    assert verify_offline(token, trust_list_of(issuer), lists, now=NOW).outcome is Outcome.REVOKED


def test_the_qr_token_verifies_offline(issuer, make_credential):
    credential = make_credential(issuer)
    claims = compact_claims(credential, subject_name="Aoife Murphy", registry_number="IE-N-104233", issued_at=NOW)
    qr_token = sign_compact_token(claims, issuer.key, issuer.kid)
    trust = trust_list_of(issuer)
    assert verify_offline(qr_token, trust, lists_of(issuer), now=NOW).outcome is Outcome.VALID
    assert verify_offline(qr_token, trust, lists_of(issuer, suspended=[77120]), now=NOW).outcome is Outcome.SUSPENDED


def test_verify_status_list_returns_the_bits_only_when_valid(make_issuer):
    issuer = make_issuer()
    result, verified = verify_status_list(signed_list(issuer, "revocation", [5]), trust_list_of(issuer), now=NOW)
    assert result.outcome is Outcome.VALID and verified.info.purpose == "revocation"
    assert verified.info.issuer_id == issuer.id and verified.bits[0] == 0x04
    stranger = make_issuer("XX-FAKE")
    result, verified = verify_status_list(signed_list(stranger, "revocation"), trust_list_of(issuer), now=NOW)
    assert result.outcome is Outcome.UNKNOWN_ISSUER and verified is None


def test_bulk_verification_leaves_the_collector_as_it_found_it(issuer, token):
    import gc

    from certificates.offline import verify_many

    trust, lists = trust_list_of(issuer), lists_of(issuer, revoked=[9041])
    assert gc.isenabled()
    head, _, signature = token.rpartition(".")
    tampered = f"{head}.{'B' if signature[0] == 'A' else 'A'}{signature[1:]}"
    results = verify_many([token, tampered, token], trust, lists, now=NOW)
    assert [r.outcome for r in results] == [Outcome.REVOKED, Outcome.INVALID_SIGNATURE, Outcome.REVOKED]
    assert gc.isenabled()
    gc.disable()
    try:
        verify_many([token], trust, lists, now=NOW)
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_bulk_verification_gives_each_token_what_verifying_it_alone_gives(issuer, make_issuer, make_credential,
                                                                         monkeypatch):
    """verify_many checks the signatures in a pass of their own (run_verifications): the results, in order, are
    those of verify_offline token by token, across chunk boundaries too."""
    import certificates.verify as verify_module
    from certificates.offline import verify_many
    from certificates.status_list import StatusPurpose, status_entry

    monkeypatch.setattr(verify_module, "_CHUNK", 3)
    stranger = make_issuer("XX-FAKE")
    trust, lists = trust_list_of(issuer), lists_of(issuer, revoked=[9041], suspended=[77])

    def entries(revocation, suspension):
        return [status_entry(issuer.status_url(StatusPurpose.REVOCATION), revocation, StatusPurpose.REVOCATION),
                status_entry(issuer.status_url(StatusPurpose.SUSPENSION), suspension, StatusPurpose.SUSPENSION)]

    def signed_with(credential, signer=issuer, at=NOW - timedelta(days=1)):
        return sign_credential(credential, signer.key, signer.kid, issued_at=at)

    valid = signed_with(make_credential(issuer, status=entries(5, 6)))
    revoked = signed_with(make_credential(issuer, status=entries(9041, 6)))
    suspended = signed_with(make_credential(issuer, status=entries(5, 77)))
    expired = signed_with(make_credential(issuer, status=entries(5, 6), valid_from=NOW - timedelta(days=30),
                                          valid_until=NOW - timedelta(days=1)), at=NOW - timedelta(days=30))
    head, body, signature = valid.split(".")
    tampered_signature = f"{head}.{body}.{'B' if signature[0] == 'A' else 'A'}{signature[1:]}"
    tampered_payload = f"{head}.{revoked.split('.')[1]}.{signature}"
    unknown = signed_with(make_credential(stranger), signer=stranger)
    credential = make_credential(issuer, status=entries(5, 77))
    qr = sign_compact_token(compact_claims(credential, subject_name="Aoife Murphy", issued_at=NOW), issuer.key,
                            issuer.kid)
    tokens = [valid, revoked, "not a token", suspended, expired, tampered_signature, tampered_payload, unknown, qr,
              valid, "a.b.c"]
    results = verify_many(tokens, trust, lists, now=NOW)
    assert [r.outcome for r in results] == [
        Outcome.VALID, Outcome.REVOKED, Outcome.MALFORMED, Outcome.SUSPENDED, Outcome.EXPIRED,
        Outcome.INVALID_SIGNATURE, Outcome.INVALID_SIGNATURE, Outcome.UNKNOWN_ISSUER, Outcome.SUSPENDED,
        Outcome.VALID, Outcome.MALFORMED]
    alone = [verify_offline(token, trust, lists, now=NOW) for token in tokens]
    for together, single in zip(results, alone, strict=True):
        assert together.to_dict() == single.to_dict()
