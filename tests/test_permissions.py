"""Who may write what, decided on the object: every write endpoint against every role, and the guarded reads.

DOMAIN.md "The people and their rights": the secretariat manages reference data and accounts and acts on no
licence; a board acts on its own board's licences and registers clinicians of its own state; hubs and clinicians
write none of these. A denied request answers 401/403 problem+json and writes nothing at all.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from registry.core.db import db
from tests.conftest import World, audit_count, count, problem

T = date.today()
ROLES = ["anonymous", "secretariat", "board_ie", "board_ie2", "board_fr", "hub_ie", "hub_pt", "clinician",
         "other_clinician"]
NEW_PROFESSION = "2250"  # veterinarians: not seeded, removed again after each test (professions persist)


@dataclass
class Call:
    """One request, and what it writes when allowed."""

    method: str
    url: str
    body: dict[str, Any] | None = None
    creates: dict[str, int] = field(default_factory=dict)  # table -> rows added
    audit_action: str | None = None
    check: Callable[[World, dict[str, Any]], None] | None = None  # what an allowed call changed


def tables_in_database(app) -> list[str]:
    with app.app_context():
        present = set(sa.inspect(db.engine).get_table_names())
    return sorted(t.name for t in db.metadata.sorted_tables if t.name in present and t.name != "alembic_version")


def snapshot(app) -> dict[str, int]:
    """Row counts of every table: a denied request must leave all of them as they were."""
    return {table: count(app, table) for table in tables_in_database(app)}


def audit_actions(app, action: str) -> int:
    with app.app_context():
        table = db.metadata.tables["audit_events"]
        return db.session.scalar(sa.select(sa.func.count()).select_from(table).where(table.c.action == action))


@pytest.fixture(autouse=True)
def _forget_new_profession(request):
    yield
    if "app" not in request.fixturenames:
        return
    app = request.getfixturevalue("app")
    with app.app_context(), db.engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM professions WHERE code = :c"), {"c": NEW_PROFESSION})


# --- endpoint builders: each returns the request to make (any setup it needs is done and committed first) ---


def member_state_create(w: World) -> Call:
    return Call("POST", "/api/v1/member-states",
                {"code": "DE", "name": "Germany", "official_languages": ["de"], "joined_on": "2024-01-01"},
                creates={"member_states": 1}, audit_action="member_state.create")


def member_state_patch(w: World) -> Call:
    def check(w, body):
        assert body["name"] == "Éire"

    return Call("PATCH", "/api/v1/member-states/IE", {"name": "Éire"}, audit_action="member_state.update",
                check=check)


def organisation_create(w: World) -> Call:
    return Call("POST", "/api/v1/organisations",
                {"code": "PT-B9", "name": "Ordem nova", "kind": "licensing_board", "member_state_code": "PT",
                 "language": "pt"},
                creates={"organisations": 1}, audit_action="organisation.create")


def organisation_patch(w: World) -> Call:
    def check(w, body):
        assert body["name"] == "Renamed board"

    return Call("PATCH", "/api/v1/organisations/IE-B", {"name": "Renamed board"},
                audit_action="organisation.update", check=check)


def profession_create(w: World) -> Call:
    return Call("POST", "/api/v1/professions", {"code": NEW_PROFESSION, "title": "Veterinarians"},
                creates={"professions": 1}, audit_action="profession.create")


def clinician_create(w: World) -> Call:
    return Call("POST", "/api/v1/clinicians",
                {"family_name": "Kelly", "given_names": "Aoife", "date_of_birth": "1990-05-17", "sex": "female",
                 "nationality": "IE", "home_state_code": "IE", "languages": [{"language": "en", "level": "native"}]},
                creates={"clinicians": 1}, audit_action="clinician.create")


def clinician_create_fr(w: World) -> Call:
    call = clinician_create(w)
    call.body = {**call.body, "nationality": "FR", "home_state_code": "FR"}
    return call


def clinician_patch(w: World) -> Call:
    def check(w, body):
        assert body["given_names"] == "Siobhan Marie"

    return Call("PATCH", f"/api/v1/clinicians/{w.clinician.registry_number}", {"given_names": "Siobhan Marie"},
                audit_action="clinician.update", check=check)


def licence_issue(w: World) -> Call:
    def check(w, body):
        # Always at the caller's own board: there is no way to name another.
        assert body["board"] in ("IE-B", "IE-B2", "FR-B")
        assert body["state"]["status"] == "active"

    return Call("POST", "/api/v1/licences",
                {"clinician": w.other_clinician.registry_number, "profession": "2221", "number": "NEW-0001",
                 "decided_on": (T - timedelta(days=1)).isoformat()},
                creates={"licences": 1, "licence_events": 1}, audit_action="licence.issue", check=check)


def licence_event(w: World) -> Call:
    return Call("POST", f"/api/v1/licences/{w.licence}/events",
                {"action": "renew", "decided_on": T.isoformat(), "valid_until": (T + timedelta(days=1800)).isoformat()},
                creates={"licence_events": 1}, audit_action="licence.renew")


def licence_event_suspend(w: World) -> Call:
    return Call("POST", f"/api/v1/licences/{w.licence}/events",
                {"action": "suspend", "decided_on": T.isoformat(), "reason": "inquiry"},
                creates={"licence_events": 1}, audit_action="licence.suspend")


def account_create(w: World) -> Call:
    return Call("POST", "/api/v1/accounts",
                {"email": "new.officer@test.example", "display_name": "New officer", "role": "hub_officer",
                 "organisation": "PT-HUB", "password": "correct horse battery staple"},
                creates={"accounts": 1}, audit_action="account.create")


def account_patch(w: World) -> Call:
    def check(w, body):
        assert body["active"] is False

    return Call("PATCH", f"/api/v1/accounts/{w.accounts['hub_pt'].id}", {"active": False},
                audit_action="account.deactivate", check=check)


def api_key_create(w: World) -> Call:
    return Call("POST", "/api/v1/me/api-keys", {"name": "nightly import"}, creates={"api_keys": 1},
                audit_action="api_key.create")


def api_key_revoke(w: World) -> Call:
    """Revoke board_ie's key: its owner may; to anyone else it is not one of their keys."""
    from registry.accounts import services
    from registry.core.auth import Account

    with w.app.app_context():
        key, _ = services.create_api_key(db.session.get(Account, w.accounts["board_ie"].id), "to revoke")
        db.session.commit()
        prefix = key.prefix

    def check(w, body):
        assert body["prefix"] == prefix and body["revoked_at"]

    return Call("DELETE", f"/api/v1/me/api-keys/{prefix}", audit_action="api_key.revoke", check=check)


