"""Certificates from the browser: the issuer revokes (reason, confirmation, permanent), suspends and unsuspends;
a home board issues a good-standing certificate and a host board a recognition certificate.

Each form: the happy path (what is written and what the officer sees), bad input (the message next to its field,
nothing written), another organisation (403, nothing written) and a post without the form token (400).
"""

from __future__ import annotations

import sqlalchemy as sa

from registry.core.db import db
from tests.conftest import audit_count, count

from .conftest import csrf_of, d, field_error, scalar, text


def _good_standing(app, licence_id: int) -> tuple[int, str]:
    from certificates import services as certificates
    from registry.licensing.services import find_licence

    with app.app_context():
        certificate = certificates.issue(certificates.good_standing_draft(find_licence(licence_id), d(0)),
                                         actor=None)
        db.session.commit()
        return certificate.id, certificate.verification_code


def _completion_certificate(app, world, offering_id: int) -> tuple[int, str]:
    from certificates import services as certificates
    from curricula import services as curricula
    from curricula.models import Outcome
    from registry.people import services as people

    with app.app_context():
        completion, _ = curricula.record_completion(
            curricula.get_hub("IE-HUB"), clinician=people.get_clinician(world.clinician.registry_number),
            course=curricula.get_course("TRAUMA-ITLS"), offering=curricula.get_offering(offering_id),
            completed_on=d(-18), outcome=Outcome.PASSED, score=None, credits=None, reference="CERT-1", actor=None,
            today=d(0))
        certificate = certificates.issue(certificates.completion_draft(completion), actor=None)
        db.session.commit()
        return certificate.id, certificate.verification_code


def _granted_recognition(app, world) -> int:
    from registry.licensing.services import find_licence
    from registry.recognition import services as recognition

    with app.app_context():
        recognition.create_agreement(
            code="IE-FR", title="Nurses", states=["IE", "FR"], professions=["2221"], in_force_from=d(-500),
            in_force_until=None, required_courses=[], language_level=None, adaptation_months=0,
            validity_months=24, decision_deadline_days=30, silence_is_approval=False)
        r = recognition.apply(find_licence(world.licence), "FR", actor=None, today=d(-10))
        recognition.grant(r, decided_on=d(-5), conditions=None, actor=None)
        db.session.commit()
        return r.id


def _status(app, certificate_id: int) -> tuple[bool, bool]:
    """(revoked, suspended) as stored."""
    with app.app_context():
        row = db.session.execute(sa.text("SELECT revoked_at, suspended FROM certificates WHERE id = :i"),
                                 {"i": certificate_id}).one()
        return row.revoked_at is not None, bool(row.suspended)


# --- revoke, suspend, unsuspend from the board's standing page ------------------------------------------------


def test_the_board_revokes_its_certificate_after_a_reason_and_a_confirmation(pages, world, app):
    certificate, code = _good_standing(app, world.licence)
    board = pages.client("board_ie")
    standing = text(board.get(f"/clinicians/{world.clinician.registry_number}"))
    revoke_link = f"/certificates/{certificate}/status?action=revoke"
    assert f'href="{revoke_link}"' in standing
    assert f'href="/certificates/{certificate}/status?action=suspend"' in standing
    # The certificate's status and its PDF come right after its name, before the wide columns.
    row = standing.split('id="h-certificates"')[1].split("<tbody>")[1].split("</tr>")[0]
    assert row.index("s-active") < row.index("Download PDF") < row.index("Revoke") < row.index(f"<code>{code}")

    form = board.get(revoke_link)
    page = text(form)
    assert form.status_code == 200 and f"Certificate {code}" in page and '<label for="f-reason">' in page
    assert '<option value="revoke" selected>' in page and '<label for="f-action">' in page
    token = csrf_of(page)
    path = f"/certificates/{certificate}/status"
    before = audit_count(app)

    # No reason: the API's message next to the field, nothing written.
    refused = board.post(path, data={"csrf_token": token, "action": "revoke", "reason": " "})
    assert refused.status_code == 422 and field_error(text(refused), "e-reason") == "is required to revoke"
    assert _status(app, certificate) == (False, False) and audit_count(app) == before

    # With a reason: a confirmation that says it is permanent; still nothing written.
    confirm = board.post(path, data={"csrf_token": token, "action": "revoke", "reason": "issued in error"})
    body = text(confirm)
    assert confirm.status_code == 200 and f"Confirm: revoke certificate {code}" in body
    assert "A revocation is permanent." in body and 'name="confirmed" value="yes"' in body
    assert _status(app, certificate) == (False, False) and audit_count(app) == before

    done = board.post(path, data={"csrf_token": token, "action": "revoke", "reason": "issued in error",
                                  "confirmed": "yes", "back": f"/clinicians/{world.clinician.registry_number}"})
    assert done.status_code == 302
    assert done.headers["Location"].endswith(f"/clinicians/{world.clinician.registry_number}")
    assert _status(app, certificate) == (True, False)
    assert scalar(app, "SELECT revocation_reason FROM certificates WHERE id = :i", i=certificate) == "issued in error"
    assert scalar(app, "SELECT count(*) FROM audit_events WHERE action = 'certificate.revoke'") == 1
    after = text(board.get(done.headers["Location"]))
    assert f"Certificate {code} (Siobhán Byrne) revoked." in after
    assert f'href="{revoke_link}"' not in after  # nothing more to do on a revoked certificate
    assert "REVOKED" in text(pages.client().get(f"/verify?code={code}"))

    # Revoked for good: the page offers nothing, and a forged post is refused by the service.
    assert "nothing more can change" in text(board.get(path))
    again = board.post(path, data={"csrf_token": token, "action": "unsuspend"})
    assert again.status_code == 409 and "is not suspended" in text(again)


