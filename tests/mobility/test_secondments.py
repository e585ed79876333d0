"""Secondments through the API: proposal, approval over the whole period, refusals, lifecycle, cascades."""

from __future__ import annotations

from registry.core.db import db
from tests.conftest import audit_count, count, problem
from tests.mobility.conftest import (
    approve,
    complete_course,
    d,
    grant_recognition,
    iso,
    programme_body,
    propose,
    proposed,
    ready,
)


def test_propose_approve_and_read(client, exchange, app):
    world = exchange
    ready(app, world)
    sid = proposed(client, world)
    before = audit_count(app)
    for who in ("board_fr", "board_ie", "secretariat", "clinician", "hub_pt"):
        assert approve(client, world, sid, who).status_code == 403, who
    assert audit_count(app) == before
    r = approve(client, world, sid)
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert body["status"] == "approved" and body["status_on"] == "approved"
    assert body["home_state"] == "IE" and body["host_state"] == "PT" and body["programme"] == "NURSE-X"
    assert body["home_licence"]["number"] == "IE-2221-0001" and body["recognition"] is not None
    assert [e["action"] for e in body["events"]] == ["propose", "approve"]
    assert audit_count(app) == before + 1
    assert approve(client, world, sid).status_code == 409  # approved once

    # Point in time: active from the first day, completed after the last.
    standing = client.get(f"/api/v1/clinicians/{world.clinician.registry_number}/standing?on={iso(50)}",
                          headers=world.h("board_pt")).get_json()
    assert [(s["id"], s["status_on"]) for s in standing["secondments"]] == [(sid, "active")]
    standing = client.get(f"/api/v1/clinicians/{world.clinician.registry_number}/standing?on={iso(101)}",
                          headers=world.h("board_pt")).get_json()
    assert standing["secondments"][0]["status_on"] == "completed"

    # Who sees it: the host and home boards, the clinician, the secretariat; not France's board, not a hub.
    assert [s["id"] for s in client.get("/api/v1/secondments", headers=world.h("board_pt")).get_json()] == [sid]
    assert [s["id"] for s in client.get("/api/v1/secondments?direction=out",
                                        headers=world.h("board_ie")).get_json()] == [sid]
    assert client.get("/api/v1/secondments?direction=in", headers=world.h("board_ie")).get_json() == []
    assert client.get("/api/v1/secondments", headers=world.h("board_fr")).get_json() == []
    assert client.get("/api/v1/secondments", headers=world.h("other_clinician")).get_json() == []
    assert client.get(f"/api/v1/secondments/{sid}", headers=world.h("other_clinician")).status_code == 403
    assert client.get("/api/v1/secondments", headers=world.h("hub_ie")).status_code == 403


def test_refusal_lists_three_unmet_conditions_at_once(client, exchange, app):
    world = exchange
    # No course, no recognition, and the home licence is suspended from day 40 (inside the period 10..100).
    sid = proposed(client, world)
    r = client.post(f"/api/v1/licences/{world.licence}/events", headers=world.h("board_ie"),
                    json={"action": "suspend", "decided_on": iso(0), "effective_on": iso(40), "reason": "inquiry"})
    assert r.status_code == 201
    before = (audit_count(app), count(app, "secondment_events"))
    r = approve(client, world, sid)
    assert r.status_code == 422
    body = problem(r)
    assert body["type"].endswith("/conditions-unmet")
    unmet = {u["condition"]: u for u in body["unmet"]}
    assert set(unmet) == {"home_licence_active", "recognition_granted", "course_current", "no_open_alert"}
    assert unmet["home_licence_active"]["fails_on"] == iso(40)
    assert unmet["no_open_alert"]["fails_on"] == iso(40)
    assert unmet["recognition_granted"]["fails_on"] == iso(10)
    assert unmet["course_current"]["fails_on"] == iso(10)
    assert "suspended" in unmet["home_licence_active"]["detail"]
    assert (audit_count(app), count(app, "secondment_events")) == before
    got = client.get(f"/api/v1/secondments/{sid}", headers=world.h("board_pt")).get_json()
    assert got["status"] == "proposed"


def test_recognition_expiring_one_day_before_the_end_refuses(client, exchange, app):
    world = exchange
    complete_course(app, world, world.clinician.id, d(-10), d(700))
    grant_recognition(app, world.licence, valid_until=d(99))  # the secondment ends on day 100
    sid = proposed(client, world)
    r = approve(client, world, sid)
    assert r.status_code == 422
    assert problem(r)["unmet"] == [{"condition": "recognition_granted", "fails_on": iso(100),
                                    "detail": f"recognition 1 in PT is expired on {iso(100)}"}]
    # Ending a day earlier, the same recognition carries it.
    sid = proposed(client, world, ends_on=iso(99))
    assert approve(client, world, sid).status_code == 200


