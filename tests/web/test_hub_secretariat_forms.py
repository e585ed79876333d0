"""The hub's and the secretariat's write forms through the Flask test client: what the user sees, what is written,
errors next to their fields with nothing written, 403 for the wrong role or hub, 400 without the form token."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
import sqlalchemy as sa
from werkzeug.datastructures import MultiDict

from registry.core.db import db
from tests.conftest import count

from .conftest import PASSWORD, csrf_of, d, text


def post(client, path: str, data: dict, page: str | None = None, token: bool = True):
    """POST a form as a browser would, with the session's token taken from `page` (default: the same path)."""
    if token:
        data = {**data, "csrf_token": csrf_of(text(client.get(page or path)))}
    return client.post(path, data=data)


def rows(app, sql: str, **params):
    with app.app_context():
        return db.session.execute(sa.text(sql), params).all()


def one(app, sql: str, **params):
    with app.app_context():
        return db.session.execute(sa.text(sql), params).one()


def snapshot(app) -> dict[str, int]:
    """Row counts of every table: a refused form leaves all of them as they were."""
    with app.app_context():
        names = sorted(t.name for t in db.metadata.sorted_tables if t.name != "sign_in_failures")
    return {name: count(app, name) for name in names}


# --- hub: scheduling a cohort -----------------------------------------------------------------------------------


def schedule(hub, **fields):
    data = {"course": "TRAUMA-ITLS", "starts_on": d(-1).isoformat(), "ends_on": d(1).isoformat(), "language": "en",
            "place": "Dublin", "capacity": "2", **fields}
    return post(hub, "/hub/offerings", data, page="/hub")


def test_a_hub_schedules_a_cohort_and_sees_it(pages, app):
    hub = pages.client("hub_ie")
    home = text(hub.get("/hub"))
    assert '<label for="cohort-f-starts_on">' in home and '<label for="cohort-f-capacity">' in home
    r = schedule(hub, place="Cork", capacity="12")
    assert r.status_code == 302
    offering_id = int(r.headers["Location"].rsplit("/", 1)[1])
    row = one(app, "SELECT o.place, o.capacity, o.language, o.starts_on, c.code FROM offerings o "
                   "JOIN courses c ON c.id = o.course_id WHERE o.id = :i", i=offering_id)
    assert (row.place, row.capacity, row.language, str(row.starts_on), row.code) == (
        "Cork", 12, "en", d(-1).isoformat(), "TRAUMA-ITLS")
    assert rows(app, "SELECT 1 FROM audit_events WHERE action = 'offering.create' AND object_id = :i",
                i=str(offering_id))
    page = text(hub.get(r.headers["Location"]))
    assert f"Cohort {offering_id} of TRAUMA-ITLS scheduled" in page and "Cork" in page and "0 of 12 taken" in page
    assert f'href="/hub/offerings/{offering_id}"' in text(hub.get("/hub"))


@pytest.mark.parametrize(("fields", "field", "message"), [
    ({"ends_on": d(-3).isoformat()}, "ends_on", "is before starts_on"),
    ({"capacity": "0"}, "capacity", "greater than or equal to 1"),
    ({"capacity": "many"}, "capacity", "Not a valid integer"),
    ({"course": "NO-SUCH-COURSE"}, "course", "no course NO-SUCH-COURSE"),
    ({"starts_on": d(-500).isoformat()}, "starts_on", "was not accredited"),
    ({"language": "not a tag"}, "language", "BCP 47"),
    ({"place": ""}, "place", "Missing data"),
    ({"starts_on": "31/12/2026"}, "starts_on", "Not a valid date"),
])
def test_a_bad_cohort_is_refused_next_to_its_field(pages, app, fields, field, message):
    hub = pages.client("hub_ie")
    before = snapshot(app)
    r = schedule(hub, **fields)
    page = text(r)
    assert r.status_code == 422, page
    assert f'id="cohort-e-{field}"' in page and message in page.split(f'id="cohort-e-{field}"')[1][:300]
    assert f'aria-describedby="cohort-e-{field}"' in page
    assert snapshot(app) == before


def test_a_cohort_of_a_course_the_hub_is_not_accredited_for_is_refused(pages, app):
    from curricula import services as curricula

    with app.app_context():
        curricula.create_course(code="OTHER-COURSE", titles={"en": "Other"}, fallback_language="en",
                                description=None, competencies=[], cpd_hours=4, validity_months=None,
                                professions=["2221"], owners=[{"hub": "PT-HUB"}], actor=None)
        db.session.commit()
    hub = pages.client("hub_ie")
    before = snapshot(app)
    r = schedule(hub, course="OTHER-COURSE")
    assert r.status_code == 422 and 'id="cohort-e-course"' in text(r) and "not accredited" in text(r)
    assert snapshot(app) == before


# --- hub: enrolments, results, certificates, withdrawal ---------------------------------------------------------


@pytest.fixture
def cohort(pages):
    """A cohort of IE-HUB running today (two places), created through the form."""
    r = schedule(pages.client("hub_ie"))
    assert r.status_code == 302
    return int(r.headers["Location"].rsplit("/", 1)[1])


def enrol(hub, cohort_id: int, number: str):
    return post(hub, f"/hub/offerings/{cohort_id}/enrolments", {"clinician": number},
                page=f"/hub/offerings/{cohort_id}")


