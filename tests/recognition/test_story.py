"""Mutual recognition through the API: agreement, conditions, decision, cascades, alerts, right to practise."""

from datetime import date, timedelta

import pytest

from curricula.models import Completion, Course, CourseOwner, Outcome
from curricula.services import add_months
from registry.core.db import db
from registry.people.models import Clinician
from tests.conftest import audit_count, count, problem

T = date.today()


def d(days: int) -> str:
    return (T + timedelta(days=days)).isoformat()


@pytest.fixture
def compact(world, app, client):
    """An IE–PT–FR nursing agreement requiring a current TRAUMA-1 completion and B2 in a host language."""
    with app.app_context():
        course = Course(code="TRAUMA-1", titles={"en": "Joint trauma care"}, fallback_language="en", cpd_hours=16,
                        validity_months=24, competencies=["airway"])
        course.owners = [CourseOwner(organisation_id=world.orgs["IE-HUB"].id)]
        db.session.add(course)
        clinician = db.session.get(Clinician, world.clinician.id)
        clinician.languages = [{"language": "en", "level": "native"}, {"language": "pt", "level": "B2"}]
        db.session.commit()
    r = client.post("/api/v1/agreements", headers=world.h("secretariat"), json={
        "code": "IE-PT-FR-NURSING", "title": "Nursing recognition", "states": ["IE", "PT", "FR"],
        "professions": ["2221"], "in_force_from": d(-400), "required_courses": ["TRAUMA-1"],
        "language_level": "B2", "adaptation_months": 3, "validity_months": 36, "decision_deadline_days": 30})
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["kind"] == "multilateral"
    return world


def complete_course(app, world, clinician_id, completed_on, valid_until):
    with app.app_context():
        course = db.session.query(Course).filter_by(code="TRAUMA-1").one()
        db.session.add(Completion(clinician_id=clinician_id, course_id=course.id, hub_id=world.orgs["IE-HUB"].id,
                                  reference=f"REF-{clinician_id}-{completed_on}", completed_on=completed_on,
                                  outcome=Outcome.PASSED, credits=16, valid_until=valid_until))
        db.session.commit()


def apply(client, world, who="clinician", licence=None, host="PT"):
    return client.post("/api/v1/recognitions", headers=world.h(who),
                       json={"licence_id": licence or world.licence, "host_state": host})


def practise(client, world, on: str, state="PT") -> dict:
    r = client.get("/api/v1/right-to-practise", headers=world.h("board_fr"), query_string={
        "clinician": world.clinician.registry_number, "state": state, "profession": "2221", "on": on})
    assert r.status_code == 200, r.get_json()
    return r.get_json()


