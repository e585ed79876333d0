"""Offerings: scheduled only while accredited, by the hub itself; enrolments never exceed capacity."""

import threading

import pytest

from tests.conftest import audit_count, count, problem
from tests.curricula.conftest import d

OFFERING = {"course": "TRAUMA-ITLS", "starts_on": d(10).isoformat(), "ends_on": d(12).isoformat(), "language": "en",
            "place": "Dublin, St James's simulation centre", "capacity": 2}


def test_offering_by_the_accredited_hub_only(client, world, app, curriculum):
    before = count(app, "offerings"), audit_count(app)
    assert client.post("/api/v1/hubs/IE-HUB/offerings", json=OFFERING, headers=world.h("hub_pt")).status_code == 403
    # PT-HUB's accreditation for TRAUMA-ITLS ended long ago.
    r = client.post("/api/v1/hubs/PT-HUB/offerings", json=OFFERING, headers=world.h("hub_pt"))
    assert r.status_code == 422 and "was not accredited" in problem(r)["detail"]
    r = client.post("/api/v1/hubs/IE-HUB/offerings", json={**OFFERING, "ends_on": d(5).isoformat()},
                    headers=world.h("hub_ie"))
    assert r.status_code == 422 and "ends_on" in problem(r)["errors"]
    assert (count(app, "offerings"), audit_count(app)) == before
    r = client.post("/api/v1/hubs/IE-HUB/offerings", json=OFFERING, headers=world.h("hub_ie"))
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["seats_left"] == 2 and r.get_json()["hub"] == "IE-HUB"
    assert [o["id"] for o in client.get("/api/v1/hubs/IE-HUB/offerings").get_json()] == [r.get_json()["id"]]


def test_enrolments_up_to_capacity(client, world, app, curriculum):
    offering = client.post("/api/v1/hubs/IE-HUB/offerings", json=OFFERING, headers=world.h("hub_ie")).get_json()
    url = f"/api/v1/offerings/{offering['id']}/enrolments"
    third = world.make_clinician("FR")
    assert client.post(url, json={"clinician": world.clinician.registry_number},
                       headers=world.h("hub_pt")).status_code == 403
    assert client.post(url, json={"clinician": world.clinician.registry_number},
                       headers=world.h("hub_ie")).status_code == 201
    r = client.post(url, json={"clinician": world.clinician.registry_number}, headers=world.h("hub_ie"))
    assert r.status_code == 409 and "already enrolled" in problem(r)["detail"]
    assert client.post(url, json={"clinician": world.other_clinician.registry_number},
                       headers=world.h("hub_ie")).status_code == 201
    r = client.post(url, json={"clinician": third.registry_number}, headers=world.h("hub_ie"))
    assert r.status_code == 409
    assert "full" in problem(r)["detail"] and r.get_json()["capacity"] == 2
    assert count(app, "enrolments") == 2
    assert client.get(f"/api/v1/offerings/{offering['id']}").get_json()["seats_left"] == 0
    names = [e["clinician"] for e in client.get(url, headers=world.h("hub_ie")).get_json()]
    assert names == [world.clinician.registry_number, world.other_clinician.registry_number]
    assert client.get(url, headers=world.h("hub_pt")).status_code == 403

    # A completion may name the offering; an offering of another course is refused.
    r = client.post("/api/v1/hubs/IE-HUB/completions", headers=world.h("hub_ie"), json={
        "reference": "COH-1", "clinician": world.clinician.registry_number, "course": "EMLOG",
        "offering": offering["id"], "completed_on": d(-1).isoformat(), "outcome": "passed"})
    assert r.status_code == 422 and "offering" in problem(r)["errors"]


def test_capacity_holds_under_concurrent_enrolments(client, world, app, curriculum, backend):
    if backend[0] != "postgresql":
        pytest.skip("concurrent writers are a PostgreSQL matter (SQLite has one writer)")
    offering = client.post("/api/v1/hubs/IE-HUB/offerings", json={**OFFERING, "capacity": 3},
                           headers=world.h("hub_ie")).get_json()
    clinicians = [world.make_clinician("PT") for _ in range(8)]
    statuses: list[int] = []
    barrier = threading.Barrier(len(clinicians))

    def enrol(registry_number: str) -> None:
        local = app.test_client()
        barrier.wait()
        r = local.post(f"/api/v1/offerings/{offering['id']}/enrolments", json={"clinician": registry_number},
                       headers=world.h("hub_ie"))
        statuses.append(r.status_code)

    threads = [threading.Thread(target=enrol, args=(c.registry_number,)) for c in clinicians]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [201] * 3 + [409] * 5
    assert count(app, "enrolments") == 3
