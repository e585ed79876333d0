"""The server-rendered pages, through the Flask test client: what each user sees and what is written."""

from __future__ import annotations

import csv
import io

import pytest

from registry.app import create_app
from tests.conftest import count

from .conftest import PASSWORD, csrf_of, d, text

HTML = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}


# --- home, sign-in, sign-out, cookies, CSRF --------------------------------------------------------------------


def test_home_is_html_for_browsers_and_json_for_api_clients(pages):
    client = pages.client()
    page = client.get("/", headers=HTML)
    assert page.status_code == 200 and page.mimetype == "text/html"
    assert 'href="/verify"' in text(page) and "<main" in text(page) and "<h1>" in text(page)
    assert client.get("/").get_json()["api"] == "/api/v1"
    assert client.get("/", headers={"Accept": "application/json"}).get_json()["openapi"] == "/api/v1/openapi.json"


def test_sign_in_and_sign_out(pages):
    client = pages.client()
    form = client.get("/sign-in")
    assert form.status_code == 200 and '<label for="f-email">' in text(form)
    token = csrf_of(text(form))
    wrong = client.post("/sign-in", data={"email": "clinician@test.example", "password": "nope", "csrf_token": token})
    assert wrong.status_code == 401 and "unknown e-mail or wrong password" in text(wrong)
    assert 'id="e-password"' in text(wrong)
    assert client.get("/me").status_code == 302
    ok = client.post("/sign-in", data={"email": "clinician@test.example", "password": PASSWORD, "csrf_token": token,
                                       "next": "/me"})
    assert ok.status_code == 302 and ok.headers["Location"].endswith("/me")
    me = client.get("/me")
    assert me.status_code == 200 and "Siobhán Byrne" in text(me) and "IE-2221-0001" in text(me)
    out = client.post("/sign-out", data={"csrf_token": csrf_of(text(me))})
    assert out.status_code == 302
    after = client.get("/me")
    assert after.status_code == 302 and "/sign-in" in after.headers["Location"]


def test_sign_in_never_redirects_to_another_site(pages):
    client = pages.client()
    token = pages.token(client, "/sign-in")
    r = client.post("/sign-in", data={"email": "clinician@test.example", "password": PASSWORD, "csrf_token": token,
                                      "next": "//evil.example/x"})
    assert r.status_code == 302 and r.headers["Location"] == "/me"


def test_cookie_flags(pages, backend):
    client = pages.client()
    cookie = client.get("/sign-in").headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    production = create_app({
        "TESTING": True, "ENV_NAME": "production", "SQLALCHEMY_DATABASE_URI": backend[1],
        "BASE_URL": "https://registry.example", "SECRET_KEY": "s" * 40, "KEY_ENCRYPTION_KEY": "k" * 40,
    })
    cookie = production.test_client().get("/sign-in", base_url="https://registry.example").headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_a_post_without_the_form_token_is_refused_and_writes_nothing(pages, app):
    board = pages.client("board_ie")
    events = count(app, "licence_events")
    form = {"action": "suspend", "decided_on": d(0).isoformat(), "reason": "inquiry", "confirmed": "yes"}
    for token in (None, "forged"):
        data = dict(form) if token is None else {**form, "csrf_token": token}
        r = board.post(f"/licences/{pages.world.licence}/decision", data=data)
        assert r.status_code == 400 and "form has expired" in text(r)
    assert count(app, "licence_events") == events and count(app, "alerts") == 0
    anonymous = pages.client()
    assert anonymous.post("/sign-in", data={"email": "board_ie@test.example", "password": PASSWORD}).status_code == 400


def test_api_requests_ignore_the_page_session(pages, world):
    board = pages.client("board_ie")
    number = world.clinician.registry_number
    assert board.get(f"/api/v1/clinicians/{number}/standing").status_code == 401
    with_token = board.get(f"/api/v1/clinicians/{number}/standing", headers=world.h("hub_ie"))
    assert with_token.status_code == 403  # the bearer token decides, not the board's cookie
    assert board.get("/api/v1/me", headers=world.h("clinician")).get_json()["role"] == "clinician"


