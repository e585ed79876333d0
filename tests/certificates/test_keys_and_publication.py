"""Keys: rotation, compromise and re-signing; the JWKS, the trust list, status lists and signed statements.

Private keys never leave the database in any form a response, the audit log or the CLI could show.
"""

from __future__ import annotations

import json

import jwt
import sqlalchemy as sa
from cryptography.hazmat.primitives import serialization

from certificates import services
from certificates.jose import b64url_decode, b64url_encode
from certificates.models import IssuerKey
from certificates.offline import verify_offline
from certificates.status_list import decode_list, get_bit
from registry.core.db import db

from .conftest import day


def secrets_of(app) -> list[str]:
    """Every private key in the register, as PEM and as the JWK 'd' value, and each encrypted blob."""
    found = []
    with app.app_context():
        for key in db.session.scalars(sa.select(IssuerKey)):
            private = services.private_key(key)
            found.append(private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()).decode())
            found.append(b64url_encode(private.private_numbers().private_value.to_bytes(32, "big")))
            found.append(key.encrypted_private_key)
    return found


def audit_text(app) -> str:
    with app.app_context():
        rows = db.session.execute(sa.text("SELECT * FROM audit_events")).all()
    return json.dumps([[str(v) for v in row] for row in rows])


def test_rotation_old_certificates_stay_valid_new_ones_use_the_new_key(issuing, app):
    old = issuing.certificate("IE-1")
    old_token = issuing.credential(old["id"])
    r = issuing.client.post("/api/v1/issuers/IE-HUB/keys", json={"alg": "EdDSA"}, headers=issuing.h("hub_ie"))
    assert r.status_code == 403  # only the secretariat manages keys
    r = issuing.runner.invoke(args=["keys", "rotate", "IE-HUB"])
    assert r.exit_code == 0, r.output
    new = issuing.certificate("IE-2")
    new_token = issuing.credential(new["id"])
    assert jwt.get_unverified_header(new_token)["kid"] == new["kid"] != old["kid"]
    assert issuing.verify(token=old_token)["outcome"] == "VALID"
    assert issuing.verify(token=new_token)["outcome"] == "VALID"
    keys = issuing.client.get("/api/v1/issuers/IE-HUB/keys").get_json()
    assert [k["kid"] for k in keys] == [old["kid"], new["kid"]]
    assert keys[0]["not_after"] is not None and keys[1]["not_after"] is None


def test_eddsa_keys_sign_and_verify(issuing):
    r = issuing.client.post("/api/v1/issuers/IE-HUB/keys", json={"alg": "EdDSA"}, headers=issuing.h("secretariat"))
    assert r.status_code == 201 and r.get_json()["alg"] == "EdDSA"
    cert = issuing.certificate()
    token = issuing.credential(cert["id"])
    assert jwt.get_unverified_header(token)["alg"] == "EdDSA"
    assert issuing.verify(token=token)["outcome"] == "VALID"


def test_compromise_then_resign(issuing, app):
    cert = issuing.certificate()
    token = issuing.credential(cert["id"])
    pdf_before = issuing.pdf(cert["id"])
    r = issuing.client.post(f"/api/v1/keys/{cert['kid']}/compromise", json={"reason": "laptop stolen"},
                            headers=issuing.h("secretariat"))
    assert r.status_code == 200 and r.get_json()["compromised_at"]
    assert issuing.verify(token=token)["outcome"] == "KEY_COMPROMISED"
    assert issuing.verify(code=cert["verification_code"])["outcome"] == "KEY_COMPROMISED"
    assert cert["kid"] not in [k["kid"] for k in issuing.client.get("/.well-known/jwks.json").get_json()["keys"]]

    r = issuing.runner.invoke(args=["certificates", "resign"])
    assert r.exit_code == 0 and "re-signed 1 certificate" in r.output, r.output
    item = issuing.client.get(f"/api/v1/certificates/{cert['id']}", headers=issuing.h("clinician")).get_json()
    assert item["kid"] != cert["kid"] and item["credential_id"] == cert["credential_id"]
    resigned = issuing.credential(cert["id"])
    assert issuing.verify(token=resigned)["outcome"] == "VALID"
    assert issuing.verify(code=cert["verification_code"])["outcome"] == "VALID"
    assert issuing.verify(token=token)["outcome"] == "KEY_COMPROMISED"  # the old signature stays worthless
    # Same data, new signature: the PDF was rendered again from the stored snapshot.
    pdf_after = issuing.pdf(cert["id"])
    assert pdf_after != pdf_before and issuing.verify_pdf(pdf_after)["outcome"] == "VALID"
    assert json.loads(b64url_decode(resigned.split(".")[1]))["validFrom"] == json.loads(
        b64url_decode(token.split(".")[1]))["validFrom"]