def test_a_hub_enrols_clinicians_until_the_cohort_is_full(pages, world, app, cohort):
    hub = pages.client("hub_ie")
    page = text(hub.get(f"/hub/offerings/{cohort}"))
    assert '<label for="enrol-f-clinician">' in page and "No one is enrolled yet" in page
    r = enrol(hub, cohort, world.clinician.registry_number.replace("-", "").lower())
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/hub/offerings/{cohort}#enrolled")
    assert rows(app, "SELECT clinician_id FROM enrolments WHERE offering_id = :o", o=cohort) == [(world.clinician.id,)]
    page = text(hub.get(f"/hub/offerings/{cohort}"))
    assert "Siobhán Byrne" in page and "enrolled in cohort" in page and "1 of 2 taken" in page

    again = enrol(hub, cohort, world.clinician.registry_number)
    assert again.status_code == 409 and 'id="enrol-e-clinician"' in text(again)
    assert "already enrolled" in text(again)
    unknown = enrol(hub, cohort, "AAA-AAA-AAA")
    assert unknown.status_code == 422 and 'id="enrol-e-clinician"' in text(unknown)
    blank = enrol(hub, cohort, "")
    assert blank.status_code == 422 and 'id="enrol-e-clinician"' in text(blank)
    assert count(app, "enrolments") == 1

    assert enrol(hub, cohort, world.other_clinician.registry_number).status_code == 302
    third = world.make_clinician("IE")
    full = enrol(hub, cohort, third.registry_number)
    assert full.status_code == 409 and "is full" in text(full) and 'role="alert"' in text(full)
    assert count(app, "enrolments") == 2


def test_a_past_cohort_takes_no_enrolments(pages, world, app):
    hub = pages.client("hub_ie")
    r = enrol(hub, pages.offering_id, world.clinician.registry_number)
    assert r.status_code == 409 and "ended" in text(r)
    assert count(app, "enrolments") == 0


def enrolment_ids(app, cohort_id: int) -> dict[int, int]:
    """clinician id -> enrolment id."""
    return {c: e for e, c in rows(app, "SELECT id, clinician_id FROM enrolments WHERE offering_id = :o", o=cohort_id)}


def test_a_hub_records_a_cohort_s_results_all_or_nothing(pages, world, app, cohort):
    hub = pages.client("hub_ie")
    enrol(hub, cohort, world.clinician.registry_number)
    enrol(hub, cohort, world.other_clinician.registry_number)
    ids = enrolment_ids(app, cohort)
    a, b = ids[world.clinician.id], ids[world.other_clinician.id]
    path, page = f"/hub/offerings/{cohort}/results", f"/hub/offerings/{cohort}"
    form = text(hub.get(page))
    assert f'<label for="r-f-reference-{a}" class="sr">Reference for Siobhán Byrne</label>' in form
    assert '<label for="results-f-completed_on">' in form and f'value="{d(0).isoformat()}"' in form

    nothing = post(hub, path, {"completed_on": d(0).isoformat()}, page=page)
    assert nothing.status_code == 422 and 'id="results-e-results"' in text(nothing)

    before = snapshot(app)
    bad = post(hub, path, {"completed_on": d(0).isoformat(), f"reference-{a}": "C-1", f"outcome-{a}": "passed",
                           f"score-{a}": "91", f"outcome-{b}": "failed", f"score-{b}": "250"}, page=page)
    html = text(bad)
    assert bad.status_code == 422 and "Nothing was recorded" in html
    assert f'id="r-e-reference-{b}"' in html and f'id="r-e-score-{b}"' in html
    assert f'id="r-e-reference-{a}"' not in html and 'value="C-1"' in html  # the good row is kept as typed
    assert snapshot(app) == before  # the good row was not written either

    future = post(hub, path, {"completed_on": d(3).isoformat(), f"reference-{a}": "C-1", f"outcome-{a}": "passed"},
                  page=page)
    assert future.status_code == 422 and 'id="results-e-completed_on"' in text(future)
    assert "is in the future" in text(future)
    assert snapshot(app) == before

    ok = post(hub, path, {"completed_on": d(0).isoformat(), f"reference-{a}": "C-1", f"outcome-{a}": "passed",
                          f"score-{a}": "91", f"reference-{b}": "C-2", f"outcome-{b}": "failed", f"score-{b}": "35"},
              page=page)
    assert ok.status_code == 302
    got = rows(app, "SELECT reference, outcome, score, credits, offering_id, completed_on FROM completions "
                    "ORDER BY reference")
    assert [(r.reference, r.outcome, r.score, r.credits, r.offering_id, str(r.completed_on)) for r in got] == [
        ("C-1", "passed", 91.0, 8.0, cohort, d(0).isoformat()), ("C-2", "failed", 35.0, 0.0, cohort, d(0).isoformat())]
    shown = text(hub.get(page))
    assert "2 results recorded for cohort" in shown and "passed on" in shown and "failed on" in shown
    assert "0 of 1 issued, 1 to issue" in shown and '<progress id="progress-' in shown


def test_a_reference_used_for_another_completion_is_refused_on_its_row(pages, world, app, cohort):
    hub = pages.client("hub_ie")
    enrol(hub, cohort, world.clinician.registry_number)
    a = enrolment_ids(app, cohort)[world.clinician.id]
    token = pages.token(hub, "/hub")
    hub.post("/hub/completions", data={"csrf_token": token, "reference": "TAKEN", "clinician":
                                       world.other_clinician.registry_number, "course": "TRAUMA-ITLS",
                                       "completed_on": d(-3).isoformat(), "outcome": "passed"})
    assert count(app, "completions") == 1
    r = post(hub, f"/hub/offerings/{cohort}/results", {"completed_on": d(0).isoformat(), f"reference-{a}": "TAKEN",
                                                      f"outcome-{a}": "passed"}, page=f"/hub/offerings/{cohort}")
    assert r.status_code == 422 and f'id="r-e-reference-{a}"' in text(r) and "already recorded reference" in text(r)
    assert count(app, "completions") == 1