# --- each role's pages and what they may not open ---------------------------------------------------------------


@pytest.mark.parametrize("who, path, expected", [
    ("clinician", "/me", "IE-2221-0001"),
    ("hub_ie", "/hub", "TRAUMA-ITLS"),
    ("board_ie", "/board", "unacknowledged alert"),
    ("board_ie", "/recognitions", "No pending applications"),
    ("board_fr", "/alerts", "No unacknowledged alerts"),
    ("secretariat", "/secretariat", "Ireland"),
    ("secretariat", "/secretariat/figures", "<svg"),
    ("secretariat", "/secretariat/alerts", "0 alerts"),
])
def test_each_role_sees_its_pages(pages, who, path, expected):
    page = pages.client(who).get(path)
    assert page.status_code == 200 and expected in text(page)
    assert "<header" in text(page) and "<nav" in text(page) and "<main" in text(page)


def test_search_and_standing_on_a_date(pages, world):
    board = pages.client("board_fr")
    found = board.get("/search", query_string={"licence_number": "IE-2221-0001"})
    assert found.status_code == 200 and "Byrne, Siobhán" in text(found)
    assert "Walsh" not in text(found)
    by_name = board.get("/search", query_string={"q": "walsh conor"})
    assert "Walsh, Conor" in text(by_name)
    number = world.clinician.registry_number
    standing = board.get(f"/clinicians/{number}", query_string={"on": d(-400).isoformat()})
    assert standing.status_code == 200 and "not yet valid" in text(standing)
    assert world.clinician.date_of_birth.isoformat() in text(standing)  # boards see the date of birth
    bad = board.get(f"/clinicians/{number}", query_string={"on": "31/02/2026"})
    assert bad.status_code == 422 and 'id="e-on"' in text(bad)


@pytest.mark.parametrize("who, path", [
    ("hub_ie", "/clinicians/{number}"),
    ("other_clinician", "/clinicians/{number}"),
    ("clinician", "/board"),
    ("clinician", "/secretariat"),
    ("hub_ie", "/alerts"),
    ("board_ie", "/hub"),
    ("board_ie", "/secretariat/figures"),
    ("board_ie2", "/licences/{licence}/decision"),
    ("board_fr", "/licences/{licence}/decision"),
])
def test_forbidden_pages(pages, world, app, who, path):
    accesses = count(app, "access_log")
    r = pages.client(who).get(path.format(number=world.clinician.registry_number, licence=world.licence))
    assert r.status_code == 403 and "Forbidden" in text(r) and "Traceback" not in text(r)
    assert r.mimetype == "text/html"
    assert count(app, "access_log") == accesses


def test_a_clinician_opens_only_their_own_standing(pages, world):
    client = pages.client("clinician")
    assert client.get(f"/clinicians/{world.clinician.registry_number}").status_code == 200
    assert client.get(f"/clinicians/{world.other_clinician.registry_number}").status_code == 403


def test_anonymous_visitors_are_sent_to_sign_in(pages, world):
    r = pages.client().get(f"/clinicians/{world.clinician.registry_number}")
    assert r.status_code == 302 and "/sign-in?next=" in r.headers["Location"]


# --- licence decisions and alerts -------------------------------------------------------------------------------