def expect(allowed: dict[str, int], *, default: int = 403, **others: int) -> dict[str, int]:
    """Status per role: the allowed roles' success code, 401 for anonymous, `default` for everyone else."""
    table = {role: default for role in ROLES}
    table["anonymous"] = 401
    table.update(allowed)
    table.update(others)
    return table


BOARDS = ("board_ie", "board_ie2", "board_fr")
ORG_OFFICERS = ("secretariat", "board_ie", "board_ie2", "board_fr", "hub_ie", "hub_pt")

MATRIX: list[tuple[Callable[[World], Call], dict[str, int]]] = [
    (member_state_create, expect({"secretariat": 201})),
    (member_state_patch, expect({"secretariat": 200})),
    (organisation_create, expect({"secretariat": 201})),
    (organisation_patch, expect({"secretariat": 200})),
    (profession_create, expect({"secretariat": 201})),
    # A board registers and corrects clinicians of its own member state only.
    (clinician_create, expect({"board_ie": 201, "board_ie2": 201})),
    (clinician_create_fr, expect({"board_fr": 201})),
    (clinician_patch, expect({"board_ie": 200, "board_ie2": 200})),
    # Any board issues at its own board; only the issuing board records decisions on a licence.
    (licence_issue, expect({b: 201 for b in BOARDS})),
    (licence_event, expect({"board_ie": 201})),
    (licence_event_suspend, expect({"board_ie": 201})),
    (account_create, expect({"secretariat": 201})),
    (account_patch, expect({"secretariat": 200})),
    (api_key_create, expect({r: 201 for r in ORG_OFFICERS})),
    # /me/... names the caller's own keys: someone else's key is simply not there (404), and is not touched.
    (api_key_revoke, expect({"board_ie": 200}, default=404)),
]

CASES = [
    pytest.param(builder, role, statuses[role], id=f"{builder.__name__}-{role}")
    for builder, statuses in MATRIX
    for role in ROLES
]


@pytest.mark.parametrize("builder, role, status", CASES)
def test_write_matrix(client, world, app, builder, role, status):
    call = builder(world)
    before = snapshot(app)
    audit_before = audit_count(app)
    action_before = audit_actions(app, call.audit_action) if call.audit_action else 0

    r = client.open(call.url, method=call.method, json=call.body, headers=world.h(role))

    assert r.status_code == status, r.get_data(as_text=True)
    if status < 300:
        body = r.get_json()
        after = snapshot(app)
        for table, added in call.creates.items():
            assert after[table] == before[table] + added, table
        assert audit_actions(app, call.audit_action) == action_before + 1
        if call.check:
            call.check(world, body)
        return
    body = problem(r)
    assert body["detail"]
    if status in (401, 403):
        assert body["type"].endswith("/unauthorized" if status == 401 else "/forbidden")
    assert snapshot(app) == before
    assert audit_count(app) == audit_before


