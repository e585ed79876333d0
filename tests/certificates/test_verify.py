"""VC-JWT signing and verification: every rejection gives its own named outcome, and every step is reported."""

import hashlib
import hmac
import json
from datetime import timedelta

import jwt
import pytest
from cryptography.hazmat.primitives import serialization

from certificates.credentials import CertificateKind, CredentialError, sign_credential
from certificates.jose import EDDSA, b64url_decode, b64url_encode, compact_json, sign_compact
from certificates.keys import generate_key, jwks
from certificates.trust import TrustList, TrustListError
from certificates.verify import Outcome, StepName, StepState, verify_credential

from .conftest import NOW, clear_status, trust_list_of


def segments(token):
    header, payload, signature = token.split(".")
    return json.loads(b64url_decode(header)), json.loads(b64url_decode(payload)), signature


def assemble(header, payload, signature):
    return ".".join([b64url_encode(compact_json(header)), b64url_encode(compact_json(payload)), signature])


def verify(token, *issuers, lookup=clear_status, now=NOW):
    return verify_credential(token, trust_list_of(*issuers), lookup, now=now)


def signed(issuer, credential, issued_at=NOW - timedelta(days=10)):
    return sign_credential(credential, issuer.key, issuer.kid, issued_at=issued_at)


def test_a_good_credential_verifies_and_reports_every_step(issuer, make_credential):
    credential = make_credential(issuer)
    result = verify(signed(issuer, credential), issuer)
    assert result.outcome is Outcome.VALID and result.valid
    assert [step.name for step in result.steps] == list(StepName)
    assert all(step.state is StepState.PASSED for step in result.steps)
    assert result.issuer.id == issuer.id and result.kid == issuer.kid
    # The payload is the credential as signed, plus the mirrored JWT claims.
    assert {k: v for k, v in result.payload.items() if k not in ("iss", "jti", "iat", "nbf", "exp")} == credential
    json.dumps(result.to_dict())


def test_the_vc_jwt_has_the_specified_shape(issuer, make_credential):
    credential = make_credential(issuer)
    header, payload, _ = segments(signed(issuer, credential))
    assert header == {"alg": "ES256", "kid": issuer.kid, "typ": "vc+jwt"}
    assert payload["@context"] == ["https://www.w3.org/ns/credentials/v2"]
    assert payload["id"].startswith("urn:uuid:") and payload["jti"] == payload["id"]
    assert payload["iss"] == payload["issuer"]["id"] == issuer.id
    assert payload["type"] == ["VerifiableCredential", "GoodStandingCredential"]
    assert payload["iat"] == int((NOW - timedelta(days=10)).timestamp())
    assert payload["nbf"] == int((NOW - timedelta(days=10)).timestamp())
    assert payload["exp"] == int((NOW + timedelta(days=80)).timestamp())
    assert payload["validFrom"] == "2026-02-19T12:00:00Z" and payload["validUntil"] == "2026-05-20T12:00:00Z"
    assert "vc" not in payload and "vp" not in payload
    assert payload["credentialStatus"][0] == {
        "id": f"{issuer.status_url('revocation')}#9041",
        "type": "BitstringStatusListEntry",
        "statusPurpose": "revocation",
        "statusListIndex": "9041",
        "statusListCredential": issuer.status_url("revocation"),
    }


def test_any_jose_library_verifies_it_from_the_jwks_alone(issuer, make_credential):
    token = signed(issuer, make_credential(issuer))
    published = json.loads(json.dumps(jwks([issuer.jwk])))  # as served at /.well-known/jwks.json
    header = jwt.get_unverified_header(token)
    jwk = next(key for key in published["keys"] if key["kid"] == header["kid"])
    decoded = jwt.api_jws.decode_complete(token, key=jwt.PyJWK(jwk), algorithms=["ES256", "EdDSA"])
    assert decoded["header"]["typ"] == "vc+jwt"
    assert json.loads(decoded["payload"])["credentialSubject"]["name"] == "Aoife Murphy"