def test_a_board_suspends_through_the_form_and_another_board_acknowledges_the_alert(pages, world, app):
    board = pages.client("board_ie")
    path = f"/licences/{world.licence}/decision"
    form = board.get(path)
    assert form.status_code == 200 and '<label for="f-reason">' in text(form)
    token = csrf_of(text(form))
    events = count(app, "licence_events")

    missing = board.post(path, data={"csrf_token": token, "action": "suspend", "decided_on": d(0).isoformat()})
    assert missing.status_code == 422 and 'id="e-reason"' in text(missing)
    assert "a reason is required to suspend" in text(missing)
    confirm = board.post(path, data={"csrf_token": token, "action": "suspend", "decided_on": d(0).isoformat(),
                                     "reason": "fitness-to-practise inquiry"})
    assert confirm.status_code == 200 and "Confirm: suspend" in text(confirm)
    assert count(app, "licence_events") == events and count(app, "alerts") == 0

    done = board.post(path, data={"csrf_token": token, "action": "suspend", "decided_on": d(0).isoformat(),
                                  "reason": "fitness-to-practise inquiry", "confirmed": "yes"})
    assert done.status_code == 302
    assert count(app, "licence_events") == events + 1 and count(app, "alerts") == 1
    standing = board.get(done.headers["Location"])
    assert "suspended" in text(standing) and "suspend recorded" in text(standing)

    again = board.post(path, data={"csrf_token": token, "action": "suspend", "decided_on": d(0).isoformat(),
                                   "reason": "twice", "confirmed": "yes"})
    assert again.status_code == 409 and "is suspended" in text(again)
    assert count(app, "licence_events") == events + 1

    france = pages.client("board_fr")
    alerts = france.get("/alerts")
    assert alerts.status_code == 200 and "Siobhán Byrne" in text(alerts) and "IE-B" in text(alerts)
    alert_id = next(iter(_alert_ids(app)))
    ack = france.post(f"/alerts/{alert_id}/acknowledgement", data={"csrf_token": csrf_of(text(alerts))})
    assert ack.status_code == 302
    assert "No unacknowledged alerts" in text(france.get("/alerts"))
    assert "Siobhán Byrne" in text(pages.client("board_pt").get("/alerts"))  # Portugal has not acknowledged


def _alert_ids(app) -> list[int]:
    import sqlalchemy as sa

    from registry.core.db import db

    with app.app_context():
        return list(db.session.scalars(sa.text("SELECT id FROM alerts ORDER BY id")))


# --- the hub: a completion, the CSV import, cohort certificates, and the clinician's PDF ------------------------