def test_certificate_progress_and_withdrawal_revoke_the_certificate(pages, world, app, cohort):
    hub = pages.client("hub_ie")
    enrol(hub, cohort, world.clinician.registry_number)
    a = enrolment_ids(app, cohort)[world.clinician.id]
    page = f"/hub/offerings/{cohort}"
    post(hub, f"/hub/offerings/{cohort}/results", {"completed_on": d(0).isoformat(), f"reference-{a}": "W-1",
                                                  f"outcome-{a}": "passed"}, page=page)
    issued = post(hub, f"/hub/offerings/{cohort}/certificates", {"back": "cohort"}, page=page)
    assert issued.status_code == 302 and issued.headers["Location"].endswith(f"/hub/offerings/{cohort}#certificates")
    shown = text(hub.get(page))
    assert "1 certificate issued" in shown and "1 of 1 issued: complete" in shown
    assert "Issue 1 certificate" not in shown  # nothing left to issue
    assert "1 of 1 issued: complete" in text(hub.get("/hub"))

    completion_id = one(app, "SELECT id FROM completions WHERE reference = 'W-1'").id
    form_path = f"/hub/completions/{completion_id}/withdrawal"
    assert f'href="{form_path}"' in shown
    confirm = text(hub.get(form_path))
    assert "will be revoked for good" in confirm and '<label for="f-reason">' in confirm

    before = snapshot(app)
    blank = post(hub, form_path, {"reason": "  "})
    assert blank.status_code == 422 and 'id="e-reason"' in text(blank)
    assert snapshot(app) == before
    assert one(app, "SELECT withdrawn_at FROM completions WHERE id = :i", i=completion_id).withdrawn_at is None

    done = post(hub, form_path, {"reason": "recorded against the wrong clinician"})
    assert done.status_code == 302 and done.headers["Location"].endswith(f"/hub/offerings/{cohort}#results")
    row = one(app, "SELECT withdrawn_at, withdrawal_reason FROM completions WHERE id = :i", i=completion_id)
    assert row.withdrawn_at is not None and row.withdrawal_reason == "recorded against the wrong clinician"
    assert one(app, "SELECT revoked_at FROM certificates WHERE completion_id = :i", i=completion_id).revoked_at
    after = text(hub.get(page))
    assert "withdrawn; the record stays" in after and "withdrawn</span>" in after
    assert "no passed completions to certify yet" in after  # the withdrawn one no longer counts

    again = hub.post(form_path, data={"csrf_token": csrf_of(after), "reason": "twice"})
    assert again.status_code == 409 and "already withdrawn" in text(again)
    assert hub.get("/hub/completions/999999/withdrawal").status_code == 404


# --- hub: the wrong role, the wrong hub, no form token ----------------------------------------------------------


def test_another_hub_or_another_role_cannot_touch_a_cohort_or_completion(pages, world, app, cohort):
    hub = pages.client("hub_ie")
    enrol(hub, cohort, world.clinician.registry_number)
    a = enrolment_ids(app, cohort)[world.clinician.id]
    post(hub, f"/hub/offerings/{cohort}/results", {"completed_on": d(0).isoformat(), f"reference-{a}": "X-1",
                                                  f"outcome-{a}": "passed"}, page=f"/hub/offerings/{cohort}")
    completion_id = one(app, "SELECT id FROM completions").id
    before = snapshot(app)
    for who in ("hub_pt", "board_ie", "secretariat", "clinician"):
        other = pages.client(who)
        token = csrf_of(text(other.get("/verify")))  # any page of theirs carries their session's token
        assert other.get(f"/hub/offerings/{cohort}").status_code == 403, who
        assert other.get(f"/hub/completions/{completion_id}/withdrawal").status_code == 403, who
        for path, data in [
            ("/hub/offerings", {"course": "TRAUMA-ITLS", "starts_on": d(1).isoformat(), "ends_on": d(2).isoformat(),
                                "language": "en", "place": "x", "capacity": "3"}),
            (f"/hub/offerings/{cohort}/enrolments", {"clinician": world.other_clinician.registry_number}),
            (f"/hub/offerings/{cohort}/results", {"completed_on": d(0).isoformat(), f"reference-{a}": "Y",
                                                  f"outcome-{a}": "failed"}),
            (f"/hub/offerings/{cohort}/certificates", {}),
            (f"/hub/completions/{completion_id}/withdrawal", {"reason": "not ours"}),
        ]:
            r = other.post(path, data={**data, "csrf_token": token})
            if who == "hub_pt" and path == "/hub/offerings":  # its own hub, which is not accredited for the course
                assert r.status_code == 422 and "not accredited" in text(r)
                continue
            assert r.status_code == 403, (who, path, r.status_code)
            assert "<h1>Forbidden</h1>" in text(r)
    assert snapshot(app) == before
    anonymous = pages.client()
    assert anonymous.get(f"/hub/offerings/{cohort}").status_code == 302


