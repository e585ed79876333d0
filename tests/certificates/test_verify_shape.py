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


def test_a_token_body_reads_as_the_json_module_reads_it(issuing, client):
    """{"token": ...} is read by orjson; where orjson and the json module could differ, the answer is the same
    as before: the last of two "token" members counts, a lone surrogate escape and invalid UTF-8 are refused with
    check_json_body's words, and a big integer beside the token still reaches VerifyIn."""
    certificate = issuing.certificate()
    credential = issuing.credential(certificate["id"])

    def post(raw: bytes):
        return client.post("/api/v1/verify", data=raw, content_type="application/json")

    last_valid = post(b'{"token": "not.a.token", "token": "' + credential.encode() + b'"}')
    assert last_valid.status_code == 200 and last_valid.json["outcome"] == "VALID"
    last_garbage = post(b'{"token": "' + credential.encode() + b'", "token": "not.a.token"}')
    assert last_garbage.status_code == 200 and last_garbage.json["outcome"] == "MALFORMED"
    spaced = post(b'  {\n "token" :\t"' + credential.encode() + b'" }\n')
    assert spaced.status_code == 200 and spaced.json["outcome"] == "VALID"

    surrogate = post(b'{"token": "\\ud800' + credential.encode()[1:] + b'"}')
    assert surrogate.status_code == 400 and surrogate.mimetype == "application/problem+json"
    assert surrogate.json["errors"] == {"json": ["text must be UTF-8 without unpaired surrogate escapes"]}
    latin1 = post(b'{"token": "caf\xe9"}')
    assert latin1.status_code == 400 and latin1.json["errors"] == {"json": ["text must be UTF-8"]}
    big = post(b'{"token": "' + credential.encode() + b'", "code": 123456789012345678901234567890}')
    assert big.status_code == 422 and "code" in big.json["errors"]
