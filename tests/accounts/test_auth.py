"""Sign-in, bearer tokens and API keys: what is accepted, what is refused, and what is stored."""

from __future__ import annotations

import base64
import hashlib
import json
import warnings
from datetime import UTC, datetime, timedelta

import jwt
import pytest
import sqlalchemy as sa

from registry.core.auth import TOKEN_AUDIENCE, TOKEN_ISSUER, Account, ApiKey, Role
from registry.core.db import db
from tests.conftest import audit_count, count, problem

PASSWORD = "correct horse battery staple"
WRONG = "unknown e-mail or wrong password"


@pytest.fixture
def officer(app, world) -> Account:
    """A board officer who signs in with a password (made the way the CLI and the API make accounts)."""
    from registry.accounts import services
    from registry.people import services as people

    with app.app_context():
        account = services.create_account(email="Officer@Board.example", display_name="Officer",
                                           role=Role.BOARD_OFFICER, password=PASSWORD,
                                           organisation=people.get_organisation("IE-B"))
        db.session.commit()
        db.session.refresh(account)
        db.session.expunge(account)
    return account


def sign_in(client, email: str, password: str):
    return client.post("/api/v1/auth/token", json={"email": email, "password": password})


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def claims_for(account: Account, **overrides) -> dict:
    now = datetime.now(UTC)
    claims = {"iss": TOKEN_ISSUER, "aud": TOKEN_AUDIENCE, "sub": str(account.id), "role": account.role.value,
              "iat": now, "nbf": now, "exp": now + timedelta(minutes=5)}
    claims.update(overrides)
    return claims


def b64(part: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(part).encode()).rstrip(b"=").decode()


# --- passwords and tokens ---


def test_right_password_gives_a_token_that_works(client, officer, app):
    r = sign_in(client, "officer@board.example", PASSWORD)  # e-mail is matched case-insensitively
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == app.config["ACCESS_TOKEN_SECONDS"]
    me = client.get("/api/v1/me", headers=bearer(body["access_token"]))
    assert me.status_code == 200
    assert me.get_json() == {"id": officer.id, "email": "officer@board.example", "display_name": "Officer",
                             "role": "board_officer", "organisation": "IE-B", "member_state": "IE",
                             "clinician": None, "active": True}
    assert "password" not in r.get_data(as_text=True) and PASSWORD not in me.get_data(as_text=True)


def test_password_is_stored_hashed(app, officer):
    with app.app_context():
        stored = db.session.get(Account, officer.id).password_hash
    assert stored and PASSWORD not in stored


@pytest.mark.parametrize("email, password", [
    ("officer@board.example", "wrong password!"),
    ("nobody@board.example", PASSWORD),
    ("nobody@board.example", "wrong password!"),
    ("board_ie@test.example", PASSWORD),  # an account without a password cannot sign in with one
])
def test_wrong_credentials_get_one_indistinguishable_401(client, officer, app, email, password):
    before = audit_count(app)
    r = sign_in(client, email, password)
    assert r.status_code == 401
    body = problem(r)
    assert body["detail"] == WRONG
    assert "access_token" not in body
    assert audit_count(app) == before


def test_deactivated_account_cannot_sign_in_and_its_token_stops_working(client, world, officer, app):
    token = sign_in(client, "officer@board.example", PASSWORD).get_json()["access_token"]
    assert client.get("/api/v1/me", headers=bearer(token)).status_code == 200
    r = client.patch(f"/api/v1/accounts/{officer.id}", json={"active": False}, headers=world.h("secretariat"))
    assert r.status_code == 200 and r.get_json()["active"] is False

    r = client.get("/api/v1/me", headers=bearer(token))
    assert r.status_code == 401
    assert "not active" in problem(r)["detail"]
    r = sign_in(client, "officer@board.example", PASSWORD)
    assert r.status_code == 401 and problem(r)["detail"] == WRONG
    # Reactivated, the same password works again.
    client.patch(f"/api/v1/accounts/{officer.id}", json={"active": True}, headers=world.h("secretariat"))
    assert sign_in(client, "officer@board.example", PASSWORD).status_code == 200


def test_expired_token(client, officer, app):
    past = datetime.now(UTC) - timedelta(hours=2)
    token = jwt.encode(claims_for(officer, iat=past, nbf=past, exp=past + timedelta(minutes=15)),
                       app.config["SECRET_KEY"], algorithm="HS256")
    r = client.get("/api/v1/me", headers=bearer(token))
    assert r.status_code == 401
    assert "expired" in problem(r)["detail"]


