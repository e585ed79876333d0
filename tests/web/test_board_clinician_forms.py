"""The boards' and clinicians' write forms: what the user sees, what is written, and what is refused.

Each form: the happy path, bad input (the message next to its field, nothing written), the wrong role or board
(403, nothing written) and a post without the form token (400, nothing written).
"""

from __future__ import annotations

import re

import pytest

from registry.core.db import db
from tests.conftest import audit_count, count

from .conftest import csrf_of, d, field_error, scalar, text

# --- set-ups through the services ------------------------------------------------------------------------------


def _agreement(app, *, states=("IE", "FR"), code="IE-FR"):
    from registry.recognition import services as recognition

    with app.app_context():
        recognition.create_agreement(
            code=code, title="Nurses", states=list(states), professions=["2221"], in_force_from=d(-500),
            in_force_until=None, required_courses=[], language_level=None, adaptation_months=0,
            validity_months=24, decision_deadline_days=30, silence_is_approval=False)
        db.session.commit()


def _recognition(app, licence_id: int, host: str = "FR", *, granted: bool = False) -> int:
    from registry.licensing.services import find_licence
    from registry.recognition import services as recognition

    with app.app_context():
        r = recognition.apply(find_licence(licence_id), host, actor=None, today=d(-10))
        if granted:
            recognition.grant(r, decided_on=d(-5), conditions=None, actor=None)
        db.session.commit()
        return r.id


def _secondment(app, clinician, *, host: str = "FR", starts: int = 30, ends: int = 60) -> int:
    from registry.mobility import services as mobility
    from registry.people import services as people

    with app.app_context():
        s = mobility.propose(
            clinician=people.get_clinician(clinician.registry_number), profession_code="2221", host_state_code=host,
            host_institution="Hôpital Saint-Louis", supervisor="Dr Anne Leroy", starts_on=d(starts),
            ends_on=d(ends), programme=None, actor=None, today=d(0))
        db.session.commit()
        return s.id


def _secondment_status(app, secondment_id: int) -> str:
    return scalar(app, "SELECT status FROM secondments WHERE id = :i", i=secondment_id)


# --- secondments awaiting approval -----------------------------------------------------------------------------


def test_board_home_links_the_secondments_awaiting_approval(pages, world, app):
    _secondment(app, world.clinician)
    home = text(pages.client("board_fr").get("/board"))
    assert 'href="/board/secondments"' in home and "1</strong> secondment awaiting approval into FR" in home
    assert "0</strong> secondments awaiting" in text(pages.client("board_pt").get("/board"))


def test_the_list_shows_every_reason_an_approval_would_fail_with_its_day(pages, world, app):
    # The home licence lapses halfway through the stay and there is no recognition in France.
    short = world.make_licence(world.other_clinician, "IE-B", valid_until=d(45), number="IE-2221-0045")
    assert short
    secondment = _secondment(app, world.other_clinician, starts=30, ends=60)
    page = pages.client("board_fr").get("/board/secondments")
    body = text(page)
    assert page.status_code == 200 and "Walsh" in body
    assert "2 conditions not met" in body
    assert f"home licence IE-2221-0045 is lapsed on {d(46).isoformat()}" in body
    assert f"(fails on {d(46).isoformat()})" in body
    assert "no granted recognition in FR" in body and f"(fails on {d(30).isoformat()})" in body
    assert f'<label for="s{secondment}-r-f-reason">' in body and f'<label for="s{secondment}-a-f-decided_on">' in body
    # Another state's board does not see it; a secondment out of France is not France's to approve.
    assert "Walsh" not in text(pages.client("board_pt").get("/board/secondments"))


def test_approval_asks_for_confirmation_then_records(pages, world, app):
    # An Irish nurse who also holds a French licence for the whole stay needs no recognition.
    world.make_licence(world.clinician, "FR-B", number="FR-2221-0001")
    secondment = _secondment(app, world.clinician)
    board = pages.client("board_fr")
    listing = text(board.get("/board/secondments"))
    assert "Every condition holds for the whole stay" in listing
    token = csrf_of(listing)
    path = f"/board/secondments/{secondment}/approval"
    events = count(app, "secondment_events")

    confirm = board.post(path, data={"csrf_token": token, "decided_on": d(0).isoformat()})
    assert confirm.status_code == 200 and f"Confirm: approve secondment {secondment}" in text(confirm)
    assert 'name="confirmed" value="yes"' in text(confirm)
    assert count(app, "secondment_events") == events and _secondment_status(app, secondment) == "proposed"

    done = board.post(path, data={"csrf_token": token, "decided_on": d(0).isoformat(), "confirmed": "yes"})
    assert done.status_code == 302 and done.headers["Location"].endswith("/board/secondments")
    assert _secondment_status(app, secondment) == "approved" and count(app, "secondment_events") == events + 1
    after = text(board.get("/board/secondments"))
    assert f"Secondment {secondment} approved" in after and "No secondments are awaiting approval" in after

    again = board.post(path, data={"csrf_token": token, "confirmed": "yes"})
    assert again.status_code == 409 and "it is approved" in text(again)
    assert count(app, "secondment_events") == events + 1