def test_course_expiring_inside_the_period_refuses(client, exchange, app):
    world = exchange
    complete_course(app, world, world.clinician.id, d(-700), d(60))
    grant_recognition(app, world.licence, valid_until=d(900))
    r = approve(client, world, proposed(client, world))
    assert problem(r)["unmet"] == [{"condition": "course_current", "fails_on": iso(61),
                                    "detail": f"the completion of course TRAUMA-1 is valid until {iso(60)}"}]


def test_overlapping_secondments_are_refused(client, exchange, app):
    world = exchange
    ready(app, world)
    ready(app, world, host="FR")
    first = proposed(client, world)
    assert approve(client, world, first).status_code == 200
    overlapping = proposed(client, world, host_state="FR", host_institution="CHU de Lyon", starts_on=iso(90),
                           ends_on=iso(150))
    r = approve(client, world, overlapping, who="board_fr")
    assert r.status_code == 422
    assert problem(r)["unmet"] == [{"condition": "no_overlap", "fails_on": iso(90),
                                    "detail": f"secondment {first} to PT from {iso(10)} to {iso(100)} overlaps"}]
    after = proposed(client, world, host_state="FR", host_institution="CHU de Lyon", starts_on=iso(101),
                     ends_on=iso(150))
    assert approve(client, world, after, who="board_fr").status_code == 200
    # A cancelled secondment frees the dates.
    r = client.post(f"/api/v1/secondments/{first}/cancellation", headers=world.h("clinician"),
                    json={"reason": "family reasons"})
    assert r.status_code == 200 and r.get_json()["status"] == "cancelled"
    assert approve(client, world, overlapping, who="board_fr").status_code == 422  # still overlaps `after`


def test_programme_conditions_and_capacity(client, exchange, app):
    world = exchange
    # Three other nurses, ready to go: two take Portugal's two places.
    others = []
    for _ in range(3):
        clinician = world.make_clinician("IE")
        licence = world.make_licence(clinician, "IE-B")
        ready(app, world, clinician, licence)
        others.append((clinician, licence))
    for clinician, _ in others[:2]:
        assert approve(client, world, proposed(client, world, who="board_ie", clinician=clinician)).status_code == 200
    # PT's two places are taken: the third nurse can go to France (the last place in all), not to Portugal.
    clinician, licence = others[2]
    r = approve(client, world, proposed(client, world, who="board_ie", clinician=clinician))
    assert [u["condition"] for u in problem(r)["unmet"]] == ["host_capacity"]
    grant_recognition(app, licence, "FR", valid_until=d(900))
    to_france = proposed(client, world, who="board_ie", clinician=clinician, host_state="FR")
    assert approve(client, world, to_france, who="board_fr").status_code == 200
    ready(app, world)
    r = approve(client, world, proposed(client, world, starts_on=iso(300), ends_on=iso(500)))
    assert sorted(u["condition"] for u in problem(r)["unmet"]) == ["host_capacity", "programme_capacity",
                                                                   "programme_dates"]
    # The secretariat cannot shrink the programme below the places taken; closing it stops approvals.
    r = client.patch("/api/v1/programmes/NURSE-X", headers=world.h("secretariat"), json={"capacity": 2})
    assert r.status_code == 409
    r = client.patch("/api/v1/programmes/NURSE-X", headers=world.h("secretariat"),
                     json={"capacity": 5, "status": "closed"})
    assert r.status_code == 200 and r.get_json()["status"] == "closed"
    grant_recognition(app, world.licence, "FR", valid_until=d(900))
    r = approve(client, world, proposed(client, world, host_state="FR"), who="board_fr")
    assert [u["condition"] for u in problem(r)["unmet"]] == ["programme_open"]
    assert client.patch("/api/v1/programmes/NURSE-X", headers=world.h("secretariat"),
                        json={"status": "open"}).status_code == 409  # closed is final


def test_without_programme_a_host_licence_stands_in_for_a_recognition(client, exchange, app):
    world = exchange
    sid = proposed(client, world, programme=None)
    r = approve(client, world, sid)
    assert [u["condition"] for u in problem(r)["unmet"]] == ["recognition_granted"]
    world.make_licence(world.clinician, "PT-B", number="PT-2221-77")
    r = approve(client, world, sid)
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["recognition"] is None