def test_eddsa_credentials_verify(make_issuer, make_credential):
    issuer = make_issuer(alg=EDDSA)
    token = signed(issuer, make_credential(issuer))
    assert segments(token)[0]["alg"] == "EdDSA"
    assert verify(token, issuer).outcome is Outcome.VALID


def test_tampered_payload_is_invalid_signature(issuer, make_credential):
    header, payload, signature = segments(signed(issuer, make_credential(issuer)))
    payload["credentialSubject"]["name"] = "Someone Else"
    result = verify(assemble(header, payload, signature), issuer)
    assert result.outcome is Outcome.INVALID_SIGNATURE
    assert result.step(StepName.SIGNATURE).state is StepState.FAILED
    assert result.step(StepName.CLAIMS).state is StepState.SKIPPED
    assert result.payload is None  # nothing unverified is handed out


def test_tampered_signature_is_invalid_signature(issuer, make_credential):
    token = signed(issuer, make_credential(issuer))
    head, body, signature = token.split(".")
    raw = bytearray(b64url_decode(signature))
    raw[5] ^= 0x40
    assert verify(f"{head}.{body}.{b64url_encode(bytes(raw))}", issuer).outcome is Outcome.INVALID_SIGNATURE
    assert verify(f"{head}.{body}.{b64url_encode(bytes(raw[:40]))}", issuer).outcome is Outcome.INVALID_SIGNATURE


def test_alg_none_is_refused(issuer, make_credential):
    header, payload, _ = segments(signed(issuer, make_credential(issuer)))
    for alg in ("none", "None", "NONE"):
        result = verify(assemble({**header, "alg": alg}, payload, ""), issuer)
        assert result.outcome is Outcome.UNSUPPORTED_ALGORITHM
        assert result.step(StepName.FORMAT).state is StepState.FAILED


def test_hs256_signed_with_the_public_key_is_refused(issuer, make_credential):
    """Algorithm confusion: an HMAC keyed with the issuer's public key, which anyone has."""
    header, payload, _ = segments(signed(issuer, make_credential(issuer)))
    header = {**header, "alg": "HS256"}
    signing_input = f"{b64url_encode(compact_json(header))}.{b64url_encode(compact_json(payload))}".encode()
    pem = issuer.key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    for secret in (pem, compact_json(issuer.jwk), json.dumps(issuer.jwk).encode()):
        mac = hmac.new(secret, signing_input, hashlib.sha256).digest()
        result = verify(f"{signing_input.decode()}.{b64url_encode(mac)}", issuer)
        assert result.outcome is Outcome.UNSUPPORTED_ALGORITHM
        assert result.payload is None


def test_header_alg_must_be_the_trusted_keys_alg(make_issuer, make_credential):
    issuer = make_issuer(alg=EDDSA)
    header, payload, signature = segments(signed(issuer, make_credential(issuer)))
    result = verify(assemble({**header, "alg": "ES256"}, payload, signature), issuer)
    assert result.outcome is Outcome.UNSUPPORTED_ALGORITHM
    assert result.step(StepName.ISSUER).state is StepState.FAILED


def test_unknown_kid(issuer, make_credential):
    stray_key, stray_jwk = generate_key()
    token = sign_credential(make_credential(issuer), stray_key, stray_jwk["kid"], issued_at=NOW)
    result = verify(token, issuer)
    assert result.outcome is Outcome.UNKNOWN_KEY
    assert result.kid == stray_jwk["kid"]


def test_a_key_of_another_issuer_cannot_sign_for_this_one(make_issuer, make_credential):
    board = make_issuer("IE-HPB")
    hub = make_issuer("IE-DTH", name="Dublin Trauma Training Hub")
    forged = sign_credential(make_credential(board), hub.key, hub.kid, issued_at=NOW)
    result = verify(forged, board, hub)
    assert result.outcome is Outcome.UNKNOWN_KEY
    assert "belongs to" in result.step(StepName.ISSUER).detail


def test_unknown_issuer(make_issuer, make_credential):
    listed, unlisted = make_issuer("IE-HPB"), make_issuer("XX-FAKE")
    result = verify(signed(unlisted, make_credential(unlisted)), listed)
    assert result.outcome is Outcome.UNKNOWN_ISSUER


