"""Every forgery and every status through POST /api/v1/verify: each has its own named outcome."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import zlib
from datetime import UTC, datetime, timedelta

from cryptography.hazmat.primitives import serialization

from certificates import services
from certificates.jose import b64url_decode, b64url_encode, compact_json, sign_compact
from certificates.keys import generate_key
from certificates.render import html_to_pdf
from registry.core.db import db
from registry.people.services import get_organisation

from .conftest import day


def parts(token):
    header, payload, signature = token.split(".")
    return json.loads(b64url_decode(header)), json.loads(b64url_decode(payload)), signature


def hub_key(app, code="IE-HUB"):
    """The hub's current key and its private key object (as a forger who stole it would have)."""
    with app.app_context():
        key = services.current_key(get_organisation(code))
        return key.kid, services.private_key(key)


def outcome(issuing, token):
    return issuing.verify(token=token)["outcome"]


def test_forged_tokens_each_have_their_outcome(issuing, app):
    cert = issuing.certificate()
    token = issuing.credential(cert["id"])
    header, payload, signature = parts(token)
    assert outcome(issuing, token) == "VALID"

    tampered = dict(payload, credentialSubject=dict(payload["credentialSubject"], name="Mallory"))
    assert outcome(issuing, ".".join([token.split(".")[0], b64url_encode(compact_json(tampered)), signature])) == (
        "INVALID_SIGNATURE")

    raw = bytearray(b64url_decode(signature))
    raw[5] ^= 0x01
    assert outcome(issuing, ".".join(token.split(".")[:2] + [b64url_encode(bytes(raw))])) == "INVALID_SIGNATURE"

    none_header = b64url_encode(compact_json(dict(header, alg="none")))
    result = issuing.verify(token=f"{none_header}.{token.split('.')[1]}.")
    assert result["outcome"] == "UNSUPPORTED_ALGORITHM" and result["payload"] is None

    # HS256 "signed" with the issuer's public key: the classic key-confusion forgery.
    kid, private = hub_key(app)
    public_pem = private.public_key().public_bytes(serialization.Encoding.PEM,
                                                   serialization.PublicFormat.SubjectPublicKeyInfo)
    signing_input = b64url_encode(compact_json(dict(header, alg="HS256"))) + "." + token.split(".")[1]
    mac = hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest()
    assert outcome(issuing, signing_input + "." + b64url_encode(mac)) == "UNSUPPORTED_ALGORITHM"

    stranger, stranger_jwk = generate_key()
    forged = sign_compact(dict(header, kid=stranger_jwk["kid"]), compact_json(payload), stranger)
    assert outcome(issuing, forged) == "UNKNOWN_KEY"

    unknown_issuer = dict(payload, issuer={"id": "https://elsewhere.example/issuers/X", "name": "X"},
                          iss="https://elsewhere.example/issuers/X")
    assert outcome(issuing, sign_compact(dict(header, kid=stranger_jwk["kid"]), compact_json(unknown_issuer),
                                         stranger)) == "UNKNOWN_ISSUER"

    assert outcome(issuing, sign_compact(dict(header, typ="JWT"), compact_json(payload), private)) == "WRONG_TYPE"
    # The genuine key, the genuine header: still valid (the forgeries above did not use a different payload).
    assert outcome(issuing, sign_compact(header, compact_json(payload), private)) == "VALID"


def test_a_key_used_outside_its_window(issuing, app):
    cert = issuing.certificate()
    token = issuing.credential(cert["id"])
    old_kid, old_private = hub_key(app)
    r = issuing.client.post("/api/v1/issuers/IE-HUB/keys", json={}, headers=issuing.h("secretariat"))
    assert r.status_code == 201 and r.get_json()["kid"] != old_kid
    # What the old key signed before its retirement still verifies ...
    assert outcome(issuing, token) == "VALID"
    # ... but a signature it makes after retirement (a stolen retired key) is outside its window.
    header, payload, _ = parts(token)
    later = int((datetime.now(UTC) + timedelta(minutes=2)).timestamp())
    assert outcome(issuing, sign_compact(header, compact_json(dict(payload, iat=later)), old_private)) == (
        "KEY_OUTSIDE_WINDOW")


def test_expired_and_not_yet_valid(issuing):
    expired = issuing.certificate("IE-OLD", completed_on=day(-800))  # valid 24 months
    assert issuing.verify(token=issuing.credential(expired["id"]))["outcome"] == "EXPIRED"
    r = issuing.client.post(f"/api/v1/licences/{issuing.world.licence}/good-standing-certificate",
                            json={"on": day(10)}, headers=issuing.h("board_ie"))
    assert r.status_code == 201, r.get_json()
    future = r.get_json()
    result = issuing.verify(token=issuing.credential(future["id"]))
    assert result["outcome"] == "NOT_YET_VALID"
    assert result["data"]["valid_from"] == f"{day(10)}T00:00:00Z"