def test_an_approval_the_service_refuses_lists_every_unmet_condition_and_writes_nothing(pages, world, app):
    secondment = _secondment(app, world.clinician)
    board = pages.client("board_fr")
    token = pages.token(board, "/board/secondments")
    before = audit_count(app)
    for confirmed in ("", "yes"):
        r = board.post(f"/board/secondments/{secondment}/approval",
                       data={"csrf_token": token, "decided_on": d(0).isoformat(), "confirmed": confirmed})
        body = text(r)
        assert r.status_code == 422 and "The approval was refused and nothing was recorded: 1 condition not met" in body
        assert "no granted recognition in FR for profession 2221" in body and "Traceback" not in body
    assert _secondment_status(app, secondment) == "proposed" and audit_count(app) == before


@pytest.mark.parametrize("decided_on, message", [("31/02/2026", "Not a valid date."), (d(3).isoformat(),
                                                                                      "is in the future")])
def test_approval_with_a_bad_date_shows_it_next_to_the_field(pages, world, app, decided_on, message):
    world.make_licence(world.clinician, "FR-B", number="FR-2221-0001")
    secondment = _secondment(app, world.clinician)
    board = pages.client("board_fr")
    before = audit_count(app)
    r = board.post(f"/board/secondments/{secondment}/approval",
                   data={"csrf_token": pages.token(board, "/board/secondments"), "decided_on": decided_on,
                         "confirmed": "yes"})
    assert r.status_code == 422 and message in field_error(text(r), f"s{secondment}-a-e-decided_on")
    assert _secondment_status(app, secondment) == "proposed" and audit_count(app) == before


def test_refusing_a_secondment_needs_a_reason_and_a_confirmation(pages, world, app):
    secondment = _secondment(app, world.clinician)
    board = pages.client("board_fr")
    token = pages.token(board, "/board/secondments")
    path = f"/board/secondments/{secondment}/refusal"
    before = audit_count(app)

    missing = board.post(path, data={"csrf_token": token, "reason": "  ", "confirmed": "yes"})
    assert missing.status_code == 422 and "Missing data" in field_error(text(missing), f"s{secondment}-r-e-reason")
    confirm = board.post(path, data={"csrf_token": token, "reason": "no supervisor free in June"})
    assert confirm.status_code == 200 and f"Confirm: refuse secondment {secondment}" in text(confirm)
    assert "no supervisor free in June" in text(confirm)
    assert _secondment_status(app, secondment) == "proposed" and audit_count(app) == before

    done = board.post(path, data={"csrf_token": token, "reason": "no supervisor free in June", "confirmed": "yes"})
    assert done.status_code == 302 and _secondment_status(app, secondment) == "cancelled"
    assert scalar(app, "SELECT reason FROM secondment_events WHERE secondment_id = :i AND action = 'cancel'",
                  i=secondment) == "no supervisor free in June"
    assert f"Secondment {secondment} refused" in text(board.get("/board/secondments"))


def test_only_a_board_of_the_host_state_decides_a_secondment(pages, world, app):
    world.make_licence(world.clinician, "FR-B", number="FR-2221-0001")
    secondment = _secondment(app, world.clinician)
    before = audit_count(app)
    for who in ("board_pt", "board_ie", "hub_ie", "clinician", "secretariat"):
        client = pages.client(who)
        token = pages.token(client, "/verify")
        for step in ("approval", "refusal"):
            r = client.post(f"/board/secondments/{secondment}/{step}",
                            data={"csrf_token": token, "reason": "no", "confirmed": "yes"})
            assert r.status_code == 403 and "Forbidden" in text(r), (who, step)
        assert client.get("/board/secondments").status_code == (200 if who.startswith("board") else 403)
    assert _secondment_status(app, secondment) == "proposed" and audit_count(app) == before


