"""Every verification is logged (DOMAIN.md "Certificates"), including one by a well-formed verification code that
names no certificate: the answer is still 404 problem+json, and its log row survives the error's rollback. A
malformed code is bad input (422) and writes nothing. The API and the public page behave alike."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from certificates.codes import ALPHABET, new_verification_code
from registry.core.auth import Account
from registry.core.db import db
from tests.conftest import count, problem

PASSWORD = "gaps-test-password"


def unknown_code() -> str:
    """A well-formed code (its check character matches) that no certificate has."""
    return new_verification_code()


def mistyped(code: str) -> str:
    """The same code with one character changed: its check character no longer matches."""
    first = code[0]
    return next(c for c in ALPHABET if c != first) + code[1:]


def verification_rows(app) -> list[dict]:
    with app.app_context():
        table = db.metadata.tables["verifications"]
        return [dict(row._mapping) for row in db.session.execute(sa.select(table).order_by(table.c.id))]


def org_id(app, code: str) -> int:
    with app.app_context():
        return db.session.scalar(sa.text("SELECT id FROM organisations WHERE code = :c"), {"c": code})


def test_an_unknown_code_answers_404_and_is_logged_anonymously(client, world, app):
    code = unknown_code()
    r = client.post("/api/v1/verify", json={"code": code})
    body = problem(r)
    assert r.status_code == 404 and body["type"].endswith("/not-found")
    assert code in body["detail"]
    # Read outside the request, after the 404's rollback: the row was committed before it.
    [row] = verification_rows(app)
    assert row["method"] == "code" and row["outcome"] == "UNKNOWN_CERTIFICATE"
    assert row["certificate_id"] is None and row["clinician_id"] is None
    assert row["organisation_id"] is None and row["account_id"] is None and row["pdf_identical"] is None
    assert row["occurred_at"] is not None


def test_an_unknown_code_typed_loosely_is_logged_once_per_attempt(client, world, app):
    code = unknown_code()
    for typed in (code, code.lower().replace("-", " ")):
        assert client.post("/api/v1/verify", json={"code": typed}).status_code == 404
    assert [r["outcome"] for r in verification_rows(app)] == ["UNKNOWN_CERTIFICATE"] * 2


def test_the_signed_in_organisation_and_account_are_logged(client, world, app):
    r = client.post("/api/v1/verify", json={"code": unknown_code()}, headers=world.h("board_fr"))
    assert r.status_code == 404, r.get_json()
    [row] = verification_rows(app)
    assert row["organisation_id"] == org_id(app, "FR-B") and row["account_id"] == world.accounts["board_fr"].id


def test_a_machine_client_with_an_api_key_is_logged_too(client, world, app):
    from registry.core.auth import new_api_key

    with app.app_context():
        account = db.session.get(Account, world.accounts["board_pt"].id)
        _key, secret = new_api_key(account, "counter")
        db.session.commit()
    r = client.post("/api/v1/verify", json={"code": unknown_code()}, headers={"X-API-Key": secret})
    assert r.status_code == 404, r.get_json()
    [row] = verification_rows(app)
    assert row["organisation_id"] == org_id(app, "PT-B") and row["account_id"] == world.accounts["board_pt"].id
    assert count(app, "api_keys") == 1


@pytest.mark.parametrize("body", [
    {"code": "mistyped"},  # replaced below by a well-formed code with one character changed
    {"code": "ABCD-EFGH"},
    {"code": "ABCD-EFGH-JKU0"},
    {"code": ""},
    {"code": 12345},
    {"code": "X" * 41},
])
def test_a_malformed_code_is_422_and_writes_nothing(client, world, app, body):
    if body["code"] == "mistyped":
        body = {"code": mistyped(unknown_code())}
    before = count(app, "verifications"), count(app, "audit_events")
    r = client.post("/api/v1/verify", json=body, headers=world.h("board_fr"))
    assert r.status_code == 422, r.get_json()
    assert "code" in problem(r)["errors"]
    assert (count(app, "verifications"), count(app, "audit_events")) == before


def test_a_known_code_is_still_logged_once_with_its_certificate(issuing, app):
    cert = issuing.certificate()
    result = issuing.verify(who="board_fr", code=cert["verification_code"])
    assert result["outcome"] == "VALID" and result["method"] == "code"
    [row] = verification_rows(app)
    assert row["outcome"] == "VALID" and row["certificate_id"] == cert["id"]
    assert row["organisation_id"] == org_id(app, "FR-B")


def test_the_clinician_never_sees_unknown_code_attempts(issuing, app):
    cert = issuing.certificate()
    issuing.verify(code=cert["verification_code"])
    assert issuing.client.post("/api/v1/verify", json={"code": unknown_code()}).status_code == 404
    assert count(app, "verifications") == 2
    mine = issuing.client.get("/api/v1/me/verifications", headers=issuing.h("clinician")).get_json()
    assert [(v["outcome"], v["certificate_id"]) for v in mine] == [("VALID", cert["id"])]


# --- the public page: GET /verify?code= -----------------------------------------------------------------------------


def test_the_verify_page_logs_an_unknown_code_and_answers_404(client, world, app):
    code = unknown_code()
    r = client.get(f"/verify?code={code}")
    assert r.status_code == 404 and r.mimetype == "text/html"
    assert f"no certificate has the verification code {code}" in r.get_data(as_text=True)
    [row] = verification_rows(app)
    assert (row["method"], row["outcome"], row["certificate_id"], row["organisation_id"]) == (
        "code", "UNKNOWN_CERTIFICATE", None, None)


def test_the_verify_page_logs_the_signed_in_organisation(client, world, app):
    with app.app_context():
        account = db.session.get(Account, world.accounts["board_ie"].id)
        account.set_password(PASSWORD)
        db.session.commit()
    form = client.get("/sign-in").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    r = client.post("/sign-in", data={"email": "board_ie@test.example", "password": PASSWORD, "csrf_token": token})
    assert r.status_code == 302
    assert client.get(f"/verify?code={unknown_code()}").status_code == 404
    [row] = verification_rows(app)
    assert row["outcome"] == "UNKNOWN_CERTIFICATE" and row["organisation_id"] == org_id(app, "IE-B")
    assert row["account_id"] == world.accounts["board_ie"].id


def test_the_verify_page_refuses_a_malformed_code_without_logging(client, world, app):
    for code in (mistyped(unknown_code()), "ABCD"):
        r = client.get(f"/verify?code={code}")
        assert r.status_code == 422 and r.mimetype == "text/html"
    assert count(app, "verifications") == 0


def test_the_verify_page_logs_a_known_code_as_before(issuing, app):
    cert = issuing.certificate()
    r = issuing.client.get(f"/verify?code={cert['verification_code']}")
    assert r.status_code == 200 and "VALID" in r.get_data(as_text=True)
    [row] = verification_rows(app)
    assert row["outcome"] == "VALID" and row["certificate_id"] == cert["id"]
