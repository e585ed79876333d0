"""A licensing board's pages: search, a clinician's standing on a date, licence decisions, recognitions, alerts."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import flash, redirect, request, url_for
from marshmallow import ValidationError

from registry.core.auth import Account, Role, current_account, require_role
from registry.core.db import db
from registry.core.errors import RegistryError
from registry.core.schemas import OnDateArgs
from registry.licensing import alerts as alert_services
from registry.licensing import services as licensing
from registry.licensing.api import require_board_of
from registry.licensing.models import Licence, LicenceAction
from registry.licensing.schemas import LicenceEventIn
from registry.people import services as people
from registry.recognition import services as recognition_services
from registry.recognition.api import require_host_board
from registry.recognition.models import Recognition, RecognitionStatus
from registry.recognition.schemas import DecisionIn
from registry.web.base import blp, form_errors, load_form, render, today
from registry.web.board_forms import awaiting_count
from registry.web.clinician import standing_document
from registry.web.confirm import dry_run

# Every decision the API records after the issue, as the page offers them.
PAGE_ACTIONS = (
    (LicenceAction.RENEW, "Renew (extend validity)"),
    (LicenceAction.RESTRICT, "Restrict (with a scope)"),
    (LicenceAction.SUSPEND, "Suspend"),
    (LicenceAction.REINSTATE, "Reinstate (lift a suspension or restriction)"),
    (LicenceAction.REVOKE, "Revoke (final)"),
    (LicenceAction.SURRENDER, "Record a surrender (final)"),
)
DECISION_FIELDS = ("action", "decided_on", "effective_on", "reason", "scope", "valid_until")


@blp.get("/board")
def board_home():
    account = require_role(Role.BOARD_OFFICER)
    state = account.organisation.member_state_code
    unacknowledged = alert_services.alerts_for_state(state, unacknowledged=True)
    queue = _queue(state)
    return render("board/home.html", unacknowledged=len(unacknowledged), pending=len(queue),
                  overdue=sum(1 for _, late in queue if late), state=state,
                  secondments=awaiting_count(state))


@blp.get("/search")
def search():
    """Clinicians by name, registry number or licence number (boards and the secretariat)."""
    require_role(Role.BOARD_OFFICER, Role.SECRETARIAT_ADMIN)
    q = request.args.get("q", "").strip()[:200]
    licence_number = request.args.get("licence_number", "").strip()[:40]
    results, total = ([], 0)
    if q or licence_number:
        results, total = people.search_clinicians(q=q or None, licence_number=licence_number or None,
                                                  home_state=None, page=1, page_size=50)
    return render("board/search.html", q=q, licence_number=licence_number, results=results, total=total,
                  searched=bool(q or licence_number))


@blp.get("/clinicians/<registry_number>")
def standing_page(registry_number: str):
    """Everything on a clinician as on a date (boards, the secretariat, the clinician themself); each read logged."""
    account = current_account()
    errors: dict[str, list[str]] = {}
    day = today()
    if request.args.get("on"):
        try:
            day = OnDateArgs().load({"on": request.args["on"]})["on"] or day
        except ValidationError as exc:  # shown next to the date field
            errors["on"] = [str(m) for m in exc.messages.get("on", ["is not a date"])]
    document = standing_document(account, registry_number, day)
    own_board = account.organisation_id if account.role is Role.BOARD_OFFICER else None
    own_state = account.organisation.member_state_code if own_board else None
    clinician = document["clinician"]
    may_merge = account.role is Role.SECRETARIAT_ADMIN or own_state == clinician.home_state_code
    return render("board/standing.html", status=422 if errors else 200, doc=document, day=day,
                  errors=errors, on_text=request.args.get("on", ""), own_board=own_board, own_state=own_state,
                  board_codes=_board_codes(document), may_merge=may_merge,
                  merged_numbers=[m.merged.registry_number for m in people.merges_into(clinician.id)])


def _board_codes(document: dict[str, Any]) -> dict[int, str]:
    """The code of each licence's board, to offer decisions only on the viewer's own board's licences."""
    ids = [lic.id for lic in document["licences"]]
    rows = db.session.execute(sa.select(Licence.id, Licence.board_id).where(Licence.id.in_(ids))).all() if ids else []
    return {licence_id: board_id for licence_id, board_id in rows}


# --- licence decisions: a form, a confirmation step, then the service -------------------------------------------


def _decidable(licence_id: int) -> tuple[Account, Licence]:
    require_role(Role.BOARD_OFFICER)  # before the lookup: only boards learn which ids exist
    licence = licensing.find_licence(licence_id)
    return require_board_of(licence), licence


