"""The issue's journeys in a real browser: what each person types and clicks, and what they then see."""

from __future__ import annotations

import csv
import io
import re

from playwright.sync_api import expect

from .conftest import PASSWORD, d, email

# --- a and b: a clinician downloads a certificate whose PDF verifies; the public page shows VALID, then REVOKED


def api_client(site, who: str):
    """A board's own system calling the API over HTTP with a bearer token obtained by password."""
    context = site.browser.new_context(base_url=site.base_url)
    site.contexts.append(context)
    answer = context.request.post("/api/v1/auth/token", data={"email": email(who), "password": PASSWORD})
    assert answer.status == 200, answer.text()
    return context.request, {"Authorization": f"Bearer {answer.json()['access_token']}"}


def shows(page, outcome: str, word: str | None = None) -> None:
    """The verification page's banner reads `outcome` (waiting for the page the last action opened); on a page in
    another language, the verdict `word` in that language with the outcome code beneath it."""
    expected = outcome if word is None else re.compile(rf"^\s*{re.escape(word)}\s+{re.escape(outcome)}\s*$")
    expect(page.locator(".verdict")).to_have_text(expected)


def test_a_clinician_downloads_a_certificate_that_verifies_and_shows_revoked_once_the_board_revokes_it(
        site, compact, tmp_path):
    board, auth = api_client(site, "board_ie")
    issued = board.post(f"/api/v1/licences/{compact.licence}/good-standing-certificate", data={}, headers=auth)
    assert issued.status == 201, issued.text()

    # The clinician signs in and lands on their record with the certificate listed.
    me = site.page(email("clinician"))
    expect(me.get_by_role("heading", name="My record", exact=True)).to_be_visible()
    row = me.locator("section[aria-labelledby=h-certificates] tbody tr")
    expect(row).to_have_count(1)
    expect(row.locator("th")).to_contain_text("good standing")
    expect(row.locator(".status")).to_have_text("active")
    code = row.locator("code").inner_text().strip()
    assert re.fullmatch(r"[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}", code), code
    download_link = row.get_by_role("link", name=re.compile("Download PDF"))
    with me.expect_download() as download:
        download_link.click()
    pdf = tmp_path / download.value.suggested_filename
    download.value.save_as(pdf)
    assert pdf.read_bytes().startswith(b"%PDF-")
    site.shoot(me, "clinician-record")

    # Anyone uploads the downloaded PDF on the public page: VALID, and the file is the one issued.
    public = site.page()
    public.goto("/verify")
    public.get_by_label("Or upload the certificate PDF").set_input_files(pdf)
    public.get_by_role("button", name="Verify the PDF").click()
    shows(public, "VALID")
    expect(public.get_by_text("The PDF is the file issued")).to_be_visible()
    expect(public.locator("table").first).to_contain_text("Siobhán Byrne")
    expect(public.locator("td.failed")).to_have_count(0)

    # The code printed on the certificate, typed and submitted with Enter: VALID.
    public.goto("/verify")
    public.get_by_label("Verification code").fill(code)
    public.keyboard.press("Enter")
    public.wait_for_url(re.compile(r"/verify\?code="))
    shows(public, "VALID")

    # The share link the clinician copies from their record opens the same check on this server.
    link = me.get_by_label(re.compile("Share link of the good standing certificate")).input_value()
    assert link == f"{site.base_url}/verify?code={code}"
    public.goto(link)
    shows(public, "VALID")
    expect(public.locator("table").first).to_contain_text("IE-2221-0001")
    site.shoot(public, "verify-valid")

    # The board's officer revokes it from the clinician's standing page: a reason, then a confirmation.
    officer = site.page(email("board_ie"))
    officer.goto(f"/clinicians/{compact.clinician.registry_number}")
    held = officer.locator("section[aria-labelledby=h-certificates] tbody tr")
    held.get_by_role("link", name=re.compile("^Revoke")).click()
    expect(officer.get_by_role("heading", name=f"Certificate {code}")).to_be_visible()
    officer.get_by_label("Reason").fill("issued in error")
    officer.get_by_role("button", name="Continue").click()
    expect(officer.get_by_text("A revocation is permanent.")).to_be_visible()
    site.shoot(officer, "certificate-revoke-confirm")
    officer.get_by_role("button", name="Confirm: revoke for good").click()
    expect(officer.get_by_role("status")).to_contain_text(f"Certificate {code} (Siobhán Byrne) revoked.")
    expect(held.locator(".status")).to_have_text("revoked")

    public.goto(link)
    shows(public, "REVOKED")
    expect(public.locator("td.failed")).not_to_have_count(0)
    site.shoot(public, "verify-revoked")
    public.goto("/verify?lang=fr")
    public.get_by_label("Ou téléversez le PDF du certificat").set_input_files(pdf)
    public.get_by_role("button", name="Vérifier le PDF").click()
    shows(public, "REVOKED", "RÉVOQUÉ")

    # The clinician sees the revocation and every verification of the certificate.
    me.reload()
    expect(row.locator(".status")).to_have_text("revoked")
    verifications = me.locator("section[aria-labelledby=h-verifications] tbody tr")
    expect(verifications).to_have_count(5)
    expect(verifications.locator("td:nth-child(4)")).to_have_text(["REVOKED", "REVOKED", "VALID", "VALID", "VALID"])