def test_issuer_not_authorised_for_the_kind(make_issuer, make_credential):
    hub = make_issuer("IE-DTH", kinds=[CertificateKind.COURSE_COMPLETION.value])
    result = verify(signed(hub, make_credential(hub, kind=CertificateKind.GOOD_STANDING)), hub)
    assert result.outcome is Outcome.NOT_AUTHORISED


@pytest.mark.parametrize("typ", ["JWT", "at+jwt", "vp+jwt", None])
def test_wrong_typ(issuer, make_credential, typ):
    header, payload, _ = segments(signed(issuer, make_credential(issuer)))
    header = {key: value for key, value in {**header, "typ": typ}.items() if value is not None}
    token = sign_compact(header, compact_json(payload), issuer.key)
    assert verify(token, issuer).outcome is Outcome.WRONG_TYPE


def test_typ_with_media_type_prefix_is_accepted(issuer, make_credential):
    header, payload, _ = segments(signed(issuer, make_credential(issuer)))
    token = sign_compact({**header, "typ": "application/VC+JWT"}, compact_json(payload), issuer.key)
    assert verify(token, issuer).outcome is Outcome.VALID


def test_signed_before_the_keys_window(make_issuer, make_credential):
    issuer = make_issuer(not_before=NOW - timedelta(days=5))
    result = verify(signed(issuer, make_credential(issuer), issued_at=NOW - timedelta(days=6)), issuer)
    assert result.outcome is Outcome.KEY_OUTSIDE_WINDOW
    assert result.payload is None


def test_signed_after_the_key_was_retired(make_issuer, make_credential):
    issuer = make_issuer(not_after=NOW - timedelta(days=30))
    result = verify(signed(issuer, make_credential(issuer), issued_at=NOW - timedelta(days=10)), issuer)
    assert result.outcome is Outcome.KEY_OUTSIDE_WINDOW


def test_a_retired_key_still_verifies_what_it_signed_in_its_window(make_issuer, make_credential):
    issuer = make_issuer(not_after=NOW - timedelta(days=5))
    assert verify(signed(issuer, make_credential(issuer)), issuer).outcome is Outcome.VALID


def test_a_compromised_key_verifies_nothing(make_issuer, make_credential):
    issuer = make_issuer(compromised=True)
    result = verify(signed(issuer, make_credential(issuer)), issuer)
    assert result.outcome is Outcome.KEY_COMPROMISED
    assert result.step(StepName.SIGNATURE).state is StepState.SKIPPED
    assert result.payload is None


def test_a_re_signed_credential_keeps_its_dates_under_the_new_key(make_issuer, make_credential):
    old = make_issuer(compromised=True)
    credential = make_credential(old, valid_from=NOW - timedelta(days=60))
    new = make_issuer(not_before=NOW - timedelta(days=1))  # the same issuer's replacement key
    trust = {"issuers": [{**old.trust_entry(), "keys": [old.key_entry(), new.key_entry()]}]}
    old_token = signed(old, credential, issued_at=NOW - timedelta(days=60))
    assert verify_credential(old_token, trust, clear_status, now=NOW).outcome is Outcome.KEY_COMPROMISED
    resigned = sign_credential(segments(old_token)[1], new.key, new.kid, issued_at=NOW - timedelta(hours=1))
    result = verify_credential(resigned, trust, clear_status, now=NOW)
    assert result.outcome is Outcome.VALID
    assert result.payload["validFrom"] == credential["validFrom"]


def test_expired(issuer, make_credential):
    credential = make_credential(issuer, valid_from=NOW - timedelta(days=100), valid_until=NOW - timedelta(days=10))
    token = signed(issuer, credential, issued_at=NOW - timedelta(days=100))
    result = verify(token, issuer)
    assert result.outcome is Outcome.EXPIRED
    assert result.payload is not None and result.authentic  # the page may show what expired
    assert verify(token, issuer, now=NOW - timedelta(days=11)).outcome is Outcome.VALID


