"""POST /api/v1/verify sends its result without a schema pass: it must be exactly what VerifyOut would dump."""

from __future__ import annotations

from certificates.schemas import VerifyOut


def test_the_verify_answer_is_what_its_documented_schema_dumps(issuing, client):
    certificate = issuing.certificate()
    credential = issuing.credential(certificate["id"])
    for body in ({"token": credential}, {"code": certificate["verification_code"]}, {"token": "not.a.token"}):
        r = client.post("/api/v1/verify", json=body)
        assert r.status_code == 200, r.get_data(as_text=True)
        answer = r.json
        assert answer == VerifyOut().dump(answer)  # nothing the schema would drop, convert or add
        assert set(answer) >= {"outcome", "valid", "method", "steps", "issuer", "kid", "payload", "data"}
    assert issuing.verify(token=credential)["outcome"] == "VALID"
