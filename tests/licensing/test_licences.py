"""Licence lifecycle through the API: legal and illegal moves, point-in-time status, history."""

from datetime import date, timedelta

import pytest

from tests.conftest import audit_count, count, problem

T = date.today()


def d(days: int) -> str:
    return (T + timedelta(days=days)).isoformat()


def post_event(client, world, licence_id, who="board_ie", **body):
    return client.post(f"/api/v1/licences/{licence_id}/events", json=body, headers=world.h(who))


def status(client, world, licence_id, on: str) -> str:
    r = client.get(f"/api/v1/licences/{licence_id}/status?on={on}", headers=world.h("board_ie"))
    assert r.status_code == 200, r.get_json()
    return r.get_json()["status"]


def test_issue_licence_at_own_board(client, world, app):
    before = audit_count(app)
    r = client.post("/api/v1/licences", headers=world.h("board_fr"), json={
        "clinician": world.clinician.registry_number, "profession": "2211", "number": "FR-77",
        "decided_on": d(-10), "valid_until": d(700)})
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert body["board"] == "FR-B" and body["member_state"] == "FR"
    assert body["state"]["status"] == "active"
    assert [e["action"] for e in body["events"]] == ["issue"]
    assert audit_count(app) == before + 1


def test_licence_number_unique_per_board(client, world, app):
    r = client.post("/api/v1/licences", headers=world.h("board_ie"), json={
        "clinician": world.other_clinician.registry_number, "profession": "2221", "number": "IE-2221-0001",
        "decided_on": d(-1)})
    assert r.status_code == 409
    assert "already has a licence numbered" in problem(r)["detail"]
    # The same number at another board is a different licence.
    r = client.post("/api/v1/licences", headers=world.h("board_fr"), json={
        "clinician": world.other_clinician.registry_number, "profession": "2221", "number": "IE-2221-0001",
        "decided_on": d(-1)})
    assert r.status_code == 201


def test_full_lifecycle_and_point_in_time(client, world):
    lic = world.licence
    assert post_event(client, world, lic, action="restrict", decided_on=d(-100), reason="review",
                      scope="no night shifts").status_code == 201
    assert post_event(client, world, lic, action="suspend", decided_on=d(-60), reason="inquiry").status_code == 201
    assert post_event(client, world, lic, action="reinstate", decided_on=d(-30), reason="cleared").status_code == 201
    # After reinstatement from suspension the restriction still holds; a second reinstatement lifts it.
    r = client.get(f"/api/v1/licences/{lic}/status?on={d(-20)}", headers=world.h("board_ie"))
    assert r.get_json()["status"] == "active" and r.get_json()["restrictions"] == ["no night shifts"]
    assert post_event(client, world, lic, action="reinstate", decided_on=d(-10),
                      reason="restriction lifted").status_code == 201
    assert post_event(client, world, lic, action="revoke", decided_on=d(0), reason="struck off").status_code == 201

    assert status(client, world, lic, d(-400)) == "not_yet_valid"
    assert status(client, world, lic, d(-200)) == "active"
    assert status(client, world, lic, d(-60)) == "suspended"
    assert status(client, world, lic, d(-45)) == "suspended"
    assert status(client, world, lic, d(-30)) == "active"
    assert status(client, world, lic, d(0)) == "revoked"
    assert status(client, world, lic, d(3650)) == "revoked"
    r = client.get(f"/api/v1/licences/{lic}/status?on={d(-5)}", headers=world.h("board_ie"))
    assert r.get_json()["restrictions"] == []

    events = client.get(f"/api/v1/licences/{lic}/events", headers=world.h("board_ie")).get_json()
    assert [e["action"] for e in events] == ["issue", "restrict", "suspend", "reinstate", "reinstate", "revoke"]


@pytest.mark.parametrize(
    "setup, action, extra",
    [
        ([], "reinstate", {}),  # active and unrestricted: nothing to reinstate
        ([("suspend", {"reason": "x"})], "suspend", {"reason": "again"}),
        ([("suspend", {"reason": "x"})], "surrender", {}),
        ([("suspend", {"reason": "x"})], "restrict", {"reason": "r", "scope": "s"}),
        ([("revoke", {"reason": "x"})], "reinstate", {}),
        ([("revoke", {"reason": "x"})], "renew", {"valid_until": d(2000)}),
        ([("surrender", {})], "suspend", {"reason": "late"}),
        ([("surrender", {})], "revoke", {"reason": "late"}),
    ],
)
def test_illegal_moves_are_conflicts_and_write_nothing(client, world, app, setup, action, extra):
    for prior, body in setup:
        assert post_event(client, world, world.licence, action=prior, decided_on=d(-5), **body).status_code == 201
    events_before, audit_before = count(app, "licence_events"), audit_count(app)
    r = post_event(client, world, world.licence, action=action, decided_on=d(-1), **extra)
    assert r.status_code == 409, r.get_json()
    assert problem(r)["detail"]
    assert count(app, "licence_events") == events_before
    assert audit_count(app) == audit_before


