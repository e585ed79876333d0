"""The QR token: small enough for a version 20 QR code at level M, and verified like a VC-JWT."""

import json
import uuid
from datetime import timedelta

import pytest
import segno

from certificates.compact import (
    MAX_TOKEN_CHARS,
    TokenTooLong,
    compact_claims,
    describe_compact,
    sign_compact_token,
    token_from_url,
    verification_url,
    verify_compact_token,
)
from certificates.credentials import CertificateKind
from certificates.jose import EDDSA, b64url_decode, b64url_encode, compact_json, sign_compact
from certificates.status_list import status_entry
from certificates.verify import Outcome, StepName

from .conftest import NOW, clear_status, trust_list_of

LONG_NAME = "Maria da Conceição Albuquerque de Vasconcelos Magalhães-Sampaio Teixeira"
LONG_COURSE = "Advanced Trauma Life Support – Provider Course, 11th edition"
BASE_URL = "https://workforce-registry.health-compact.europa.example"  # 57 characters
STATUS_BASE = f"{BASE_URL}/api/v1/status-lists/"


def trust(*issuers, base=STATUS_BASE):
    document = trust_list_of(*issuers)
    if base:
        document["status_list_base"] = base
    return document


def realistic_token(issuer, make_credential, **overrides):
    base = f"{STATUS_BASE}pt-cftl"
    credential = make_credential(
        issuer,
        kind=CertificateKind.COURSE_COMPLETION,
        subject={"id": "urn:registry:clinician:PT-OPS-2019-0048213", "name": LONG_NAME},
        status=[
            status_entry(f"{base}/revocation/12", 131071, "revocation"),
            status_entry(f"{base}/suspension/12", 130999, "suspension"),
        ],
        **overrides,
    )
    claims = compact_claims(
        credential,
        subject_name=LONG_NAME,
        registry_number="PT-OPS-2019-0048213",
        description=LONG_COURSE,
        issued_at=NOW - timedelta(days=10),
        status_list_base=STATUS_BASE,
    )
    return credential, sign_compact_token(claims, issuer.key, issuer.kid)


@pytest.mark.parametrize("in_query", [False, True])
def test_the_longest_realistic_url_fits_a_version_20_qr_code_at_level_m(issuer, make_credential, in_query):
    _, token = realistic_token(issuer, make_credential)
    url = verification_url(BASE_URL, token, in_query=in_query)
    qr = segno.make(url, error="m", micro=False)
    print(f"QR token {len(token)} chars, URL {len(url)} bytes, version {qr.version}")
    assert qr.version <= 20
    assert qr.error == "M"


def test_a_long_description_gives_way_but_name_and_status_stay(issuer, make_credential):
    _, token = realistic_token(issuer, make_credential)
    claims = verify_compact_token(token, trust(issuer), clear_status, now=NOW).payload
    assert len(token) <= MAX_TOKEN_CHARS
    assert claims["n"] == LONG_NAME and claims["r"] == "PT-OPS-2019-0048213"
    assert set(claims["s"]) == {"r", "s"}
    # With this name and base URL only a stub of the course title fits; it is cut, never garbled.
    if "d" in claims:
        assert claims["d"].endswith("…") and LONG_COURSE.startswith(claims["d"][:-1])
    print("description kept:", claims.get("d"))


def test_a_long_non_latin_name_gives_way_after_the_description(issuer, make_credential):
    """120 Greek letters are 240 bytes of UTF-8: with the description gone the name is cut too, never the token."""
    name = "Αικατερίνη-Παναγιώτα Χατζηδημητρίου-Παπαδοπούλου " * 3
    name = name[:120]
    base = f"{STATUS_BASE}pt-cftl"
    credential = make_credential(issuer, kind=CertificateKind.COURSE_COMPLETION,
                                 subject={"id": "urn:registry:clinician:PT-OPS-2019-0048213", "name": name},
                                 status=[status_entry(f"{base}/revocation/12", 131071, "revocation"),
                                         status_entry(f"{base}/suspension/12", 130999, "suspension")])
    claims = compact_claims(credential, subject_name=name, registry_number="PT-OPS-2019-0048213",
                            description=LONG_COURSE, issued_at=NOW, status_list_base=STATUS_BASE)
    token = sign_compact_token(claims, issuer.key, issuer.kid)
    assert len(token) <= MAX_TOKEN_CHARS
    assert len(verification_url(BASE_URL, token, in_query=True).encode("utf-8")) <= 666
    payload = verify_compact_token(token, trust(issuer), clear_status, now=NOW).payload
    assert "d" not in payload and payload["r"] == "PT-OPS-2019-0048213"
    assert payload["n"].endswith("…") and name.startswith(payload["n"][:-1]) and len(payload["n"]) >= 24


def test_a_short_description_is_kept_whole(issuer, make_credential):
    credential = make_credential(issuer, kind=CertificateKind.COURSE_COMPLETION)
    claims = compact_claims(credential, subject_name="Aoife Murphy", description="ATLS Provider", issued_at=NOW)
    token = sign_compact_token(claims, issuer.key, issuer.kid)
    # Absolute status list URLs work without a status_list_base.
    result = verify_compact_token(token, trust(issuer, base=None), clear_status, now=NOW)
    assert result.outcome is Outcome.VALID
    assert result.payload["d"] == "ATLS Provider"


def test_relative_status_lists_need_the_trust_lists_base(issuer, make_credential):
    _, token = realistic_token(issuer, make_credential)
    result = verify_compact_token(token, trust(issuer, base=None), clear_status, now=NOW)
    assert result.outcome is Outcome.STATUS_UNKNOWN
    assert "status_list_base" in result.step(StepName.STATUS).detail