def test_private_keys_appear_nowhere(issuing, app):
    cert = issuing.certificate()
    issuing.runner.invoke(args=["keys", "rotate", "IE-HUB"])
    statement = issuing.client.get("/api/v1/right-to-practise/statement", headers=issuing.h("board_fr"), query_string={
        "clinician": issuing.world.clinician.registry_number, "state": "IE", "profession": "2221"})
    assert statement.status_code == 200
    listing = issuing.runner.invoke(args=["keys", "list"])
    texts = [
        issuing.client.get("/.well-known/jwks.json").get_data(as_text=True),
        issuing.client.get("/api/v1/trust-list").get_data(as_text=True),
        issuing.client.get(f"/api/v1/certificates/{cert['id']}", headers=issuing.h("clinician")).get_data(as_text=True),
        issuing.client.get("/api/v1/issuers/IE-HUB/keys").get_data(as_text=True),
        issuing.client.get(f"/api/v1/clinicians/{issuing.world.clinician.registry_number}/standing",
                           headers=issuing.h("clinician")).get_data(as_text=True),
        issuing.credential(cert["id"]),
        statement.get_data(as_text=True),
        listing.output,
        audit_text(app),
    ]
    secrets = secrets_of(app)
    assert len(secrets) == 3 * 3  # hub (2 keys) and the registry key
    for text in texts:
        assert '"d"' not in text and "PRIVATE KEY" not in text
        for secret in secrets:
            assert secret not in text
    jwks_doc = json.loads(texts[0])
    assert all(set(k) <= {"kid", "alg", "use", "kty", "crv", "x", "y"} for k in jwks_doc["keys"])


def test_trust_list_and_jwks_are_enough_to_verify(issuing, app):
    cert = issuing.certificate()
    token = issuing.credential(cert["id"])
    trust = issuing.client.get("/api/v1/trust-list")
    assert trust.status_code == 200 and "max-age" in trust.headers["Cache-Control"]
    document = trust.get_json()
    hub = next(i for i in document["issuers"] if i["id"].endswith("/issuers/IE-HUB"))
    assert hub["member_state"] == "IE" and hub["kinds"] == ["course_completion"]
    assert hub["keys"][0]["kid"] == cert["kid"] and hub["keys"][0]["not_before"]
    # The trust list is signed by the registry key, which the JWKS publishes.
    jwks_doc = issuing.client.get("/.well-known/jwks.json").get_json()
    header = jwt.get_unverified_header(document["jws"])
    registry_jwk = next(k for k in jwks_doc["keys"] if k["kid"] == header["kid"])
    signed = jwt.api_jws.decode_complete(document["jws"], key=jwt.PyJWK(registry_jwk), algorithms=["ES256"])
    assert json.loads(signed["payload"]) == {k: v for k, v in document.items() if k != "jws"}
    # Any JOSE library verifies the certificate given only the JWKS.
    hub_jwk = next(k for k in jwks_doc["keys"] if k["kid"] == cert["kid"])
    decoded = jwt.api_jws.decode_complete(token, key=jwt.PyJWK(hub_jwk), algorithms=["ES256"])
    payload = json.loads(decoded["payload"])
    assert decoded["header"]["typ"] == "vc+jwt" and payload["iss"] == payload["issuer"]["id"]
    assert "vc" not in payload and "vp" not in payload
    assert [s["statusPurpose"] for s in payload["credentialStatus"]] == ["revocation", "suspension"]
    # ... and the status lists it points at are published, signed, at stable URLs with caching headers.
    status_lists = {}
    for entry in payload["credentialStatus"]:
        path = entry["statusListCredential"].removeprefix("http://registry.test")
        r = issuing.client.get(path)
        assert r.status_code == 200 and r.mimetype == "application/vc+jwt"
        assert "max-age=300" in r.headers["Cache-Control"] and r.headers["ETag"]
        assert issuing.client.get(path, headers={"If-None-Match": r.headers["ETag"]}).status_code == 304
        status_lists[entry["statusListCredential"]] = r.get_data(as_text=True)
        subject = json.loads(b64url_decode(status_lists[entry["statusListCredential"]].split(".")[1]))[
            "credentialSubject"]
        bits = decode_list(subject["encodedList"])
        assert len(bits) * 8 >= 131_072 and subject["encodedList"].startswith("u")
        assert get_bit(bits, int(entry["statusListIndex"])) is False
    assert verify_offline(token, document, status_lists).outcome.value == "VALID"
    # After a revocation the served list changes (new ETag) and says so.
    issuing.status(cert["id"], "revoke", reason="error")
    url = payload["credentialStatus"][0]["statusListCredential"]
    fresh = issuing.client.get(url.removeprefix("http://registry.test")).get_data(as_text=True)
    assert fresh != status_lists[url]
    assert verify_offline(token, document, {**status_lists, url: fresh}).outcome.value == "REVOKED"