@pytest.mark.parametrize("forge", [
    pytest.param(lambda officer, key: jwt.encode(claims_for(officer), "another-key-" + "x" * 40, algorithm="HS256"),
                 id="signed-with-another-key"),
    pytest.param(lambda officer, key: f"{b64({'alg': 'none', 'typ': 'JWT'})}."
                                      f"{b64(json.loads(json.dumps(claims_for(officer), default=_epoch)))}.",
                 id="alg-none"),
    pytest.param(lambda officer, key: _hs512(claims_for(officer), key), id="other-algorithm"),
    pytest.param(lambda officer, key: jwt.encode(claims_for(officer, aud="someone-else"), key, algorithm="HS256"),
                 id="wrong-audience"),
    pytest.param(lambda officer, key: jwt.encode(claims_for(officer, iss="someone-else"), key, algorithm="HS256"),
                 id="wrong-issuer"),
    pytest.param(lambda officer, key: jwt.encode({k: v for k, v in claims_for(officer).items() if k != "exp"}, key,
                                                 algorithm="HS256"), id="no-expiry"),
    pytest.param(lambda officer, key: jwt.encode(claims_for(officer, sub="999999"), key, algorithm="HS256"),
                 id="unknown-account"),
    pytest.param(lambda officer, key: jwt.encode(claims_for(officer, sub="admin"), key, algorithm="HS256"),
                 id="non-numeric-subject"),
    pytest.param(lambda officer, key: jwt.encode(claims_for(officer), key, algorithm="HS256")[:-4] + "AAAA",
                 id="tampered-signature"),
    pytest.param(lambda officer, key: "not.a.token", id="garbage"),
])
def test_forged_tokens_are_refused(client, officer, app, forge):
    token = forge(officer, app.config["SECRET_KEY"])
    r = client.get("/api/v1/me", headers=bearer(token))
    assert r.status_code == 401, r.get_json()
    assert problem(r)["type"].endswith("/unauthorized")


def _hs512(claims: dict, key: str) -> str:
    with warnings.catch_warnings():  # the demo key is short for HS512; the point is the algorithm
        warnings.simplefilter("ignore", jwt.warnings.InsecureKeyLengthWarning)
        return jwt.encode(claims, key, algorithm="HS512")


def _epoch(value):
    return int(value.timestamp())


def test_forged_token_writes_nothing(client, world, officer, app):
    """A forged token on a write is refused before anything is touched."""
    token = f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(json.loads(json.dumps(claims_for(officer), default=_epoch)))}."
    before = (count(app, "licence_events"), audit_count(app))
    r = client.post(f"/api/v1/licences/{world.licence}/events", headers=bearer(token),
                    json={"action": "suspend", "decided_on": world.today.isoformat(), "reason": "forged"})
    assert r.status_code == 401
    problem(r)
    assert (count(app, "licence_events"), audit_count(app)) == before


@pytest.mark.parametrize("header", [
    {"Authorization": "Basic b2ZmaWNlcjpwYXNzd29yZA=="},
    {"Authorization": "Bearer"},
    {"Authorization": "Token abc"},
])
def test_unknown_authorization_schemes_are_refused(client, header):
    r = client.get("/api/v1/me", headers=header)
    assert r.status_code == 401
    problem(r)


def test_me_needs_a_caller(client):
    r = client.get("/api/v1/me")
    assert r.status_code == 401
    assert "sign in" in problem(r)["detail"]


def test_me_for_a_clinician(client, world):
    r = client.get("/api/v1/me", headers=world.h("clinician"))
    assert r.status_code == 200
    body = r.get_json()
    assert body["role"] == "clinician" and body["clinician"] == world.clinician.registry_number
    assert body["organisation"] is None


# --- API keys ---


def create_key(client, world, who="hub_ie", name="nightly import"):
    r = client.post("/api/v1/me/api-keys", json={"name": name}, headers=world.h(who))
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def test_api_key_secret_is_shown_once_and_only_its_hash_is_stored(client, world, app):
    before = audit_count(app)
    created = create_key(client, world)
    secret = created["key"]
    assert secret.startswith("wr_" + created["prefix"] + "_")
    assert created["name"] == "nightly import" and created["revoked_at"] is None
    assert audit_count(app) == before + 1

    with app.app_context():
        row = db.session.execute(sa.select(ApiKey.__table__)).mappings().one()
        assert row["key_hash"] == hashlib.sha256(secret.encode()).hexdigest()
        random_part = secret.split("_", 2)[2]
        for column, value in row.items():
            assert secret not in str(value) and random_part not in str(value), column
        for changes in db.session.scalars(sa.text("SELECT changes FROM audit_events")).all():
            assert random_part not in (changes if isinstance(changes, str) else json.dumps(changes))

    listed = client.get("/api/v1/me/api-keys", headers=world.h("hub_ie"))
    assert listed.status_code == 200
    assert [k["prefix"] for k in listed.get_json()] == [created["prefix"]]
    assert random_part not in listed.get_data(as_text=True) and "key" not in listed.get_json()[0]
    # Other accounts do not see it.
    assert client.get("/api/v1/me/api-keys", headers=world.h("hub_pt")).get_json() == []