def test_a_url_too_long_for_the_qr_code_is_refused(issuer, make_credential):
    _, token = realistic_token(issuer, make_credential)
    with pytest.raises(TokenTooLong):
        verification_url("https://" + "very-long-host-name." * 6 + "example", token)


def test_the_token_verifies_with_the_trust_list(issuer, make_credential):
    credential, token = realistic_token(issuer, make_credential)
    result = verify_compact_token(token, trust(issuer), clear_status, now=NOW)
    assert result.outcome is Outcome.VALID
    summary = describe_compact(result.payload)
    assert summary["credential_id"] == credential["id"]
    assert summary["kind"] == "course_completion"
    assert summary["subject_name"] == LONG_NAME
    assert summary["registry_number"] == "PT-OPS-2019-0048213"
    assert result.issuer.id == issuer.id  # named by the kid alone


def test_the_token_carries_status_pointers(issuer, make_credential):
    _, token = realistic_token(issuer, make_credential)
    asked = []
    verify_compact_token(token, trust(issuer), lambda url, i: asked.append((url, i)) or False, now=NOW)
    assert [index for _, index in asked] == [131071, 130999]
    revoked = verify_compact_token(token, trust(issuer), lambda url, i: "revocation" in url, now=NOW)
    assert revoked.outcome is Outcome.REVOKED


def test_tampered_token_fails(issuer, make_credential):
    _, token = realistic_token(issuer, make_credential)
    head, body, signature = token.split(".")
    claims = compact_json({**json.loads(b64url_decode(body)), "n": "Someone Else"})
    result = verify_compact_token(f"{head}.{b64url_encode(claims)}.{signature}", trust(issuer), now=NOW)
    assert result.outcome is Outcome.INVALID_SIGNATURE


def test_a_vc_jwt_is_not_a_qr_token_and_back(issuer, make_credential):
    from certificates.credentials import sign_credential
    from certificates.verify import verify_credential

    credential, token = realistic_token(issuer, make_credential)
    vc = sign_credential(credential, issuer.key, issuer.kid, issued_at=NOW)
    assert verify_compact_token(vc, trust(issuer), now=NOW).outcome is Outcome.WRONG_TYPE
    assert verify_credential(token, trust(issuer), now=NOW).outcome is Outcome.WRONG_TYPE


def test_token_rejections_use_the_same_outcomes(make_issuer, make_credential):
    compromised = make_issuer(compromised=True)
    _, token = realistic_token(compromised, make_credential)
    assert verify_compact_token(token, trust(compromised), now=NOW).outcome is Outcome.KEY_COMPROMISED
    stranger = make_issuer("XX-FAKE")
    _, token = realistic_token(stranger, make_credential)
    assert verify_compact_token(token, trust(make_issuer()), now=NOW).outcome is Outcome.UNKNOWN_KEY
    board = make_issuer(kinds=["good_standing"])
    _, token = realistic_token(board, make_credential)
    assert verify_compact_token(token, trust(board), now=NOW).outcome is Outcome.NOT_AUTHORISED
    issuer = make_issuer(alg=EDDSA)
    _, token = realistic_token(issuer, make_credential)
    later = NOW + timedelta(days=81)
    assert verify_compact_token(token, trust(issuer), clear_status, now=later).outcome is Outcome.EXPIRED


def test_bad_claims_are_invalid_claims(issuer):
    header = {"alg": "ES256", "kid": issuer.kid, "typ": "wr-qr+jwt"}
    claims = {"c": b64url_encode(uuid.uuid4().bytes), "k": "zz", "n": "", "t": int(NOW.timestamp()), "f": 0}
    token = sign_compact(header, compact_json(claims), issuer.key)
    result = verify_compact_token(token, trust(issuer), now=NOW)
    assert result.outcome is Outcome.INVALID_CLAIMS
    assert "k must be" in result.step(StepName.CLAIMS).detail and "n must be" in result.step(StepName.CLAIMS).detail
    with pytest.raises(ValueError):
        sign_compact_token(claims, issuer.key, issuer.kid)


def test_token_from_url():
    assert token_from_url(f"{BASE_URL}/verify#abc.def.ghi") == "abc.def.ghi"
    assert token_from_url(f"{BASE_URL}/verify?t=abc.def.ghi") == "abc.def.ghi"
    assert token_from_url("  abc.def.ghi\n") == "abc.def.ghi"
    assert verification_url(BASE_URL + "/", "tok") == f"{BASE_URL}/verify#tok"
    with pytest.raises(ValueError):
        token_from_url(f"{BASE_URL}/verify")


def test_hostile_claims_never_crash_the_verifier(issuer):
    header = {"alg": "ES256", "kid": issuer.kid, "typ": "wr-qr+jwt"}
    good = {"c": b64url_encode(uuid.uuid4().bytes), "k": "gs", "n": "A", "t": int(NOW.timestamp()), "f": 0}
    for name in ("c", "k", "n", "r", "d", "t", "f", "u", "s"):
        for value in (
            None,
            [],
            {},
            0,
            True,
            "",
            "x",
            [1],
            {"r": 5},
            {"r": "x#"},
            {"q": "a#1"},
            1e308,
            10**20,
            -(10**20),
        ):
            token = sign_compact(header, compact_json({**good, name: value}), issuer.key)
            assert verify_compact_token(token, trust(issuer), clear_status, now=NOW).outcome in set(Outcome)
