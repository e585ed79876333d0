"""GET /me/export.json holds all that is held on the clinician (DOMAIN.md "Privacy"): the record and account,
licences with every decision, recognitions with theirs, alerts, completions, enrolments, certificates with their
status, secondments and the notices about them, who verified their certificates, who read their record, and the
history of the record itself. Nothing about another clinician, and no officer's name or e-mail."""

from __future__ import annotations

import json

import pytest

from registry.core.db import db
from tests.conftest import count

from .conftest import d


def ok(response, status=201):
    assert response.status_code == status, response.get_data(as_text=True)
    return response.get_json()


@pytest.fixture
def held(pages, world, app, client):
    """A clinician with something in every section, and another clinician with as much, made through the API."""
    from curricula import services as curricula

    h = world.h
    me, other = world.clinician, world.other_clinician
    other_licence = world.make_licence(other, "IE-B", number="IE-2221-0002")
    with app.app_context():
        hub = curricula.get_hub("IE-HUB")
        course = curricula.get_course("TRAUMA-ITLS")
        future = curricula.create_offering(hub, course=course, starts_on=d(30), ends_on=d(32), language="en",
                                           place="Galway", capacity=5, actor=None)
        db.session.commit()
        future_id = future.id
    for person in (me, other):
        ok(client.post(f"/api/v1/offerings/{future_id}/enrolments", headers=h("hub_ie"),
                       json={"clinician": person.registry_number}))
    certificates = {}
    for reference, person in (("IE-0001", me), ("IE-0002", other)):
        completion = ok(client.post("/api/v1/hubs/IE-HUB/completions", headers=h("hub_ie"), json={
            "reference": reference, "clinician": person.registry_number, "course": "TRAUMA-ITLS",
            "completed_on": d(-19).isoformat(), "outcome": "passed", "score": 88, "offering": pages.offering_id}))
        certificates[person.registry_number] = ok(client.post(f"/api/v1/completions/{completion['id']}/certificate",
                                                              headers=h("hub_ie")))
    ok(client.post("/api/v1/agreements", headers=h("secretariat"), json={
        "code": "IE-PT-NURSING", "title": "Nursing recognition", "states": ["IE", "PT"], "professions": ["2221"],
        "in_force_from": d(-400).isoformat(), "validity_months": 36, "decision_deadline_days": 30}))
    recognition = ok(client.post("/api/v1/recognitions", headers=h("clinician"),
                                 json={"licence_id": world.licence, "host_state": "PT"}))
    ok(client.post(f"/api/v1/recognitions/{recognition['id']}/decision", headers=h("board_pt"),
                   json={"decision": "grant", "conditions": "three months supervised practice"}), 200)
    secondment = ok(client.post("/api/v1/secondments", headers=h("clinician"), json={
        "clinician": me.registry_number, "profession": "2221", "host_state": "PT", "host_institution": "Hospital X",
        "supervisor": "Dr Y", "starts_on": d(5).isoformat(), "ends_on": d(60).isoformat()}))
    ok(client.post(f"/api/v1/secondments/{secondment['id']}/approval", headers=h("board_pt"), json={}), 200)
    # The home board suspends the licence: an alert, the recognition and the secondment suspended, a notice.
    ok(client.post(f"/api/v1/licences/{world.licence}/events", headers=h("board_ie"), json={
        "action": "suspend", "decided_on": d(0).isoformat(), "reason": "fitness to practise inquiry"}))
    ok(client.post(f"/api/v1/licences/{other_licence}/events", headers=h("board_ie"), json={
        "action": "restrict", "decided_on": d(0).isoformat(), "reason": "other's review", "scope": "other's scope"}))
    mine = certificates[me.registry_number]
    ok(client.post(f"/api/v1/certificates/{mine['id']}/status", headers=h("hub_ie"),
                   json={"action": "revoke", "reason": "assessment repeated"}), 200)
    ok(client.post("/api/v1/verify", headers=h("board_fr"), json={"code": mine["verification_code"]}), 200)
    ok(client.post("/api/v1/verify", headers=h("board_pt"),
                   json={"code": certificates[other.registry_number]["verification_code"]}), 200)
    ok(client.patch(f"/api/v1/clinicians/{me.registry_number}", headers=h("board_ie"),
                    json={"given_names": "Siobhán Máire"}), 200)
    ok(client.get(f"/api/v1/clinicians/{me.registry_number}/standing", headers=h("board_fr")), 200)
    ok(client.get(f"/api/v1/clinicians/{me.registry_number}/completions", headers=h("secretariat")), 200)
    ok(client.get(f"/api/v1/clinicians/{other.registry_number}/standing", headers=h("board_pt")), 200)
    return {"offering": future_id, "recognition": recognition["id"], "secondment": secondment["id"],
            "certificate": mine, "other_certificate": certificates[other.registry_number]}