def _csv(rows: list[list[str]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["reference", "registry_number", "course", "completed_on", "outcome", "score"])
    writer.writerows(rows)
    return buffer.getvalue().encode()


def test_a_hub_previews_a_file_with_two_bad_rows_then_commits_the_fixed_file(pages, world, app):
    hub = pages.client("hub_ie")
    number, other = world.clinician.registry_number, world.other_clinician.registry_number
    bad = _csv([["IMP-1", number, "TRAUMA-ITLS", d(-5).isoformat(), "passed", "90"],
                ["IMP-2", other, "NO-SUCH-COURSE", d(-5).isoformat(), "passed", "80"],
                ["IMP-3", other, "TRAUMA-ITLS", d(5).isoformat(), "passed", "70"]])
    token = pages.token(hub, "/hub")
    preview = hub.post("/hub/import", data={"csrf_token": token, "action": "preview",
                                            "file": (io.BytesIO(bad), "completions.csv")},
                       content_type="multipart/form-data")
    page = text(preview)
    assert preview.status_code == 200 and "2 errors in 3 rows" in page
    assert "<th scope=\"row\">3</th><td>course</td>" in page and "no course NO-SUCH-COURSE" in page
    assert "<th scope=\"row\">4</th><td>completed_on</td>" in page and "is in the future" in page
    assert 'name="upload"' not in page  # no commit button for a file with errors
    assert count(app, "completions") == 0
    refused = hub.post("/hub/import", data={"csrf_token": token, "action": "commit",
                                            "file": (io.BytesIO(bad), "completions.csv")},
                       content_type="multipart/form-data")
    assert refused.status_code == 422 and "nothing was written" in text(refused)
    assert count(app, "completions") == 0

    fixed = _csv([["IMP-1", number, "TRAUMA-ITLS", d(-5).isoformat(), "passed", "90"],
                  ["IMP-2", other, "TRAUMA-ITLS", d(-5).isoformat(), "passed", "80"],
                  ["IMP-3", other, "TRAUMA-ITLS", d(-4).isoformat(), "failed", "40"]])
    preview = hub.post("/hub/import", data={"csrf_token": token, "action": "preview",
                                            "file": (io.BytesIO(fixed), "completions.csv")},
                       content_type="multipart/form-data")
    assert preview.status_code == 200 and "3 would be created" in text(preview)
    assert count(app, "completions") == 0
    upload = csrf_of(text(preview)) and text(preview).split('name="upload" value="')[1].split('"')[0]
    committed = hub.post("/hub/import", data={"csrf_token": token, "action": "commit", "upload": upload})
    assert committed.status_code == 302 and count(app, "completions") == 3
    assert "3 created" in text(hub.get("/hub"))
    gone = hub.post("/hub/import", data={"csrf_token": token, "action": "commit", "upload": upload})
    assert gone.status_code == 422 and count(app, "completions") == 3


def test_record_completion_form_shows_errors_next_to_fields(pages, world, app):
    hub = pages.client("hub_ie")
    token = pages.token(hub, "/hub")
    r = hub.post("/hub/completions", data={"csrf_token": token, "reference": "R-1", "clinician": "not-a-number",
                                           "course": "TRAUMA-ITLS", "completed_on": d(-3).isoformat(),
                                           "outcome": "passed", "score": "250"})
    assert r.status_code == 422 and 'id="e-score"' in text(r)
    assert count(app, "completions") == 0
    r = hub.post("/hub/completions", data={"csrf_token": token, "reference": "R-1", "clinician": "AAA-AAA-AAA",
                                           "course": "TRAUMA-ITLS", "completed_on": d(-3).isoformat(),
                                           "outcome": "passed"})
    assert r.status_code == 422 and 'id="e-clinician"' in text(r)
    assert count(app, "completions") == 0


def test_a_clinician_downloads_the_certificate_a_hub_issued_for_its_cohort(pages, world, app):
    hub = pages.client("hub_ie")
    token = pages.token(hub, "/hub")
    recorded = hub.post("/hub/completions", data={
        "csrf_token": token, "reference": "COHORT-1", "clinician": world.clinician.registry_number,
        "course": "TRAUMA-ITLS", "offering": str(pages.offering_id), "completed_on": d(-18).isoformat(),
        "outcome": "passed", "score": "91"})
    assert recorded.status_code == 302 and count(app, "completions") == 1
    issued = hub.post(f"/hub/offerings/{pages.offering_id}/certificates", data={"csrf_token": token})
    assert issued.status_code == 302 and count(app, "certificates") == 1
    assert "1 certificate issued" in text(hub.get("/hub"))

    clinician = pages.client("clinician")
    me = text(clinician.get("/me"))
    assert "course completion" in me and "Download PDF" in me
    link = me.split('href="/certificates/')[1].split('"')[0]
    pdf = clinician.get(f"/certificates/{link}")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF")
    assert pages.client("other_clinician").get(f"/certificates/{link}").status_code == 403
    assert pages.client("hub_pt").get(f"/certificates/{link}").status_code == 403

    # The public page verifies the uploaded PDF; the clinician then sees who verified it.
    public = pages.client()
    form = public.get("/verify?lang=pt")
    assert "Verificar um certificado" in text(form) and "carregue o PDF" in text(form)
    checked = public.post("/verify", data={"csrf_token": csrf_of(text(form)),
                                           "file": (io.BytesIO(pdf.data), "certificate.pdf")},
                          content_type="multipart/form-data")
    assert checked.status_code == 200 and "VALID" in text(checked)
    assert count(app, "verifications") == 1
    assert "pdf" in text(clinician.get("/me")).split("Who verified my certificates")[1]

    export = clinician.get("/me/export.json")
    assert export.status_code == 200 and "attachment" in export.headers["Content-Disposition"]
    body = export.get_json()
    assert body["clinician"]["registry_number"] == world.clinician.registry_number
    assert [c["kind"] for c in body["certificates"]] == ["course_completion"]
    assert body["licences"][0]["number"] == "IE-2221-0001" and len(body["verifications"]) == 1


def test_verify_page_labels_in_three_languages(pages):
    client = pages.client()
    assert "Verify a certificate" in text(client.get("/verify"))
    assert "Vérifier un certificat" in text(client.get("/verify", headers={"Accept-Language": "fr-FR,fr;q=0.9"}))
    page = text(client.get("/verify?lang=pt", headers={"Accept-Language": "fr"}))
    assert '<html lang="pt">' in page and "Código de verificação" in page
    assert '<label for="file">' in page and 'enctype="multipart/form-data"' in page
    assert client.post("/verify", data={}, content_type="multipart/form-data").status_code == 400


# --- recognitions and the secretariat ----------------------------------------------------------------------------


def test_the_recognition_queue_lists_overdue_first_and_refusal_needs_a_reason(pages, world, app):
    from registry.core.db import db
    from registry.licensing.services import find_licence
    from registry.recognition import services as recognition

    other_licence = world.make_licence(world.other_clinician, "IE-B", number="IE-2221-0002")
    with app.app_context():
        recognition.create_agreement(
            code="IE-FR", title="Ireland–France nurses", states=["IE", "FR"], professions=["2221"],
            in_force_from=d(-500), in_force_until=None, required_courses=[], language_level=None,
            adaptation_months=0, validity_months=12, decision_deadline_days=30, silence_is_approval=False)
        late = recognition.apply(find_licence(world.licence), "FR", actor=None, today=d(-40))
        db.session.commit()
        late_id = late.id
    with app.app_context():
        soon = recognition.apply(find_licence(other_licence), "FR", actor=None, today=d(-2))
        db.session.commit()
        soon_id = soon.id
    france = pages.client("board_fr")
    queue = text(france.get("/recognitions"))
    assert queue.index(f"decide-{late_id}") < queue.index(f"decide-{soon_id}")
    assert "overdue by 10 days" in queue
    token = csrf_of(queue)
    refused = france.post(f"/recognitions/{late_id}/decision", data={"csrf_token": token, "decision": "refuse"})
    assert refused.status_code == 422 and f'id="r{late_id}-e-reason"' in text(refused)
    granted = france.post(f"/recognitions/{soon_id}/decision", data={"csrf_token": token, "decision": "grant"})
    assert granted.status_code == 302
    assert "granted" in text(france.get("/recognitions"))
    assert pages.client("board_ie").post(f"/recognitions/{late_id}/decision",
                                         data={"csrf_token": token, "decision": "grant"}).status_code in (400, 403)


def test_the_secretariat_rotates_a_key_and_downloads_figures(pages, app):
    admin = pages.client("secretariat")
    home = admin.get("/secretariat")
    assert home.status_code == 200 and "no key yet" in text(home)
    keys = count(app, "issuer_keys")
    rotated = admin.post("/secretariat/issuers/IE-HUB/keys", data={"csrf_token": csrf_of(text(home)), "alg": "ES256"})
    assert rotated.status_code == 302 and count(app, "issuer_keys") == keys + 1
    assert "IE-HUB now signs with key" in text(admin.get("/secretariat"))
    bad = admin.post("/secretariat/issuers/IE-HUB/keys", data={"csrf_token": csrf_of(text(home)), "alg": "RS1"})
    assert bad.status_code == 422 and 'id="e-alg-IE-HUB"' in text(bad) and count(app, "issuer_keys") == keys + 1
    figures = admin.get("/secretariat/figures")
    assert figures.status_code == 200 and text(figures).count("<svg") == 3 and "<th scope=\"col\">Hub</th>" in text(
        figures)
    data = admin.get("/secretariat/figures/completions.csv")
    assert data.status_code == 200 and data.mimetype == "text/csv"
    assert text(data).splitlines()[0] == "course,hub,completions,passed"
    assert admin.get("/secretariat/figures/nothing.csv").status_code == 404