def test_secondment_forms_without_the_token_are_refused(pages, world, app):
    world.make_licence(world.clinician, "FR-B", number="FR-2221-0001")
    secondment = _secondment(app, world.clinician)
    board = pages.client("board_fr")
    before = audit_count(app)
    for step, data in (("approval", {"confirmed": "yes"}), ("refusal", {"reason": "x", "confirmed": "yes"})):
        r = board.post(f"/board/secondments/{secondment}/{step}", data=data)
        assert r.status_code == 400 and "form has expired" in text(r)
    assert _secondment_status(app, secondment) == "proposed" and audit_count(app) == before


def test_unknown_secondment_is_a_page_not_a_stack_trace(pages):
    board = pages.client("board_fr")
    r = board.post("/board/secondments/999999/approval", data={"csrf_token": pages.token(board, "/board")})
    assert r.status_code == 404 and "no secondment 999999" in text(r) and r.mimetype == "text/html"


# --- registering a clinician -----------------------------------------------------------------------------------


def _person(**overrides) -> dict[str, str]:
    form = {"family_name": "Ní Bhriain", "given_names": "Áine", "date_of_birth": "1990-04-12", "sex": "female",
            "nationality": "IE", "home_state_code": "IE", "email": "aine@example.org", "language-0": "ga",
            "level-0": "native", "language-1": "en", "level-1": "C2"}
    form.update(overrides)
    return form


def test_a_board_registers_a_clinician_of_its_state(pages, app):
    board = pages.client("board_ie")
    form = board.get("/board/clinicians/new")
    page = text(form)
    assert form.status_code == 200 and '<label for="f-family_name">' in page and '<label for="f-level-2">' in page
    assert 'name="home_state_code" value="IE"' in page
    before = count(app, "clinicians")
    r = board.post("/board/clinicians/new", data={"csrf_token": csrf_of(page), **_person()})
    assert r.status_code == 302 and count(app, "clinicians") == before + 1
    number = scalar(app, "SELECT registry_number FROM clinicians WHERE family_name = 'Ní Bhriain'")
    assert r.headers["Location"].endswith(f"/clinicians/{number}")
    standing = text(board.get(r.headers["Location"]))
    assert f"Registered Áine Ní Bhriain with registry number {number}" in standing and "ga native" in standing
    label = scalar(app, "SELECT actor_label FROM audit_events WHERE action = 'clinician.create' AND object_id = :n",
                   n=number)
    assert label.startswith("board_officer:") and label.endswith("via session")


@pytest.mark.parametrize("overrides, field, message", [
    ({"date_of_birth": "1990-13-01"}, "date_of_birth", "Not a valid date."),
    ({"date_of_birth": d(1).isoformat()}, "date_of_birth", "is not in the past"),
    ({"family_name": ""}, "family_name", "Missing data"),
    ({"sex": "x"}, "sex", "Must be one of"),
    ({"nationality": "Irish"}, "nationality", "must look like PT"),
    ({"email": "not-an-email"}, "email", "Not a valid email"),
    ({"level-1": "Z9"}, "level-1", "Must be one of"),
    ({"language-2": "English!", "level-2": "B2"}, "language-2", "BCP 47"),
    ({"given_names": "Áine\x07"}, "given_names", "control characters"),
])
def test_registration_errors_sit_next_to_their_field(pages, app, overrides, field, message):
    board = pages.client("board_ie")
    before = audit_count(app)
    r = board.post("/board/clinicians/new",
                   data={"csrf_token": pages.token(board, "/board/clinicians/new"), **_person(**overrides)})
    assert r.status_code == 422 and message in field_error(text(r), f"e-{field}")
    assert audit_count(app) == before and "Traceback" not in text(r)


def test_a_possible_duplicate_points_at_the_existing_record_until_confirmed(pages, world, app):
    board = pages.client("board_ie")
    token = pages.token(board, "/board/clinicians/new")
    number = world.clinician.registry_number
    same = _person(family_name="BYRNE", given_names="Siobhan", date_of_birth=world.clinician.date_of_birth.isoformat())
    before = count(app, "clinicians")
    r = board.post("/board/clinicians/new", data={"csrf_token": token, **same})
    page = text(r)
    assert r.status_code == 409 and f'href="/clinicians/{number}"' in page and "Already registered?" in page
    assert f'name="not_duplicate_of" value="{number}"' in page and "I have checked: this clinician is not" in page
    assert count(app, "clinicians") == before
    r = board.post("/board/clinicians/new", data={"csrf_token": token, **same, "not_duplicate_of": number})
    assert r.status_code == 302 and count(app, "clinicians") == before + 1