@pytest.mark.parametrize("send", [
    pytest.param(lambda secret: {"X-API-Key": secret}, id="x-api-key"),
    pytest.param(lambda secret: {"Authorization": f"ApiKey {secret}"}, id="authorization-apikey"),
])
def test_api_key_authenticates_as_its_account(client, world, app, send):
    secret = create_key(client, world, who="board_ie")["key"]
    r = client.get("/api/v1/me", headers=send(secret))
    assert r.status_code == 200
    assert r.get_json()["email"] == "board_ie@test.example"
    # A write made with the key is attributed to the account, via that key.
    r = client.post(f"/api/v1/licences/{world.licence}/events", headers=send(secret),
                    json={"action": "suspend", "decided_on": world.today.isoformat(), "reason": "inquiry"})
    assert r.status_code == 201, r.get_json()
    with app.app_context():
        label = db.session.scalar(sa.text("SELECT actor_label FROM audit_events ORDER BY seq DESC LIMIT 1"))
    assert label.startswith(f"board_officer:{world.accounts['board_ie'].id} via api-key:")


@pytest.mark.parametrize("mangle", [
    pytest.param(lambda secret: secret[:-2] + ("AA" if not secret.endswith("AA") else "BB"), id="wrong-secret"),
    pytest.param(lambda secret: "wr_000000000000_" + secret.split("_", 2)[2], id="unknown-prefix"),
    pytest.param(lambda secret: secret.replace("wr_", "xx_", 1), id="not-a-key"),
    pytest.param(lambda secret: "wr_", id="truncated"),
])
def test_wrong_api_keys_are_refused(client, world, mangle):
    secret = create_key(client, world)["key"]
    r = client.get("/api/v1/me", headers={"X-API-Key": mangle(secret)})
    assert r.status_code == 401
    assert problem(r)["detail"] == "the API key is not valid"


def test_revoked_api_key_is_refused(client, world, app):
    created = create_key(client, world)
    assert client.get("/api/v1/me", headers={"X-API-Key": created["key"]}).status_code == 200
    r = client.delete(f"/api/v1/me/api-keys/{created['prefix']}", headers=world.h("hub_ie"))
    assert r.status_code == 200 and r.get_json()["revoked_at"]
    for header in ({"X-API-Key": created["key"]}, {"Authorization": f"ApiKey {created['key']}"}):
        r = client.get("/api/v1/me", headers=header)
        assert r.status_code == 401
        problem(r)
    # Revoking again changes nothing and records nothing.
    before = audit_count(app)
    assert client.delete(f"/api/v1/me/api-keys/{created['prefix']}", headers=world.h("hub_ie")).status_code == 200
    assert audit_count(app) == before


def test_api_key_of_a_deactivated_account_is_refused(client, world):
    secret = create_key(client, world, who="hub_pt")["key"]
    r = client.patch(f"/api/v1/accounts/{world.accounts['hub_pt'].id}", json={"active": False},
                     headers=world.h("secretariat"))
    assert r.status_code == 200
    r = client.get("/api/v1/me", headers={"X-API-Key": secret})
    assert r.status_code == 401
    assert "not active" in problem(r)["detail"]


def test_clinicians_have_no_api_keys(client, world, app):
    before = count(app, "api_keys")
    r = client.post("/api/v1/me/api-keys", json={"name": "mine"}, headers=world.h("clinician"))
    assert r.status_code == 403
    problem(r)
    assert count(app, "api_keys") == before


def test_a_key_cannot_be_revoked_by_another_account(client, world, app):
    created = create_key(client, world, who="hub_ie")
    r = client.delete(f"/api/v1/me/api-keys/{created['prefix']}", headers=world.h("hub_pt"))
    assert r.status_code == 404
    problem(r)
    assert client.get("/api/v1/me", headers={"X-API-Key": created["key"]}).status_code == 200