def test_the_board_suspends_and_unsuspends_its_certificate(pages, world, app):
    certificate, code = _good_standing(app, world.licence)
    board = pages.client("board_ie")
    path = f"/certificates/{certificate}/status"
    token = pages.token(board, path + "?action=suspend")
    done = board.post(path, data={"csrf_token": token, "action": "suspend", "reason": "under inquiry"})
    assert done.status_code == 302 and _status(app, certificate) == (False, True)
    standing = text(board.get(done.headers["Location"]))
    assert f"Certificate {code} (Siobhán Byrne) suspended." in standing and "s-suspended" in standing
    assert f'href="{path}?action=unsuspend"' in standing
    assert "SUSPENDED" in text(pages.client().get(f"/verify?code={code}"))

    # Suspending twice is the service's conflict, shown on the page; nothing written.
    before = audit_count(app)
    twice = board.post(path, data={"csrf_token": token, "action": "suspend"})
    assert twice.status_code == 409 and "already suspended" in text(twice) and audit_count(app) == before

    lifted = board.post(path, data={"csrf_token": token, "action": "unsuspend"})
    assert lifted.status_code == 302 and _status(app, certificate) == (False, False)
    assert "no longer suspended" in text(board.get(lifted.headers["Location"]))
    assert '<div class="verdict VALID">' in text(pages.client().get(f"/verify?code={code}"))


def test_a_bad_action_is_shown_next_to_its_field(pages, world, app):
    certificate, _ = _good_standing(app, world.licence)
    board = pages.client("board_ie")
    path = f"/certificates/{certificate}/status"
    token = pages.token(board, path)
    before = audit_count(app)
    for action in ("", "delete"):
        r = board.post(path, data={"csrf_token": token, "action": action})
        assert r.status_code == 422 and field_error(text(r), "e-action")
    assert audit_count(app) == before and _status(app, certificate) == (False, False)


def test_only_the_issuing_organisation_changes_a_certificate(pages, world, app):
    certificate, _ = _good_standing(app, world.licence)
    path = f"/certificates/{certificate}/status"
    before = audit_count(app)
    for who in ("board_ie2", "board_fr", "hub_ie"):
        client = pages.client(who)
        assert client.get(path).status_code == 403
        token = pages.token(client, "/verify")
        r = client.post(path, data={"csrf_token": token, "action": "revoke", "reason": "x", "confirmed": "yes"})
        assert r.status_code == 403, who
    for who in ("clinician", "secretariat"):
        client = pages.client(who)
        assert client.get(path).status_code == 403
        r = client.post(path, data={"csrf_token": pages.token(client, "/verify"), "action": "suspend"})
        assert r.status_code == 403
    assert _status(app, certificate) == (False, False) and audit_count(app) == before
    # Another board sees the certificate on the standing page, without the actions.
    standing = text(pages.client("board_ie2").get(f"/clinicians/{world.clinician.registry_number}"))
    assert "Download PDF" in standing and f"/certificates/{certificate}/status" not in standing
    assert pages.client("board_ie").get("/certificates/999999/status").status_code == 404
    assert pages.client().get(path).status_code == 302  # to the sign-in page