def test_licence_suspension_suspends_an_active_secondment_and_reinstatement_lifts_it(client, exchange, app):
    world = exchange
    ready(app, world)
    sid = proposed(client, world, starts_on=iso(-5), ends_on=iso(100))
    r = approve(client, world, sid)
    assert r.status_code == 200 and r.get_json()["status_on"] == "active"

    r = client.post(f"/api/v1/licences/{world.licence}/events", headers=world.h("board_ie"),
                    json={"action": "suspend", "decided_on": iso(0), "reason": "inquiry"})
    assert r.status_code == 201
    got = client.get(f"/api/v1/secondments/{sid}", headers=world.h("board_pt")).get_json()
    assert got["status"] == "suspended" and got["status_on"] == "suspended"
    suspension = got["events"][-1]
    assert suspension["action"] == "suspend" and suspension["effective_on"] == iso(0)
    # One suspension, whichever cascade reached it first (the licence, or the recognition resting on it).
    assert (suspension["caused_by_licence_event"] or suspension["caused_by_recognition_event"]) is not None
    notices = client.get("/api/v1/mobility/notices", headers=world.h("board_pt")).get_json()
    assert [(n["secondment"], n["action"]) for n in notices] == [(sid, "suspend")]
    assert "suspended" in notices[0]["message"]
    assert client.get("/api/v1/mobility/notices", headers=world.h("board_fr")).get_json() == []
    assert client.get("/api/v1/mobility/notices", headers=world.h("clinician")).status_code == 403

    r = client.post(f"/api/v1/licences/{world.licence}/events", headers=world.h("board_ie"),
                    json={"action": "reinstate", "decided_on": iso(0), "effective_on": iso(3), "reason": "cleared"})
    assert r.status_code == 201
    got = client.get(f"/api/v1/secondments/{sid}", headers=world.h("board_pt")).get_json()
    assert got["status"] == "approved" and got["status_on"] == "suspended"  # lifted from day 3
    assert [e["action"] for e in got["events"]] == ["propose", "approve", "suspend", "reinstate"]
    assert got["events"][-1]["effective_on"] == iso(3)
    standing = client.get(f"/api/v1/clinicians/{world.clinician.registry_number}/standing?on={iso(3)}",
                          headers=world.h("board_pt")).get_json()
    assert standing["secondments"][0]["status_on"] == "active"
    notices = client.get("/api/v1/mobility/notices", headers=world.h("board_pt")).get_json()
    assert [n["action"] for n in notices] == ["reinstate", "suspend"]


def test_lifted_only_when_every_ground_holds_again(client, exchange, app):
    world = exchange
    ready(app, world)
    sid = proposed(client, world)
    assert approve(client, world, sid).status_code == 200
    rid = client.get(f"/api/v1/secondments/{sid}", headers=world.h("board_pt")).get_json()["recognition"]
    # The host board suspends the recognition on its own account: the secondment follows.
    r = client.post(f"/api/v1/recognitions/{rid}/measures", headers=world.h("board_pt"),
                    json={"action": "suspend", "reason": "supervision report missing"})
    assert r.status_code == 200
    got = client.get(f"/api/v1/secondments/{sid}", headers=world.h("board_pt")).get_json()
    assert got["status"] == "suspended" and got["events"][-1]["caused_by_recognition_event"] is not None
    # The home licence is suspended and reinstated meanwhile: the recognition is still suspended, so is the
    # secondment.
    for action in ("suspend", "reinstate"):
        assert client.post(f"/api/v1/licences/{world.licence}/events", headers=world.h("board_ie"),
                           json={"action": action, "decided_on": iso(0), "reason": "x"}).status_code == 201
    got = client.get(f"/api/v1/secondments/{sid}", headers=world.h("board_pt")).get_json()
    assert got["status"] == "suspended"
    assert [e["action"] for e in got["events"]] == ["propose", "approve", "suspend"]
    # The host board reinstates the recognition: now every ground holds and the suspension is lifted.
    assert client.post(f"/api/v1/recognitions/{rid}/measures", headers=world.h("board_pt"),
                       json={"action": "reinstate", "reason": "report received"}).status_code == 200
    got = client.get(f"/api/v1/secondments/{sid}", headers=world.h("board_pt")).get_json()
    assert got["status"] == "approved" and got["events"][-1]["caused_by_recognition_event"] is not None