# --- c: a hub uploads a CSV with two bad rows, sees them in the preview, fixes the file and commits ---------------


def completions_csv(rows: list[list[str]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["reference", "registry_number", "course", "completed_on", "outcome", "score"])
    writer.writerows(rows)
    return buffer.getvalue().encode()


def test_a_hub_previews_a_file_with_two_bad_rows_fixes_it_and_commits(site, compact):
    number, other = compact.clinician.registry_number, compact.other_clinician.registry_number
    hub = site.page(email("hub_ie"))
    expect(hub.get_by_role("heading", name="IE-HUB organisation", level=1)).to_be_visible()
    file_input = hub.get_by_label("File", exact=True)

    bad = completions_csv([["IMP-1", number, "TRAUMA-ITLS", d(-5).isoformat(), "passed", "90"],
                           ["IMP-2", other, "NO-SUCH-COURSE", d(-5).isoformat(), "passed", "80"],
                           ["IMP-3", other, "TRAUMA-ITLS", d(5).isoformat(), "passed", "70"]])
    file_input.set_input_files({"name": "cohort.csv", "mimeType": "text/csv", "buffer": bad})
    hub.get_by_role("button", name="Check the file (dry run)").click()
    report = hub.locator("section[aria-labelledby=h-report]")
    expect(report.get_by_role("heading")).to_contain_text("Dry run of cohort.csv")
    expect(report.get_by_role("heading")).to_contain_text("2 errors in 3 rows")
    errors = report.locator("table tbody tr")
    expect(errors).to_have_count(2)
    # Each bad row by its number as a spreadsheet shows it (the header is row 1), its field and the problem.
    expect(errors.locator("th")).to_have_text(["3", "4"])
    expect(errors.locator("td:nth-of-type(1)")).to_have_text(["course", "completed_on"])
    expect(errors.nth(0).locator("td").last).to_contain_text("NO-SUCH-COURSE")
    expect(errors.nth(1).locator("td").last).to_contain_text("is in the future")
    expect(report.get_by_role("button", name=re.compile("Commit this file"))).to_have_count(0)
    site.shoot(hub, "hub-preview-errors")

    fixed = completions_csv([["IMP-1", number, "TRAUMA-ITLS", d(-5).isoformat(), "passed", "90"],
                             ["IMP-2", other, "TRAUMA-ITLS", d(-5).isoformat(), "passed", "80"],
                             ["IMP-3", other, "TRAUMA-ITLS", d(-4).isoformat(), "failed", "40"]])
    hub.get_by_label("File", exact=True).set_input_files({"name": "cohort.csv", "mimeType": "text/csv",
                                                          "buffer": fixed})
    hub.get_by_role("button", name="Check the file (dry run)").click()
    expect(report.get_by_role("heading")).to_contain_text("3 would be created")
    expect(report.locator("table")).to_have_count(0)
    expect(hub.locator("section[aria-labelledby=h-recent]")).to_contain_text("No completions yet.")
    site.shoot(hub, "hub-preview-ready")
    report.get_by_role("button", name="Commit this file (3 new)").click()

    expect(hub.get_by_role("status")).to_contain_text("Import committed: 3 created")
    recent = hub.locator("section[aria-labelledby=h-recent]")
    expect(recent.get_by_role("heading")).to_contain_text("3 in all")
    expect(recent.locator("tbody th")).to_have_count(3)
    for reference in ("IMP-1", "IMP-2", "IMP-3"):
        expect(recent.get_by_role("rowheader", name=reference)).to_be_visible()

    # The same file again: nothing new, and the page says so.
    hub.get_by_label("File", exact=True).set_input_files({"name": "cohort.csv", "mimeType": "text/csv",
                                                          "buffer": fixed})
    hub.get_by_role("button", name="Check the file (dry run)").click()
    expect(report.get_by_role("heading")).to_contain_text("0 would be created, 3 already recorded")


# --- d: a board suspends a licence through the page, then sees the alert and the suspended recognition ---------


def test_a_board_suspends_a_licence_and_sees_the_alert_and_the_suspended_recognition(site, compact, app):
    from registry.core.db import db
    from registry.licensing.services import find_licence
    from registry.recognition import services as recognition

    with app.app_context():  # Siobhán Byrne's Irish licence is recognised in France
        granted = recognition.apply(find_licence(compact.licence), "FR", actor=None, today=d(-30))
        recognition.grant(granted, decided_on=d(-20), conditions=None, actor=None)
        db.session.commit()

    board = site.page(email("board_ie"))
    expect(board.get_by_role("heading", level=1)).to_have_text("IE-B organisation")
    board.get_by_label("Licence number").fill("IE-2221-0001")
    board.keyboard.press("Enter")
    results = board.locator("main table tbody tr")
    expect(results).to_have_count(1)
    results.get_by_role("link", name="Byrne, Siobhán").click()
    expect(board.get_by_role("heading", level=1)).to_have_text("Siobhán Byrne")
    licences = board.locator("section[aria-labelledby=h-licences] tbody tr")
    expect(licences.locator(".status")).to_have_text("active")
    recognitions = board.locator("section[aria-labelledby=h-recognitions] tbody tr")
    expect(recognitions.locator(".status")).to_have_text("granted")

    licences.get_by_role("link", name=re.compile("^Decide on licence IE-2221-0001")).click()
    expect(board.get_by_role("heading", level=1)).to_have_text("Decision on licence IE-2221-0001")
    board.get_by_label("Decision").select_option("suspend")
    board.get_by_role("button", name="Continue").click()
    expect(board.locator("#e-reason")).to_contain_text("a reason is required to suspend")  # next to the field
    board.get_by_label("Reason").fill("fitness-to-practise inquiry")
    board.get_by_role("button", name="Continue").click()
    expect(board.get_by_role("heading", name="Confirm: suspend licence IE-2221-0001")).to_be_visible()
    effects = board.locator("main")  # what the decision sets off, before it is recorded
    expect(effects).to_contain_text(re.compile("alert goes to .*every other member state"))
    expect(effects).to_contain_text(re.compile(r"recognition \d+ is suspended"))
    site.shoot(board, "board-decision-confirm")
    board.get_by_role("button", name="Confirm: suspend").click()

    expect(board.get_by_role("status")).to_contain_text("Licence IE-2221-0001: suspend recorded")
    expect(licences.locator(".status")).to_have_text("suspended")
    expect(board.get_by_role("alert")).to_contain_text("1 alert open on")
    alerts = board.locator("section[aria-labelledby=h-alerts] tbody tr")
    expect(alerts).to_have_count(1)
    expect(alerts.locator("th")).to_have_text("suspend")
    expect(alerts).to_contain_text("IE-B")
    expect(recognitions.locator(".status")).to_have_text("suspended")
    site.shoot(board, "board-standing-suspended")

    # France, whose recognition rests on the licence, has the alert in its queue and acknowledges it.
    france = site.page(email("board_fr"))
    expect(france.get_by_role("link", name=re.compile("1 unacknowledged alert for FR"))).to_be_visible()
    france.get_by_role("link", name="Alerts", exact=True).click()
    row = france.locator("main tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Siobhán Byrne")
    expect(row).to_contain_text("suspend")
    expect(row).to_contain_text("IE-B")
    expect(row).not_to_contain_text("fitness-to-practise")  # never the reason
    site.shoot(france, "board-alerts")
    row.get_by_role("link", name="Siobhán Byrne").click()
    expect(france.locator("section[aria-labelledby=h-recognitions] .status")).to_have_text("suspended")
    france.go_back()
    france.get_by_role("button", name=re.compile("Acknowledge")).click()
    expect(france.get_by_role("status")).to_contain_text("acknowledged for FR")
    expect(france.get_by_text("No unacknowledged alerts.")).to_be_visible()
