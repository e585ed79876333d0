"""No input makes a page answer 500: a CSRF token of any shape is refused as a wrong one, and database errors on a
page are answered as the API answers them (422 for a value the database cannot hold, 503 with Retry-After when it is
busy), as an HTML page, with nothing written."""

from __future__ import annotations

import re
import sqlite3

import pytest
from sqlalchemy.exc import DataError, OperationalError

from tests.conftest import audit_count, count

from .conftest import PASSWORD, csrf_of, d, text


def _without_token(html: str) -> str:
    return re.sub(r'name="csrf_token" value="[^"]+"', "", html)


def _sign_in_form(client, token=...):
    """A sign-in form that would succeed with the session's own token; `token` replaces it (None: left out)."""
    form = {"email": "clinician@test.example", "password": PASSWORD}
    if token is ...:
        token = csrf_of(text(client.get("/sign-in")))
    if token is not None:
        form["csrf_token"] = token
    return form


def _signed_in(client) -> bool:
    with client.session_transaction() as session:
        return "account_id" in session


@pytest.mark.parametrize("token", [
    pytest.param("é", id="non-ascii"),
    pytest.param("\u2603" * 43, id="non-ascii-token-length"),
    pytest.param(None, id="missing"),
    pytest.param("", id="blank"),
    pytest.param("same-twice", id="valid-token-twice"),
    pytest.param("valid-then-other", id="valid-token-and-another"),
    pytest.param("other-then-valid", id="another-and-valid-token"),
])
def test_a_sign_in_with_a_bad_csrf_token_is_refused_like_a_wrong_one(pages, app, token):
    # The answer to a plainly wrong token, for comparison.
    reference_client = pages.client()
    reference_client.get("/sign-in")  # a session with a token
    wrong = reference_client.post("/sign-in", data=_sign_in_form(reference_client, "wrong-token"))
    assert wrong.status_code == 400 and "Form expired" in text(wrong)
    assert not _signed_in(reference_client)

    client = pages.client()
    valid = csrf_of(text(client.get("/sign-in")))
    supplied = {"same-twice": [valid, valid], "valid-then-other": [valid, "é"],
                "other-then-valid": ["wrong-token", valid]}.get(token, token)
    r = client.post("/sign-in", data=_sign_in_form(client, supplied))

    assert r.status_code == wrong.status_code == 400, text(r)
    assert r.mimetype == "text/html"
    assert _without_token(text(r)) == _without_token(text(wrong))
    assert "the form has expired or did not come from this site" in text(r)
    assert not _signed_in(client)  # no sign-in happened
    assert client.get("/me").status_code == 302  # still sent to the sign-in page
    assert count(app, "sign_in_failures") == 0  # and no attempt was even counted


def test_the_right_token_still_signs_in(pages):
    client = pages.client()
    r = client.post("/sign-in", data=_sign_in_form(client))
    assert r.status_code == 302 and _signed_in(client)


def _locked(*args, **kwargs):
    raise OperationalError("SELECT clinicians", {}, sqlite3.OperationalError("database is locked"))


def _cannot_hold(*args, **kwargs):
    raise DataError("INSERT", {}, Exception("invalid byte sequence for encoding \"UTF8\": 0x00"))


def _assert_error_page(r, status: int, title: str) -> str:
    body = text(r)
    assert r.status_code == status, body
    assert r.mimetype == "text/html"  # a page, not the API's problem+json
    assert f"<h1>{title}</h1>" in body and f"Error {status}." in body
    return body


def test_a_busy_database_on_a_page_answers_503_with_retry_after(pages, monkeypatch):
    from registry.people import services as people

    board = pages.client("board_ie")
    monkeypatch.setattr(people, "search_clinicians", _locked)
    r = board.get("/search?q=Byrne")
    body = _assert_error_page(r, 503, "Service unavailable")
    assert int(r.headers["Retry-After"]) > 0
    assert "the database is busy or unavailable" in body
    assert "board_ie" in body  # the page still shows who is signed in
    monkeypatch.undo()
    assert board.get("/search?q=Byrne").status_code == 200  # the session carries on


def test_a_value_the_database_cannot_hold_on_a_page_answers_422(pages, monkeypatch):
    from registry.people import services as people

    board = pages.client("board_ie")
    monkeypatch.setattr(people, "search_clinicians", _cannot_hold)
    r = board.get("/search?q=Byrne")
    body = _assert_error_page(r, 422, "Invalid input")
    assert "Retry-After" not in r.headers
    assert "a value is outside what the register can store" in body


@pytest.mark.parametrize(("error", "status"), [(_cannot_hold, 422), (_locked, 503)], ids=["data-error", "locked"])
def test_a_database_error_after_a_form_wrote_leaves_nothing_written(pages, world, app, monkeypatch, error, status):
    """The service writes (an event and its audit record) and then the database fails: the page rolls it all back."""
    from registry.licensing import services as licensing

    record_event = licensing.record_event

    def write_then_fail(*args, **kwargs):
        record_event(*args, **kwargs)
        error()

    board = pages.client("board_ie")
    token = pages.token(board, "/board")
    events, audits = count(app, "licence_events"), audit_count(app)
    monkeypatch.setattr(licensing, "record_event", write_then_fail)
    r = board.post(f"/licences/{world.licence}/decision", data={
        "csrf_token": token, "action": "renew", "decided_on": d(0).isoformat(), "valid_until": d(800).isoformat(),
        "confirmed": "yes"})
    assert r.status_code == status and r.mimetype == "text/html", text(r)
    assert count(app, "licence_events") == events and audit_count(app) == audits


def test_the_api_still_answers_database_errors_as_problems(pages, world, monkeypatch):
    from registry.people import services as people

    monkeypatch.setattr(people, "search_clinicians", _locked)
    r = pages.client().get("/api/v1/clinicians?q=Byrne", headers=world.h("board_ie"))
    assert r.status_code == 503 and r.mimetype == "application/problem+json"
    assert r.headers["Retry-After"] == "2"