def test_cancel_and_terminate(client, exchange, app):
    world = exchange
    ready(app, world)
    sid = proposed(client, world, starts_on=iso(-5))
    assert approve(client, world, sid).status_code == 200
    # Active: it is too late to cancel; the host or home board terminates it, with a reason.
    r = client.post(f"/api/v1/secondments/{sid}/cancellation", headers=world.h("clinician"), json={"reason": "x"})
    assert r.status_code == 409 and problem(r)["current_status"] == "active"
    for who in ("board_fr", "clinician", "secretariat"):
        r = client.post(f"/api/v1/secondments/{sid}/termination", headers=world.h(who), json={"reason": "x"})
        assert r.status_code == 403, who
    r = client.post(f"/api/v1/secondments/{sid}/termination", headers=world.h("board_pt"), json={})
    assert r.status_code == 422 and "reason" in problem(r)["errors"]
    r = client.post(f"/api/v1/secondments/{sid}/termination", headers=world.h("board_ie"),
                    json={"reason": "needed at home"})
    assert r.status_code == 200 and r.get_json()["status"] == "terminated"
    with app.app_context():
        from registry.mobility.services import placed_count

        assert placed_count(1) == 0  # a terminated secondment gives its place back


def test_bad_input_answers_problem_json_and_writes_nothing(client, exchange, app):
    world = exchange
    tables = ("secondments", "secondment_events", "exchange_programmes", "audit_events")
    before = {t: count(app, t) for t in tables}
    cases = [
        (propose(client, world, host_state="IE"), 422, "host_state"),
        (propose(client, world, ends_on=iso(5)), 422, "ends_on"),
        (propose(client, world, starts_on=iso(-100), ends_on=iso(-50)), 422, "ends_on"),
        (propose(client, world, profession="2262"), 422, "profession"),
        (propose(client, world, programme="NOPE"), 422, "programme"),
        (propose(client, world, colour="blue"), 422, "colour"),
        (propose(client, world, host_state="pt"), 422, "host_state"),
        (propose(client, world, host_state="DE"), 422, "host_state"),
        (propose(client, world, supervisor="a\x00b"), 422, "supervisor"),
        (propose(client, world, who="other_clinician"), 403, None),
        (propose(client, world, who="board_pt"), 403, None),
        (propose(client, world, who="secretariat"), 403, None),
        (client.post("/api/v1/programmes", headers=world.h("board_ie"), json=programme_body(code="P9")), 403, None),
        (client.post("/api/v1/programmes", headers=world.h("secretariat"),
                     json={"code": "P2", "name": "x"}), 422, "states"),
        (client.post("/api/v1/programmes", headers=world.h("secretariat"),
                     json={"code": "NEW-1", "name": "x", "coordinating_state": "IE", "states": ["IE", "PT"],
                           "professions": ["2221"], "starts_on": iso(0), "ends_on": iso(10), "capacity": -1,
                           "capacity_by_host": {"FR": 1}}), 422, "capacity"),
        (client.post("/api/v1/programmes", headers=world.h("secretariat"),
                     json={"code": "NEW-1", "name": "x", "coordinating_state": "IE", "states": ["IE", "PT"],
                           "professions": ["2221"], "starts_on": iso(0), "ends_on": iso(10), "capacity": 1,
                           "capacity_by_host": {"FR": 1}}), 422, "capacity_by_host"),
        (client.patch("/api/v1/programmes/NURSE-X", headers=world.h("secretariat"), json={}), 422, None),
        (client.post("/api/v1/secondments/999/approval", headers=world.h("board_pt"), json={}), 404, None),
        (client.get("/api/v1/secondments?status=nope", headers=world.h("board_pt")), 422, "status"),
    ]
    for response, status, field in cases:
        assert response.status_code == status, response.get_data(as_text=True)
        body = problem(response)
        if field:
            assert field in body.get("errors", {}), body
    assert {t: count(app, t) for t in tables} == before


def test_database_constraints_hold_without_the_services(exchange, app):
    import sqlalchemy as sa

    from registry.mobility.models import Secondment, SecondmentStatus

    with app.app_context():
        for overrides in ({"host_state_code": "IE"}, {"ends_on": d(-1)}):
            values = dict(clinician_id=exchange.clinician.id, profession_code="2221", home_state_code="IE",
                          host_state_code="PT", host_institution="H", supervisor="S", starts_on=d(0), ends_on=d(5),
                          home_licence_id=exchange.licence, status=SecondmentStatus.PROPOSED)
            values.update(overrides)
            db.session.add(Secondment(**values))
            try:
                db.session.flush()
            except sa.exc.IntegrityError:
                db.session.rollback()
            else:
                raise AssertionError(f"{overrides} was stored")
