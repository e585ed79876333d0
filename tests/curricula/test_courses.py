"""Courses and accreditations: who may manage them, titles by language, windows that never overlap."""

from tests.conftest import audit_count, count, problem
from tests.curricula.conftest import d

NEW_COURSE = {
    "code": "TRIAGE-MCI",
    "titles": {"en": "Mass-casualty triage", "fr": "Triage en afflux massif", "pt": "Triagem em múltiplas vítimas"},
    "fallback_language": "en",
    "description": "START and SALT triage at a mass-casualty incident.",
    "competencies": ["triage categories", "scene safety"],
    "cpd_hours": 6.5,
    "validity_months": 36,
    "professions": ["2221", "3258"],
    "owners": [{"hub": "IE-HUB"}, {"hub": "PT-HUB"}, {"member_state": "FR"}],
}


def test_secretariat_creates_a_joint_course(client, world, app):
    before = audit_count(app)
    r = client.post("/api/v1/courses", json=NEW_COURSE, headers=world.h("secretariat"))
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert body["code"] == "TRIAGE-MCI" and body["title"] == "Mass-casualty triage"
    assert body["owners"] == [{"hub": "IE-HUB", "member_state": None}, {"hub": "PT-HUB", "member_state": None},
                              {"hub": None, "member_state": "FR"}]
    assert body["professions"] == ["2221", "3258"] and body["cpd_hours"] == 6.5
    assert audit_count(app) == before + 1
    # The catalogue is public; titles come in the requested language, else the fallback.
    r = client.get("/api/v1/courses/TRIAGE-MCI?lang=fr-BE")
    assert r.status_code == 200 and r.get_json()["title"] == "Triage en afflux massif"
    assert client.get("/api/v1/courses/TRIAGE-MCI?lang=de").get_json()["title"] == "Mass-casualty triage"
    assert [c["code"] for c in client.get("/api/v1/courses?profession=3258").get_json()] == ["TRIAGE-MCI"]


def test_a_hub_creates_only_courses_it_owns(client, world, app):
    before = count(app, "courses"), audit_count(app)
    r = client.post("/api/v1/courses", json={**NEW_COURSE, "owners": [{"hub": "IE-HUB"}]}, headers=world.h("hub_pt"))
    assert r.status_code == 403
    assert "PT-HUB" in problem(r)["detail"]
    assert (count(app, "courses"), audit_count(app)) == before
    r = client.post("/api/v1/courses", json={**NEW_COURSE, "owners": [{"hub": "PT-HUB"}]}, headers=world.h("hub_pt"))
    assert r.status_code == 201
    for who in ("board_ie", "clinician", "anonymous"):
        r = client.post("/api/v1/courses", json={**NEW_COURSE, "code": "OTHER-1"}, headers=world.h(who))
        assert r.status_code in (401, 403)
    assert count(app, "courses") == before[0] + 1


def test_owning_hub_changes_the_course_and_another_hub_cannot(client, world, app, curriculum):
    r = client.patch("/api/v1/courses/TRAUMA-ITLS", json={"cpd_hours": 10, "validity_months": 36},
                     headers=world.h("hub_ie"))
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["cpd_hours"] == 10 and r.get_json()["validity_months"] == 36

    before = audit_count(app)
    r = client.patch("/api/v1/courses/TRAUMA-ITLS", json={"cpd_hours": 1}, headers=world.h("hub_pt"))
    assert r.status_code == 403
    assert "owning hub" in problem(r)["detail"]
    r = client.patch("/api/v1/courses/TRAUMA-ITLS", json={"owners": [{"hub": "PT-HUB"}]}, headers=world.h("board_ie"))
    assert r.status_code == 403
    assert audit_count(app) == before
    body = client.get("/api/v1/courses/TRAUMA-ITLS").get_json()
    assert body["cpd_hours"] == 10 and body["owners"][0]["hub"] == "IE-HUB"

    # The secretariat manages every course; owners can change without losing the ones that stay.
    r = client.patch("/api/v1/courses/TRAUMA-ITLS", headers=world.h("secretariat"),
                     json={"owners": [{"member_state": "PT"}, {"hub": "PT-HUB"}], "titles": {"en": "JTLS"}})
    assert r.status_code == 200, r.get_json()
    assert {(o["hub"], o["member_state"]) for o in r.get_json()["owners"]} == {(None, "PT"), ("PT-HUB", None)}
    assert count(app, "course_owners") == 3  # two for TRAUMA-ITLS, one for EMLOG


