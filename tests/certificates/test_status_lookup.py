"""The database status lookup: a credential's two bits read in one statement agree with reading them one by one."""

from __future__ import annotations

from certificates import services
from certificates.credentials import status_refs
from certificates.verify import Outcome

from .conftest import Issuing


def _bits(issuing: Issuing, certificate_id: int) -> tuple[list[bool | None], list[bool | None]]:
    """(one statement, one by one) for the certificate's revocation and suspension entries."""
    token = issuing.credential(certificate_id)
    with issuing.app.test_request_context("/api/v1/verify", method="POST"):
        result = services.verify_credential(token, services.trust_list(), None)
        entries = [(ref.list_url, ref.index) for ref in status_refs(result.payload)]
        lookup = services.DatabaseStatusLookup()
        return lookup.many(entries), [lookup(url, index) for url, index in entries]


def test_the_pair_read_agrees_with_single_reads_through_suspension_and_revocation(issuing):
    certificate = issuing.certificate()
    cid = certificate["id"]
    assert _bits(issuing, cid) == ([False, False], [False, False])
    assert issuing.verify(token=issuing.credential(cid))["outcome"] == Outcome.VALID

    assert issuing.status(cid, "suspend").status_code == 200
    assert _bits(issuing, cid) == ([False, True], [False, True])
    assert issuing.verify(token=issuing.credential(cid))["outcome"] == Outcome.SUSPENDED

    assert issuing.status(cid, "unsuspend").status_code == 200
    assert _bits(issuing, cid) == ([False, False], [False, False])

    assert issuing.status(cid, "revoke", reason="issued in error").status_code == 200
    assert _bits(issuing, cid) == ([True, False], [True, False])
    assert issuing.verify(token=issuing.credential(cid))["outcome"] == Outcome.REVOKED


def test_a_neighbouring_certificate_keeps_its_own_bits(issuing):
    first = issuing.certificate("IE-0001")["id"]
    second = issuing.certificate("IE-0002")["id"]
    assert issuing.status(first, "revoke", reason="issued in error").status_code == 200
    assert _bits(issuing, first)[0] == [True, False]
    assert _bits(issuing, second) == ([False, False], [False, False])


def test_entries_outside_the_registrys_lists_are_unknown(issuing):
    issuing.certificate()  # the registry's lists exist; these entries name none of them
    with issuing.app.test_request_context("/api/v1/verify", method="POST"):
        lookup = services.DatabaseStatusLookup()
        base = services.status_list_base()
        entries = [("https://elsewhere.example/lists/1", 5), (f"{base}999999", 5)]
        assert lookup.many(entries) == [None, None]


def test_a_taken_index_is_never_given_again(issuing, monkeypatch):
    """Allocation asks the database whether a random index is taken; a collision draws again."""
    import secrets

    from certificates import status_list
    from certificates.models import Certificate
    from registry.core.db import db

    first = issuing.certificate("IE-0001")["id"]
    with issuing.app.app_context():
        taken = db.session.get(Certificate, first)
        taken_revocation, taken_suspension = taken.revocation_index, taken.suspension_index
    free = next(i for i in range(131_072) if i not in (taken_revocation, taken_suspension))
    draws = iter([taken_revocation, free, taken_suspension, free])
    monkeypatch.setattr(status_list.secrets, "randbelow", lambda size: next(draws))
    second = issuing.certificate("IE-0002")["id"]
    monkeypatch.setattr(status_list.secrets, "randbelow", secrets.randbelow)
    with issuing.app.app_context():
        certificate = db.session.get(Certificate, second)
        assert (certificate.revocation_index, certificate.suspension_index) == (free, free)
        # Both draws that hit a taken index were refused; the four draws were all used.
        assert next(draws, None) is None
        revocation_list = certificate.revocation_list_id
        used = services._UsedIndexes(db.session.get(services.StatusList, revocation_list),
                                     Certificate.revocation_list_id, Certificate.revocation_index)
        assert sorted(used) == sorted({taken_revocation, free}) and len(used) == 2
        untouched = next(i for i in range(131_072) if i not in (taken_revocation, free))
        assert taken_revocation in used and free in used and untouched not in used


def test_the_pair_read_brings_the_certificate_holding_the_entry(issuing):
    """Reading a credential's two bits also reads its certificate (id, clinician): the same row the
    credential id names. Any other credential id is looked up on its own."""
    first = issuing.certificate("IE-0001")["id"]
    second = issuing.certificate("IE-0002")["id"]
    token = issuing.credential(first)
    with issuing.app.test_request_context("/api/v1/verify", method="POST"):
        result = services.verify_credential(token, services.trust_list(), None)
        entries = [(ref.list_url, ref.index) for ref in status_refs(result.payload)]
        lookup = services.DatabaseStatusLookup()
        assert lookup.many(entries) == [False, False]
        held = lookup.certificate(result.payload["id"])
        alone = services._certificate_by_credential_id(result.payload["id"])
        assert held.id == first and (held.id, held.clinician_id) == tuple(alone)
        other_id = services.verify_credential(issuing.credential(second), services.trust_list(), None).payload["id"]
        assert lookup.certificate(other_id).id == second
        assert lookup.certificate("urn:uuid:00000000-0000-4000-8000-000000000000") is None