def test_hub_forms_without_the_token_are_refused(pages, world, app, cohort):
    hub = pages.client("hub_ie")
    completion = one(app, "SELECT count(*) AS n FROM completions").n
    before = snapshot(app)
    for path, data in [
        ("/hub/offerings", {"course": "TRAUMA-ITLS", "starts_on": d(1).isoformat(), "ends_on": d(2).isoformat(),
                            "language": "en", "place": "x", "capacity": "3"}),
        (f"/hub/offerings/{cohort}/enrolments", {"clinician": world.clinician.registry_number}),
        (f"/hub/offerings/{cohort}/results", {"completed_on": d(0).isoformat()}),
        (f"/hub/offerings/{cohort}/certificates", {}),
        ("/hub/completions/1/withdrawal", {"reason": "r"}),
    ]:
        for token in (None, "forged"):
            r = hub.post(path, data=data if token is None else {**data, "csrf_token": token})
            assert r.status_code == 400 and "Form expired" in text(r), path
    assert snapshot(app) == before and completion == 0


def test_odd_cohort_and_completion_addresses_are_404_not_errors(pages):
    hub = pages.client("hub_ie")
    for path in ("/hub/offerings/0", "/hub/offerings/99999999999", "/hub/offerings/abc", "/hub/offerings/424242",
                 "/hub/completions/0/withdrawal", "/hub/completions/424242/withdrawal"):
        assert hub.get(path).status_code == 404, path


# --- secretariat: agreements ------------------------------------------------------------------------------------


AGREEMENT = {"code": "IE-PT-NURSING-2027", "title": "Nurses between Ireland and Portugal",
             "in_force_from": d(-10).isoformat(), "decision_deadline_days": "60", "language_level": "B2",
             "adaptation_months": "3", "silence_is_approval": "true"}


def create_agreement(admin, states=("IE", "PT"), professions=("2221",), courses=("TRAUMA-ITLS",), **fields):
    data = [*({**AGREEMENT, **fields}.items()), *(("states", s) for s in states),
            *(("professions", p) for p in professions), *(("required_courses", c) for c in courses)]
    token = csrf_of(text(admin.get("/secretariat/agreements")))
    return admin.post("/secretariat/agreements", data=MultiDict([*data, ("csrf_token", token)]))


def test_the_secretariat_records_bilateral_and_multilateral_agreements(pages, app):
    admin = pages.client("secretariat")
    form = text(admin.get("/secretariat/agreements"))
    assert "<legend>Member states bound by it (at least two)</legend>" in form
    assert '<input type="checkbox" name="states" value="PT">' in form
    assert '<label for="f-decision_deadline_days">' in form and "<legend>Silence past the deadline" in form
    r = create_agreement(admin)
    assert r.status_code == 302
    from registry.recognition import services as recognition

    with app.app_context():
        a = recognition.get_agreement("IE-PT-NURSING-2027")
        assert (a.state_codes, a.profession_codes, a.required_courses, a.language_level, a.adaptation_months,
                a.decision_deadline_days, a.silence_is_approval, a.in_force_until, a.validity_months) == (
            ["IE", "PT"], ["2221"], ["TRAUMA-ITLS"], "B2", 3, 60, True, None, None)
    page = text(admin.get("/secretariat/agreements"))
    assert "Agreement IE-PT-NURSING-2027 (bilateral: IE, PT) recorded" in page
    multi = create_agreement(admin, states=("IE", "PT", "FR"), courses=(), code="TRI-2027", language_level="",
                             silence_is_approval="false", validity_months="36", in_force_until=d(700).isoformat())
    assert multi.status_code == 302
    assert "(multilateral: FR, IE, PT)" in text(admin.get("/secretariat/agreements"))
    with app.app_context():
        b = recognition.get_agreement("TRI-2027")
        assert (b.silence_is_approval, b.language_level, b.validity_months, b.required_courses) == (False, None, 36,
                                                                                                    [])
    assert "TRI-2027" in text(admin.get("/secretariat"))


@pytest.mark.parametrize(("change", "field", "message"), [
    ({"states": ("IE",)}, "states", "Length must be between 2"),
    ({"states": ("IE", "IE")}, "states", "at least two member states"),
    ({"states": ()}, "states", "Missing data"),
    ({"states": ("IE", "ZZ")}, "states", "unknown member state ZZ"),
    ({"professions": ()}, "professions", "Missing data"),
    ({"professions": ("99x",)}, "professions", "must look like 2221"),
    ({"courses": ("NO-SUCH",)}, "required_courses", "NO-SUCH"),
    ({"decision_deadline_days": ""}, "decision_deadline_days", "Missing data"),
    ({"decision_deadline_days": "999"}, "decision_deadline_days", "less than or equal to 365"),
    ({"in_force_until": d(-20).isoformat()}, "in_force_until", "is before in_force_from"),
    ({"language_level": "D9"}, "language_level", "Must be one of"),
    ({"silence_is_approval": "perhaps"}, "silence_is_approval", "Not a valid boolean"),
    ({"code": "bad code!"}, "code", "must look like"),
    ({"title": "x" * 201}, "title", "Length must be between 1 and 200"),
])
def test_a_bad_agreement_is_refused_next_to_its_field(pages, app, change, field, message):
    admin = pages.client("secretariat")
    before = snapshot(app)
    kwargs = dict(change)
    r = create_agreement(admin, **kwargs)
    page = text(r)
    assert r.status_code == 422, page
    assert f'id="e-{field}"' in page and message in page.split(f'id="e-{field}"')[1][:400], page
    assert snapshot(app) == before


def test_a_second_agreement_with_the_same_code_is_a_conflict(pages, app):
    admin = pages.client("secretariat")
    assert create_agreement(admin).status_code == 302
    before = snapshot(app)
    r = create_agreement(admin)
    assert r.status_code == 409 and "exists already" in text(r) and 'value="IE-PT-NURSING-2027"' in text(r)
    assert snapshot(app) == before


