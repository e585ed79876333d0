"""Sign-in throttling on the page and on POST /api/v1/auth/token: failures counted in the database, the same refusal
whether or not the account exists, a lock that lifts when the failures leave the window."""

from __future__ import annotations

import re
from datetime import timedelta

import sqlalchemy as sa

from registry.accounts.throttle import SignInFailure
from registry.core.db import db
from tests.conftest import count

from .conftest import PASSWORD, csrf_of, text

LOCKED = "too many failed sign-in attempts"


def attempt(client, email: str, password: str):
    token = csrf_of(text(client.get("/sign-in")))
    return client.post("/sign-in", data={"email": email, "password": password, "csrf_token": token})


def token_request(client, email: str, password: str, addr: str = "127.0.0.1"):
    return client.post("/api/v1/auth/token", json={"email": email, "password": password},
                       environ_base={"REMOTE_ADDR": addr})


def same_page(html: str, email: str) -> str:
    """The page without what differs by nature: the typed address and the session's form token."""
    return re.sub(r'name="csrf_token" value="[^"]+"', "", html.replace(email, "X"))


def age_failures(app, seconds: int) -> None:
    """Move every recorded failure `seconds` into the past (as if that time had gone by)."""
    with app.app_context():
        table = SignInFailure.__table__
        rows = db.session.execute(sa.select(table.c.id, table.c.failed_at)).all()
        for row_id, failed_at in rows:
            db.session.execute(table.update().where(table.c.id == row_id)
                               .values(failed_at=failed_at - timedelta(seconds=seconds)))
        db.session.commit()


def test_five_failures_lock_the_address_even_for_the_right_password(pages, app):
    client = pages.client()
    for _ in range(5):
        r = attempt(client, "clinician@test.example", "wrong password")
        assert r.status_code == 401 and "unknown e-mail or wrong password" in text(r)
    assert count(app, "sign_in_failures") == 5
    locked = attempt(client, "clinician@test.example", PASSWORD)
    assert locked.status_code == 429
    page = text(locked)
    assert LOCKED in page and "wait 15 minutes" in page and 'role="alert"' in page
    assert int(locked.headers["Retry-After"]) > 800
    assert '<label for="f-email">' in page and 'value="clinician@test.example"' in page  # the form stays usable
    assert "unknown e-mail or wrong password" not in page
    assert client.get("/me").status_code == 302  # not signed in
    assert count(app, "sign_in_failures") == 5  # a refused attempt is not counted


def test_the_refusal_is_the_same_whether_or_not_the_account_exists(pages, app):
    known, unknown = pages.client(), pages.client()
    for _ in range(5):
        assert attempt(known, "clinician@test.example", "nope").status_code == 401
        assert attempt(unknown, "nobody@test.example", "nope").status_code == 401
    a = attempt(known, "clinician@test.example", "nope")
    b = attempt(unknown, "nobody@test.example", "nope")
    assert a.status_code == b.status_code == 429
    assert same_page(text(a), "clinician@test.example") == same_page(text(b), "nobody@test.example")
    assert abs(int(a.headers["Retry-After"]) - int(b.headers["Retry-After"])) <= 1
    # The API answers alike too, and stores neither address in clear.
    api_a = token_request(known, "clinician@test.example", "x")
    api_b = token_request(unknown, "nobody@test.example", "x")
    assert api_a.status_code == api_b.status_code == 429
    assert api_a.get_json()["detail"] == api_b.get_json()["detail"]
    with app.app_context():
        keys = db.session.execute(sa.select(SignInFailure.email_key, SignInFailure.client_key)).all()
    assert keys and all("@" not in k and "127.0.0.1" not in c and len(k) == 64 for k, c in keys)


def test_the_lock_lifts_when_the_failures_leave_the_window(pages, app):
    client = pages.client()
    for _ in range(5):
        attempt(client, "board_ie@test.example", "wrong")
    assert attempt(client, "board_ie@test.example", PASSWORD).status_code == 429
    age_failures(app, 15 * 60 + 1)
    ok = attempt(client, "board_ie@test.example", PASSWORD)
    assert ok.status_code == 302 and ok.headers["Location"].endswith("/board")
    assert count(app, "sign_in_failures") == 0  # old failures cleaned, the e-mail's cleared by the success


def test_a_success_clears_the_count_of_its_own_address_only(pages, app):
    client = pages.client()
    for _ in range(4):
        attempt(client, "clinician@test.example", "wrong")
        attempt(client, "hub_ie@test.example", "wrong")
    assert attempt(client, "clinician@test.example", PASSWORD).status_code == 302
    assert count(app, "sign_in_failures") == 4  # hub_ie's four remain
    other = pages.client()
    assert attempt(other, "hub_ie@test.example", "wrong").status_code == 401
    assert attempt(other, "hub_ie@test.example", PASSWORD).status_code == 429