def test_only_a_board_of_the_home_state_registers(pages, app):
    before = audit_count(app)
    for who in ("hub_ie", "clinician", "secretariat"):
        client = pages.client(who)
        assert client.get("/board/clinicians/new").status_code == 403
        r = client.post("/board/clinicians/new", data={"csrf_token": pages.token(client, "/verify"), **_person()})
        assert r.status_code == 403
    france = pages.client("board_fr")  # an Irish clinician is not France's to register, whatever the form says
    r = france.post("/board/clinicians/new", data={"csrf_token": pages.token(france, "/board"), **_person()})
    assert r.status_code == 403 and "only a licensing board of IE" in text(r)
    assert pages.client("board_ie").post("/board/clinicians/new", data=_person()).status_code == 400
    assert audit_count(app) == before


# --- issuing a licence -----------------------------------------------------------------------------------------


def _licence_form(world, **overrides) -> dict[str, str]:
    form = {"clinician": world.clinician.registry_number, "profession": "2221", "number": "FR-2221-0100",
            "decided_on": d(0).isoformat(), "valid_until": d(1000).isoformat()}
    form.update(overrides)
    return form


def test_a_board_issues_a_licence_at_its_own_board(pages, world, app):
    board = pages.client("board_fr")
    number = world.clinician.registry_number
    form = board.get(f"/board/licences/new?clinician={number}")
    assert form.status_code == 200 and f'value="{number}"' in text(form) and '<label for="f-profession">' in text(form)
    standing = text(board.get(f"/clinicians/{number}"))
    assert f'href="/board/licences/new?clinician={number}"' in standing
    before = count(app, "licences")
    r = board.post("/board/licences/new", data={"csrf_token": csrf_of(text(form)), **_licence_form(world)})
    assert r.status_code == 302 and count(app, "licences") == before + 1
    assert scalar(app, "SELECT o.code FROM licences l JOIN organisations o ON o.id = l.board_id "
                       "WHERE l.number = 'FR-2221-0100'") == "FR-B"
    page = text(board.get(r.headers["Location"]))
    assert "Licence FR-2221-0100 (2221) issued by FR-B" in page and "FR-2221-0100" in page


@pytest.mark.parametrize("overrides, field, message", [
    ({"clinician": "AAA-AAA-AAA"}, "clinician", "not a valid registry number"),
    ({"clinician": ""}, "clinician", "Missing data"),
    ({"profession": "9999"}, "profession", "no ISCO-08 profession 9999"),
    ({"number": "a b"}, "number", "letters, digits"),
    ({"decided_on": d(2).isoformat()}, "decided_on", "is in the future"),
    ({"valid_until": d(-2).isoformat()}, "valid_until", "is before valid_from"),
    ({"valid_from": "2201-01-01"}, "valid_from", "must be between"),
])
def test_licence_errors_sit_next_to_their_field(pages, world, app, overrides, field, message):
    board = pages.client("board_fr")
    before = audit_count(app)
    r = board.post("/board/licences/new", data={"csrf_token": pages.token(board, "/board/licences/new"),
                                                **_licence_form(world, **overrides)})
    assert r.status_code == 422 and message in field_error(text(r), f"e-{field}")
    assert audit_count(app) == before


def test_a_licence_number_taken_at_the_board_is_said_next_to_the_number(pages, world, app):
    board = pages.client("board_ie")
    before = audit_count(app)
    r = board.post("/board/licences/new", data={"csrf_token": pages.token(board, "/board/licences/new"),
                                                **_licence_form(world, number="IE-2221-0001")})
    assert r.status_code == 409 and "IE-B already has a licence numbered IE-2221-0001" in field_error(text(r),
                                                                                                     "e-number")
    assert audit_count(app) == before


def test_only_boards_issue_licences_and_only_with_the_token(pages, world, app):
    before = audit_count(app)
    for who in ("hub_ie", "clinician", "secretariat"):
        client = pages.client(who)
        assert client.get("/board/licences/new").status_code == 403
        r = client.post("/board/licences/new", data={"csrf_token": pages.token(client, "/verify"),
                                                     **_licence_form(world)})
        assert r.status_code == 403
    assert pages.client("board_fr").post("/board/licences/new", data=_licence_form(world)).status_code == 400
    assert audit_count(app) == before


# --- the remaining licence decisions ---------------------------------------------------------------------------


