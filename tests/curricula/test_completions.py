"""Completions: recording, idempotent re-sends, accreditation windows, withdrawal, validity and CPD credits."""

from datetime import date

import pytest

from curricula.services import add_months, valid_until
from registry.core.events import completion_withdrawn
from tests.conftest import audit_count, count, problem
from tests.curricula.conftest import T, d, post_completion


def test_record_then_resend_is_idempotent_and_other_data_conflicts(client, world, app, curriculum):
    before = audit_count(app)
    r = post_completion(client, world)
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert body["hub"] == "IE-HUB" and body["clinician"] == world.clinician.registry_number
    assert body["credits"] == 8 and body["status"] == "current"
    assert body["valid_until"] == add_months(d(-10), 24).isoformat()
    assert audit_count(app) == before + 1

    again = post_completion(client, world)
    assert again.status_code == 200
    assert again.get_json()["id"] == body["id"]
    assert count(app, "completions") == 1 and audit_count(app) == before + 1

    r = post_completion(client, world, outcome="failed", score=40)
    assert r.status_code == 409
    detail = problem(r)
    assert "IE-2026-0001" in detail["detail"] and detail["differs"] == ["outcome", "score", "credits"]
    assert count(app, "completions") == 1 and audit_count(app) == before + 1
    # The same reference at another hub is another completion.
    r = post_completion(client, world, who="hub_pt", hub="PT-HUB", completed_on=d(-600).isoformat())
    assert r.status_code == 201, r.get_json()


def test_a_hub_records_only_for_itself(client, world, app, curriculum):
    before = count(app, "completions"), audit_count(app)
    for who in ("hub_pt", "board_ie", "secretariat", "clinician"):
        assert post_completion(client, world, who=who).status_code == 403
    assert post_completion(client, world, who="anonymous").status_code == 401
    assert (count(app, "completions"), audit_count(app)) == before


def test_clinician_by_licence_number_and_board(client, world, app, curriculum):
    r = post_completion(client, world, clinician=None, licence_number="IE-2221-0001", board="IE-B")
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["clinician"] == world.clinician.registry_number
    r = post_completion(client, world, reference="X2", clinician=None, licence_number="IE-2221-0001", board="FR-B")
    assert r.status_code == 422 and "licence_number" in problem(r)["errors"]
    r = post_completion(client, world, reference="X3", clinician=None, licence_number="IE-2221-0001")
    assert r.status_code == 422 and "board" in problem(r)["errors"]
    r = post_completion(client, world, reference="X4", clinician="AAA-AAA-AAA")
    assert r.status_code == 422 and "clinician" in problem(r)["errors"]


@pytest.mark.parametrize(
    "overrides, field, words",
    [
        ({"completed_on": d(1).isoformat()}, "completed_on", "in the future"),
        ({"completed_on": "2025-02-30"}, "completed_on", ""),
        ({"course": "EMLOG", "completed_on": d(-101).isoformat()}, "completed_on", "was not accredited"),
        ({"course": "NOPE-1"}, "course", "no course"),
        ({"credits": 9}, "credits", "more than the course's 8 CPD hours"),
        ({"outcome": "failed", "credits": 2}, "credits", "failed completion earns no credits"),
        ({"score": 101}, "score", ""),
        ({"reference": "x" * 65}, "reference", ""),
        ({"offering": 999}, "offering", ""),
    ],
)
def test_refusals_name_the_field_and_write_nothing(client, world, app, curriculum, overrides, field, words):
    before = count(app, "completions"), audit_count(app)
    r = post_completion(client, world, **overrides)
    assert r.status_code == 422, r.get_json()
    body = problem(r)
    assert field in body["errors"], body
    assert words in " ".join(body["errors"][field])
    assert (count(app, "completions"), audit_count(app)) == before