def test_matrix_covers_every_write_endpoint(app):
    """A new write endpoint must join the matrix (or a feature's own permission tests)."""
    covered = {
        ("POST", "/api/v1/member-states"), ("PATCH", "/api/v1/member-states/{code}"),
        ("POST", "/api/v1/organisations"), ("PATCH", "/api/v1/organisations/{code}"),
        ("POST", "/api/v1/professions"), ("POST", "/api/v1/clinicians"),
        ("PATCH", "/api/v1/clinicians/{registry_number}"), ("POST", "/api/v1/licences"),
        ("POST", "/api/v1/licences/{licence_id}/events"), ("POST", "/api/v1/accounts"),
        ("PATCH", "/api/v1/accounts/{account_id}"), ("POST", "/api/v1/me/api-keys"),
        ("DELETE", "/api/v1/me/api-keys/{prefix}"),
        ("POST", "/api/v1/auth/token"),  # sign-in: writes nothing
    }
    spec = app.test_client().get("/api/v1/openapi.json").get_json()
    foundation = {path for _, path in covered}
    writes = {
        (method.upper(), path)
        for path, ops in spec["paths"].items()
        for method in ops
        if method in ("post", "put", "patch", "delete") and path in foundation
    }
    assert writes == covered


def test_board_cannot_issue_at_another_board(client, world, app):
    """The board is the caller's own; naming another is an unknown field, and nothing is written."""
    before = snapshot(app)
    r = client.post("/api/v1/licences", headers=world.h("board_ie"), json={
        "clinician": world.other_clinician.registry_number, "profession": "2221", "number": "X-1",
        "decided_on": T.isoformat(), "board": "FR-B"})
    assert r.status_code == 422
    assert "board" in problem(r)["errors"]
    assert snapshot(app) == before


def test_board_cannot_move_a_clinician_to_its_state(client, world, app):
    """A patch cannot change the home state, so a board of another state cannot take a record over."""
    before = snapshot(app)
    r = client.patch(f"/api/v1/clinicians/{world.clinician.registry_number}", headers=world.h("board_fr"),
                     json={"home_state_code": "FR"})
    assert r.status_code == 422
    assert "home_state_code" in problem(r)["errors"]
    assert snapshot(app) == before


def test_licence_issued_by_other_state_is_out_of_reach(client, world, app):
    """A licence of state FR cannot be touched by a board of IE, and the reverse."""
    fr_licence = world.make_licence(world.clinician, "FR-B", number="FR-2221-9")
    before = snapshot(app)
    r = client.post(f"/api/v1/licences/{fr_licence}/events", headers=world.h("board_ie"),
                    json={"action": "suspend", "decided_on": T.isoformat(), "reason": "x"})
    assert r.status_code == 403 and "FR-B" in problem(r)["detail"]
    assert snapshot(app) == before
    r = client.post(f"/api/v1/licences/{fr_licence}/events", headers=world.h("board_fr"),
                    json={"action": "suspend", "decided_on": T.isoformat(), "reason": "x"})
    assert r.status_code == 201


def test_deactivated_officer_writes_nothing(client, world, app):
    r = client.patch(f"/api/v1/accounts/{world.accounts['board_ie'].id}", json={"active": False},
                     headers=world.h("secretariat"))
    assert r.status_code == 200
    before = snapshot(app)
    r = client.post(f"/api/v1/licences/{world.licence}/events", headers=world.h("board_ie"),
                    json={"action": "suspend", "decided_on": T.isoformat(), "reason": "x"})
    assert r.status_code == 401
    problem(r)
    assert snapshot(app) == before


# --- reads: the full record and standing are for boards, the secretariat and the clinician themself ---

READERS = expect({"secretariat": 200, "board_ie": 200, "board_ie2": 200, "board_fr": 200, "clinician": 200})


def standing_url(w: World) -> str:
    return f"/api/v1/clinicians/{w.clinician.registry_number}/standing"


def record_url(w: World) -> str:
    return f"/api/v1/clinicians/{w.clinician.registry_number}"


def licence_url(w: World) -> str:
    return f"/api/v1/licences/{w.licence}"


def licence_status_url(w: World) -> str:
    return f"/api/v1/licences/{w.licence}/status"