def _decide(pages, who: str, licence_id: int, **form):
    client = pages.client(who)
    path = f"/licences/{licence_id}/decision"
    return client, path, client.post(path, data={"csrf_token": pages.token(client, "/board"), **form})


def test_renew_restrict_and_surrender_through_the_decision_form(pages, world, app):
    board = pages.client("board_ie")
    path = f"/licences/{world.licence}/decision"
    form = text(board.get(path))
    for label in ("Renew (extend validity)", "Restrict (with a scope)", "Record a surrender (final)"):
        assert label in form
    assert '<label for="f-scope">' in form and '<label for="f-valid_until">' in form
    token = csrf_of(form)
    today = d(0).isoformat()

    renew = {"csrf_token": token, "action": "renew", "decided_on": today, "valid_until": d(700).isoformat()}
    confirm = board.post(path, data=renew)
    assert confirm.status_code == 200 and "Confirm: renew" in text(confirm) and d(700).isoformat() in text(confirm)
    assert count(app, "licence_events") == 1
    assert board.post(path, data={**renew, "confirmed": "yes"}).status_code == 302
    assert scalar(app, "SELECT valid_until FROM licence_events WHERE action = 'renew'") in (d(700), d(700).isoformat())

    restrict = {"csrf_token": token, "action": "restrict", "decided_on": today, "reason": "inquiry",
                "scope": "no unsupervised night shifts"}
    confirm = board.post(path, data=restrict)
    assert "an alert goes to the boards of every other member state" in text(confirm)
    assert count(app, "alerts") == 0
    assert board.post(path, data={**restrict, "confirmed": "yes"}).status_code == 302
    assert count(app, "alerts") == 1
    assert "no unsupervised night shifts" in text(board.get(f"/clinicians/{world.clinician.registry_number}"))

    surrender = {"csrf_token": token, "action": "surrender", "decided_on": today, "reason": "retiring"}
    confirm = board.post(path, data=surrender)
    assert "This is final" in text(confirm)
    done = board.post(path, data={**surrender, "confirmed": "yes"})
    assert done.status_code == 302 and "surrender recorded" in text(board.get(done.headers["Location"]))
    assert count(app, "licence_events") == 4


@pytest.mark.parametrize("form, field, message", [
    ({"action": "restrict", "reason": "inquiry"}, "scope", "say what the restriction covers"),
    ({"action": "renew"}, "valid_until", "a renewal needs the new end of validity"),
    ({"action": "suspend", "reason": "x", "scope": "all"}, "scope", "only a restriction has a scope"),
    ({"action": "issue"}, "action", "must be one of"),
    ({"action": "renew", "valid_until": "tomorrow"}, "valid_until", "Not a valid date"),
])
def test_decision_errors_sit_next_to_their_field(pages, world, app, form, field, message):
    before = audit_count(app)
    _, _, r = _decide(pages, "board_ie", world.licence, decided_on=d(0).isoformat(), confirmed="yes", **form)
    assert r.status_code == 422 and message in field_error(text(r), f"e-{field}")
    assert audit_count(app) == before and count(app, "licence_events") == 1


def test_a_renewal_that_does_not_extend_is_a_conflict_and_writes_nothing(pages, world, app):
    licence = world.make_licence(world.other_clinician, "IE-B", valid_until=d(100), number="IE-2221-0100")
    before = audit_count(app)
    _, _, r = _decide(pages, "board_ie", licence, action="renew", decided_on=d(0).isoformat(),
                      valid_until=d(50).isoformat(), confirmed="yes")
    assert r.status_code == 409 and "a renewal must extend validity" in text(r)
    assert audit_count(app) == before


def test_only_the_issuing_board_renews_restricts_or_records_a_surrender(pages, world, app):
    before = audit_count(app)
    for who in ("board_ie2", "board_fr", "hub_ie", "clinician", "secretariat"):
        client = pages.client(who)
        token = pages.token(client, "/verify")
        for action, extra in (("renew", {"valid_until": d(800).isoformat()}),
                              ("restrict", {"scope": "x", "reason": "y"}), ("surrender", {})):
            r = client.post(f"/licences/{world.licence}/decision",
                            data={"csrf_token": token, "action": action, "decided_on": d(0).isoformat(),
                                  "confirmed": "yes", **extra})
            assert r.status_code == 403, (who, action)
    assert audit_count(app) == before and count(app, "licence_events") == 1