def test_a_co_owning_hub_adds_owners_and_steps_down_but_cannot_remove_another(client, world, app, curriculum):
    r = client.patch("/api/v1/courses/TRAUMA-ITLS", headers=world.h("secretariat"),
                     json={"owners": [{"hub": "IE-HUB"}, {"hub": "PT-HUB"}, {"member_state": "FR"}]})
    assert r.status_code == 200, r.get_json()
    before = (audit_count(app), count(app, "course_owners"))

    # IE-HUB tries to keep the joint course to itself: PT-HUB and France stay, nothing is written.
    for owners in ([{"hub": "IE-HUB"}], [{"hub": "IE-HUB"}, {"hub": "PT-HUB"}]):
        r = client.patch("/api/v1/courses/TRAUMA-ITLS", json={"owners": owners, "cpd_hours": 2},
                         headers=world.h("hub_ie"))
        assert r.status_code == 403, r.get_json()
        assert r.headers["Content-Type"] == "application/problem+json"
        assert "state FR" in problem(r)["detail"] and "secretariat" in problem(r)["detail"]
    assert "hub PT-HUB" in client.patch("/api/v1/courses/TRAUMA-ITLS", json={"owners": [{"hub": "IE-HUB"}]},
                                        headers=world.h("hub_ie")).get_json()["detail"]
    assert (audit_count(app), count(app, "course_owners")) == before
    body = client.get("/api/v1/courses/TRAUMA-ITLS").get_json()
    assert body["cpd_hours"] != 2
    assert {(o["hub"], o["member_state"]) for o in body["owners"]} == {
        ("IE-HUB", None), ("PT-HUB", None), (None, "FR")}

    # Adding a co-owner keeps every other owner: allowed. Stepping down itself: allowed.
    r = client.patch("/api/v1/courses/TRAUMA-ITLS", headers=world.h("hub_ie"), json={
        "owners": [{"hub": "IE-HUB"}, {"hub": "PT-HUB"}, {"member_state": "FR"}, {"member_state": "PT"}]})
    assert r.status_code == 200, r.get_json()
    r = client.patch("/api/v1/courses/TRAUMA-ITLS", headers=world.h("hub_ie"), json={
        "owners": [{"hub": "PT-HUB"}, {"member_state": "FR"}, {"member_state": "PT"}]})
    assert r.status_code == 200, r.get_json()
    assert {(o["hub"], o["member_state"]) for o in r.get_json()["owners"]} == {
        ("PT-HUB", None), (None, "FR"), (None, "PT")}
    # IE-HUB no longer owns it, so it changes nothing more; PT-HUB (still an owner) can.
    assert client.patch("/api/v1/courses/TRAUMA-ITLS", json={"cpd_hours": 3},
                        headers=world.h("hub_ie")).status_code == 403
    assert client.patch("/api/v1/courses/TRAUMA-ITLS", json={"cpd_hours": 3},
                        headers=world.h("hub_pt")).status_code == 200


def test_course_input_is_checked(client, world, app):
    cases = [
        ({**NEW_COURSE, "fallback_language": "de"}, "fallback_language"),
        ({**NEW_COURSE, "cpd_hours": -1}, "cpd_hours"),
        ({**NEW_COURSE, "cpd_hours": 1.234}, "cpd_hours"),
        ({**NEW_COURSE, "validity_months": 0}, "validity_months"),
        ({**NEW_COURSE, "professions": ["9999"]}, "professions"),
        ({**NEW_COURSE, "owners": [{"hub": "IE-B"}]}, "owners"),
        ({**NEW_COURSE, "owners": [{"hub": "IE-HUB", "member_state": "IE"}]}, "owners"),
        ({**NEW_COURSE, "code": "lower case"}, "code"),
        ({**NEW_COURSE, "titles": {"en": "x" * 301}}, "titles"),
        ({**NEW_COURSE, "price": 10}, "price"),
    ]
    for body, field in cases:
        r = client.post("/api/v1/courses", json=body, headers=world.h("secretariat"))
        assert r.status_code == 422, (field, r.get_json())
        assert field in problem(r)["errors"], (field, r.get_json())
    assert count(app, "courses") == 0
    assert client.post("/api/v1/courses", json=NEW_COURSE, headers=world.h("secretariat")).status_code == 201
    r = client.post("/api/v1/courses", json=NEW_COURSE, headers=world.h("secretariat"))
    assert r.status_code == 409 and "exists already" in problem(r)["detail"]


def test_accreditations_by_granting_state_and_never_overlapping(client, world, app, curriculum):
    url = "/api/v1/courses/EMLOG/accreditations"
    body = {"hub": "PT-HUB", "granted_by": "FR", "valid_from": d(-30).isoformat(), "valid_until": d(300).isoformat()}
    before = count(app, "accreditations")
    # A board cannot grant in another state's name; a hub cannot accredit itself.
    assert client.post(url, json={**body, "granted_by": "PT"}, headers=world.h("board_fr")).status_code == 403
    assert client.post(url, json=body, headers=world.h("board_ie")).status_code == 403
    assert client.post(url, json=body, headers=world.h("hub_pt")).status_code == 403
    assert count(app, "accreditations") == before
    r = client.post(url, json=body, headers=world.h("board_fr"))
    assert r.status_code == 201, r.get_json()
    accreditation = r.get_json()
    assert accreditation["hub"] == "PT-HUB" and accreditation["granted_by"] == "FR"

    r = client.post(url, json={**body, "valid_from": d(200).isoformat(), "valid_until": None},
                    headers=world.h("secretariat"))
    assert r.status_code == 409 and "already accredited" in problem(r)["detail"]
    r = client.post(url, json={**body, "hub": "IE-B"}, headers=world.h("secretariat"))
    assert r.status_code == 422 and "hub" in problem(r)["errors"]
    r = client.post(url, json={**body, "valid_until": d(-60).isoformat()}, headers=world.h("secretariat"))
    assert r.status_code == 422 and "valid_until" in problem(r)["errors"]
    assert count(app, "accreditations") == before + 1

    # Ending it early is a recorded change; the window is public.
    r = client.patch(f"/api/v1/accreditations/{accreditation['id']}", json={"valid_until": d(-1).isoformat()},
                     headers=world.h("secretariat"))
    assert r.status_code == 200 and r.get_json()["valid_until"] == d(-1).isoformat()
    listed = client.get(url).get_json()
    assert {(a["hub"], a["valid_until"]) for a in listed} == {("IE-HUB", None), ("PT-HUB", d(-1).isoformat())}
