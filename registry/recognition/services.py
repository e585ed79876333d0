"""Recognition rules (DOMAIN.md "Recognition"): agreements, applications, decisions, cascades."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from curricula.models import Completion, Course, Outcome
from curricula.services import add_months, check_course_codes
from registry.core import audit
from registry.core.auth import Account
from registry.core.db import db
from registry.core.errors import Conflict, Invalid, NotFound, RegistryError
from registry.core.events import licence_event_recorded, recognition_event_recorded
from registry.licensing import alerts
from registry.licensing.models import Licence, LicenceAction, LicenceEvent, LicenceStatus
from registry.licensing.services import state_on
from registry.people import services as people
from registry.people.models import Clinician, MemberState
from registry.recognition.models import (
    CEFR_LEVELS,
    Agreement,
    Recognition,
    RecognitionAction,
    RecognitionEvent,
    RecognitionStatus,
)


class ConditionsUnmet(RegistryError):
    """The application does not meet the agreement's conditions; every unmet one is listed."""

    status = 422
    title = "Conditions not met"
    slug = "conditions-unmet"


# --- agreements ---------------------------------------------------------------------------------


def create_agreement(
    *, code: str, title: str, states: list[str], professions: list[str], in_force_from: date,
    in_force_until: date | None, required_courses: list[str], language_level: str | None,
    adaptation_months: int, validity_months: int | None, decision_deadline_days: int,
    silence_is_approval: bool,
) -> Agreement:
    """Record an agreement between two (bilateral) or more (multilateral) member states."""
    if db.session.scalar(sa.select(Agreement.id).where(Agreement.code == code)) is not None:
        raise Conflict(f"agreement {code} exists already")
    errors: dict[str, list[str]] = {}
    state_rows, profession_rows = people.states_and_professions(states, professions, errors)
    if len(set(states)) < 2:
        errors.setdefault("states", []).append("an agreement binds at least two member states")
    check_course_codes(required_courses, errors)
    if in_force_until is not None and in_force_until < in_force_from:
        errors["in_force_until"] = ["is before in_force_from"]
    if errors:
        raise Invalid("the agreement is not valid", errors=errors)
    agreement = Agreement(
        code=code, title=title, in_force_from=in_force_from, in_force_until=in_force_until,
        required_courses=sorted(set(required_courses)), language_level=language_level,
        adaptation_months=adaptation_months, validity_months=validity_months,
        decision_deadline_days=decision_deadline_days, silence_is_approval=silence_is_approval,
    )
    agreement.state_codes_rel = list(state_rows)
    agreement.professions_rel = list(profession_rows)
    db.session.add(agreement)
    db.session.flush()
    audit.record("agreement.create", "agreement", code, {
        "states": sorted(states), "professions": sorted(professions), "in_force_from": in_force_from,
        "in_force_until": in_force_until, "required_courses": sorted(set(required_courses)),
        "language_level": language_level, "adaptation_months": adaptation_months,
        "validity_months": validity_months, "decision_deadline_days": decision_deadline_days,
        "silence_is_approval": silence_is_approval})
    return agreement


def end_agreement(agreement: Agreement, in_force_until: date) -> Agreement:
    """Set the last day an agreement is in force (recognitions already granted keep their validity)."""
    if in_force_until < agreement.in_force_from:
        raise Invalid("the end is before the start", errors={"in_force_until": ["is before in_force_from"]})
    old = agreement.in_force_until
    agreement.in_force_until = in_force_until
    db.session.flush()
    audit.record("agreement.end", "agreement", agreement.code, {"in_force_until": [old, in_force_until]})
    return agreement


def get_agreement(code: str) -> Agreement:
    agreement = db.session.scalar(sa.select(Agreement).where(Agreement.code == code))
    if agreement is None:
        raise NotFound(f"no agreement {code}")
    return agreement


def agreements_covering(home: str, host: str, profession: str, day: date) -> list[Agreement]:
    candidates = db.session.scalars(sa.select(Agreement).order_by(Agreement.in_force_from, Agreement.id)).all()
    return [
        a for a in candidates
        if a.in_force_on(day) and {home, host} <= set(a.state_codes) and profession in a.profession_codes
    ]


# --- conditions ---------------------------------------------------------------------------------


@dataclass
class Unmet:
    condition: str
    detail: str
    fails_on: date | None = None

    def as_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"condition": self.condition, "detail": self.detail}
        if self.fails_on is not None:
            body["fails_on"] = self.fails_on.isoformat()
        return body