def test_the_secretariat_ends_an_agreement(pages, app):
    admin = pages.client("secretariat")
    create_agreement(admin)
    path = "/secretariat/agreements/IE-PT-NURSING-2027/end"
    bad = post(admin, path, {"in_force_until": d(-30).isoformat()}, page="/secretariat/agreements")
    assert bad.status_code == 422 and 'id="end-IE-PT-NURSING-2027-e-in_force_until"' in text(bad)
    assert one(app, "SELECT in_force_until FROM agreements").in_force_until is None
    ok = post(admin, path, {"in_force_until": d(90).isoformat()}, page="/secretariat/agreements")
    assert ok.status_code == 302
    assert str(one(app, "SELECT in_force_until FROM agreements").in_force_until) == d(90).isoformat()
    assert f"in force until {d(90).isoformat()}" in text(admin.get("/secretariat/agreements"))
    missing = post(admin, "/secretariat/agreements/NOPE/end", {"in_force_until": d(9).isoformat()},
                   page="/secretariat/agreements")
    assert missing.status_code == 404


# --- secretariat: programmes ------------------------------------------------------------------------------------


PROGRAMME = {"code": "NURSE-EXCHANGE-2027", "name": "Nurse exchange 2027", "coordinating_state": "IE",
             "starts_on": d(30).isoformat(), "ends_on": d(300).isoformat(), "capacity": "10",
             "recognition_required": "false", "status": "planned"}


def create_programme(admin, states=("IE", "PT"), professions=("2221",), courses=(), hosts=None, **fields):
    data = [*({**PROGRAMME, **fields}.items()), *(("states", s) for s in states),
            *(("professions", p) for p in professions), *(("required_courses", c) for c in courses),
            *((f"capacity_by_host-{s}", n) for s, n in (hosts or {}).items())]
    token = csrf_of(text(admin.get("/secretariat/programmes")))
    return admin.post("/secretariat/programmes", data=MultiDict([*data, ("csrf_token", token)]))


def test_the_secretariat_records_a_programme_then_opens_it(pages, app):
    admin = pages.client("secretariat")
    form = text(admin.get("/secretariat/programmes"))
    assert '<label for="f-host-PT">Places in PT</label>' in form and "<legend>Participating member states" in form
    r = create_programme(admin, hosts={"PT": "3", "IE": ""}, courses=("TRAUMA-ITLS",))
    assert r.status_code == 302 and r.headers["Location"].endswith("/secretariat/programmes/NURSE-EXCHANGE-2027")
    from registry.mobility import services as mobility

    with app.app_context():
        p = mobility.get_programme("NURSE-EXCHANGE-2027")
        assert (p.state_codes, p.profession_codes, p.capacity, p.capacity_by_host, p.required_courses,
                p.recognition_required, p.status.value, p.coordinating_state_code) == (
            ["IE", "PT"], ["2221"], 10, {"PT": 3}, ["TRAUMA-ITLS"], False, "planned", "IE")
    page = text(admin.get(r.headers["Location"]))
    assert "Programme NURSE-EXCHANGE-2027 recorded (planned, 10 places)" in page
    assert 'name="capacity_by_host-PT" type="number" min="0" max="100000" value="3"' in page

    path = "/secretariat/programmes/NURSE-EXCHANGE-2027"
    opened = post(admin, path, {"name": "Nurse exchange 2027", "status": "open", "capacity": "12",
                                "capacity_by_host-PT": "4"})
    assert opened.status_code == 302
    with app.app_context():
        p = mobility.get_programme("NURSE-EXCHANGE-2027")
        assert (p.status.value, p.capacity, p.capacity_by_host) == ("open", 12, {"PT": 4})
    assert "saved: open, 12 places" in text(admin.get(path))

    before = snapshot(app)
    back = post(admin, path, {"name": "Nurse exchange 2027", "status": "planned", "capacity": "12",
                              "capacity_by_host-PT": "4"})
    assert back.status_code == 409 and "it cannot become planned" in text(back)
    bad = post(admin, path, {"name": "", "status": "open", "capacity": "-1", "capacity_by_host-PT": "x"})
    assert bad.status_code == 422
    assert 'id="e-capacity"' in text(bad) and 'id="e-capacity_by_host"' in text(bad)
    assert snapshot(app) == before
    assert admin.get("/secretariat/programmes/NOPE").status_code == 404


@pytest.mark.parametrize(("change", "field", "message"), [
    ({"coordinating_state": "FR"}, "coordinating_state", "must be one of the participating states"),
    ({"states": ("IE",)}, "states", "Length must be between 2"),
    ({"states": ("IE", "IE")}, "states", "at least two member states"),
    ({"hosts": {"FR": "2"}}, "capacity_by_host", "FR does not take part"),
    ({"hosts": {"PT": "lots"}}, "capacity_by_host", "Not a valid integer"),
    ({"ends_on": d(1).isoformat()}, "ends_on", "is before starts_on"),
    ({"capacity": ""}, "capacity", "Missing data"),
    ({"status": "finished"}, "status", "Must be one of"),
    ({"professions": ()}, "professions", "Missing data"),
])
def test_a_bad_programme_is_refused_next_to_its_field(pages, app, change, field, message):
    admin = pages.client("secretariat")
    before = snapshot(app)
    r = create_programme(admin, **dict(change))
    page = text(r)
    assert r.status_code == 422, page
    assert f'id="e-{field}"' in page and message in page.split(f'id="e-{field}"')[1][:400], page
    assert snapshot(app) == before