def test_the_whole_story(client, compact, app):
    world = compact
    # 1. Refused: the required course is missing. Nothing is written.
    before = count(app, "recognitions")
    r = apply(client, world)
    assert r.status_code == 422
    body = problem(r)
    assert [u["condition"] for u in body["unmet"]] == ["course_current"]
    assert "TRAUMA-1" in body["unmet"][0]["detail"]
    assert count(app, "recognitions") == before

    # 2. The course is completed; the application is accepted and the host board grants it.
    complete_course(app, world, world.clinician.id, T - timedelta(days=1), T + timedelta(days=700))
    r = apply(client, world)
    assert r.status_code == 201, r.get_json()
    recognition = r.get_json()
    assert recognition["status"] == "pending" and recognition["decision_due_on"] == d(30)
    assert client.post(f"/api/v1/recognitions/{recognition['id']}/decision", headers=world.h("board_fr"),
                       json={"decision": "grant"}).status_code == 403  # FR is not the host
    r = client.post(f"/api/v1/recognitions/{recognition['id']}/decision", headers=world.h("board_pt"),
                    json={"decision": "grant"})
    assert r.status_code == 200, r.get_json()
    granted = r.get_json()
    assert granted["status"] == "granted" and granted["conditions"] == "adaptation period of 3 months"
    assert granted["valid_until"] == (add_months(T, 36) - timedelta(days=1)).isoformat()

    # 3. The home board suspends the licence from day +5: the recognition follows, in the same transaction,
    #    and every other member state is alerted.
    r = client.post(f"/api/v1/licences/{world.licence}/events", headers=world.h("board_ie"),
                    json={"action": "suspend", "decided_on": d(0), "effective_on": d(5), "reason": "inquiry"})
    assert r.status_code == 201
    rec = client.get(f"/api/v1/recognitions/{recognition['id']}", headers=world.h("board_pt")).get_json()
    assert rec["status"] == "suspended"
    assert [(e["action"], e["effective_on"]) for e in rec["events"]] == [
        ("apply", d(0)), ("grant", d(0)), ("suspend", d(5))]
    assert rec["events"][-1]["caused_by_licence_event"] is not None

    for board in ("board_pt", "board_fr"):
        alerts = client.get("/api/v1/alerts?unacknowledged=true", headers=world.h(board)).get_json()["items"]
        assert len(alerts) == 1
        alert = alerts[0]
        assert alert["measure"] == "suspend" and alert["deciding_board"] == "IE-B"
        assert alert["effective_from"] == d(5) and alert["late"] is False
        assert sorted(x["state"] for x in alert["recipients"]) == ["FR", "PT"]
        assert "reason" not in alert  # scope and period only
    assert client.get("/api/v1/alerts", headers=world.h("board_ie")).get_json()["items"] == []  # not sent to itself

    # 4. Portugal acknowledges; France still has it open. The clinician sees the alert about them.
    r = client.post(f"/api/v1/alerts/{alert['id']}/acknowledgement", headers=world.h("board_pt"))
    assert r.status_code == 200
    assert client.get("/api/v1/alerts?unacknowledged=true", headers=world.h("board_pt")).get_json()["total"] == 0
    assert client.get("/api/v1/alerts?unacknowledged=true", headers=world.h("board_fr")).get_json()["total"] == 1
    mine = client.get(f"/api/v1/clinicians/{world.clinician.registry_number}/alerts",
                      headers=world.h("clinician")).get_json()
    assert [a["id"] for a in mine] == [alert["id"]]

    # 5. Reinstated from day +12: the recognition is granted again and the alert closes.
    r = client.post(f"/api/v1/licences/{world.licence}/events", headers=world.h("board_ie"),
                    json={"action": "reinstate", "decided_on": d(0), "effective_on": d(12), "reason": "cleared"})
    assert r.status_code == 201
    rec = client.get(f"/api/v1/recognitions/{recognition['id']}", headers=world.h("board_pt")).get_json()
    assert rec["status"] == "granted"
    assert rec["events"][-1]["action"] == "reinstate" and rec["events"][-1]["effective_on"] == d(12)
    closed = client.get(f"/api/v1/alerts/{alert['id']}", headers=world.h("board_fr")).get_json()
    assert closed["closed_on"] == d(12)

    # 6. Right to practise in Portugal, before, during and after the suspension.
    assert practise(client, world, d(-1))["may_practise"] is False  # not yet recognised
    before_suspension = practise(client, world, d(2))
    assert before_suspension["may_practise"] is True
    assert before_suspension["basis"]["kind"] == "recognition"
    assert before_suspension["basis"]["id"] == recognition["id"]
    during = practise(client, world, d(7))
    assert during["may_practise"] is False and during["basis"] is None
    assert sorted(u["condition"] for u in during["unmet"]) == ["no_open_alert", "recognition_granted"]
    after = practise(client, world, d(13))
    assert after["may_practise"] is True and after["unmet"] == []
    # And at home in Ireland, on its own licence.
    home = practise(client, world, d(13), state="IE")
    assert home["may_practise"] is True and home["basis"]["kind"] == "licence"

    # 7. Standing as on a date shows the recognition and the alert as they were then.
    standing = client.get(f"/api/v1/clinicians/{world.clinician.registry_number}/standing?on={d(7)}",
                          headers=world.h("board_pt")).get_json()
    assert standing["recognitions"][0]["status_on"] == "suspended"
    assert standing["open_alerts"] == [alert["id"]]
    standing = client.get(f"/api/v1/clinicians/{world.clinician.registry_number}/standing?on={d(13)}",
                          headers=world.h("board_pt")).get_json()
    assert standing["recognitions"][0]["status_on"] == "granted" and standing["open_alerts"] == []


def test_every_unmet_condition_is_listed_at_once(client, compact, app):
    world = compact
    with app.app_context():
        clinician = db.session.get(Clinician, world.clinician.id)
        clinician.languages = [{"language": "en", "level": "native"}]
        db.session.commit()
    assert client.post(f"/api/v1/licences/{world.licence}/events", headers=world.h("board_ie"),
                       json={"action": "suspend", "decided_on": d(0), "reason": "inquiry"}).status_code == 201
    before = audit_count(app)
    r = apply(client, world)
    assert r.status_code == 422
    conditions = sorted(u["condition"] for u in problem(r)["unmet"])
    assert conditions == ["course_current", "language_level", "licence_active", "no_open_alert"]
    assert audit_count(app) == before
    # No agreement covers Ireland → Ireland, and France is covered but not for midwives.
    r = apply(client, world, host="IE")
    assert "host_differs" in [u["condition"] for u in problem(r)["unmet"]]


