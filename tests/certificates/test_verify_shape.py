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


def test_a_body_the_schema_refuses_is_refused_with_its_words(issuing, client):
    """A plain {"token": "..."} skips the VerifyIn pass; anything else is loaded by it, and refused as it says."""
    from certificates.schemas import VerifyIn

    issuing.certificate()
    for body, field in (({"token": ""}, "token"), ({"token": 5}, "token"), ({"token": None}, "token"),
                        ({"token": "x" * 262_145}, "token"), ({"token": "a.b.c", "extra": 1}, "extra"),
                        ({"code": ""}, "code"), ([{"token": "a.b.c"}], "_schema")):
        r = client.post("/api/v1/verify", json=body)
        assert r.status_code == 422 and r.mimetype == "application/problem+json", (body, r.get_data(as_text=True))
        assert r.json["errors"] == VerifyIn().validate(body) and field in r.json["errors"]
    assert client.post("/api/v1/verify", json={"token": "x" * 262_144}).json["outcome"] == "MALFORMED"
    assert client.post("/api/v1/verify", json={}).status_code == 422  # neither token nor code