def test_expiry_is_exclusive_at_valid_until(issuer, make_credential):
    credential = make_credential(issuer)
    token = signed(issuer, credential)
    assert verify(token, issuer, now=NOW + timedelta(days=80)).outcome is Outcome.EXPIRED
    assert verify(token, issuer, now=NOW + timedelta(days=80, seconds=-1)).outcome is Outcome.VALID


def test_not_yet_valid(issuer, make_credential):
    credential = make_credential(issuer, valid_from=NOW + timedelta(days=2), valid_until=NOW + timedelta(days=90))
    assert verify(signed(issuer, credential, issued_at=NOW), issuer).outcome is Outcome.NOT_YET_VALID


def test_revoked(issuer, make_credential):
    revocation_list = issuer.status_url("revocation")
    result = verify(signed(issuer, make_credential(issuer)), issuer, lookup=lambda url, i: url == revocation_list)
    assert result.outcome is Outcome.REVOKED


def test_suspended(issuer, make_credential):
    suspension_list = issuer.status_url("suspension")
    result = verify(signed(issuer, make_credential(issuer)), issuer, lookup=lambda url, i: url == suspension_list)
    assert result.outcome is Outcome.SUSPENDED


def test_status_lookup_receives_the_entry_url_and_index(issuer, make_credential):
    asked = []
    verify(signed(issuer, make_credential(issuer)), issuer, lookup=lambda url, i: asked.append((url, i)) or False)
    assert asked == [(issuer.status_url("revocation"), 9041), (issuer.status_url("suspension"), 77120)]


def test_revocation_outranks_expiry(issuer, make_credential):
    credential = make_credential(issuer, valid_from=NOW - timedelta(days=100), valid_until=NOW - timedelta(days=10))
    token = signed(issuer, credential, issued_at=NOW - timedelta(days=100))
    result = verify(token, issuer, lookup=lambda url, i: True)
    assert result.outcome is Outcome.REVOKED
    assert result.step(StepName.DATES).outcome is Outcome.EXPIRED


def test_unavailable_status_is_not_valid(issuer, make_credential):
    token = signed(issuer, make_credential(issuer))
    assert verify(token, issuer, lookup=lambda url, i: None).outcome is Outcome.STATUS_UNKNOWN
    assert verify(token, issuer, lookup=None).outcome is Outcome.STATUS_UNKNOWN


def test_a_credential_without_status_entries_needs_no_lookup(issuer, make_credential):
    token = signed(issuer, make_credential(issuer, status=[]))
    assert verify(token, issuer, lookup=None).outcome is Outcome.VALID


@pytest.mark.parametrize(
    "change",
    [
        lambda p: p.update(vc={"type": ["VerifiableCredential"]}),
        lambda p: p.update(vp={}),
        lambda p: p.update(iss="https://elsewhere.example"),
        lambda p: p.update(jti="urn:uuid:00000000-0000-0000-0000-000000000000"),
        lambda p: p.update(nbf=p["nbf"] - 3600),
        lambda p: p.update(exp=p["exp"] + 3600),
        lambda p: p.pop("exp"),
        lambda p: p.update({"@context": ["https://www.w3.org/2018/credentials/v1"]}),
        lambda p: p.update(id="https://not-a-uuid.example/1"),
        lambda p: p.update(type=["VerifiableCredential"]),
        lambda p: p.update(credentialSubject={}),
        lambda p: p.update(validUntil=p["validFrom"]),
        lambda p: p["credentialStatus"][0].update(statusListIndex=9041),
        lambda p: p.update(iat=int((NOW + timedelta(days=1)).timestamp())),
    ],
)
def test_badly_formed_claims_are_invalid_claims(issuer, make_credential, change):
    header, payload, _ = segments(signed(issuer, make_credential(issuer)))
    change(payload)
    token = sign_compact(header, compact_json(payload), issuer.key)
    result = verify(token, issuer)
    assert result.outcome is Outcome.INVALID_CLAIMS, result.step(StepName.CLAIMS).detail
    assert result.step(StepName.SIGNATURE).state is StepState.PASSED