def test_expired_course_and_missing_agreement(client, compact, app):
    world = compact
    complete_course(app, world, world.clinician.id, T - timedelta(days=800), T - timedelta(days=70))
    r = apply(client, world)
    assert [u["condition"] for u in problem(r)["unmet"]] == ["course_current"]
    midwife_licence = world.make_licence(world.clinician, "IE-B", profession="2222")
    r = apply(client, world, licence=midwife_licence)
    assert "agreement_in_force" in [u["condition"] for u in problem(r)["unmet"]]


def granted_recognition(client, world, app) -> int:
    complete_course(app, world, world.clinician.id, T - timedelta(days=1), None)
    rid = apply(client, world).get_json()["id"]
    assert client.post(f"/api/v1/recognitions/{rid}/decision", headers=world.h("board_pt"),
                       json={"decision": "grant"}).status_code == 200
    return rid


def test_reinstating_the_licence_lifts_only_its_own_suspension(client, compact, app):
    world = compact
    rid = granted_recognition(client, world, app)
    # The host board suspends on its own account first.
    r = client.post(f"/api/v1/recognitions/{rid}/measures", headers=world.h("board_pt"),
                    json={"action": "suspend", "reason": "supervision report missing"})
    assert r.status_code == 200 and r.get_json()["status"] == "suspended"
    client.post(f"/api/v1/licences/{world.licence}/events", headers=world.h("board_ie"),
                json={"action": "suspend", "decided_on": d(0), "reason": "inquiry"})
    client.post(f"/api/v1/licences/{world.licence}/events", headers=world.h("board_ie"),
                json={"action": "reinstate", "decided_on": d(0), "reason": "cleared"})
    rec = client.get(f"/api/v1/recognitions/{rid}", headers=world.h("board_pt")).get_json()
    assert rec["status"] == "suspended"  # the host's own suspension stands
    assert [e["action"] for e in rec["events"]] == ["apply", "grant", "suspend"]


def test_revoking_the_licence_revokes_the_recognition_and_grant_is_blocked(client, compact, app):
    world = compact
    rid = granted_recognition(client, world, app)
    client.post(f"/api/v1/licences/{world.licence}/events", headers=world.h("board_ie"),
                json={"action": "revoke", "decided_on": d(0), "reason": "struck off"})
    rec = client.get(f"/api/v1/recognitions/{rid}", headers=world.h("clinician")).get_json()
    assert rec["status"] == "revoked"
    # A pending application on a licence suspended meanwhile cannot be granted.
    other = world.make_licence(world.clinician, "IE-B2", number="IE2-9")
    complete_course(app, world, world.clinician.id, T, None)
    r = apply(client, world, who="board_ie2", licence=other)
    # The revocation raised an alert that stays open: the application is refused for it.
    assert r.status_code == 422
    assert [u["condition"] for u in problem(r)["unmet"]] == ["no_open_alert"]


def test_only_applicants_apply_and_only_the_host_decides(client, compact, app):
    world = compact
    complete_course(app, world, world.clinician.id, T, None)
    before = count(app, "recognitions")
    for who in ("other_clinician", "board_fr", "board_ie2", "hub_ie", "secretariat"):
        assert apply(client, world, who=who).status_code == 403, who
    assert count(app, "recognitions") == before
    r = apply(client, world, who="board_ie")
    assert r.status_code == 201
    rid = r.get_json()["id"]
    assert apply(client, world).status_code == 409  # one open application per licence and host state
    for who in ("board_ie", "board_fr", "secretariat", "clinician", "hub_pt"):
        assert client.post(f"/api/v1/recognitions/{rid}/decision", headers=world.h(who),
                           json={"decision": "refuse", "reason": "x"}).status_code == 403, who
    r = client.post(f"/api/v1/recognitions/{rid}/decision", headers=world.h("board_pt"), json={"decision": "refuse"})
    assert r.status_code == 422 and "reason" in problem(r)["errors"]
    r = client.post(f"/api/v1/recognitions/{rid}/decision", headers=world.h("board_pt"),
                    json={"decision": "refuse", "reason": "documents incomplete"})
    assert r.status_code == 200 and r.get_json()["status"] == "refused"
    r = client.post(f"/api/v1/recognitions/{rid}/decision", headers=world.h("board_pt"), json={"decision": "grant"})
    assert r.status_code == 409