def test_a_renewal_without_the_token_writes_nothing(pages, world, app):
    r = pages.client("board_ie").post(f"/licences/{world.licence}/decision", data={
        "action": "renew", "decided_on": d(0).isoformat(), "valid_until": d(800).isoformat(), "confirmed": "yes"})
    assert r.status_code == 400 and count(app, "licence_events") == 1


def test_the_confirmation_names_what_a_suspension_sets_off(pages, world, app):
    _agreement(app)
    recognition = _recognition(app, world.licence, "FR", granted=True)
    _, _, confirm = _decide(pages, "board_ie", world.licence, action="suspend", decided_on=d(0).isoformat(),
                            reason="inquiry")
    body = text(confirm)
    assert confirm.status_code == 200 and f"recognition {recognition} is suspended" in body
    assert "an alert goes to the boards of every other member state" in body
    assert scalar(app, "SELECT status FROM recognitions WHERE id = :i", i=recognition) == "granted"
    assert count(app, "alerts") == 0


# --- host measures on recognitions -----------------------------------------------------------------------------


def test_the_host_board_suspends_a_recognition_after_confirming(pages, world, app):
    _agreement(app)
    recognition = _recognition(app, world.licence, "FR", granted=True)
    board = pages.client("board_fr")
    standing = text(board.get(f"/clinicians/{world.clinician.registry_number}"))
    link = f'href="/board/recognitions/{recognition}/measures"'
    assert link in standing
    assert link not in text(pages.client("board_ie").get(f"/clinicians/{world.clinician.registry_number}"))
    path = f"/board/recognitions/{recognition}/measures"
    form = text(board.get(path))
    assert '<label for="f-action">' in form and '<label for="f-reason">' in form
    token = csrf_of(form)
    before = audit_count(app)
    confirm = board.post(path, data={"csrf_token": token, "action": "suspend", "reason": "inspection"})
    assert confirm.status_code == 200 and f"Confirm: suspend recognition {recognition}" in text(confirm)
    assert audit_count(app) == before
    done = board.post(path, data={"csrf_token": token, "action": "suspend", "reason": "inspection",
                                  "confirmed": "yes"})
    assert done.status_code == 302
    assert scalar(app, "SELECT status FROM recognitions WHERE id = :i", i=recognition) == "suspended"
    assert f"Recognition {recognition} in FR: suspend recorded" in text(board.get(done.headers["Location"]))
    twice = board.post(path, data={"csrf_token": token, "action": "suspend", "reason": "again", "confirmed": "yes"})
    assert twice.status_code == 409 and "it is suspended" in text(twice)


@pytest.mark.parametrize("form, field, message", [
    ({"action": "suspend"}, "reason", "Missing data"),
    ({"action": "grant", "reason": "x"}, "action", "must be suspend, reinstate or revoke"),
    ({"action": "revoke", "reason": "x", "decided_on": d(5).isoformat()}, "decided_on", "is in the future"),
])
def test_measure_errors_sit_next_to_their_field(pages, world, app, form, field, message):
    _agreement(app)
    recognition = _recognition(app, world.licence, "FR", granted=True)
    board = pages.client("board_fr")
    before = audit_count(app)
    r = board.post(f"/board/recognitions/{recognition}/measures",
                   data={"csrf_token": pages.token(board, "/board"), "confirmed": "yes", **form})
    assert r.status_code == 422 and message in field_error(text(r), f"e-{field}")
    assert audit_count(app) == before


def test_only_a_board_of_the_host_state_takes_measures(pages, world, app):
    _agreement(app)
    recognition = _recognition(app, world.licence, "FR", granted=True)
    path = f"/board/recognitions/{recognition}/measures"
    before = audit_count(app)
    for who in ("board_ie", "board_pt", "hub_ie", "clinician", "secretariat"):
        client = pages.client(who)
        assert client.get(path).status_code == 403, who
        r = client.post(path, data={"csrf_token": pages.token(client, "/verify"), "action": "revoke", "reason": "x",
                                    "confirmed": "yes"})
        assert r.status_code == 403, who
    assert pages.client("board_fr").post(path, data={"action": "revoke", "reason": "x",
                                                     "confirmed": "yes"}).status_code == 400
    assert audit_count(app) == before
    assert scalar(app, "SELECT status FROM recognitions WHERE id = :i", i=recognition) == "granted"


# --- the clinician: applying for recognition, withdrawing ------------------------------------------------------