def export(pages) -> tuple[dict, str]:
    response = pages.client("clinician").get("/me/export.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert "attachment" in response.headers["Content-Disposition"]
    return json.loads(response.get_data(as_text=True)), response.get_data(as_text=True)


def test_the_export_holds_the_enrolments(pages, world, held):
    body, _ = export(pages)
    [enrolment] = body["enrolments"]
    assert enrolment["enrolled_at"]
    assert enrolment["offering"] == {
        "id": held["offering"], "course": "TRAUMA-ITLS", "course_title": "Joint trauma life support",
        "hub": {"code": "IE-HUB", "name": "IE-HUB organisation"}, "starts_on": d(30).isoformat(),
        "ends_on": d(32).isoformat(), "language": "en", "place": "Galway"}


def test_the_export_holds_who_read_the_record(pages, world, held, app):
    body, _ = export(pages)
    log = body["access_log"]
    # Newest first: this export itself, the secretariat's completions read, the FR board's standing read.
    assert [(e["what"], e["by"], e["organisation"]) for e in log] == [
        ("export", "you", None),
        ("completions", "secretariat_admin", {"code": "SEC", "name": "SEC organisation"}),
        ("standing", "board_officer", {"code": "FR-B", "name": "FR-B organisation"}),
    ]
    assert all(e["occurred_at"] for e in log)
    assert count(app, "access_log") == 4  # and the PT board's read of the other clinician, not listed


def test_the_export_holds_every_decision(pages, world, held):
    body, _ = export(pages)
    [licence] = body["licences"]
    assert [(e["action"], e["reason"]) for e in licence["events"]] == [
        ("issue", None), ("suspend", "fitness to practise inquiry")]
    assert licence["state"]["status"] == "suspended"
    [recognition] = body["recognitions"]
    assert recognition["id"] == held["recognition"] and recognition["status"] == "suspended"
    assert recognition["conditions"] == "three months supervised practice"
    assert [e["action"] for e in recognition["events"]] == ["apply", "grant", "suspend"]
    assert recognition["events"][2]["caused_by_licence_event"] == licence["events"][1]["id"]
    [alert] = body["alerts"]
    assert alert["measure"] == "suspend" and alert["clinician"] == world.clinician.registry_number
    assert body["open_alerts"] == [alert["id"]]
    [secondment] = body["secondments"]
    assert secondment["id"] == held["secondment"] and secondment["status"] == "suspended"
    assert [e["action"] for e in secondment["events"]] == ["propose", "approve", "suspend"]
    [notice] = body["mobility_notices"]
    assert notice["secondment"] == held["secondment"] and notice["host_state"] == "PT"
    assert notice["action"] == "suspend" and notice["effective_on"] == d(0).isoformat() and notice["message"]


def test_the_export_holds_certificates_with_status_and_who_verified_them(pages, world, held):
    body, _ = export(pages)
    [certificate] = body["certificates"]
    assert certificate["id"] == held["certificate"]["id"] and certificate["status"] == "revoked"
    assert certificate["revocation_reason"] == "assessment repeated"
    [completion] = body["completions"]
    assert completion["reference"] == "IE-0001" and completion["offering"] == pages.offering_id
    [verification] = body["verifications"]
    assert verification["certificate_id"] == held["certificate"]["id"] and verification["outcome"] == "REVOKED"
    assert verification["organisation"] == {"code": "FR-B", "name": "FR-B organisation"}


def test_the_export_holds_the_record_and_its_history(pages, world, held):
    body, _ = export(pages)
    assert body["clinician"]["registry_number"] == world.clinician.registry_number
    assert body["clinician"]["given_names"] == "Siobhán Máire"  # not escaped: the file is UTF-8
    assert body["account"]["email"] == "clinician@test.example" and body["account"]["role"] == "clinician"
    assert [e["action"] for e in body["record_history"]] == ["clinician.create", "clinician.update"]
    assert body["record_history"][1]["changes"]["given_names"]
    assert "Siobhán Máire" in json.dumps(body["record_history"][1]["changes"], ensure_ascii=False)


def test_the_export_holds_nothing_about_anyone_else(pages, world, held):
    body, text = export(pages)
    other = world.other_clinician
    for trace in (other.registry_number, other.family_name, "IE-2221-0002", "other's review", "IE-0002",
                  held["other_certificate"]["credential_id"], held["other_certificate"]["verification_code"],
                  "PT-B organisation\"", "@test.example\", \"display_name\": \"board"):
        assert trace not in text, trace
    # No officer's account: readers and verifiers are named by organisation and role only.
    for officer in ("board_ie", "board_fr", "board_pt", "hub_ie", "secretariat"):
        assert f"{officer}@test.example" not in text
        assert f'"{officer}"' not in text
    assert len(body["enrolments"]) == 1 and len(body["verifications"]) == 1 and len(body["alerts"]) == 1


def test_another_clinician_exports_only_their_own(pages, world, held):
    response = pages.client("other_clinician").get("/me/export.json")
    assert response.status_code == 200
    body, text = response.get_json(), response.get_data(as_text=True)
    assert body["clinician"]["registry_number"] == world.other_clinician.registry_number
    assert world.clinician.registry_number not in text and "Galway" in text
    assert [e["what"] for e in body["access_log"]] == ["export", "standing"]
    assert body["access_log"][1]["organisation"]["code"] == "PT-B"
    assert [v["organisation"]["code"] for v in body["verifications"]] == ["PT-B"]
    assert body["mobility_notices"] == [] and body["secondments"] == []


def test_the_record_page_shows_enrolments_and_who_read_the_record(pages, world, held):
    from .conftest import text

    page = text(pages.client("clinician").get("/me"))
    enrolments = page.split('id="h-enrolments"')[1].split("</section>")[0]
    assert "Joint trauma life support (TRAUMA-ITLS)" in enrolments and "Galway" in enrolments
    assert f"{d(30).isoformat()} to {d(32).isoformat()}" in enrolments
    reads = page.split('id="h-reads"')[1].split("</section>")[0]
    assert "FR-B organisation" in reads and "board officer" in reads and "SEC organisation" in reads
    assert "<td>standing</td>" in reads and "<td>you</td>" in reads
    assert world.other_clinician.registry_number not in page and "PT-B organisation" not in reads


def test_the_export_holds_the_records_merged_into_the_clinicians(pages, world, client, app):
    """A duplicate record merged into the clinician's: the duplicate's own data and history are theirs too."""
    duplicate = world.make_clinician("IE", family_name="Byrne", given_names="Siobhan", email="old@example.org")
    r = client.post(f"/api/v1/clinicians/{world.clinician.registry_number}/merges", headers=world.h("board_ie"),
                    json={"merged": duplicate.registry_number, "reason": "the same nurse registered twice"})
    assert r.status_code == 201, r.get_json()
    body, _ = export(pages)
    [merged] = body["merged_records"]
    assert merged["merged"] == duplicate.registry_number and merged["survivor"] == world.clinician.registry_number
    assert merged["reason"] == "the same nurse registered twice" and merged["organisation"] == "IE-B"
    assert merged["record"]["given_names"] == "Siobhan" and merged["record"]["email"] == "old@example.org"
    assert merged["record"]["date_of_birth"] == duplicate.date_of_birth.isoformat()
    assert [(e["record"], e["action"]) for e in body["record_history"]] == [
        (world.clinician.registry_number, "clinician.create"),
        (duplicate.registry_number, "clinician.create"),
        (world.clinician.registry_number, "clinician.merge"),
        (duplicate.registry_number, "clinician.merged_into"),
    ]