def test_status_forms_without_the_token_write_nothing(pages, world, app):
    certificate, _ = _good_standing(app, world.licence)
    board = pages.client("board_ie")
    before = audit_count(app)
    for data in ({"action": "suspend"}, {"action": "revoke", "reason": "x", "confirmed": "yes", "csrf_token": "x"}):
        assert board.post(f"/certificates/{certificate}/status", data=data).status_code == 400
    assert _status(app, certificate) == (False, False) and audit_count(app) == before


# --- the hub's certificates on the cohort and home pages ------------------------------------------------------


def test_the_hub_suspends_and_revokes_a_cohort_certificate_from_the_cohort_page(pages, world, app):
    certificate, code = _completion_certificate(app, world, pages.offering_id)
    hub = pages.client("hub_ie")
    cohort = text(hub.get(f"/hub/offerings/{pages.offering_id}"))
    assert "Certificates issued for this cohort" in cohort and code in cohort
    assert f'href="/certificates/{certificate}/status?action=suspend"' in cohort
    home = text(hub.get("/hub"))
    assert f'href="/certificates/{certificate}/status"' in home
    row = home.split('id="h-recent"')[1].split("<tbody>")[1].split("</tr>")[0]
    assert row.index("CERT-1") < row.index("Revoke or suspend") < row.index("Siobhán Byrne")

    path = f"/certificates/{certificate}/status"
    token = pages.token(hub, path)
    done = hub.post(path, data={"csrf_token": token, "action": "suspend"})
    assert done.status_code == 302 and done.headers["Location"].endswith(f"/hub/offerings/{pages.offering_id}#h-issued")
    assert _status(app, certificate) == (False, True)
    assert f"Certificate {code} (Siobhán Byrne) suspended." in text(hub.get(done.headers["Location"]))

    confirm = hub.post(path, data={"csrf_token": token, "action": "revoke", "reason": "wrong course"})
    assert confirm.status_code == 200 and "A revocation is permanent." in text(confirm)
    assert _status(app, certificate) == (False, True)
    done = hub.post(path, data={"csrf_token": token, "action": "revoke", "reason": "wrong course", "confirmed": "yes"})
    assert done.status_code == 302 and _status(app, certificate) == (True, True)

    # Another hub may not touch it.
    other = pages.client("hub_pt")
    r = other.post(path, data={"csrf_token": pages.token(other, "/hub"), "action": "unsuspend"})
    assert r.status_code == 403 and _status(app, certificate) == (True, True)


# --- a good-standing certificate from the standing page -------------------------------------------------------


def test_the_home_board_issues_a_good_standing_certificate(pages, world, app):
    board = pages.client("board_ie")
    standing = text(board.get(f"/clinicians/{world.clinician.registry_number}"))
    link = f"/board/licences/{world.licence}/good-standing-certificate"
    assert f'href="{link}"' in standing
    row = standing.split('id="h-licences"')[1].split("<tbody>")[1].split("</tr>")[0]
    assert row.index("s-active") < row.index("Good-standing certificate") < row.index("IE-B</td>")
    form = text(board.get(link))
    assert '<label for="f-on">' in form and f'value="{d(0).isoformat()}"' in form
    token = csrf_of(form)
    before = audit_count(app)

    for junk, status in (("2026-02-30", 422), ("1800-01-01", 422), ("soon", 422)):
        r = board.post(link, data={"csrf_token": token, "on": junk})
        assert r.status_code == status and field_error(text(r), "e-on")
    assert count(app, "certificates") == 0 and audit_count(app) == before

    done = board.post(link, data={"csrf_token": token, "on": d(0).isoformat()})
    assert done.status_code == 302 and count(app, "certificates") == 1
    assert scalar(app, "SELECT kind FROM certificates") == "good_standing"
    after = text(board.get(done.headers["Location"]))
    code = scalar(app, "SELECT verification_code FROM certificates")
    assert f"Good-standing certificate {code} issued for licence IE-2221-0001." in after and "good standing" in after

    # The same day again: the service's conflict next to the date; nothing written.
    before = audit_count(app)
    again = board.post(link, data={"csrf_token": token, "on": d(0).isoformat()})
    assert again.status_code == 409 and field_error(text(again), "e-on")
    assert count(app, "certificates") == 1 and audit_count(app) == before