# --- secretariat: member states, organisations, professions, accounts -------------------------------------------


def test_the_secretariat_adds_a_member_state_an_organisation_and_a_profession(pages, app):
    admin = pages.client("secretariat")
    page = text(admin.get("/secretariat/reference"))
    assert "IE-HUB organisation" in page and "training hub" in page
    assert '<label for="state-f-official_languages">' in page
    r = post(admin, "/secretariat/member-states", {"code": "ES", "name": "Spain", "official_languages": "es, ca",
                                                   "joined_on": d(-1).isoformat()}, page="/secretariat/reference")
    assert r.status_code == 302
    row = one(app, "SELECT name, official_languages, left_on FROM member_states WHERE code = 'ES'")
    assert row.name == "Spain" and "ca" in str(row.official_languages) and row.left_on is None
    assert "Member state ES (Spain) added" in text(admin.get("/secretariat/reference"))

    r = post(admin, "/secretariat/organisations", {"code": "ES-CGE", "name": "Consejo General", "kind":
                                                   "licensing_board", "member_state_code": "ES", "language": "es"},
             page="/secretariat/reference")
    assert r.status_code == 302
    assert one(app, "SELECT kind, member_state_code FROM organisations WHERE code = 'ES-CGE'") == (
        "licensing_board", "ES")
    r = post(admin, "/secretariat/professions", {"code": "2261", "title": "Dentists"}, page="/secretariat/reference")
    assert r.status_code in (302, 409)  # the first migration may have seeded it
    r = post(admin, "/secretariat/professions", {"code": "2269", "title": "Health professionals n.e.c."},
             page="/secretariat/reference")
    assert r.status_code == 302 and one(app, "SELECT title FROM professions WHERE code = '2269'").title == (
        "Health professionals n.e.c.")


def test_bad_reference_data_is_refused_next_to_its_field(pages, app):
    admin = pages.client("secretariat")
    before = snapshot(app)
    cases = [
        ("/secretariat/member-states", {"code": "spain", "name": "Spain", "official_languages": "es",
                                        "joined_on": d(0).isoformat()}, "state-e-code", 422),
        ("/secretariat/member-states", {"code": "ES", "name": "Spain", "official_languages": "",
                                        "joined_on": d(0).isoformat()}, "state-e-official_languages", 422),
        ("/secretariat/member-states", {"code": "ES", "name": "Spain", "official_languages": "es",
                                        "joined_on": d(0).isoformat(), "left_on": d(-5).isoformat()},
         "state-e-left_on", 422),
        ("/secretariat/organisations", {"code": "ES-X", "name": "X", "kind": "ministry", "member_state_code": "IE",
                                        "language": "en"}, "org-e-kind", 422),
        ("/secretariat/organisations", {"code": "ES-X", "name": "X", "kind": "training_hub",
                                        "member_state_code": "ZZ", "language": "en"}, "org-e-member_state_code", 422),
        ("/secretariat/professions", {"code": "12", "title": "x"}, "prof-e-code", 422),
    ]
    for path, data, error_id, status in cases:
        r = post(admin, path, data, page="/secretariat/reference")
        assert r.status_code == status and f'id="{error_id}"' in text(r), (path, data, text(r)[-2000:])
    duplicate = post(admin, "/secretariat/member-states", {"code": "IE", "name": "Eire", "official_languages": "en",
                                                           "joined_on": d(0).isoformat()},
                     page="/secretariat/reference")
    assert duplicate.status_code == 409 and "exists already" in text(duplicate)
    assert snapshot(app) == before


def test_the_secretariat_creates_and_deactivates_accounts(pages, app):
    admin = pages.client("secretariat")
    page = text(admin.get("/secretariat/accounts"))
    assert "hub_ie@test.example" in page and '<label for="f-password">' in page
    r = post(admin, "/secretariat/accounts", {"email": "New.Officer@test.example", "display_name": "New officer",
                                              "role": "hub_officer", "organisation": "IE-HUB",
                                              "password": PASSWORD})
    assert r.status_code == 302
    row = one(app, "SELECT a.role, o.code, a.active FROM accounts a JOIN organisations o ON o.id = a.organisation_id "
                   "WHERE a.email = 'new.officer@test.example'")
    assert tuple(row) == ("hub_officer", "IE-HUB", True)
    assert "Account new.officer@test.example (hub officer) created" in text(admin.get("/secretariat/accounts"))
    newcomer = pages.app.test_client()
    token = csrf_of(text(newcomer.get("/sign-in")))
    signed = newcomer.post("/sign-in", data={"email": "new.officer@test.example", "password": PASSWORD,
                                             "csrf_token": token})
    assert signed.status_code == 302 and signed.headers["Location"].endswith("/hub")

    account_id = one(app, "SELECT id FROM accounts WHERE email = 'new.officer@test.example'").id
    off = post(admin, f"/secretariat/accounts/{account_id}/active", {"active": "false"}, page="/secretariat/accounts")
    assert off.status_code == 302 and one(app, "SELECT active FROM accounts WHERE id = :i", i=account_id).active in (
        False, 0)
    assert newcomer.get("/hub").status_code == 302  # the session ends with the account
    on = post(admin, f"/secretariat/accounts/{account_id}/active", {"active": "true"}, page="/secretariat/accounts")
    assert on.status_code == 302 and one(app, "SELECT active FROM accounts WHERE id = :i", i=account_id).active
    assert post(admin, "/secretariat/accounts/424242/active", {"active": "true"},
                page="/secretariat/accounts").status_code == 404
    bad = post(admin, f"/secretariat/accounts/{account_id}/active", {"active": "maybe"}, page="/secretariat/accounts")
    assert bad.status_code == 422 and "Not a valid boolean" in text(bad)