@pytest.mark.parametrize(
    "token",
    [
        "",
        "not a token",
        "a.b",
        "a.b.c.d.e",  # a JWE, or junk
        "e30.e30.e30",  # {} header: no alg
        b64url_encode(b"[1]") + ".e30.AA",
        b64url_encode(b"not json") + ".e30.AA",
        "eyJhbGciOiJFUzI1NiJ9=.e30.AA",  # padding
        "eyJhbGciOiJFUzI1NiJ9.e30.A*",
        "x" * 300_000,
    ],
)
def test_malformed_tokens(issuer, token):
    result = verify(token, issuer)
    assert result.outcome is Outcome.MALFORMED
    assert result.step(StepName.FORMAT).state is StepState.FAILED
    assert all(step.state is StepState.SKIPPED for step in result.steps[1:])


def test_header_faults_are_malformed(issuer, make_credential):
    header, payload, _ = segments(signed(issuer, make_credential(issuer)))
    for bad in ({**header, "kid": ""}, {**header, "crit": ["exp"], "exp": 1}, {**header, "b64": False}):
        assert verify(sign_compact(bad, compact_json(payload), issuer.key), issuer).outcome is Outcome.MALFORMED
    no_kid = {key: value for key, value in header.items() if key != "kid"}
    payload_list = sign_compact(header, b"[1, 2]", issuer.key)
    assert verify(payload_list, issuer).outcome is Outcome.MALFORMED
    assert verify(sign_compact(no_kid, compact_json(payload), issuer.key), issuer).outcome is Outcome.MALFORMED


def test_duplicate_json_members_are_malformed(issuer, make_credential):
    token = signed(issuer, make_credential(issuer))
    head, body, _ = token.split(".")
    doubled = b64url_decode(body)[:-1] + b',"iss":"https://elsewhere.example"}'
    token = sign_compact(segments(token)[0], doubled, issuer.key)
    assert verify(token, issuer).outcome is Outcome.MALFORMED


def test_a_duplicate_member_is_named_wherever_it_is(issuer, make_credential):
    token = signed(issuer, make_credential(issuer))
    header, payload, _ = segments(token)
    text = compact_json(payload).decode()
    nested = text.replace('"name":"Aoife Murphy"', '"name":"Aoife Murphy","name":"Someone Else"', 1)
    spaced = text[:-1] + ', "jti" : "urn:uuid:00000000-0000-4000-8000-000000000000"}'
    for doubled, member in ((nested, "name"), (spaced, "jti")):
        result = verify(sign_compact(header, doubled.encode(), issuer.key), issuer)
        assert result.outcome is Outcome.MALFORMED
        assert f"the member '{member}' appears twice" in result.step(StepName.FORMAT).detail


def test_a_payload_in_another_json_form_verifies_the_same(issuer, make_credential):
    # Another issuer's JOSE library may write whitespace, escape non-ASCII or slashes, or put the members in
    # another order: what it signed is the same credential.
    credential = make_credential(issuer, subject={"id": "urn:registry:clinician:IE-N-1", "name": "Zoë Ní Bhriain/Ó"})
    token = signed(issuer, credential)
    header, payload, _ = segments(token)
    compact = verify(token, issuer)
    for text in (json.dumps(payload, indent=2), json.dumps(payload, ensure_ascii=True).replace("/", "\\/"),
                 json.dumps(dict(reversed(payload.items())), separators=(",", ":"))):
        result = verify(sign_compact(header, text.encode(), issuer.key), issuer)
        assert result.outcome is Outcome.VALID
        assert result.payload == compact.payload and result.payload["credentialSubject"]["name"] == "Zoë Ní Bhriain/Ó"
        assert [step.state for step in result.steps] == [step.state for step in compact.steps]


def test_now_must_be_aware(issuer, make_credential):
    with pytest.raises(ValueError):
        verify(signed(issuer, make_credential(issuer)), issuer, now=NOW.replace(tzinfo=None))


