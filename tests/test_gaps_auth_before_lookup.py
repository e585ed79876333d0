"""401 before 404: an endpoint that needs a signed-in caller answers an anonymous one 401 whether or not the object
it names exists, so nobody learns which ids, codes or registry numbers exist without signing in. A signed-in
caller without permission keeps the 403 (object exists) or 404 (it does not) it had.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest

from registry.core.db import db
from tests.conftest import count, problem

T = date.today()
MISSING_ID = 987654


def iso(days: int) -> str:
    return (T + timedelta(days=days)).isoformat()


@dataclass
class Objects:
    """One of each object the guarded endpoints name, made through the API as their owners would."""

    alert: int
    recognition: int
    secondment: int
    certificate: int
    completion: int
    offering: int
    accreditation: int
    licence: int
    registry_number: str


@pytest.fixture
def objects(world, app, client) -> Objects:
    from curricula import services as curricula

    with app.app_context():
        course = curricula.create_course(
            code="TRAUMA-ITLS", titles={"en": "Joint trauma life support"}, fallback_language="en",
            description=None, competencies=["airway management"], cpd_hours=8, validity_months=24,
            professions=["2221"], owners=[{"hub": "IE-HUB"}], actor=None)
        hub = curricula.get_hub("IE-HUB")
        accreditation = curricula.grant_accreditation(course, hub=hub, granted_by="IE", valid_from=T - timedelta(400),
                                                      valid_until=None, actor=None)
        offering = curricula.create_offering(hub, course=course, starts_on=T - timedelta(20),
                                             ends_on=T - timedelta(18), language="en", place="Dublin", capacity=10,
                                             actor=None)
        db.session.commit()
        accreditation_id, offering_id = accreditation.id, offering.id

    def ok(response, status=201):
        assert response.status_code == status, response.get_data(as_text=True)
        return response.get_json()

    h = world.h
    ok(client.post("/api/v1/agreements", headers=h("secretariat"), json={
        "code": "IE-PT-NURSING", "title": "Nursing recognition", "states": ["IE", "PT"], "professions": ["2221"],
        "in_force_from": iso(-400), "validity_months": 36, "decision_deadline_days": 30}))
    recognition = ok(client.post("/api/v1/recognitions", headers=h("clinician"),
                                 json={"licence_id": world.licence, "host_state": "PT"}))["id"]
    secondment = ok(client.post("/api/v1/secondments", headers=h("clinician"), json={
        "clinician": world.clinician.registry_number, "profession": "2221", "host_state": "FR",
        "host_institution": "Hôpital Test", "supervisor": "Dr Test", "starts_on": iso(10),
        "ends_on": iso(100)}))["id"]
    completion = ok(client.post("/api/v1/hubs/IE-HUB/completions", headers=h("hub_ie"), json={
        "reference": "IE-0001", "clinician": world.clinician.registry_number, "course": "TRAUMA-ITLS",
        "completed_on": iso(-10), "outcome": "passed", "score": 90, "offering": offering_id}))["id"]
    certificate = ok(client.post(f"/api/v1/completions/{completion}/certificate", headers=h("hub_ie")))["id"]
    other_licence = world.make_licence(world.other_clinician, "IE-B", number="IE-2221-0002")
    ok(client.post(f"/api/v1/licences/{other_licence}/events", headers=h("board_ie"), json={
        "action": "restrict", "decided_on": iso(0), "reason": "review", "scope": "no night shifts"}))
    alert = ok(client.get("/api/v1/alerts", headers=h("board_fr")), 200)["items"][0]["id"]
    return Objects(alert=alert, recognition=recognition, secondment=secondment, certificate=certificate,
                   completion=completion, offering=offering_id, accreditation=accreditation_id,
                   licence=world.licence, registry_number=world.clinician.registry_number)


# (method, path with {placeholders}, body). Each body passes the endpoint's schema, so the request reaches the view.
ENDPOINTS: list[tuple[str, str, Any]] = [
    ("GET", "/api/v1/alerts/{alert}", None),
    ("POST", "/api/v1/alerts/{alert}/acknowledgement", None),
    ("GET", "/api/v1/recognitions/{recognition}", None),
    ("POST", "/api/v1/recognitions/{recognition}/decision", {"decision": "grant"}),
    ("POST", "/api/v1/recognitions/{recognition}/withdrawal", {"reason": "changed my mind"}),
    ("POST", "/api/v1/recognitions/{recognition}/measures", {"action": "suspend", "reason": "inquiry"}),
    ("POST", "/api/v1/recognitions/{recognition}/certificate", None),
    ("GET", "/api/v1/secondments/{secondment}", None),
    ("POST", "/api/v1/secondments/{secondment}/approval", {}),
    ("POST", "/api/v1/secondments/{secondment}/cancellation", {"reason": "not needed"}),
    ("POST", "/api/v1/secondments/{secondment}/termination", {"reason": "ended"}),
    ("GET", "/api/v1/certificates/{certificate}", None),
    ("GET", "/api/v1/certificates/{certificate}/pdf", None),
    ("GET", "/api/v1/certificates/{certificate}/credential", None),
    ("POST", "/api/v1/certificates/{certificate}/status", {"action": "suspend", "reason": "check"}),
    ("POST", "/api/v1/certificates/{certificate}/reissue", {"reason": "typo"}),
    ("POST", "/api/v1/completions/{completion}/certificate", None),
    ("GET", "/api/v1/completions/{completion}", None),
    ("POST", "/api/v1/completions/{completion}/withdrawal", {"reason": "mistake"}),
    ("POST", "/api/v1/offerings/{offering}/certificates", None),
    ("GET", "/api/v1/offerings/{offering}/enrolments", None),
    ("POST", "/api/v1/offerings/{offering}/enrolments", {"clinician": "{registry_number}"}),
    ("PATCH", "/api/v1/accreditations/{accreditation}", {"valid_until": None}),
    ("POST", "/api/v1/licences/{licence}/good-standing-certificate", {}),
    ("GET", "/api/v1/clinicians/{registry_number}/certificates", None),
    ("GET", "/api/v1/clinicians/{registry_number}/verifications", None),
    ("PATCH", "/api/v1/courses/{course}", {"cpd_hours": 9}),
    ("POST", "/api/v1/courses/{course}/accreditations", {"hub": "PT-HUB", "granted_by": "PT",
                                                          "valid_from": T.isoformat()}),
    ("POST", "/api/v1/hubs/{hub}/offerings", {"course": "TRAUMA-ITLS", "starts_on": T.isoformat(),
                                              "ends_on": T.isoformat(), "language": "en", "place": "Cork",
                                              "capacity": 5}),
    ("GET", "/api/v1/hubs/{hub}/completions", None),
    ("POST", "/api/v1/hubs/{hub}/completions", {"reference": "X-1", "clinician": "{registry_number}",
                                                "course": "TRAUMA-ITLS", "completed_on": T.isoformat(),
                                                "outcome": "failed"}),
]


def _fill(value: Any, names: dict[str, Any]) -> Any:
    if isinstance(value, str):
        return value.format(**names)
    if isinstance(value, dict):
        return {k: _fill(v, names) for k, v in value.items()}
    return value


def _names(objects: Objects, missing: bool) -> dict[str, Any]:
    if missing:
        return {"alert": MISSING_ID, "recognition": MISSING_ID, "secondment": MISSING_ID,
                "certificate": MISSING_ID, "completion": MISSING_ID, "offering": MISSING_ID,
                "accreditation": MISSING_ID, "licence": MISSING_ID, "registry_number": "IE-NOBODY-0",
                "course": "NO-SUCH-COURSE", "hub": "NO-SUCH-HUB"}
    return {**vars(objects), "course": "TRAUMA-ITLS", "hub": "IE-HUB"}


def _call(client, method: str, path: str, body: Any, names: dict[str, Any], headers=None):
    return client.open(_fill(path, names), method=method, headers=headers or {},
                       json=_fill(body, names) if body is not None else None)


def _without_request_fields(body: dict[str, Any]) -> dict[str, Any]:
    """The problem minus what names this request (its path and id), which differ by construction."""
    return {k: v for k, v in body.items() if k not in ("instance", "request_id")}


@pytest.mark.parametrize("method, path, body", ENDPOINTS, ids=[f"{m} {p}" for m, p, _ in ENDPOINTS])
def test_anonymous_gets_the_same_401_whether_or_not_the_object_exists(client, app, objects, method, path, body):
    rows = {table: count(app, table) for table in ("audit_events", "certificates", "enrolments", "completions",
                                                  "verifications", "access_log")}
    existing = _call(client, method, path, body, _names(objects, missing=False))
    missing = _call(client, method, path, body, _names(objects, missing=True))
    assert existing.status_code == 401, existing.get_data(as_text=True)
    assert missing.status_code == 401, missing.get_data(as_text=True)
    assert _without_request_fields(problem(existing)) == _without_request_fields(problem(missing))
    assert problem(existing)["type"].endswith("/unauthorized")
    assert {table: count(app, table) for table in rows} == rows  # nothing written


def test_the_401_is_the_one_every_other_endpoint_gives(client, objects):
    """The same problem as an endpoint that never looks anything up (GET /api/v1/programmes)."""
    reference = _without_request_fields(problem(client.get("/api/v1/programmes")))
    for path in (f"/api/v1/alerts/{objects.alert}", f"/api/v1/alerts/{MISSING_ID}",
                 f"/api/v1/recognitions/{objects.recognition}", f"/api/v1/secondments/{MISSING_ID}",
                 f"/api/v1/certificates/{objects.certificate}", f"/api/v1/completions/{MISSING_ID}"):
        assert _without_request_fields(problem(client.get(path))) == reference


@pytest.mark.parametrize("who, path, existing_status", [
    ("hub_ie", "/api/v1/alerts/{id}", 403),
    ("clinician", "/api/v1/alerts/{id}", 403),  # the alert is about the other clinician
    ("other_clinician", "/api/v1/recognitions/{id}", 403),
    ("hub_pt", "/api/v1/secondments/{id}", 403),
    ("other_clinician", "/api/v1/certificates/{id}", 403),
    ("hub_pt", "/api/v1/completions/{id}", 403),
])
def test_a_signed_in_caller_without_permission_keeps_403_and_404(client, world, objects, who, path, existing_status):
    ids = {"alerts": objects.alert, "recognitions": objects.recognition, "secondments": objects.secondment,
           "certificates": objects.certificate, "completions": objects.completion}
    existing_id = ids[path.split("/")[3]]
    r = client.get(path.format(id=existing_id), headers=world.h(who))
    assert r.status_code == existing_status, r.get_json()
    r = client.get(path.format(id=MISSING_ID), headers=world.h(who))
    assert r.status_code == 404 and problem(r)["type"].endswith("/not-found")


def test_acknowledging_needs_a_board_before_the_alert_is_looked_up(client, world, objects, app):
    """A hub officer is refused (403) for an existing and a missing alert alike; a board of a receiving state
    acknowledges, and a missing alert is its 404."""
    for alert in (objects.alert, MISSING_ID):
        r = client.post(f"/api/v1/alerts/{alert}/acknowledgement", headers=world.h("hub_ie"))
        assert r.status_code == 403, r.get_json()
    r = client.post(f"/api/v1/alerts/{MISSING_ID}/acknowledgement", headers=world.h("board_fr"))
    assert r.status_code == 404
    r = client.post(f"/api/v1/alerts/{objects.alert}/acknowledgement", headers=world.h("board_fr"))
    assert r.status_code == 200, r.get_json()
    assert {x["state"]: bool(x["acknowledged_at"]) for x in r.get_json()["recipients"]} == {"FR": True, "PT": False}