def course_valid_until(clinician_id: int, course_codes: list[str], day: date) -> dict[str, date | None | bool]:
    """For each course: False if no passed completion is current on `day`, else how long the best one lasts
    (None = no expiry)."""
    result: dict[str, date | None | bool] = {code: False for code in course_codes}
    if not course_codes:
        return result
    rows = db.session.execute(
        sa.select(Course.code, Completion.valid_until, Completion.withdrawn_at)
        .join(Course, Course.id == Completion.course_id)
        .where(
            Completion.clinician_id == clinician_id,
            Course.code.in_(course_codes),
            Completion.outcome == Outcome.PASSED,
            Completion.completed_on <= day,
        )
    ).all()
    for code, valid_until, withdrawn_at in rows:
        if withdrawn_at is not None and withdrawn_at.date() <= day:
            continue
        if valid_until is not None and valid_until < day:
            continue
        best = result[code]
        if best is False or valid_until is None or (best is not None and valid_until > best):
            result[code] = valid_until
    return result


def _level_at_least(level: str, required: str) -> bool:
    if level == "native":
        return True
    return level in CEFR_LEVELS and CEFR_LEVELS.index(level) >= CEFR_LEVELS.index(required)


def agreement_unmet(agreement: Agreement, clinician: Clinician, host: MemberState, day: date) -> list[Unmet]:
    """What the clinician lacks under one agreement: courses current on `day`, language level."""
    unmet: list[Unmet] = []
    for code, until in course_valid_until(clinician.id, agreement.required_courses, day).items():
        if until is False:
            unmet.append(Unmet("course_current", f"no current passed completion of course {code}"))
    if agreement.language_level:
        ok = any(
            entry.get("language", "").split("-")[0] in {lang.split("-")[0] for lang in host.official_languages}
            and _level_at_least(str(entry.get("level", "")), agreement.language_level)
            for entry in clinician.languages or []
        )
        if not ok:
            languages = ", ".join(host.official_languages)
            unmet.append(Unmet("language_level",
                               f"needs level {agreement.language_level} or better in one of {languages}"))
    return unmet


def application_unmet(licence: Licence, host_state_code: str, day: date) -> tuple[Agreement | None, list[Unmet]]:
    """Every unmet condition for applying on `day`, and the agreement it would rest on."""
    clinician = licence.clinician
    home = licence.board.member_state_code
    host = db.session.get(MemberState, host_state_code)
    if host is None:
        raise Invalid("unknown host state", errors={"host_state": [f"no member state {host_state_code}"]})
    unmet: list[Unmet] = []
    if host_state_code == home:
        unmet.append(Unmet("host_differs", f"licence {licence.number} is already a licence of {home}"))
    status = state_on(licence, day).status
    if status is not LicenceStatus.ACTIVE:
        unmet.append(Unmet("licence_active", f"licence {licence.number} is {status.value} on {day.isoformat()}"))
    for alert in alerts.open_alerts(clinician.id, day):
        unmet.append(Unmet("no_open_alert",
                           f"alert {alert.id} ({alert.measure.value} by {alert.board.code} from "
                           f"{alert.effective_from.isoformat()}) is open"))
    agreements = agreements_covering(home, host_state_code, licence.profession_code, day)
    if not agreements:
        unmet.append(Unmet("agreement_in_force",
                           f"no agreement in force on {day.isoformat()} covers {home} → {host_state_code} "
                           f"for profession {licence.profession_code}"))
        return None, unmet
    # Several agreements may cover the pair: rest on the one the clinician satisfies best.
    scored = sorted(((agreement_unmet(a, clinician, host, day), a) for a in agreements), key=lambda x: len(x[0]))
    best_unmet, best = scored[0]
    return best, unmet + best_unmet


# --- status ------------------------------------------------------------------------------------

_RESULT = {
    RecognitionAction.APPLY: RecognitionStatus.PENDING,
    RecognitionAction.GRANT: RecognitionStatus.GRANTED,
    RecognitionAction.REFUSE: RecognitionStatus.REFUSED,
    RecognitionAction.WITHDRAW: RecognitionStatus.WITHDRAWN,
    RecognitionAction.SUSPEND: RecognitionStatus.SUSPENDED,
    RecognitionAction.REINSTATE: RecognitionStatus.GRANTED,
    RecognitionAction.REVOKE: RecognitionStatus.REVOKED,
}
_ALLOWED_FROM = {
    RecognitionAction.GRANT: {RecognitionStatus.PENDING},
    RecognitionAction.REFUSE: {RecognitionStatus.PENDING},
    RecognitionAction.WITHDRAW: {RecognitionStatus.PENDING},
    RecognitionAction.SUSPEND: {RecognitionStatus.GRANTED},
    RecognitionAction.REINSTATE: {RecognitionStatus.SUSPENDED},
    RecognitionAction.REVOKE: {RecognitionStatus.GRANTED, RecognitionStatus.SUSPENDED},
}