def test_signing_refuses_bad_input(issuer, make_credential):
    credential = make_credential(issuer)
    with pytest.raises(CredentialError, match="vc"):
        sign_credential({**credential, "vc": {}}, issuer.key, issuer.kid)
    with pytest.raises(CredentialError, match="urn:uuid"):
        sign_credential({**credential, "id": "42"}, issuer.key, issuer.kid)
    with pytest.raises(ValueError, match="thumbprint"):
        sign_credential(credential, issuer.key, "someone-elses-kid")
    with pytest.raises(ValueError, match="does not match"):
        sign_credential(credential, issuer.key, issuer.kid, "EdDSA")


def test_trust_list_is_checked_strictly(issuer):
    entry = issuer.trust_entry()
    TrustList.from_dict({"issuers": [entry]})
    with pytest.raises(TrustListError, match="thumbprint"):
        TrustList.from_dict({"issuers": [{**entry, "keys": [{**issuer.key_entry(), "kid": "x"}]}]})
    with pytest.raises(TrustListError, match="twice"):
        TrustList.from_dict({"issuers": [entry, entry]})
    with pytest.raises(TrustListError, match="private"):
        TrustList.from_dict({"issuers": [{**entry, "keys": [{**issuer.key_entry(), "jwk": {**issuer.jwk, "d": "A"}}]}]})
    with pytest.raises(TrustListError, match="timezone"):
        TrustList.from_dict({"issuers": [{**entry, "keys": [{**issuer.key_entry(), "not_before": "2026-01-01"}]}]})
    with pytest.raises(TrustListError):
        TrustList.from_dict({"issuers": "all"})
    assert "jwk" not in repr(TrustList.from_dict({"issuers": [entry]}).issuers[0].keys[0])


HOSTILE = [None, [], {}, 0, -1, True, "", "x", [1], {"a": 1}, 1e308, 10**20, -(10**20), "2026-13-45T99:00:00Z"]


def test_hostile_values_never_crash_the_verifier(issuer, make_credential):
    """Whatever an issuer's key signs (or a format check lets through), the verifier answers with an outcome."""
    header, payload, _ = segments(signed(issuer, make_credential(issuer)))
    trust = TrustList.from_dict(trust_list_of(issuer))
    paths = [(name,) for name in payload] + [
        ("issuer", "id"),
        ("credentialSubject", "name"),
        ("credentialStatus", 0, "statusPurpose"),
        ("credentialStatus", 0, "statusListIndex"),
        ("credentialStatus", 0, "statusListCredential"),
        ("credentialStatus", 0, "type"),
    ]
    outcomes = set()
    for path in paths:
        for value in HOSTILE:
            mutated = json.loads(json.dumps(payload))
            target = mutated
            for step in path[:-1]:
                target = target[step]
            target[path[-1]] = value
            token = sign_compact(header, compact_json(mutated), issuer.key)
            outcomes.add(verify_credential(token, trust, clear_status, now=NOW).outcome)
    for name in ("alg", "kid", "typ"):
        for value in HOSTILE:
            token = sign_compact({**header, "alg": "ES256"}, compact_json(payload), issuer.key)
            forged_header = b64url_encode(compact_json({**header, name: value}))
            outcomes.add(verify_credential(forged_header + token[token.index(".") :], trust, now=NOW).outcome)
    assert Outcome.INVALID_CLAIMS in outcomes and Outcome.MALFORMED in outcomes


def test_an_oversized_header_is_verified_but_not_remembered(issuer, make_credential):
    """Anyone may send a token: a header far larger than a real one is checked like any other, and not kept."""
    from certificates import compact
    from certificates import verify as verify_module

    header, payload, _ = segments(signed(issuer, make_credential(issuer)))
    padded = {**header, "x-padding": "p" * 2_000}
    token = sign_compact(padded, compact_json(payload), issuer.key)
    segment = token.split(".")[0]
    assert len(segment) > verify_module.HEADER_CACHE_CHARS
    assert verify(token, issuer).outcome is Outcome.VALID
    assert not compact.is_qr_token(token)
    assert all(key[0] != segment for key in verify_module._HEADERS) and segment not in compact._QR_HEADERS
    small = signed(issuer, make_credential(issuer))
    assert verify(small, issuer).outcome is Outcome.VALID
    assert any(key[0] == small.split(".")[0] for key in verify_module._HEADERS)
