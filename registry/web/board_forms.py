"""A licensing board's write forms beyond licence decisions: secondments awaiting approval, registering a
clinician, issuing a licence, and host measures on recognitions.

Every rule and permission is the service's or the API helper's; the pages only collect, confirm and show.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import flash, redirect, request, url_for
from marshmallow import ValidationError
from sqlalchemy.orm import selectinload

from registry.core.auth import Account, Role, require_role
from registry.core.db import db
from registry.core.errors import Conflict, Invalid, NotFound, RegistryError
from registry.licensing import services as licensing
from registry.licensing.schemas import LicenceIn
from registry.mobility import services as mobility
from registry.mobility.api import decision_day_or_today as mobility_decision_day
from registry.mobility.api import require_board_of_state  # the API's own check
from registry.mobility.models import Secondment, SecondmentStatus
from registry.mobility.schemas import ApprovalIn, CancellationIn
from registry.people import services as people
from registry.people.api import merge_parties, require_board_officer_of_state
from registry.people.models import Profession, Sex
from registry.people.schemas import CEFR, ClinicianIn, MergeIn
from registry.recognition import services as recognition_services
from registry.recognition.api import decision_day as recognition_decision_day
from registry.recognition.api import require_host_board
from registry.recognition.models import Recognition, RecognitionAction
from registry.recognition.schemas import MeasureIn
from registry.web.base import blp, form_errors, load_form, render, today
from registry.web.confirm import dry_run

# --- secondments awaiting approval into the board's state -----------------------------------------------------

APPROVAL_FIELDS = ("decided_on",)
REFUSAL_FIELDS = ("reason",)


def _state_of(account: Account) -> str:
    return account.organisation.member_state_code


def awaiting_count(state: str) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Secondment).where(
        Secondment.host_state_code == state, Secondment.status == SecondmentStatus.PROPOSED)) or 0


def awaiting_approval(state: str) -> list[tuple[Secondment, list[Any]]]:
    """Proposed secondments into the state, soonest first, each with every condition an approval would fail
    (the mobility service's own check, with the first day each fails)."""
    rows = db.session.scalars(
        sa.select(Secondment)
        .where(Secondment.host_state_code == state, Secondment.status == SecondmentStatus.PROPOSED)
        .options(selectinload(Secondment.events), selectinload(Secondment.clinician),
                 selectinload(Secondment.home_licence), selectinload(Secondment.programme))
        .order_by(Secondment.starts_on, Secondment.id)
    ).all()
    day = today()
    return [(mobility.annotate(s, day), mobility.approval_unmet(s)[1]) for s in rows]


def _secondments_page(account: Account, status: int = 200, **extra: Any):
    context: dict[str, Any] = {"state": _state_of(account), "awaiting": awaiting_approval(_state_of(account)),
                               "day": today(), "failed": None, "failed_unmet": [], "form": {}, "errors": {},
                               "general": []}
    context.update(extra)
    failed = context["failed"]
    # A secondment that is no longer awaiting (decided meanwhile) has no card: its message goes on top.
    context["listed"] = failed is None or any(s.id == failed[0] for s, _ in context["awaiting"])
    return render("board/secondments.html", status=status, **context)


@blp.get("/board/secondments")
def board_secondments():
    return _secondments_page(require_role(Role.BOARD_OFFICER))


def _host_board_of(secondment_id: int) -> tuple[Account, Secondment]:
    require_role(Role.BOARD_OFFICER)  # before the lookup: only boards learn which ids exist
    secondment = mobility.get_secondment(secondment_id)
    account = require_board_of_state(secondment.host_state_code, "decide on a secondment into it")
    return account, secondment


def _secondment_confirm(secondment: Secondment, what: str, data: dict[str, Any], effects: list[str]):
    return render("board/secondment_confirm.html", s=mobility.annotate(secondment, today()), what=what,
                  data=data, effects=effects, form=request.form)


@blp.post("/board/secondments/<id:secondment_id>/approval")
def board_secondment_approve(secondment_id: int):
    """Approve with a confirmation step; a refusal by the service lists every unmet condition with its day."""
    account, secondment = _host_board_of(secondment_id)
    try:
        data = load_form(ApprovalIn(), APPROVAL_FIELDS)
        decided_on = mobility_decision_day(data["decided_on"], "decided_on")
        if request.form.get("confirmed") != "yes":
            _, effects = dry_run(lambda: mobility.approve(secondment, decided_on=decided_on, actor=account),
                                 main=("secondment", secondment_id))
            return _secondment_confirm(mobility.get_secondment(secondment_id), "approve",
                                       {"decided_on": decided_on}, effects)
        mobility.approve(secondment, decided_on=decided_on, actor=account)
        db.session.commit()
    except RegistryError as exc:
        db.session.rollback()
        errors, general = form_errors(exc, APPROVAL_FIELDS)
        unmet = exc.extra.get("unmet") or []
        if unmet:  # listed with the day each fails, below the summary
            general = [f"The approval was refused and nothing was recorded: {len(unmet)} condition"
                       f"{'s' if len(unmet) != 1 else ''} not met."]
        return _secondments_page(account, status=exc.status, failed=(secondment_id, "approve"), form=request.form,
                                 errors=errors, general=general, failed_unmet=unmet)
    flash(f"Secondment {secondment_id} approved: {secondment.clinician.full_name} at {secondment.host_institution}, "
          f"{secondment.starts_on.isoformat()} to {secondment.ends_on.isoformat()}.")
    return redirect(url_for("web.board_secondments"))


@blp.post("/board/secondments/<id:secondment_id>/refusal")
def board_secondment_refuse(secondment_id: int):
    """The host board declines a proposal: recorded as the proposal's cancellation, with the board's reason."""
    account, secondment = _host_board_of(secondment_id)
    try:
        data = load_form(CancellationIn(), REFUSAL_FIELDS)
        if request.form.get("confirmed") != "yes":
            _, effects = dry_run(lambda: mobility.cancel(secondment, decided_on=today(), reason=data["reason"],
                                                         actor=account), main=("secondment", secondment_id))
            return _secondment_confirm(mobility.get_secondment(secondment_id), "refuse", data, effects)
        mobility.cancel(secondment, decided_on=today(), reason=data["reason"], actor=account)
        db.session.commit()
    except RegistryError as exc:
        db.session.rollback()
        errors, general = form_errors(exc, REFUSAL_FIELDS)
        return _secondments_page(account, status=exc.status, failed=(secondment_id, "refuse"), form=request.form,
                                 errors=errors, general=general)
    flash(f"Secondment {secondment_id} refused (cancelled): {secondment.clinician.full_name}.")
    return redirect(url_for("web.board_secondments"))


# --- registering a clinician ----------------------------------------------------------------------------------

CLINICIAN_FIELDS = ("family_name", "given_names", "native_name", "date_of_birth", "sex", "nationality",
                    "home_state_code", "email", "not_duplicate_of", "languages")
LANGUAGE_ROWS = 3


def _clinician_input() -> tuple[dict[str, Any], list[int]]:
    """The posted form as ClinicianIn expects it: blanks left out, language rows as a list (with their row
    numbers, to put an error next to the row it concerns)."""
    form = request.form
    raw: dict[str, Any] = {name: form[name].strip() for name in CLINICIAN_FIELDS[:8] if form.get(name, "").strip()}
    rows, languages = [], []
    for row in range(LANGUAGE_ROWS):
        language = form.get(f"language-{row}", "").strip()
        level = form.get(f"level-{row}", "").strip()
        if language or level:
            rows.append(row)
            languages.append({"language": language, "level": level})
    raw["languages"] = languages
    raw["not_duplicate_of"] = [n.strip() for n in form.getlist("not_duplicate_of") if n.strip()]
    return raw, rows


def _load_clinician() -> dict[str, Any]:
    raw, rows = _clinician_input()
    try:
        return ClinicianIn().load(raw)
    except ValidationError as exc:
        messages = dict(exc.messages) if isinstance(exc.messages, dict) else {"_schema": exc.messages}
        by_row = messages.pop("languages", None)
        if isinstance(by_row, dict):
            for index, inner in by_row.items():
                row = rows[index] if isinstance(index, int) and index < len(rows) else 0
                for sub, text in (inner.items() if isinstance(inner, dict) else [("language", inner)]):
                    messages[f"{'level' if sub == 'level' else 'language'}-{row}"] = text
        elif by_row is not None:
            messages["language-0"] = by_row
        raise Invalid("some fields need attention", errors=messages) from exc


def _language_fields() -> tuple[str, ...]:
    return tuple(f"{kind}-{row}" for row in range(LANGUAGE_ROWS) for kind in ("language", "level"))


def _register_page(account: Account, status: int = 200, **extra: Any):
    state = _state_of(account)
    context: dict[str, Any] = {
        "state": state, "form": {"nationality": state}, "errors": {}, "general": [], "existing": [],
        "sexes": [(s.value, s.value) for s in Sex], "levels": [(c, c) for c in CEFR], "rows": range(LANGUAGE_ROWS),
        "acknowledged": [],
    }
    context.update(extra)
    return render("board/register.html", status=status, **context)


@blp.get("/board/clinicians/new")
def board_register():
    return _register_page(require_role(Role.BOARD_OFFICER))


@blp.post("/board/clinicians/new")
def board_register_submit():
    """Register a clinician of the board's own state; a possible duplicate points at the existing record and can be
    confirmed as a different person (the API's not_duplicate_of)."""
    account = require_role(Role.BOARD_OFFICER)
    try:
        data = _load_clinician()
        require_board_officer_of_state(data["home_state_code"])
        clinician = people.create_clinician(today=today(), **data)
        db.session.commit()
    except RegistryError as exc:
        db.session.rollback()
        if exc.status == 403:
            raise
        errors, general = form_errors(exc, CLINICIAN_FIELDS[:9] + _language_fields())
        return _register_page(account, status=exc.status, form=request.form, errors=errors, general=general,
                              existing=list(exc.extra.get("existing") or []),
                              acknowledged=request.form.getlist("not_duplicate_of"))
    flash(f"Registered {clinician.full_name} with registry number {clinician.registry_number}.")
    return redirect(url_for("web.standing_page", registry_number=clinician.registry_number))


# --- issuing a licence at the board ---------------------------------------------------------------------------

LICENCE_FIELDS = ("clinician", "profession", "number", "decided_on", "valid_from", "valid_until")


def _issue_page(status: int = 200, **extra: Any):
    professions = db.session.scalars(sa.select(Profession).order_by(Profession.code)).all()
    context: dict[str, Any] = {"form": {"decided_on": today().isoformat()}, "errors": {}, "general": [],
                               "professions": [(p.code, f"{p.code} {p.title}") for p in professions]}
    context.update(extra)
    return render("board/issue.html", status=status, **context)


@blp.get("/board/licences/new")
def board_issue():
    require_role(Role.BOARD_OFFICER)
    clinician = request.args.get("clinician", "").strip()[:20]
    return _issue_page(form={"decided_on": today().isoformat(), "clinician": clinician})


@blp.post("/board/licences/new")
def board_issue_submit():
    """Issue a licence at the signed-in officer's own board (as POST /api/v1/licences)."""
    account = require_role(Role.BOARD_OFFICER)
    try:
        data = load_form(LicenceIn(), LICENCE_FIELDS)
        try:
            clinician = people.get_clinician(data["clinician"])
        except NotFound as exc:
            raise Invalid("unknown clinician", errors={"clinician": [exc.detail]}) from exc
        licence = licensing.issue_licence(
            board=account.organisation, clinician=clinician, profession_code=data["profession"],
            number=data["number"], decided_on=data["decided_on"], valid_from=data["valid_from"] or data["decided_on"],
            valid_until=data["valid_until"], actor=account, today=today())
        db.session.commit()
    except RegistryError as exc:
        db.session.rollback()
        if isinstance(exc, Conflict) and exc.extra.get("existing_id") and not exc.errors:
            exc.errors = {"number": [exc.detail]}  # the number is taken at this board: say so next to it
        errors, general = form_errors(exc, LICENCE_FIELDS)
        return _issue_page(status=exc.status, form=request.form, errors=errors, general=general)
    flash(f"Licence {licence.number} ({licence.profession_code}) issued by {licence.board.code} to "
          f"{clinician.full_name}.")
    return redirect(url_for("web.standing_page", registry_number=clinician.registry_number))


# --- host measures on a recognition into the board's state ----------------------------------------------------

MEASURE_FIELDS = ("action", "decided_on", "reason")
MEASURES = [(RecognitionAction.SUSPEND.value, "Suspend"), (RecognitionAction.REINSTATE.value, "Reinstate"),
            (RecognitionAction.REVOKE.value, "Revoke (final)")]


def _host_board_of_recognition(recognition_id: int) -> tuple[Account, Recognition]:
    require_role(Role.BOARD_OFFICER)  # before the lookup: only boards learn which ids exist
    recognition = recognition_services.get_recognition(recognition_id)
    return require_host_board(recognition), recognition


def _measure_page(recognition: Recognition, status: int = 200, **extra: Any):
    current = recognition_services.status_on(recognition, today())
    context: dict[str, Any] = {"r": recognition, "current": current.value if current else "not yet applied",
                               "measures": MEASURES, "form": {"decided_on": today().isoformat()}, "errors": {},
                               "general": [], "confirm": None, "effects": []}
    context.update(extra)
    return render("board/measure.html", status=status, **context)


@blp.get("/board/recognitions/<id:recognition_id>/measures")
def board_measure(recognition_id: int):
    _, recognition = _host_board_of_recognition(recognition_id)
    return _measure_page(recognition, form={"action": request.args.get("action", ""),
                                            "decided_on": today().isoformat()})


@blp.post("/board/recognitions/<id:recognition_id>/measures")
def board_measure_submit(recognition_id: int):
    """Suspend, reinstate or revoke a recognition on the host board's own account, after a confirmation."""
    account, recognition = _host_board_of_recognition(recognition_id)
    try:
        data = load_form(MeasureIn(), MEASURE_FIELDS)
        decided_on = recognition_decision_day(data["decided_on"])

        def measure() -> Recognition:
            return recognition_services.host_measure(recognition, data["action"], decided_on=decided_on,
                                                     reason=data["reason"], actor=account)

        if request.form.get("confirmed") != "yes":
            _, effects = dry_run(measure, main=("recognition", recognition_id))
            recognition = recognition_services.get_recognition(recognition_id)
            return _measure_page(recognition, form=request.form, effects=effects,
                                 confirm={"action": data["action"].value, "decided_on": decided_on,
                                          "reason": data["reason"]})
        measure()
        db.session.commit()
    except RegistryError as exc:
        db.session.rollback()
        errors, general = form_errors(exc, MEASURE_FIELDS)
        return _measure_page(recognition_services.get_recognition(recognition_id), status=exc.status,
                             form=request.form, errors=errors, general=general)
    flash(f"Recognition {recognition_id} in {recognition.host_state_code}: {data['action'].value} recorded.")
    return redirect(url_for("web.standing_page", registry_number=recognition.clinician.registry_number))



# --- merging a duplicate record into this one -------------------------------------------------------------------

MERGE_FIELDS = ("merged", "reason")


def _merge_page(survivor: Any, status: int = 200, **extra: Any):
    context: dict[str, Any] = {"survivor": survivor, "form": {}, "errors": {}, "general": [], "merged": None,
                               "moved": None}
    context.update(extra)
    return render("board/merge.html", status=status, **context)


@blp.get("/board/clinicians/<registry_number>/merge")
def board_merge(registry_number: str):
    require_role(Role.BOARD_OFFICER, Role.SECRETARIAT_ADMIN)  # before the lookup
    return _merge_page(people.get_clinician(registry_number))


@blp.post("/board/clinicians/<registry_number>/merge")
def board_merge_submit(registry_number: str):
    """Merge a duplicate record into this one, after a confirmation that shows both records and what moves; the
    API's rules and permission (merge_parties, merge_clinicians) decide."""
    require_role(Role.BOARD_OFFICER, Role.SECRETARIAT_ADMIN)
    survivor = people.get_clinician(registry_number)
    try:
        data = load_form(MergeIn(), MERGE_FIELDS)
        account, survivor, merged = merge_parties(registry_number, data["merged"])
        if request.form.get("confirmed") != "yes":
            moved, _ = dry_run(lambda: dict(people.merge_clinicians(survivor, merged, reason=data["reason"],
                                                                    account=account).moved),
                               main=("clinician", survivor.registry_number))
            return _merge_page(people.get_clinician(registry_number), form=request.form,
                               merged=people.get_clinician(data["merged"]), moved=moved)
        people.merge_clinicians(survivor, merged, reason=data["reason"], account=account)
        db.session.commit()
    except RegistryError as exc:
        db.session.rollback()
        if exc.status in (401, 403):
            raise
        errors, general = form_errors(exc, MERGE_FIELDS)
        return _merge_page(people.get_clinician(registry_number), status=exc.status, form=request.form,
                           errors=errors, general=general)
    flash(f"Record {data['merged']} merged into {survivor.registry_number}; its number now leads here.")
    return redirect(url_for("web.standing_page", registry_number=survivor.registry_number))