@pytest.mark.parametrize(("fields", "field"), [
    ({"role": "board_officer", "organisation": "IE-HUB"}, "organisation"),
    ({"password": "short"}, "password"),
    ({"email": "not-an-address"}, "email"),
    ({"email": "hub_ie@test.example"}, "email"),
    ({"role": "clinician", "organisation": "", "clinician": "AAA-AAA-AAA"}, "clinician"),
    ({"role": "clinician", "organisation": ""}, "clinician"),
    ({"organisation": "NO-SUCH-ORG"}, "organisation"),
    ({"role": "emperor"}, "role"),
])
def test_a_bad_account_is_refused_next_to_its_field(pages, app, fields, field):
    admin = pages.client("secretariat")
    before = snapshot(app)
    data = {"email": "someone@test.example", "display_name": "Someone", "role": "hub_officer",
            "organisation": "IE-HUB", "password": PASSWORD, **fields}
    r = post(admin, "/secretariat/accounts", data)
    page = text(r)
    assert r.status_code in (409, 422) and f'id="e-{field}"' in page, page[-3000:]
    assert PASSWORD not in page  # a password is never sent back
    assert snapshot(app) == before


# --- secretariat: issuer keys -----------------------------------------------------------------------------------


def test_the_secretariat_marks_a_key_compromised_after_confirming(pages, app):
    from certificates import services as certificates
    from registry.people import services as people

    with app.app_context():
        kid = certificates.rotate_key(people.get_organisation("IE-HUB")).kid
        db.session.commit()
    admin = pages.client("secretariat")
    home = text(admin.get("/secretariat"))
    path = f"/secretariat/keys/{kid}/compromise"
    assert f'href="{path}"' in home
    confirm = text(admin.get(path))
    assert "a new key of the same algorithm takes over at once" in confirm and '<label for="f-reason">' in confirm
    before = snapshot(app)
    blank = post(admin, path, {"reason": ""})
    assert blank.status_code == 422 and 'id="e-reason"' in text(blank)
    assert snapshot(app) == before
    ok = post(admin, path, {"reason": "the HSM backup was lost"})
    assert ok.status_code == 302 and ok.headers["Location"].endswith("/secretariat#keys")
    with app.app_context():
        key = certificates.get_key(kid)
        assert key.compromised_at is not None
        assert certificates.current_key(people.get_organisation("IE-HUB")).kid != kid
    assert rows(app, "SELECT 1 FROM audit_events WHERE action = 'issuer_key.compromise' AND object_id = :k", k=kid)
    shown = text(admin.get("/secretariat"))
    assert "is marked compromised" in shown and "now signs with key" in shown
    again = post(admin, path, {"reason": "again"})
    assert again.status_code in (200, 409)
    assert "marked compromised already" in text(again) or "already marked compromised" in text(again)
    assert count(app, "issuer_keys") == 2
    assert admin.get("/secretariat/keys/nosuchkey/compromise").status_code == 404


# --- secretariat: the wrong role, no form token, odd addresses --------------------------------------------------


SECRETARIAT_POSTS = [
    ("/secretariat/agreements", {"code": "X-1", "title": "x", "states": "IE", "professions": "2221",
                                 "in_force_from": d(0).isoformat(), "decision_deadline_days": "30"}),
    ("/secretariat/agreements/X-1/end", {"in_force_until": d(5).isoformat()}),
    ("/secretariat/programmes", {"code": "P-1", "name": "p"}),
    ("/secretariat/programmes/P-1", {"name": "p", "status": "open"}),
    ("/secretariat/member-states", {"code": "ES", "name": "Spain", "official_languages": "es",
                                    "joined_on": d(0).isoformat()}),
    ("/secretariat/organisations", {"code": "ES-X", "name": "x", "kind": "training_hub", "member_state_code": "IE",
                                    "language": "en"}),
    ("/secretariat/professions", {"code": "2269", "title": "x"}),
    ("/secretariat/accounts", {"email": "x@test.example", "display_name": "x", "role": "hub_officer",
                               "organisation": "IE-HUB", "password": PASSWORD}),
    ("/secretariat/accounts/1/active", {"active": "false"}),
    ("/secretariat/keys/somekid/compromise", {"reason": "x"}),
    ("/secretariat/issuers/IE-HUB/keys", {"alg": "ES256"}),
]
SECRETARIAT_PAGES = ["/secretariat/agreements", "/secretariat/programmes", "/secretariat/reference",
                     "/secretariat/accounts", "/secretariat/keys/somekid/compromise"]


def test_other_roles_cannot_use_the_secretariat_forms(pages, app):
    before = snapshot(app)
    for who in ("hub_ie", "board_ie", "clinician"):
        client = pages.client(who)
        token = csrf_of(text(client.get("/verify")))
        for path in SECRETARIAT_PAGES:
            assert client.get(path).status_code == 403, (who, path)
        for path, data in SECRETARIAT_POSTS:
            r = client.post(path, data={**data, "csrf_token": token})
            assert r.status_code == 403 and "<h1>Forbidden</h1>" in text(r), (who, path, r.status_code)
    anonymous = pages.client()
    for path in SECRETARIAT_PAGES:
        r = anonymous.get(path)
        assert r.status_code == 302 and "/sign-in" in r.headers["Location"]
    assert snapshot(app) == before