def licence_events_url(w: World) -> str:
    return f"/api/v1/licences/{w.licence}/events"


def search_url(w: World) -> str:
    return "/api/v1/clinicians?q=byrne"


def licence_search_url(w: World) -> str:
    return "/api/v1/licences?number=IE-2221-0001"


def lookup_url(w: World) -> str:
    return f"/api/v1/lookup?registry_number={w.clinician.registry_number}"


def accounts_url(w: World) -> str:
    return "/api/v1/accounts"


READ_MATRIX: list[tuple[Callable[[World], str], dict[str, int]]] = [
    (standing_url, READERS),
    (record_url, READERS),
    (licence_url, READERS),
    (licence_status_url, READERS),
    (licence_events_url, READERS),
    (search_url, expect({"secretariat": 200, **{b: 200 for b in BOARDS}})),
    (licence_search_url, expect({"secretariat": 200, **{b: 200 for b in BOARDS}})),
    # Hubs look a clinician up by number (name and profession only); clinicians have no lookup.
    (lookup_url, expect({r: 200 for r in ORG_OFFICERS})),
    (accounts_url, expect({"secretariat": 200})),
]

READ_CASES = [
    pytest.param(url, role, statuses[role], id=f"{url.__name__}-{role}")
    for url, statuses in READ_MATRIX
    for role in ROLES
]


@pytest.mark.parametrize("url, role, status", READ_CASES)
def test_read_matrix(client, world, app, url, role, status):
    before = snapshot(app)
    r = client.get(url(world), headers=world.h(role))
    assert r.status_code == status, r.get_data(as_text=True)
    after = snapshot(app)
    if status >= 400:
        problem(r)
        assert after == before
        return
    if url is standing_url:
        body = r.get_json()
        assert body["clinician"]["registry_number"] == world.clinician.registry_number
        assert [lic["number"] for lic in body["licences"]] == ["IE-2221-0001"]
        # Every read of a full standing is logged: one row per read, and nothing else changes.
        assert after == {**before, "access_log": before["access_log"] + 1}
    else:
        assert after["audit_events"] == before["audit_events"]


def test_standing_read_is_logged_with_the_reader(client, world, app):
    from registry.core.audit import AccessLog
    from registry.people import services as people

    for who in ("board_fr", "board_fr", "clinician"):
        assert client.get(standing_url(world), headers=world.h(who)).status_code == 200
    with app.app_context():
        fr_board = people.get_organisation("FR-B").id
        rows = db.session.scalars(sa.select(AccessLog).order_by(AccessLog.id)).all()
        assert [(row.actor_id, row.organisation_id, row.clinician_id, row.what) for row in rows] == [
            (world.accounts["board_fr"].id, fr_board, world.clinician.id, "standing"),
            (world.accounts["board_fr"].id, fr_board, world.clinician.id, "standing"),
            (world.accounts["clinician"].id, None, world.clinician.id, "standing"),
        ]


def test_hub_lookup_shows_name_and_profession_only(client, world):
    r = client.get(lookup_url(world), headers=world.h("hub_ie"))
    assert r.status_code == 200
    assert set(r.get_json()) == {"registry_number", "name", "professions"}


@pytest.mark.parametrize("method, url, role, status", [
    ("POST", "/api/v1/licences/999999/events", "anonymous", 401),
    ("POST", "/api/v1/licences/999999/events", "hub_ie", 403),
    ("POST", "/api/v1/licences/999999/events", "secretariat", 403),
    ("POST", "/api/v1/licences/999999/events", "board_ie", 404),
    ("GET", "/api/v1/licences/999999", "anonymous", 401),
    ("GET", "/api/v1/licences/999999/status", "anonymous", 401),
    ("GET", "/api/v1/licences/999999/events", "anonymous", 401),
    ("PATCH", "/api/v1/clinicians/{unknown}", "anonymous", 401),
    ("PATCH", "/api/v1/clinicians/{unknown}", "clinician", 403),
    ("PATCH", "/api/v1/clinicians/{unknown}", "board_ie", 404),
])
def test_callers_without_the_right_learn_nothing_about_ids(client, world, app, method, url, role, status):
    """Who may not act is refused before the lookup, so a 404 never tells them an id is unused."""
    from registry.people import numbers

    body = {"action": "suspend", "decided_on": T.isoformat(), "reason": "x"} if "events" in url else (
        {"given_names": "X"} if method == "PATCH" else None)
    before = snapshot(app)
    r = client.open(url.format(unknown=numbers.new_registry_number()), method=method, json=body,
                    headers=world.h(role))
    assert r.status_code == status, r.get_json()
    problem(r)
    assert snapshot(app) == before