def status_on(recognition: Recognition, day: date, events: list[RecognitionEvent] | None = None
              ) -> RecognitionStatus | None:
    """Replay the events effective on or before `day`; None before the application; expired from dates."""
    status: RecognitionStatus | None = None
    for event in events if events is not None else recognition.events:
        if event.effective_on > day:
            break
        status = _RESULT[event.action]
    if (
        status in (RecognitionStatus.GRANTED, RecognitionStatus.SUSPENDED)
        and recognition.valid_until is not None
        and day > recognition.valid_until
    ):
        return RecognitionStatus.EXPIRED
    return status


def _record(recognition: Recognition, action: RecognitionAction, *, decided_on: date, effective_on: date | None = None,
            reason: str | None = None, actor: Account | None, cause: LicenceEvent | None = None,
            changes: dict[str, Any] | None = None) -> RecognitionEvent:
    """Append one event if the move is legal on its effective date; keep `status` as the latest outcome."""
    events = list(recognition.events)
    latest = events[-1].effective_on if events else decided_on
    effective_on = max(effective_on or decided_on, latest)
    before = status_on(recognition, effective_on, events)
    if action is not RecognitionAction.APPLY and before not in _ALLOWED_FROM[action]:
        state = before.value if before else "not yet applied"
        raise Conflict(f"cannot {action.value} recognition {recognition.id}: it is {state} on "
                       f"{effective_on.isoformat()}", current_status=state)
    event = RecognitionEvent(recognition=recognition, action=action, decided_on=decided_on, effective_on=effective_on,
                             reason=reason, cause_licence_event_id=cause.id if cause else None,
                             actor_id=actor.id if actor else None)
    db.session.add(event)
    recognition.status = _RESULT[action]
    db.session.flush()
    audit.record(f"recognition.{action.value}", "recognition", recognition.id,
                 {"effective_on": effective_on, "reason": reason,
                  "cause_licence_event": cause.id if cause else None,
                  "status": [before.value if before else None, recognition.status.value]} | (changes or {}))
    recognition_event_recorded.send(recognition, recognition=recognition, event=event, actor=actor)
    return event


def get_recognition(recognition_id: int) -> Recognition:
    recognition = db.session.get(Recognition, recognition_id)
    if recognition is None:
        raise NotFound(f"no recognition {recognition_id}")
    return recognition


# --- applying and deciding -----------------------------------------------------------------------


def apply(licence: Licence, host_state_code: str, *, actor: Account | None, today: date) -> Recognition:
    """Apply for recognition of a home licence in a host state; refused with every unmet condition."""
    existing = db.session.scalar(
        sa.select(Recognition).where(
            Recognition.licence_id == licence.id,
            Recognition.host_state_code == host_state_code,
            Recognition.status.in_([RecognitionStatus.PENDING, RecognitionStatus.GRANTED,
                                    RecognitionStatus.SUSPENDED]),
        )
    )
    if existing is not None and status_on(existing, today) is not RecognitionStatus.EXPIRED:
        raise Conflict(f"licence {licence.number} already has a {existing.status.value} recognition in "
                       f"{host_state_code} (recognition {existing.id})", existing_id=existing.id)
    agreement, unmet = application_unmet(licence, host_state_code, today)
    if unmet:
        raise ConditionsUnmet(
            f"{len(unmet)} condition{'s' if len(unmet) != 1 else ''} not met: "
            + "; ".join(u.detail for u in unmet),
            unmet=[u.as_dict() for u in unmet],
        )
    assert agreement is not None
    recognition = Recognition(
        clinician_id=licence.clinician_id, licence=licence, host_state_code=host_state_code,
        profession_code=licence.profession_code, agreement=agreement, status=RecognitionStatus.PENDING,
        applied_on=today, decision_due_on=today + timedelta(days=agreement.decision_deadline_days),
        applied_by_id=actor.id if actor else None,
    )
    db.session.add(recognition)
    db.session.flush()
    _record(recognition, RecognitionAction.APPLY, decided_on=today, actor=actor,
            changes={"licence": licence.number, "host_state": host_state_code, "agreement": agreement.code,
                     "decision_due_on": recognition.decision_due_on})
    return recognition


