"""Alerts (DOMAIN.md "Alerts"): the secretariat reads every state's alerts, an alert recorded more than three days
after its decision is marked late, and a reinstatement closes the alert of the measure it lifts."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from tests.conftest import count, problem

T = date.today()


def d(days: int) -> str:
    return (T + timedelta(days=days)).isoformat()


def decide(client, world, licence_id, who="board_ie", **body):
    r = client.post(f"/api/v1/licences/{licence_id}/events", json=body, headers=world.h(who))
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def alerts(client, world, who="secretariat", query=""):
    r = client.get(f"/api/v1/alerts{query}", headers=world.h(who))
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert body["total"] == len(body["items"])  # every test here fits on the first page
    return body["items"]


@pytest.fixture
def two_alerts(client, world):
    """An IE restriction (sent to FR and PT) and, later, a FR suspension (sent to IE and PT): (ie_alert, fr_alert)."""
    decide(client, world, world.licence, action="restrict", decided_on=d(-2), reason="review",
           scope="no night shifts")
    fr_licence = world.make_licence(world.other_clinician, "FR-B", number="FR-2221-0009")
    decide(client, world, fr_licence, who="board_fr", action="suspend", decided_on=d(-1), reason="inquiry")
    listed = alerts(client, world)
    assert [a["origin_state"] for a in listed] == ["FR", "IE"]  # newest first
    return listed[1], listed[0]


# --- the secretariat reads every state's alerts -----------------------------------------------------------------


def test_the_secretariat_lists_every_alert_newest_first(client, world, two_alerts):
    ie_alert, fr_alert = two_alerts
    assert ie_alert["clinician"] == world.clinician.registry_number and ie_alert["measure"] == "restrict"
    assert ie_alert["scope"] == "no night shifts" and ie_alert["deciding_board"] == "IE-B"
    assert [r["state"] for r in ie_alert["recipients"]] == ["FR", "PT"]
    assert fr_alert["clinician"] == world.other_clinician.registry_number and fr_alert["measure"] == "suspend"
    assert [r["state"] for r in fr_alert["recipients"]] == ["IE", "PT"]
    # Each board still sees only what was sent to its own state, as before.
    assert [a["id"] for a in alerts(client, world, "board_fr")] == [ie_alert["id"]]
    assert [a["id"] for a in alerts(client, world, "board_ie")] == [fr_alert["id"]]
    assert [a["id"] for a in alerts(client, world, "board_pt")] == [fr_alert["id"], ie_alert["id"]]


def test_the_secretariat_filters_by_recipient_state(client, world, two_alerts):
    ie_alert, fr_alert = two_alerts
    assert [a["id"] for a in alerts(client, world, query="?state=FR")] == [ie_alert["id"]]
    assert [a["id"] for a in alerts(client, world, query="?state=IE")] == [fr_alert["id"]]
    assert [a["id"] for a in alerts(client, world, query="?state=PT")] == [fr_alert["id"], ie_alert["id"]]


def test_unacknowledged_means_by_that_state_or_by_any_state(client, world, two_alerts):
    ie_alert, fr_alert = two_alerts
    everything = [fr_alert["id"], ie_alert["id"]]
    assert [a["id"] for a in alerts(client, world, query="?unacknowledged=true")] == everything
    r = client.post(f"/api/v1/alerts/{ie_alert['id']}/acknowledgement", headers=world.h("board_fr"))
    assert r.status_code == 200, r.get_json()
    # FR has acknowledged the only alert sent to it; PT has not: the alert is still open for some state.
    assert alerts(client, world, query="?state=FR&unacknowledged=true") == []
    assert [a["id"] for a in alerts(client, world, query="?state=PT&unacknowledged=true")] == everything
    assert [a["id"] for a in alerts(client, world, query="?unacknowledged=true")] == everything
    r = client.post(f"/api/v1/alerts/{ie_alert['id']}/acknowledgement", headers=world.h("board_pt"))
    assert r.status_code == 200, r.get_json()
    assert [a["id"] for a in alerts(client, world, query="?unacknowledged=true")] == [fr_alert["id"]]
    assert [a["id"] for a in alerts(client, world, query="?state=PT&unacknowledged=true")] == [fr_alert["id"]]
    # Acknowledged alerts are still listed without the filter.
    assert [a["id"] for a in alerts(client, world)] == everything
    # And the boards' own lists follow their own acknowledgements, as before.
    assert alerts(client, world, "board_fr", "?unacknowledged=true") == []
    assert [a["id"] for a in alerts(client, world, "board_ie", "?unacknowledged=true")] == [fr_alert["id"]]


def test_alerts_come_a_page_at_a_time(client, world, two_alerts):
    ie_alert, fr_alert = two_alerts
    pages = [client.get(f"/api/v1/alerts?page_size=1&page={n}", headers=world.h("secretariat")).get_json()
             for n in (1, 2, 3)]
    assert [[a["id"] for a in p["items"]] for p in pages] == [[fr_alert["id"]], [ie_alert["id"]], []]
    assert [(p["page"], p["page_size"], p["total"]) for p in pages] == [(1, 1, 2), (2, 1, 2), (3, 1, 2)]
    board = client.get("/api/v1/alerts?page_size=1", headers=world.h("board_pt")).get_json()
    assert ([a["id"] for a in board["items"]], board["total"]) == ([fr_alert["id"]], 2)
    for query, field in (("?page=0", "page"), ("?page_size=201", "page_size"), ("?page=x", "page")):
        r = client.get(f"/api/v1/alerts{query}", headers=world.h("secretariat"))
        assert r.status_code == 422 and field in problem(r)["errors"], (query, r.get_json())


def test_the_secretariat_reads_one_alert(client, world, two_alerts):
    ie_alert, _ = two_alerts
    r = client.get(f"/api/v1/alerts/{ie_alert['id']}", headers=world.h("secretariat"))
    assert r.status_code == 200 and r.get_json() == ie_alert


@pytest.mark.parametrize("who, query, status, field", [
    ("secretariat", "?state=DE", 422, "state"),  # well formed, not a member state
    ("secretariat", "?state=fr", 422, "state"),
    ("secretariat", "?state=FRA", 422, "state"),
    ("secretariat", "?unacknowledged=perhaps", 422, "unacknowledged"),
    ("board_fr", "?state=PT", 422, "state"),  # a board sees its own state's alerts only
    ("hub_ie", "", 403, None),
    ("clinician", "", 403, None),
    ("hub_ie", "?state=FR", 403, None),
    ("anonymous", "", 401, None),
])
def test_who_may_list_which_alerts(client, world, app, two_alerts, who, query, status, field):
    before = count(app, "audit_events"), count(app, "access_log")
    r = client.get(f"/api/v1/alerts{query}", headers=world.h(who))
    body = problem(r)
    assert r.status_code == status, body
    if field:
        assert field in body["errors"]
    assert (count(app, "audit_events"), count(app, "access_log")) == before


# --- late alerts ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("days_before, late", [(0, False), (3, False), (4, True), (30, True)])
def test_an_alert_recorded_more_than_three_days_after_the_decision_is_late(client, world, days_before, late):
    decide(client, world, world.licence, action="suspend", decided_on=d(-days_before), reason="inquiry")
    [alert] = alerts(client, world, "board_fr")
    assert alert["decided_on"] == d(-days_before) and alert["late"] is late
    assert alerts(client, world)[0]["late"] is late  # the secretariat sees the same mark


def test_a_late_revocation_alert_is_marked_late_too(client, world):
    decide(client, world, world.licence, action="revoke", decided_on=d(-10), reason="struck off")
    [alert] = alerts(client, world, "board_pt")
    assert alert["measure"] == "revoke" and alert["late"] is True


# --- a reinstatement closes the alert of the measure it lifts ------------------------------------------------------


def test_reinstatement_closes_the_restriction_alert(client, world):
    decide(client, world, world.licence, action="restrict", decided_on=d(-10), reason="review",
           scope="no night shifts")
    [alert] = alerts(client, world, "board_fr")
    assert alert["measure"] == "restrict" and alert["closed_on"] is None
    standing = client.get(f"/api/v1/clinicians/{world.clinician.registry_number}/standing",
                          headers=world.h("board_fr")).get_json()
    assert standing["open_alerts"] == [alert["id"]]

    decide(client, world, world.licence, action="reinstate", decided_on=d(-2), reason="restriction lifted")
    closed = client.get(f"/api/v1/alerts/{alert['id']}", headers=world.h("board_fr")).get_json()
    assert closed["closed_on"] == d(-2)
    standing = client.get(f"/api/v1/clinicians/{world.clinician.registry_number}/standing",
                          headers=world.h("board_fr")).get_json()
    assert standing["open_alerts"] == []
    # History holds: the alert was open on a day between the restriction and the reinstatement.
    standing = client.get(f"/api/v1/clinicians/{world.clinician.registry_number}/standing?on={d(-5)}",
                          headers=world.h("board_fr")).get_json()
    assert standing["open_alerts"] == [alert["id"]]
    # The clinician sees it closed among the alerts about them.
    mine = client.get(f"/api/v1/clinicians/{world.clinician.registry_number}/alerts",
                      headers=world.h("clinician")).get_json()
    assert [(a["id"], a["closed_on"]) for a in mine] == [(alert["id"], d(-2))]


def test_lifting_a_suspension_closes_only_the_suspension_alert(client, world):
    decide(client, world, world.licence, action="restrict", decided_on=d(-10), reason="review", scope="day shifts")
    decide(client, world, world.licence, action="suspend", decided_on=d(-8), reason="inquiry")
    decide(client, world, world.licence, action="reinstate", decided_on=d(-5), reason="inquiry closed")
    by_measure = {a["measure"]: a for a in alerts(client, world, "board_pt")}
    assert by_measure["suspend"]["closed_on"] == d(-5)
    assert by_measure["restrict"]["closed_on"] is None  # the restriction still holds
    decide(client, world, world.licence, action="reinstate", decided_on=d(-1), reason="restriction lifted")
    by_measure = {a["measure"]: a for a in alerts(client, world, "board_pt")}
    assert by_measure["restrict"]["closed_on"] == d(-1) and by_measure["suspend"]["closed_on"] == d(-5)