def _decision_page(licence: Licence, status: int = 200, **extra: Any):
    context: dict[str, Any] = {"licence": licence, "state": licensing.state_on(licence, today()), "day": today(),
                               "actions": [(a.value, label) for a, label in PAGE_ACTIONS], "form": {}, "errors": {},
                               "general": [], "confirm": None, "effects": [], "fields": DECISION_FIELDS}
    context.update(extra)
    return render("board/decision.html", status=status, **context)


@blp.get("/licences/<id:licence_id>/decision")
def licence_decision(licence_id: int):
    account, licence = _decidable(licence_id)
    return _decision_page(licence, form={"action": request.args.get("action", ""), "decided_on": today().isoformat()})


@blp.post("/licences/<id:licence_id>/decision")
def licence_decision_submit(licence_id: int):
    account, licence = _decidable(licence_id)
    try:
        data = load_form(LicenceEventIn(), DECISION_FIELDS)
        if request.form.get("confirmed") != "yes":
            # The service checks the decision and says what it sets off; undone, then confirmed by the officer.
            _, effects = dry_run(lambda: licensing.record_event(licence, actor=account, today=today(), **data),
                                 main=("licence", licence.id))
            licence = licensing.find_licence(licence_id)
            return _decision_page(licence, form=request.form, confirm=data, effects=effects)
        event = licensing.record_event(licence, actor=account, today=today(), **data)
        db.session.commit()
    except RegistryError as exc:
        db.session.rollback()
        errors, general = form_errors(exc, DECISION_FIELDS)
        return _decision_page(licence, status=exc.status, form=request.form, errors=errors, general=general)
    flash(f"Licence {licence.number}: {event.action.value} recorded, effective {event.effective_on.isoformat()}.")
    return redirect(url_for("web.standing_page", registry_number=licence.clinician.registry_number))


# --- the recognition queue --------------------------------------------------------------------------------------


def _queue(state: str) -> list[tuple[Recognition, bool]]:
    """Pending applications into the state, soonest deadline first (so the overdue come first), each marked."""
    rows = db.session.scalars(
        sa.select(Recognition)
        .where(Recognition.host_state_code == state, Recognition.status == RecognitionStatus.PENDING)
        .order_by(Recognition.decision_due_on, Recognition.id)
    ).all()
    day = today()
    return [(r, r.decision_due_on < day) for r in rows]


def _queue_page(account: Account, status: int = 200, **extra: Any):
    context: dict[str, Any] = {"queue": _queue(account.organisation.member_state_code), "day": today(),
                               "failed_id": None, "form": {}, "errors": {}, "general": []}
    context.update(extra)
    return render("board/recognitions.html", status=status, **context)


@blp.get("/recognitions")
def recognition_queue():
    return _queue_page(require_role(Role.BOARD_OFFICER))


@blp.post("/recognitions/<id:recognition_id>/decision")
def recognition_decide(recognition_id: int):
    require_role(Role.BOARD_OFFICER)
    recognition = recognition_services.get_recognition(recognition_id)
    account = require_host_board(recognition)
    try:
        data = load_form(DecisionIn(), ("decision", "conditions", "reason"))
        if data["decision"] == "grant":
            recognition_services.grant(recognition, decided_on=today(), conditions=data["conditions"], actor=account)
        else:
            recognition_services.refuse(recognition, decided_on=today(), reason=data["reason"], actor=account)
        db.session.commit()
    except RegistryError as exc:
        db.session.rollback()
        errors, general = form_errors(exc, ("decision", "conditions", "reason"))
        return _queue_page(account, status=exc.status, failed_id=recognition_id, form=request.form, errors=errors,
                           general=general)
    flash(f"Recognition {recognition.id}: {recognition.status.value}.")
    return redirect(url_for("web.recognition_queue"))


# --- alerts -----------------------------------------------------------------------------------------------------


@blp.get("/alerts")
def alerts_page():
    account = require_role(Role.BOARD_OFFICER)
    state = account.organisation.member_state_code
    return render("board/alerts.html", alerts=alert_services.alerts_for_state(state, unacknowledged=True),
                  state=state)


@blp.post("/alerts/<id:alert_id>/acknowledgement")
def alert_acknowledge(alert_id: int):
    account = require_role(Role.BOARD_OFFICER)
    alert = alert_services.get_alert(alert_id)
    alert_services.acknowledge(alert, account)
    db.session.commit()
    flash(f"Alert {alert.id} acknowledged for {account.organisation.member_state_code}.")
    return redirect(url_for("web.alerts_page"))