def test_a_clinician_applies_for_recognition_and_withdraws(pages, world, app):
    _agreement(app)
    me = pages.client("clinician")
    record = text(me.get("/me"))
    assert 'href="/me/recognitions/new"' in record
    form = me.get("/me/recognitions/new")
    page = text(form)
    assert form.status_code == 200 and '<label for="f-licence_id">' in page and '<label for="f-host_state">' in page
    assert "IE-2221-0001 · IE-B" in page
    r = me.post("/me/recognitions/new", data={"csrf_token": csrf_of(page), "licence_id": str(world.licence),
                                              "host_state": "FR"})
    assert r.status_code == 302 and count(app, "recognitions") == 1
    recognition = scalar(app, "SELECT id FROM recognitions")
    record = text(me.get("/me"))
    assert f"Application {recognition} for recognition in FR recorded" in record
    assert f'href="/me/recognitions/{recognition}/withdrawal"' in record
    assert "IE-2221-0001" in text(pages.client("board_fr").get("/recognitions"))

    confirm = me.get(f"/me/recognitions/{recognition}/withdrawal")
    assert confirm.status_code == 200 and "Confirm: withdraw the application" in text(confirm)
    assert '<label for="f-reason">' in text(confirm)
    done = me.post(f"/me/recognitions/{recognition}/withdrawal",
                   data={"csrf_token": csrf_of(text(confirm)), "reason": "moving later"})
    assert done.status_code == 302
    assert scalar(app, "SELECT status FROM recognitions WHERE id = :i", i=recognition) == "withdrawn"
    record = text(me.get("/me"))
    assert "withdrawn" in record and f'href="/me/recognitions/{recognition}/withdrawal"' not in record
    before = audit_count(app)
    again = me.post(f"/me/recognitions/{recognition}/withdrawal", data={"csrf_token": csrf_of(record)})
    assert again.status_code == 409 and "it is withdrawn" in text(again) and audit_count(app) == before


def test_a_refused_application_lists_every_unmet_condition(pages, world, app):
    from registry.licensing import services as licensing

    with app.app_context():  # a suspended licence, and no agreement with Portugal
        licence = licensing.find_licence(world.licence)
        licensing.record_event(licence, action=licensing.LicenceAction.SUSPEND, decided_on=d(-1), effective_on=None,
                               reason="inquiry", scope=None, valid_until=None, actor=None, today=d(0))
        db.session.commit()
    me = pages.client("clinician")
    before = audit_count(app)
    r = me.post("/me/recognitions/new", data={"csrf_token": pages.token(me, "/me/recognitions/new"),
                                              "licence_id": str(world.licence), "host_state": "PT"})
    body = text(r)
    assert r.status_code == 422 and "Conditions not met" in body
    assert "licence IE-2221-0001 is suspended on" in body
    assert "no agreement in force on" in body and "IE → PT" in body
    assert re.search(r"alert \d+ \(suspend by IE-B", body)
    assert count(app, "recognitions") == 0 and audit_count(app) == before


@pytest.mark.parametrize("form, field, message", [
    ({"licence_id": "abc", "host_state": "FR"}, "licence_id", "Not a valid integer"),
    ({"licence_id": "99999", "host_state": "FR"}, "licence_id", "no licence with id 99999"),
    ({"licence_id": "{licence}"}, "host_state", "Missing data"),
    ({"licence_id": "{licence}", "host_state": "ZZ"}, "host_state", "no member state ZZ"),
])
def test_application_errors_sit_next_to_their_field(pages, world, app, form, field, message):
    me = pages.client("clinician")
    before = audit_count(app)
    data = {k: v.format(licence=world.licence) for k, v in form.items()}
    r = me.post("/me/recognitions/new", data={"csrf_token": pages.token(me, "/me/recognitions/new"), **data})
    assert r.status_code == 422 and message in field_error(text(r), f"e-{field}")
    assert audit_count(app) == before


def test_a_clinician_acts_only_on_their_own_licence_and_application(pages, world, app):
    _agreement(app)
    before = audit_count(app)
    other = pages.client("other_clinician")
    r = other.post("/me/recognitions/new", data={"csrf_token": pages.token(other, "/me/recognitions/new"),
                                                 "licence_id": str(world.licence), "host_state": "FR"})
    assert r.status_code == 403 and count(app, "recognitions") == 0 and audit_count(app) == before
    for who in ("board_ie", "hub_ie", "secretariat"):
        assert pages.client(who).get("/me/recognitions/new").status_code == 403
    recognition = _recognition(app, world.licence, "FR")
    before = audit_count(app)
    assert other.get(f"/me/recognitions/{recognition}/withdrawal").status_code == 403
    r = other.post(f"/me/recognitions/{recognition}/withdrawal", data={"csrf_token": pages.token(other, "/me")})
    assert r.status_code == 403
    board = pages.client("board_ie")  # the home board withdraws through the API, not through the clinician's page
    r = board.post(f"/me/recognitions/{recognition}/withdrawal", data={"csrf_token": pages.token(board, "/board")})
    assert r.status_code == 403
    assert scalar(app, "SELECT status FROM recognitions WHERE id = :i", i=recognition) == "pending"
    assert audit_count(app) == before