_ENDS_LICENCE = (LicenceAction.SUSPEND, LicenceAction.REVOKE, LicenceAction.SURRENDER)


def _licence_unmet(licence: Licence, day: date) -> Unmet | None:
    """Why a recognition granted (or reinstated) on `day` could not rest on its home licence: the licence is not
    active that day, or a decision already recorded suspends, revokes or surrenders it later. The cascade from
    the licence ran when that decision was recorded, and would not reach a recognition granted afterwards."""
    status = state_on(licence, day).status
    if status is not LicenceStatus.ACTIVE:
        return Unmet("licence_active", f"home licence {licence.number} is {status.value} on {day.isoformat()}")
    for event in licence.events:
        if event.effective_on > day and event.action in _ENDS_LICENCE:
            later = state_on(licence, event.effective_on).status
            if later is not LicenceStatus.ACTIVE:
                return Unmet("licence_active", f"home licence {licence.number} is {later.value} from "
                                               f"{event.effective_on.isoformat()}")
    return None


def _decision_blockers(recognition: Recognition, day: date) -> list[Unmet]:
    """A grant must never rest on a home licence that is not active, or on an open alert."""
    unmet = []
    licence_unmet = _licence_unmet(recognition.licence, day)
    if licence_unmet is not None:
        unmet.append(licence_unmet)
    for alert in alerts.open_alerts(recognition.clinician_id, day):
        unmet.append(Unmet("no_open_alert", f"alert {alert.id} ({alert.measure.value}) is open"))
    return unmet


def _not_before_application(recognition: Recognition, decided_on: date) -> None:
    if decided_on < recognition.applied_on:
        raise Invalid("a decision cannot precede the application",
                      errors={"decided_on": [f"is before the application of {recognition.applied_on.isoformat()}"]})


def grant(recognition: Recognition, *, decided_on: date, conditions: str | None, actor: Account | None,
          tacit: bool = False) -> Recognition:
    """Grant a pending application; its validity runs from the grant for the agreement's months."""
    _not_before_application(recognition, decided_on)
    blockers = _decision_blockers(recognition, decided_on)
    if blockers:
        raise Conflict("cannot grant: " + "; ".join(b.detail for b in blockers),
                       unmet=[b.as_dict() for b in blockers])
    agreement = recognition.agreement
    if agreement.adaptation_months and not conditions:
        conditions = f"adaptation period of {agreement.adaptation_months} months"
    recognition.granted_on = decided_on
    recognition.valid_until = (add_months(decided_on, agreement.validity_months) - timedelta(days=1)
                               if agreement.validity_months else None)
    recognition.conditions = conditions
    recognition.tacit = tacit
    _record(recognition, RecognitionAction.GRANT, decided_on=decided_on, actor=actor,
            reason="tacit approval: no decision by the deadline" if tacit else None,
            changes={"conditions": conditions, "valid_until": recognition.valid_until, "tacit": tacit})
    return recognition


def refuse(recognition: Recognition, *, decided_on: date, reason: str, actor: Account | None) -> Recognition:
    _not_before_application(recognition, decided_on)
    _record(recognition, RecognitionAction.REFUSE, decided_on=decided_on, reason=reason, actor=actor)
    return recognition


def withdraw(recognition: Recognition, *, decided_on: date, reason: str | None, actor: Account | None) -> Recognition:
    _record(recognition, RecognitionAction.WITHDRAW, decided_on=decided_on, reason=reason, actor=actor)
    return recognition


def host_measure(recognition: Recognition, action: RecognitionAction, *, decided_on: date, reason: str,
                 actor: Account | None) -> Recognition:
    """The host board suspends, reinstates or revokes a recognition on its own account."""
    if action is RecognitionAction.REINSTATE:
        cause = _current_suspension(recognition)
        if cause is not None and cause.cause_licence_event_id is not None:
            raise Conflict("this suspension follows the home licence's suspension; it is lifted when the "
                           "home licence is reinstated")
        # The host's own suspension may be lifted only while the home licence holds (it may have been suspended
        # meanwhile: the cascade then found the recognition suspended already and recorded nothing).
        unmet = _licence_unmet(recognition.licence, decided_on)
        if unmet is not None:
            raise Conflict(f"cannot reinstate: {unmet.detail}", unmet=[unmet.as_dict()])
    _record(recognition, action, decided_on=decided_on, reason=reason, actor=actor)
    return recognition