def test_secretariat_forms_without_the_token_are_refused(pages, app):
    admin = pages.client("secretariat")
    before = snapshot(app)
    for path, data in SECRETARIAT_POSTS:
        for token in (None, "forged"):
            r = admin.post(path, data=data if token is None else {**data, "csrf_token": token})
            assert r.status_code == 400 and "Form expired" in text(r), path
    assert snapshot(app) == before


@pytest.mark.parametrize("path", [
    "/secretariat/programmes/%00", "/secretariat/programmes/" + "A" * 300, "/secretariat/keys/%00/compromise",
    "/secretariat/keys/" + "k" * 100 + "/compromise", "/secretariat/programmes/NUL%00X",
])
def test_odd_secretariat_addresses_are_404_not_errors(pages, path):
    admin = pages.client("secretariat")
    assert admin.get(path).status_code == 404
    token = csrf_of(text(admin.get("/secretariat")))
    assert admin.post(path, data={"csrf_token": token, "reason": "x", "name": "x"}).status_code == 404
    assert admin.post("/secretariat/agreements/%00/end", data={"csrf_token": token}).status_code == 404
    assert admin.post("/secretariat/issuers/%00/keys", data={"csrf_token": token}).status_code == 404


def test_control_characters_and_huge_numbers_in_forms_are_field_errors(pages, app):
    admin = pages.client("secretariat")
    before = snapshot(app)
    r = create_agreement(admin, title="nul\x00byte", decision_deadline_days="9" * 40)
    assert r.status_code == 422 and 'id="e-title"' in text(r) and 'id="e-decision_deadline_days"' in text(r)
    r = create_programme(admin, capacity="1" * 30, hosts={"PT": "9" * 30})
    assert r.status_code == 422 and 'id="e-capacity"' in text(r)
    hub = pages.client("hub_ie")
    r = schedule(hub, capacity="9" * 30, place="a\x00b")
    assert r.status_code == 422 and 'id="cohort-e-capacity"' in text(r) and 'id="cohort-e-place"' in text(r)
    assert snapshot(app) == before
    assert re.search(r"<h1>", text(r))


# --- every field has a label, every id is unique, every form carries the token ----------------------------------


class _Fields(HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids: list[str] = []
        self.label_for: set[str] = set()
        self.fields: list[tuple[str, str | None, bool]] = []  # (name, id, inside a label)
        self.forms: list[dict] = []
        self._label_depth = 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "id" in a:
            self.ids.append(a["id"])
        if tag == "label":
            self._label_depth += 1
            if a.get("for"):
                self.label_for.add(a["for"])
        if tag == "form":
            self.forms.append({"method": (a.get("method") or "get").lower(), "token": False})
        if tag in ("input", "select", "textarea") and a.get("type") not in ("hidden", "submit"):
            self.fields.append((a.get("name") or "", a.get("id"), self._label_depth > 0))
        if tag == "input" and a.get("type") == "hidden" and a.get("name") == "csrf_token" and self.forms:
            self.forms[-1]["token"] = True

    def handle_endtag(self, tag):
        if tag == "label":
            self._label_depth -= 1


def check_page(html: str) -> None:
    parser = _Fields()
    parser.feed(html)
    duplicates = {i for i in parser.ids if parser.ids.count(i) > 1}
    assert not duplicates, duplicates
    unlabelled = [(name, i) for name, i, wrapped in parser.fields if not wrapped and i not in parser.label_for]
    assert not unlabelled, unlabelled
    assert all(f["token"] for f in parser.forms if f["method"] == "post"), parser.forms


def test_the_new_pages_label_every_field_and_carry_the_token(pages, world, app, cohort):
    hub = pages.client("hub_ie")
    enrol(hub, cohort, world.clinician.registry_number)
    hub_pages = ["/hub", f"/hub/offerings/{cohort}"]
    a = enrolment_ids(app, cohort)[world.clinician.id]
    post(hub, f"/hub/offerings/{cohort}/results", {"completed_on": d(0).isoformat(), f"reference-{a}": "L-1",
                                                  f"outcome-{a}": "passed"}, page=f"/hub/offerings/{cohort}")
    completion_id = one(app, "SELECT id FROM completions").id
    hub_pages.append(f"/hub/completions/{completion_id}/withdrawal")
    for path in hub_pages:
        r = hub.get(path)
        assert r.status_code == 200, path
        check_page(text(r))
    # and with errors shown
    check_page(text(schedule(hub, capacity="0")))
    check_page(text(post(hub, f"/hub/offerings/{cohort}/enrolments", {"clinician": "x"}, page="/hub")))

    from certificates import services as certificates
    from registry.people import services as people

    with app.app_context():
        kid = certificates.rotate_key(people.get_organisation("IE-HUB")).kid
        db.session.commit()
    admin = pages.client("secretariat")
    create_agreement(admin)
    create_programme(admin)
    for path in ["/secretariat", "/secretariat/agreements", "/secretariat/programmes",
                 "/secretariat/programmes/NURSE-EXCHANGE-2027", "/secretariat/reference", "/secretariat/accounts",
                 f"/secretariat/keys/{kid}/compromise"]:
        r = admin.get(path)
        assert r.status_code == 200, path
        check_page(text(r))
    check_page(text(create_agreement(admin, states=("IE",))))
    check_page(text(post(admin, "/secretariat/agreements/IE-PT-NURSING-2027/end", {"in_force_until": "x"},
                         page="/secretariat/agreements")))
    check_page(text(create_programme(admin, code="P-2", hosts={"PT": "x"})))
    check_page(text(post(admin, "/secretariat/accounts", {"email": "x"})))