def test_accreditation_window_of_another_hub(client, world, app, curriculum):
    # PT-HUB was accredited for TRAUMA-ITLS from d(-1000) to d(-500) only.
    r = post_completion(client, world, who="hub_pt", hub="PT-HUB", completed_on=d(-499).isoformat())
    assert r.status_code == 422
    assert "PT-HUB was not accredited for TRAUMA-ITLS on" in problem(r)["detail"]
    assert post_completion(client, world, who="hub_pt", hub="PT-HUB",
                           completed_on=d(-500).isoformat()).status_code == 201
    # PT-HUB was never accredited for EMLOG, even though it owns it.
    r = post_completion(client, world, who="hub_pt", hub="PT-HUB", reference="E1", course="EMLOG")
    assert r.status_code == 422
    assert problem(r)["errors"]["course"] == ["PT-HUB is not accredited for EMLOG"]


def test_withdrawal_needs_a_reason_and_keeps_history(client, world, app, curriculum):
    completion = post_completion(client, world, completed_on=d(-30).isoformat()).get_json()
    url = f"/api/v1/completions/{completion['id']}/withdrawal"
    heard = []

    def receiver(sender, **kwargs):
        heard.append(kwargs["completion"].reference)

    completion_withdrawn.connect(receiver)
    try:
        before = audit_count(app)
        assert client.post(url, json={}, headers=world.h("hub_ie")).status_code == 422
        assert client.post(url, json={"reason": "  "}, headers=world.h("hub_ie")).status_code == 422
        assert client.post(url, json={"reason": "wrong person"}, headers=world.h("hub_pt")).status_code == 403
        assert audit_count(app) == before and heard == []
        r = client.post(url, json={"reason": "recorded for the wrong clinician"}, headers=world.h("hub_ie"))
        assert r.status_code == 200, r.get_json()
    finally:
        completion_withdrawn.disconnect(receiver)
    body = r.get_json()
    assert body["status"] == "withdrawn" and body["withdrawal_reason"] == "recorded for the wrong clinician"
    assert body["withdrawn_at"]
    assert heard == ["IE-2026-0001"] and audit_count(app) == before + 1
    assert count(app, "completions") == 1  # never deleted
    r = client.post(url, json={"reason": "again"}, headers=world.h("hub_ie"))
    assert r.status_code == 409 and "already withdrawn" in problem(r)["detail"]

    # History: yesterday it was current; today it is withdrawn; it earns no more credits.
    rn = world.clinician.registry_number
    items = client.get(f"/api/v1/clinicians/{rn}/completions?on={d(-1).isoformat()}",
                       headers=world.h("clinician")).get_json()
    assert [(c["reference"], c["status"]) for c in items] == [("IE-2026-0001", "current")]
    items = client.get(f"/api/v1/clinicians/{rn}/completions", headers=world.h("clinician")).get_json()
    assert items[0]["status"] == "withdrawn"
    cpd = client.get(f"/api/v1/clinicians/{rn}/cpd", headers=world.h("clinician")).get_json()
    assert cpd["credits"] == 0 and cpd["completions"] == []
    # A re-send of the withdrawn completion does not bring it back.
    again = post_completion(client, world, completed_on=d(-30).isoformat())
    assert again.status_code == 200 and again.get_json()["status"] == "withdrawn"


def test_validity_arithmetic():
    assert add_months(date(2024, 1, 31), 1) == date(2024, 2, 29)
    assert add_months(date(2023, 1, 31), 1) == date(2023, 2, 28)
    assert add_months(date(2024, 11, 15), 24) == date(2026, 11, 15)
    assert add_months(date(2024, 3, 31), -1) == date(2024, 2, 29)
    assert valid_until(date(2024, 1, 31), "passed", 1) == date(2024, 2, 29)
    assert valid_until(date(2024, 1, 31), "passed", None) is None
    assert valid_until(date(2024, 1, 31), "failed", 12) is None