def _current_suspension(recognition: Recognition) -> RecognitionEvent | None:
    for event in reversed(recognition.events):
        if event.action is RecognitionAction.SUSPEND:
            return event
        if event.action in (RecognitionAction.REINSTATE, RecognitionAction.GRANT):
            return None
    return None


def overdue(host_state_code: str, today: date) -> list[Recognition]:
    """Pending applications past their decision deadline, oldest deadline first."""
    return list(db.session.scalars(
        sa.select(Recognition)
        .where(Recognition.host_state_code == host_state_code, Recognition.status == RecognitionStatus.PENDING,
               Recognition.decision_due_on < today)
        .order_by(Recognition.decision_due_on, Recognition.id)
    ))


def settle(today: date) -> tuple[list[Recognition], list[tuple[Recognition, str]]]:
    """Record tacit grants where the agreement counts silence past the deadline as approval.

    Returns (granted, skipped with reason): a tacit grant never rests on an inactive licence or an open alert.
    """
    pending = db.session.scalars(
        sa.select(Recognition).join(Agreement)
        .where(Recognition.status == RecognitionStatus.PENDING, Recognition.decision_due_on < today,
               Agreement.silence_is_approval.is_(True))
        .order_by(Recognition.id)
    ).all()
    granted, skipped = [], []
    for recognition in pending:
        day = recognition.decision_due_on + timedelta(days=1)
        blockers = _decision_blockers(recognition, day)
        if blockers:
            skipped.append((recognition, "; ".join(b.detail for b in blockers)))
            continue
        grant(recognition, decided_on=day, conditions=None, actor=None, tacit=True)
        granted.append(recognition)
    return granted, skipped


def recognitions_of(clinician_id: int) -> list[Recognition]:
    return list(db.session.scalars(
        sa.select(Recognition).where(Recognition.clinician_id == clinician_id)
        .options(selectinload(Recognition.events)).order_by(Recognition.id)
    ))


# --- cascades from the home licence (atomic with the licence decision) ---------------------------


_REVOKED_BECAUSE = {LicenceAction.REVOKE: "home licence revoked", LicenceAction.SURRENDER: "home licence surrendered"}


@licence_event_recorded.connect
def _follow_home_licence(sender: Any, event: LicenceEvent, actor: Account | None = None, **_: Any) -> None:
    """Suspend, lift or revoke the recognitions resting on a licence, in the licence decision's transaction."""
    if event.action not in (LicenceAction.SUSPEND, LicenceAction.REINSTATE, LicenceAction.REVOKE,
                            LicenceAction.SURRENDER):
        return
    resting = db.session.scalars(
        sa.select(Recognition).where(
            Recognition.licence_id == event.licence_id,
            Recognition.status.in_([RecognitionStatus.GRANTED, RecognitionStatus.SUSPENDED]),
        ).order_by(Recognition.id)
    ).all()
    for recognition in resting:
        day = max(event.effective_on, recognition.events[-1].effective_on)
        current = status_on(recognition, day)
        if event.action is LicenceAction.SUSPEND and current is RecognitionStatus.GRANTED:
            _record(recognition, RecognitionAction.SUSPEND, decided_on=event.decided_on,
                    effective_on=event.effective_on, reason="home licence suspended", actor=actor, cause=event)
        elif event.action is LicenceAction.REINSTATE and current is RecognitionStatus.SUSPENDED:
            suspension = _current_suspension(recognition)
            # Lift only a suspension this licence caused, never one the host board decided.
            if suspension is not None and suspension.cause_licence_event_id is not None:
                _record(recognition, RecognitionAction.REINSTATE, decided_on=event.decided_on,
                        effective_on=event.effective_on, reason="home licence reinstated", actor=actor, cause=event)
        elif event.action in (LicenceAction.REVOKE, LicenceAction.SURRENDER) and current in (
            RecognitionStatus.GRANTED, RecognitionStatus.SUSPENDED
        ):
            _record(recognition, RecognitionAction.REVOKE, decided_on=event.decided_on,
                    effective_on=event.effective_on, reason=_REVOKED_BECAUSE[event.action], actor=actor,
                    cause=event)