def test_overdue_queue_and_tacit_approval(client, compact, app, runner):
    world = compact
    complete_course(app, world, world.clinician.id, T - timedelta(days=100), None)
    from registry.licensing.models import Licence
    from registry.recognition import services

    with app.app_context():  # an application made 40 days ago, under a 30-day deadline
        licence = db.session.get(Licence, world.licence)
        services.apply(licence, "PT", actor=None, today=T - timedelta(days=40))
        db.session.commit()
    queue = client.get("/api/v1/recognitions?overdue=true", headers=world.h("board_pt")).get_json()
    assert len(queue) == 1 and queue[0]["overdue"] is True
    assert client.get("/api/v1/recognitions?overdue=true", headers=world.h("board_fr")).get_json() == []
    # The agreement does not count silence as approval: settling changes nothing.
    result = runner.invoke(args=["recognitions", "settle"])
    assert result.exit_code == 0 and "0 granted" in result.output
    with app.app_context():
        from registry.recognition.models import Agreement
        db.session.query(Agreement).update({"silence_is_approval": True})
        db.session.commit()
    result = runner.invoke(args=["recognitions", "settle"])
    assert result.exit_code == 0 and "1 granted" in result.output
    rec = client.get(f"/api/v1/recognitions/{queue[0]['id']}", headers=world.h("board_pt")).get_json()
    assert rec["status"] == "granted" and rec["tacit"] is True and rec["granted_on"] == d(-9)


def test_agreement_validation_and_permissions(client, world, app):
    body = {"code": "X-1", "title": "t", "states": ["IE", "XX"], "professions": ["9999"], "in_force_from": d(0),
            "required_courses": ["NOPE"], "decision_deadline_days": 30}
    valid = body | {"states": ["IE", "FR"], "professions": ["2221"], "required_courses": []}
    assert client.post("/api/v1/agreements", headers=world.h("board_ie"), json=valid).status_code == 403
    r = client.post("/api/v1/agreements", headers=world.h("secretariat"), json=body)
    assert r.status_code == 422
    errors = problem(r)["errors"]
    assert set(errors) >= {"states", "professions", "required_courses"}
    assert count(app, "agreements") == 0


def test_a_host_cannot_lift_its_own_suspension_while_the_home_licence_is_suspended(client, compact, app):
    world = compact
    rid = granted_recognition(client, world, app)
    r = client.post(f"/api/v1/recognitions/{rid}/measures", headers=world.h("board_pt"),
                    json={"action": "suspend", "reason": "supervision report missing"})
    assert r.status_code == 200, r.get_json()
    assert client.post(f"/api/v1/licences/{world.licence}/events", headers=world.h("board_ie"), json={
        "action": "suspend", "decided_on": d(0), "reason": "inquiry"}).status_code == 201
    events_before = count(app, "recognition_events")
    r = client.post(f"/api/v1/recognitions/{rid}/measures", headers=world.h("board_pt"),
                    json={"action": "reinstate", "reason": "report received"})
    assert r.status_code == 409, r.get_json()
    assert "is suspended on" in problem(r)["detail"]
    assert count(app, "recognition_events") == events_before
    assert practise(client, world, d(0))["may_practise"] is False
    # Once the home licence is reinstated, the host lifts its own suspension.
    assert client.post(f"/api/v1/licences/{world.licence}/events", headers=world.h("board_ie"), json={
        "action": "reinstate", "decided_on": d(0), "reason": "cleared"}).status_code == 201
    r = client.post(f"/api/v1/recognitions/{rid}/measures", headers=world.h("board_pt"),
                    json={"action": "reinstate", "reason": "report received"})
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["status"] == "granted"


def test_no_grant_on_a_licence_whose_suspension_is_already_decided(client, compact, app):
    world = compact
    complete_course(app, world, world.clinician.id, T - timedelta(days=1), None)
    rid = apply(client, world).get_json()["id"]
    # The home board decides today a suspension that takes effect in two weeks; the application is pending, so
    # the licence's cascade has nothing to suspend.
    r = client.post(f"/api/v1/licences/{world.licence}/events", headers=world.h("board_ie"), json={
        "action": "suspend", "decided_on": d(0), "effective_on": d(14), "reason": "inquiry"})
    assert r.status_code == 201, r.get_json()
    r = client.post(f"/api/v1/recognitions/{rid}/decision", headers=world.h("board_pt"), json={"decision": "grant"})
    assert r.status_code == 409, r.get_json()
    assert f"suspended from {d(14)}" in problem(r)["detail"]
    rec = client.get(f"/api/v1/recognitions/{rid}", headers=world.h("board_pt")).get_json()
    assert rec["status"] == "pending"