def test_a_suspended_licence_is_not_certified(pages, world, app):
    from registry.licensing import services as licensing
    from registry.licensing.models import LicenceAction

    with app.app_context():
        licensing.record_event(licensing.find_licence(world.licence), action=LicenceAction.SUSPEND,
                               decided_on=d(-2), effective_on=d(-2), reason="inquiry", scope=None, valid_until=None,
                               actor=None, today=d(0))
        db.session.commit()
    board = pages.client("board_ie")
    link = f"/board/licences/{world.licence}/good-standing-certificate"
    r = board.post(link, data={"csrf_token": pages.token(board, link), "on": d(0).isoformat()})
    assert r.status_code == 409
    assert "good standing needs an active, unrestricted licence" in field_error(text(r), "e-on")
    assert count(app, "certificates") == 0


def test_only_the_licence_board_certifies_its_standing(pages, world, app):
    link = f"/board/licences/{world.licence}/good-standing-certificate"
    for who in ("board_ie2", "board_fr", "hub_ie", "clinician"):
        client = pages.client(who)
        assert client.get(link).status_code == 403
        r = client.post(link, data={"csrf_token": pages.token(client, "/verify"), "on": d(0).isoformat()})
        assert r.status_code == 403, who
    standing = text(pages.client("board_fr").get(f"/clinicians/{world.clinician.registry_number}"))
    assert link not in standing
    board = pages.client("board_ie")
    assert board.post(link, data={"on": d(0).isoformat()}).status_code == 400
    assert count(app, "certificates") == 0


# --- a recognition certificate from the standing page ---------------------------------------------------------


def test_the_host_board_issues_the_certificate_of_a_granted_recognition(pages, world, app):
    recognition = _granted_recognition(app, world)
    board = pages.client("board_fr")
    standing = text(board.get(f"/clinicians/{world.clinician.registry_number}"))
    link = f"/board/recognitions/{recognition}/certificate"
    assert f'href="{link}"' in standing
    assert link not in text(pages.client("board_ie").get(f"/clinicians/{world.clinician.registry_number}"))
    page = text(board.get(link))
    assert "Issue the recognition certificate" in page
    token = csrf_of(page)
    assert board.post(link, data={}).status_code == 400 and count(app, "certificates") == 0

    done = board.post(link, data={"csrf_token": token})
    assert done.status_code == 302 and count(app, "certificates") == 1
    assert scalar(app, "SELECT kind FROM certificates") == "recognition"
    after = text(board.get(done.headers["Location"]))
    assert "Recognition certificate" in after and link not in after  # issued: no second offer

    before = audit_count(app)
    again = board.post(link, data={"csrf_token": token})
    assert again.status_code == 409 and 'class="problems"' in text(again)
    assert count(app, "certificates") == 1 and audit_count(app) == before

    for who in ("board_pt", "board_ie", "hub_ie"):
        client = pages.client(who)
        assert client.get(link).status_code == 403
        assert client.post(link, data={"csrf_token": pages.token(client, "/verify")}).status_code == 403
    assert count(app, "certificates") == 1


# --- no input breaks these forms ------------------------------------------------------------------------------

JUNK = ["", " ", "\x00", "a" * 5000, "💥", "2026-02-30", "-1", "0", "1e309", "<script>x</script>", "../../etc",
        "9" * 30, "IE\r\nX", "9999-12-31", "2200-12-31", "//evil.example"]


def test_no_input_makes_these_forms_fail_with_a_server_error(pages, world, app):
    certificate, _ = _good_standing(app, world.licence)
    recognition = _granted_recognition(app, world)
    forms = [
        ("board_ie", f"/certificates/{certificate}/status", {"action": "suspend", "reason": "r", "back": "/board"}),
        ("board_ie", f"/certificates/{certificate}/status", {"action": "revoke", "reason": "r", "confirmed": "no"}),
        ("board_ie", f"/board/licences/{world.licence}/good-standing-certificate", {"on": d(0).isoformat()}),
        ("board_fr", f"/board/recognitions/{recognition}/certificate", {"extra": "x"}),
    ]
    for who, path, valid in forms:
        client = pages.client(who)
        token = pages.token(client, "/verify")
        for name in valid:
            for junk in JUNK:
                r = client.post(path, data={"csrf_token": token, **valid, name: junk})
                body = text(r)
                assert r.status_code < 500 and "Traceback" not in body, (path, name, junk, body[-1500:])
                if r.status_code == 302:
                    assert r.headers["Location"].startswith("/"), r.headers["Location"]
                    assert not r.headers["Location"].startswith("//")
            for query in ("?action=💥", "?back=//evil.example", "?action=revoke&back=http://evil.example/"):
                page = client.get(path + query)
                assert page.status_code < 500 and "evil.example" not in text(page)