def test_indexes_are_random_and_never_shared(issuing, app):
    certs = [issuing.certificate(f"IE-{n}") for n in range(4)]
    with app.app_context():
        rows = db.session.execute(sa.text("SELECT revocation_index, suspension_index FROM certificates")).all()
    indexes = [r[0] for r in rows] + [r[1] for r in rows]
    assert len(set(r[0] for r in rows)) == len(certs) and len(set(r[1] for r in rows)) == len(certs)
    assert indexes != sorted(indexes) or max(indexes) > 1000  # not handed out in sequence


def test_right_to_practise_statement(issuing, app):
    client, world = issuing.client, issuing.world
    query = {"clinician": world.clinician.registry_number, "state": "IE", "profession": "2221", "on": day(0)}
    assert client.get("/api/v1/right-to-practise/statement", query_string=query).status_code == 401
    assert client.get("/api/v1/right-to-practise/statement", query_string=query,
                      headers=world.h("other_clinician")).status_code == 403
    r = client.get("/api/v1/right-to-practise/statement", query_string=query, headers=world.h("board_fr"))
    assert r.status_code == 200, r.get_json()
    statement = r.get_json()["statement"]
    header = jwt.get_unverified_header(statement)
    assert header["typ"] == "rtp+jwt"
    jwks_doc = client.get("/.well-known/jwks.json").get_json()
    key = next(k for k in jwks_doc["keys"] if k["kid"] == header["kid"])
    claims = jwt.decode(statement, key=jwt.PyJWK(key), algorithms=["ES256"])
    assert claims["may_practise"] is True and claims["basis"]["number"] == "IE-2221-0001"
    assert claims["exp"] - claims["iat"] == 600
    expected = client.get("/api/v1/right-to-practise", query_string=query, headers=world.h("board_fr")).get_json()
    assert {k: claims[k] for k in expected} == expected


def test_concurrent_issuing_never_shares_an_index(issuing, app):
    """Several hubs' officers issuing at once: the list row lock (and the unique constraints) keep indexes apart."""
    from concurrent.futures import ThreadPoolExecutor

    completions = [issuing.complete(f"P-{n}") for n in range(8)]
    issuing.certificate("WARM")  # the key and the lists exist before the race

    def issue(completion_id):
        return issuing.app.test_client().post(f"/api/v1/completions/{completion_id}/certificate",
                                              headers=issuing.h("hub_ie")).status_code

    with ThreadPoolExecutor(max_workers=4) as pool:
        statuses = list(pool.map(issue, completions))
    assert statuses == [201] * 8
    with app.app_context():
        rows = db.session.execute(sa.text("SELECT revocation_list_id, revocation_index, suspension_list_id, "
                                          "suspension_index FROM certificates")).all()
    assert len({(r[0], r[1]) for r in rows}) == len(rows) == 9
    assert len({(r[2], r[3]) for r in rows}) == 9
