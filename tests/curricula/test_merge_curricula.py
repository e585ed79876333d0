"""Merging two records of one person: a double enrolment is folded, completions move, and a bulk file naming the
merged number records the completion on the survivor."""

import sqlalchemy as sa

from registry.core.audit import AuditEvent
from registry.core.db import db
from tests.conftest import count
from tests.curricula.conftest import d, post_completion
from tests.curricula.test_import import HEADER, csv_bytes, upload

OFFERING = {"course": "TRAUMA-ITLS", "starts_on": d(10).isoformat(), "ends_on": d(12).isoformat(), "language": "en",
            "place": "Dublin", "capacity": 5}


def _duplicate(world):
    c = world.clinician
    return world.make_clinician("IE", family_name=c.family_name, given_names=c.given_names,
                                date_of_birth=c.date_of_birth, not_duplicate_of=[c.registry_number])


def test_a_double_enrolment_is_folded_and_completions_move(client, world, app, curriculum):
    dup = _duplicate(world)
    offering = client.post("/api/v1/hubs/IE-HUB/offerings", json=OFFERING, headers=world.h("hub_ie")).get_json()
    other = client.post("/api/v1/hubs/IE-HUB/offerings", json={**OFFERING, "starts_on": d(20).isoformat(),
                                                                "ends_on": d(21).isoformat()},
                        headers=world.h("hub_ie")).get_json()
    url = f"/api/v1/offerings/{offering['id']}/enrolments"
    for clinician in (world.clinician, dup):
        r = client.post(url, json={"clinician": clinician.registry_number}, headers=world.h("hub_ie"))
        assert r.status_code == 201, r.get_json()
    kept = client.get(url, headers=world.h("hub_ie")).get_json()[0]["id"]
    r = client.post(f"/api/v1/offerings/{other['id']}/enrolments", json={"clinician": dup.registry_number},
                    headers=world.h("hub_ie"))
    assert r.status_code == 201
    assert post_completion(client, world, reference="DUP-1", clinician=dup.registry_number).status_code == 201

    r = client.post(f"/api/v1/clinicians/{world.clinician.registry_number}/merges",
                    json={"merged": dup.registry_number, "reason": "same person"}, headers=world.h("board_ie"))
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["moved"] == {"completions": 1, "enrolments": 1}
    # one seat each: the survivor's enrolment stays in the first offering, the other offering's moved
    enrolled = client.get(url, headers=world.h("hub_ie")).get_json()
    assert [(e["id"], e["clinician"]) for e in enrolled] == [(kept, world.clinician.registry_number)]
    enrolled = client.get(f"/api/v1/offerings/{other['id']}/enrolments", headers=world.h("hub_ie")).get_json()
    assert [e["clinician"] for e in enrolled] == [world.clinician.registry_number]
    assert count(app, "enrolments") == 2
    with app.app_context():
        changes = db.session.scalar(sa.select(AuditEvent.changes).where(AuditEvent.action == "clinician.merge"))
    assert len(changes["folded"]["enrolments_dropped"]) == 1
    standing = client.get(f"/api/v1/clinicians/{world.clinician.registry_number}/standing",
                          headers=world.h("board_ie")).get_json()
    assert [c["reference"] for c in standing["completions"]] == ["DUP-1"]


def test_a_bulk_file_naming_the_merged_number_records_on_the_survivor(client, world, app, curriculum):
    dup = _duplicate(world)
    r = client.post(f"/api/v1/clinicians/{world.clinician.registry_number}/merges",
                    json={"merged": dup.registry_number, "reason": "same person"}, headers=world.h("board_ie"))
    assert r.status_code == 201
    data = csv_bytes([HEADER, f"R-9,{dup.registry_number},TRAUMA-ITLS,{d(-5)},passed,90,"])
    r = upload(client, world, data)
    assert r.status_code == 201 and r.get_json()["committed"] is True, r.get_json()
    standing = client.get(f"/api/v1/clinicians/{world.clinician.registry_number}/standing",
                          headers=world.h("board_ie")).get_json()
    assert [c["reference"] for c in standing["completions"]] == ["R-9"]