def test_revoked_suspended_and_unsuspended(issuing, app):
    first, second = issuing.certificate("IE-A"), issuing.certificate("IE-B")
    token_first, token_second = issuing.credential(first["id"]), issuing.credential(second["id"])

    r = issuing.status(second["id"], "suspend")
    assert r.status_code == 200 and r.get_json()["status"] == "suspended"
    assert issuing.verify(token=token_second)["outcome"] == "SUSPENDED"
    assert issuing.verify(token=token_first)["outcome"] == "VALID"  # a neighbour is untouched
    r = issuing.status(second["id"], "unsuspend")
    assert r.status_code == 200 and r.get_json()["status"] == "active"
    assert issuing.verify(token=token_second)["outcome"] == "VALID"

    assert issuing.status(first["id"], "revoke", reason=None).status_code == 422  # a reason is required
    r = issuing.status(first["id"], "revoke", reason="issued in error")
    assert r.status_code == 200 and r.get_json()["status"] == "revoked"
    assert issuing.verify(token=token_first)["outcome"] == "REVOKED"
    assert issuing.verify(code=first["verification_code"])["outcome"] == "REVOKED"
    assert issuing.status(first["id"], "unsuspend").status_code == 409  # revocation is permanent
    assert issuing.status(first["id"], "suspend").status_code == 409


def _replace_attachment(pdf: bytes, new: bytes) -> bytes:
    """Swap the embedded file's stream for `new` (what an editing tool would do)."""
    match = re.search(rb"/Type /EmbeddedFile.*?/Length (\d+)>>\s*stream\n", pdf, re.S)
    assert match
    start, length = match.end(), int(match[1])
    packed = zlib.compress(new)
    head = pdf[:match.start()] + match.group(0).replace(b"/Length " + match[1], b"/Length " + str(len(packed)).encode())
    return head + packed + pdf[start + length:]


def test_a_pdf_with_a_replaced_attachment(issuing, app):
    cert, other = issuing.certificate("IE-A"), issuing.certificate("IE-B")
    pdf = issuing.pdf(cert["id"])
    token = issuing.credential(cert["id"])
    header, payload, signature = parts(token)
    payload["credentialSubject"]["score"] = 100
    forged = ".".join([token.split(".")[0], b64url_encode(compact_json(payload)), signature]).encode()
    result = issuing.verify_pdf(_replace_attachment(pdf, forged))
    assert result["outcome"] == "INVALID_SIGNATURE" and result["pdf"] == {"identical_to_issued": False}
    # Another genuine credential in this paper: it verifies, but as what it is, and the file is not the one issued.
    result = issuing.verify_pdf(_replace_attachment(pdf, issuing.credential(other["id"]).encode()))
    assert result["outcome"] == "VALID" and result["pdf"] == {"identical_to_issued": False}
    assert result["data"]["credential_id"] == other["credential_id"]
    # A look-alike with no attachment at all.
    result = issuing.verify_pdf(html_to_pdf("<p>Certificate of course completion</p>"))
    assert result["outcome"] == "MALFORMED" and "credential.vc.jwt" in result["steps"][0]["detail"]


def test_every_verification_is_logged_and_the_clinician_sees_it(issuing, app):
    cert = issuing.certificate()
    issuing.verify(code=cert["verification_code"])
    issuing.verify(who="board_fr", token=issuing.credential(cert["id"]))
    mine = issuing.client.get("/api/v1/me/verifications", headers=issuing.h("clinician")).get_json()
    assert [(v["outcome"], v["method"], v["organisation"]) for v in mine][::-1] == [
        ("VALID", "code", None), ("VALID", "token", {"code": "FR-B", "name": "FR-B organisation"})]
    number = issuing.world.clinician.registry_number
    assert len(issuing.client.get(f"/api/v1/clinicians/{number}/verifications",
                                  headers=issuing.h("board_ie")).get_json()) == 2
    assert issuing.client.get(f"/api/v1/clinicians/{number}/verifications",
                              headers=issuing.h("other_clinician")).status_code == 403
    assert issuing.client.get("/api/v1/me/verifications", headers=issuing.h("other_clinician")).get_json() == []
    with app.app_context():
        assert db.session.query(services.Verification).count() == 2