def test_current_and_expired_completions_and_standing(client, world, app, curriculum):
    rn = world.clinician.registry_number
    expires_today = add_months(T, -24)
    for reference, completed_on, course, outcome in [
        ("OLD", d(-900), "TRAUMA-ITLS", "passed"),       # valid 24 months: expired
        ("EDGE", expires_today, "TRAUMA-ITLS", "passed"),  # valid until today, inclusive
        ("LOG", d(-50), "EMLOG", "passed"),               # no validity: never expires
        ("FAIL", d(-20), "TRAUMA-ITLS", "failed"),
    ]:
        r = post_completion(client, world, reference=reference, completed_on=completed_on.isoformat(), course=course,
                            outcome=outcome)
        assert r.status_code == 201, r.get_json()
    r = client.get(f"/api/v1/clinicians/{rn}/completions", headers=world.h("board_fr"))
    assert r.status_code == 200
    statuses = {c["reference"]: c["status"] for c in r.get_json()}
    assert statuses == {"OLD": "expired", "EDGE": "current", "LOG": "current", "FAIL": "failed"}
    tomorrow = client.get(f"/api/v1/clinicians/{rn}/completions?on={d(1).isoformat()}&status=current",
                          headers=world.h("board_fr")).get_json()
    assert [c["reference"] for c in tomorrow] == ["LOG"]
    titles = client.get(f"/api/v1/clinicians/{rn}/completions?lang=fr", headers=world.h("clinician")).get_json()
    assert {c["course_title"] for c in titles} == {"Soins conjoints en traumatologie", "Logística de emergência"}

    # Only boards, the secretariat and the clinician read them; a hub sees only its own via the hub list.
    assert client.get(f"/api/v1/clinicians/{rn}/completions", headers=world.h("other_clinician")).status_code == 403
    assert client.get(f"/api/v1/clinicians/{rn}/completions", headers=world.h("hub_pt")).status_code == 403
    listed = client.get("/api/v1/hubs/IE-HUB/completions?course=EMLOG", headers=world.h("hub_ie")).get_json()
    assert listed["total"] == 1 and listed["items"][0]["reference"] == "LOG"
    assert client.get("/api/v1/hubs/IE-HUB/completions", headers=world.h("hub_pt")).status_code == 403

    standing = client.get(f"/api/v1/clinicians/{rn}/standing", headers=world.h("board_ie"))
    assert standing.status_code == 200
    assert {c["reference"]: c["status"] for c in standing.get_json()["completions"]} == statuses
    past = client.get(f"/api/v1/clinicians/{rn}/standing?on={d(-100).isoformat()}", headers=world.h("board_ie"))
    assert [c["reference"] for c in past.get_json()["completions"]] == ["EDGE", "OLD"]


def test_cpd_credits_over_a_period(client, world, app, curriculum):
    rn = world.clinician.registry_number
    for reference, days, course, outcome, credits in [
        ("A", -400, "TRAUMA-ITLS", "passed", None),  # 8, before the period
        ("B", -300, "TRAUMA-ITLS", "passed", 6.5),
        ("C", -60, "EMLOG", "passed", None),  # 4
        ("D", -30, "TRAUMA-ITLS", "failed", None),  # 0
        ("E", -5, "TRAUMA-ITLS", "passed", 2.25),
    ]:
        r = post_completion(client, world, reference=reference, completed_on=d(days).isoformat(), course=course,
                            outcome=outcome, credits=credits)
        assert r.status_code == 201, r.get_json()
    r = client.get(f"/api/v1/clinicians/{rn}/cpd?from={d(-365).isoformat()}&to={d(0).isoformat()}",
                   headers=world.h("clinician"))
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert body["credits"] == 12.75
    assert [c["reference"] for c in body["completions"]] == ["B", "C", "D", "E"]
    assert body["from"] == d(-365).isoformat() and body["to"] == d(0).isoformat()
    r = client.get(f"/api/v1/clinicians/{rn}/cpd?from={d(-60).isoformat()}&to={d(-30).isoformat()}",
                   headers=world.h("board_fr"))
    assert r.get_json()["credits"] == 4
    # The default period is the last 12 months.
    assert client.get(f"/api/v1/clinicians/{rn}/cpd", headers=world.h("clinician")).get_json()["credits"] == 12.75
    r = client.get(f"/api/v1/clinicians/{rn}/cpd?from={d(0).isoformat()}&to={d(-1).isoformat()}",
                   headers=world.h("clinician"))
    assert r.status_code == 422 and "to" in problem(r)["errors"]
    assert client.get(f"/api/v1/clinicians/{rn}/cpd", headers=world.h("other_clinician")).status_code == 403