def test_lapse_is_read_from_dates_and_renewal_extends(client, world):
    lic = world.make_licence(world.other_clinician, "IE-B", issued=T - timedelta(days=800),
                             valid_until=T - timedelta(days=30))
    assert status(client, world, lic, d(-31)) == "active"
    assert status(client, world, lic, d(-29)) == "lapsed"
    # A lapsed licence cannot be suspended, but can be renewed.
    assert post_event(client, world, lic, action="suspend", decided_on=d(-1), reason="x").status_code == 409
    r = post_event(client, world, lic, action="renew", decided_on=d(-1), valid_until=d(1000))
    assert r.status_code == 201, r.get_json()
    assert status(client, world, lic, d(0)) == "active"
    assert status(client, world, lic, d(-10)) == "lapsed"  # history is not rewritten
    # A renewal must extend validity.
    r = post_event(client, world, lic, action="renew", decided_on=d(0), valid_until=d(500))
    assert r.status_code == 409


def test_renewing_a_suspended_licence_that_lapsed_keeps_it_suspended(client, world, app):
    lic = world.make_licence(world.other_clinician, "IE-B", issued=T - timedelta(days=800),
                             valid_until=T - timedelta(days=30))
    assert post_event(client, world, lic, action="suspend", decided_on=d(-60), reason="inquiry").status_code == 201
    assert status(client, world, lic, d(-1)) == "lapsed"
    alerts_before = count(app, "alerts")
    r = post_event(client, world, lic, action="renew", decided_on=d(-1), valid_until=d(1000))
    assert r.status_code == 201, r.get_json()
    # The renewal extends validity; the suspension still holds, and its alert stays open.
    assert status(client, world, lic, d(0)) == "suspended"
    assert count(app, "alerts") == alerts_before
    assert post_event(client, world, lic, action="renew", decided_on=d(0), valid_until=d(1200)).status_code == 409
    r = post_event(client, world, lic, action="reinstate", decided_on=d(0), reason="cleared")
    assert r.status_code == 201, r.get_json()
    assert status(client, world, lic, d(0)) == "active"
    assert status(client, world, lic, d(-2)) == "lapsed"  # history is not rewritten


def test_decisions_are_recorded_in_order(client, world):
    assert post_event(client, world, world.licence, action="suspend", decided_on=d(-5), reason="x").status_code == 201
    r = post_event(client, world, world.licence, action="reinstate", decided_on=d(-9))
    assert r.status_code == 409
    assert "recorded in order" in problem(r)["detail"]


@pytest.mark.parametrize(
    "body, field",
    [
        ({"action": "suspend", "decided_on": d(-1)}, "reason"),
        ({"action": "restrict", "decided_on": d(-1), "reason": "r"}, "scope"),
        ({"action": "renew", "decided_on": d(-1)}, "valid_until"),
        ({"action": "suspend", "decided_on": d(3), "reason": "r"}, "decided_on"),
        ({"action": "suspend", "decided_on": d(-3), "effective_on": d(-4), "reason": "r"}, "effective_on"),
        ({"action": "issue", "decided_on": d(-1)}, "action"),
        ({"action": "explode", "decided_on": d(-1)}, "action"),
        ({"action": "suspend", "decided_on": "2025-02-30", "reason": "r"}, "decided_on"),
    ],
)
def test_incomplete_decisions_name_the_field(client, world, app, body, field):
    before = count(app, "licence_events")
    r = post_event(client, world, world.licence, **body)
    assert r.status_code == 422, r.get_json()
    assert field in problem(r)["errors"]
    assert count(app, "licence_events") == before


def test_future_effective_suspension(client, world):
    r = post_event(client, world, world.licence, action="suspend", decided_on=d(0), effective_on=d(14), reason="x")
    assert r.status_code == 201
    assert status(client, world, world.licence, d(13)) == "active"
    assert status(client, world, world.licence, d(14)) == "suspended"


def test_licence_search_by_number_and_lookup_for_hubs(client, world):
    r = client.get("/api/v1/licences?number=IE-2221-0001", headers=world.h("board_fr"))
    assert r.status_code == 200 and r.get_json()[0]["clinician"] == world.clinician.registry_number
    r = client.get("/api/v1/lookup?licence_number=IE-2221-0001", headers=world.h("hub_pt"))
    assert r.status_code == 200
    body = r.get_json()
    assert body == {"registry_number": world.clinician.registry_number, "name": "Siobhán Byrne",
                    "professions": [{"code": "2221", "title": "Nursing professionals"}]}
    # The hub's view carries no date of birth or disciplinary detail, and hubs cannot read the full record.
    assert client.get(f"/api/v1/clinicians/{world.clinician.registry_number}",
                      headers=world.h("hub_pt")).status_code == 403
    assert client.get("/api/v1/licences?number=IE-2221-0001", headers=world.h("hub_pt")).status_code == 403