def test_clinician_forms_without_the_token_write_nothing(pages, world, app):
    _agreement(app)
    me = pages.client("clinician")
    r = me.post("/me/recognitions/new", data={"licence_id": str(world.licence), "host_state": "FR"})
    assert r.status_code == 400 and count(app, "recognitions") == 0
    recognition = _recognition(app, world.licence, "FR")
    before = audit_count(app)
    r = me.post(f"/me/recognitions/{recognition}/withdrawal", data={"csrf_token": "forged"})
    assert r.status_code == 400 and audit_count(app) == before


# --- certificates: the share link ------------------------------------------------------------------------------


def test_each_certificate_has_a_share_link_that_opens_the_verification(pages, world, app):
    from certificates import services as certificates
    from curricula import services as curricula
    from curricula.models import Outcome
    from registry.people import services as people

    with app.app_context():
        hub = curricula.get_hub("IE-HUB")
        completion, _ = curricula.record_completion(
            hub, clinician=people.get_clinician(world.clinician.registry_number),
            course=curricula.get_course("TRAUMA-ITLS"), offering=None, completed_on=d(-10), outcome=Outcome.PASSED,
            score=None, credits=None, reference="SHARE-1", actor=None, today=d(0))
        certificate = certificates.issue(certificates.completion_draft(completion), actor=None)
        db.session.commit()
        code = certificate.verification_code
    record = text(pages.client("clinician").get("/me"))
    link = f"http://registry.test/verify?code={code}"
    assert f'readonly value="{link}"' in record and 'Share link of the course completion certificate' in record
    label = re.search(r'<label for="(share-\d+)">', record)
    assert label and f'id="{label.group(1)}"' in record
    checked = pages.client().get(link.replace("http://registry.test", ""))
    assert checked.status_code == 200 and "VALID" in text(checked)


# --- no input breaks a page ------------------------------------------------------------------------------------

JUNK = ["", " ", "\x00", "a" * 5000, "💥", "2026-02-30", "-1", "0", "1e309", "<script>x</script>", "../../etc",
        "9" * 30, "IE\r\nX"]


def test_no_input_makes_a_form_fail_with_a_server_error(pages, world, app):
    _agreement(app)
    recognition = _recognition(app, world.licence, "FR", granted=True)
    pending = _recognition(app, world.make_licence(world.other_clinician, "IE-B", number="IE-2221-0200"), "FR")
    secondment = _secondment(app, world.clinician)
    forms = [
        ("board_fr", f"/board/secondments/{secondment}/approval", {"decided_on": d(0).isoformat()}),
        ("board_fr", f"/board/secondments/{secondment}/refusal", {"reason": "no"}),
        ("board_ie", "/board/clinicians/new", {**_person(), "language-2": "pt", "level-2": "B1",
                                               "not_duplicate_of": "AAA-AAA-AAA"}),
        ("board_fr", "/board/licences/new", {**_licence_form(world), "valid_from": d(0).isoformat()}),
        ("board_ie", f"/licences/{world.licence}/decision",
         {"action": "restrict", "decided_on": d(0).isoformat(), "effective_on": d(0).isoformat(), "reason": "r",
          "scope": "s", "valid_until": ""}),
        ("board_fr", f"/board/recognitions/{recognition}/measures",
         {"action": "suspend", "decided_on": d(0).isoformat(), "reason": "r"}),
        ("clinician", "/me/recognitions/new", {"licence_id": str(world.licence), "host_state": "FR"}),
        ("other_clinician", f"/me/recognitions/{pending}/withdrawal", {"reason": "r"}),
    ]
    for who, path, valid in forms:
        client = pages.client(who)
        token = pages.token(client, "/verify")
        for name in valid:
            for junk in JUNK:
                r = client.post(path, data={"csrf_token": token, **valid, name: junk})
                body = text(r)
                assert r.status_code < 500 and "Traceback" not in body, (path, name, junk, body[-1500:])
                assert r.mimetype == "text/html", (path, name, junk)