def test_e_mail_case_and_spaces_do_not_escape_the_count(pages):
    client = pages.client()
    for email in ("clinician@test.example", "Clinician@Test.example", " CLINICIAN@test.example",
                  "clinician@test.example", "clinician@TEST.EXAMPLE"):
        assert attempt(client, email, "wrong").status_code == 401
    assert attempt(client, "clinician@test.example", PASSWORD).status_code == 429


def test_the_api_token_shares_the_count_and_answers_problem_json(pages, app):
    client = pages.client()
    for _ in range(3):
        assert attempt(client, "clinician@test.example", "wrong").status_code == 401
    for _ in range(2):
        assert token_request(client, "clinician@test.example", "wrong").status_code == 401
    r = token_request(client, "clinician@test.example", PASSWORD)
    assert r.status_code == 429 and r.mimetype == "application/problem+json"
    body = r.get_json()
    assert body["status"] == 429 and LOCKED in body["detail"] and int(r.headers["Retry-After"]) == body["retry_after"]
    assert "access_token" not in body
    assert attempt(client, "clinician@test.example", PASSWORD).status_code == 429


def test_many_failures_from_one_client_address_lock_it_for_every_e_mail(pages, app):
    app.config["SIGN_IN_MAX_FAILURES_PER_ADDRESS"] = 6
    try:
        client = pages.client()
        for n in range(6):  # six different addresses, one guess each: under the per-e-mail limit
            assert token_request(client, f"guess{n}@test.example", "x", addr="203.0.113.9").status_code == 401
        refused = token_request(client, "clinician@test.example", PASSWORD, addr="203.0.113.9")
        assert refused.status_code == 429
        elsewhere = token_request(client, "clinician@test.example", PASSWORD, addr="198.51.100.7")
        assert elsewhere.status_code == 200 and elsewhere.get_json()["access_token"]
    finally:
        app.config["SIGN_IN_MAX_FAILURES_PER_ADDRESS"] = 30


def test_limits_are_configurable_and_zero_turns_them_off(pages, app):
    app.config["SIGN_IN_WINDOW_SECONDS"] = 0
    try:
        client = pages.client()
        for _ in range(8):
            assert attempt(client, "clinician@test.example", "wrong").status_code == 401
        assert count(app, "sign_in_failures") == 0
        assert attempt(client, "clinician@test.example", PASSWORD).status_code == 302
    finally:
        app.config["SIGN_IN_WINDOW_SECONDS"] = 900
    app.config["SIGN_IN_MAX_FAILURES"] = 2
    try:
        client = pages.client()
        for _ in range(2):
            assert attempt(client, "hub_ie@test.example", "wrong").status_code == 401
        assert attempt(client, "hub_ie@test.example", PASSWORD).status_code == 429
    finally:
        app.config["SIGN_IN_MAX_FAILURES"] = 5


def test_blank_or_malformed_attempts_are_not_counted_and_need_the_form_token(pages, app):
    client = pages.client()
    token = csrf_of(text(client.get("/sign-in")))
    blank = client.post("/sign-in", data={"email": "clinician@test.example", "password": "", "csrf_token": token})
    assert blank.status_code == 422 and 'id="e-password"' in text(blank)
    assert token_request(client, "not-an-e-mail", "x").status_code == 422
    no_token = client.post("/sign-in", data={"email": "clinician@test.example", "password": "wrong"})
    assert no_token.status_code == 400
    assert count(app, "sign_in_failures") == 0


def test_behind_a_trusted_proxy_the_per_address_limit_counts_each_client(pages, app, monkeypatch):
    """With REGISTRY_TRUSTED_PROXIES=1 (create_app's own wrapping), clients behind one proxy address do not
    lock each other out; an address a client writes in front of the proxy's does not help it."""
    from registry.app import trust_proxies

    monkeypatch.setattr(app, "wsgi_app", app.wsgi_app)  # restored after the test
    trust_proxies(app, 1)
    monkeypatch.setitem(app.config, "SIGN_IN_MAX_FAILURES_PER_ADDRESS", 3)
    client = pages.client()

    def via_proxy(email: str, password: str, forwarded: str):
        return client.post("/api/v1/auth/token", json={"email": email, "password": password},
                           headers={"X-Forwarded-For": forwarded}, environ_base={"REMOTE_ADDR": "10.1.1.1"})

    for n in range(3):
        assert via_proxy(f"guess{n}@test.example", "x", "203.0.113.9").status_code == 401
    assert via_proxy("clinician@test.example", PASSWORD, "203.0.113.9").status_code == 429
    assert via_proxy("clinician@test.example", PASSWORD, "203.0.113.9, 203.0.113.9").status_code == 429
    assert via_proxy("clinician@test.example", PASSWORD, "203.0.113.9, 198.51.100.7").status_code == 200
