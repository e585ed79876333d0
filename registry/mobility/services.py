"""Mobility rules (DOMAIN.md "Mobility"): programmes, secondments, approval over the whole period, cascades.

Decisions this module makes where the issue is silent (the README says the same):

- `active` and `completed` are read from the dates, never recorded: an approved secondment is active from its
  first day and completed after its last (`status_on`, like a licence's `lapsed`). Termination is explicit.
- A place in a programme is held by an approved (or cascade-suspended) secondment; cancelled and terminated
  ones give theirs back.
- Without a programme, a recognition in the host state is required unless the clinician holds a licence of
  the host state for the profession that stays active for the whole period.
- A cascade suspension names its cause. It is lifted only when every ground it rests on holds again on that
  day (the home licence is active and, where it rests on one, the recognition is granted).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import aliased, selectinload

from curricula.services import check_course_codes
from registry.core import audit
from registry.core.auth import Account
from registry.core.db import db, is_postgres
from registry.core.errors import Conflict, Invalid, NotFound
from registry.core.events import clinician_merge_requested, licence_event_recorded, recognition_event_recorded
from registry.licensing import alerts
from registry.licensing.models import Licence, LicenceAction, LicenceEvent, LicenceStatus
from registry.licensing.services import state_on
from registry.mobility.models import (
    PLACED,
    ExchangeProgramme,
    MobilityNotice,
    ProgrammeHostCapacity,
    ProgrammeStatus,
    Secondment,
    SecondmentAction,
    SecondmentEvent,
    SecondmentStatus,
)
from registry.people import services as people
from registry.people.models import Clinician, MemberState, Organisation, Profession
from registry.recognition import services as recognition_services
from registry.recognition.models import Recognition, RecognitionAction, RecognitionEvent, RecognitionStatus
from registry.recognition.services import ConditionsUnmet, Unmet, course_valid_until

# --- programmes ---------------------------------------------------------------------------------------------

_PROGRAMME_MOVES = {
    ProgrammeStatus.PLANNED: {ProgrammeStatus.OPEN, ProgrammeStatus.CLOSED},
    ProgrammeStatus.OPEN: {ProgrammeStatus.CLOSED},
    ProgrammeStatus.CLOSED: set(),
}


def _check_host_capacities(capacity_by_host: dict[str, int], states: list[str], errors: dict[str, list[str]]) -> None:
    outside = sorted(set(capacity_by_host) - set(states))
    if outside:
        errors.setdefault("capacity_by_host", []).extend(f"{c} does not take part in the programme" for c in outside)


def create_programme(
    *, code: str, name: str, coordinating_state: str, states: list[str], professions: list[str], starts_on: date,
    ends_on: date, capacity: int, capacity_by_host: dict[str, int], required_courses: list[str],
    recognition_required: bool, status: ProgrammeStatus,
) -> ExchangeProgramme:
    """Record an exchange programme (the secretariat manages them)."""
    if db.session.scalar(sa.select(ExchangeProgramme.id).where(ExchangeProgramme.code == code)) is not None:
        raise Conflict(f"programme {code} exists already")
    errors: dict[str, list[str]] = {}
    state_rows, profession_rows = people.states_and_professions(states, professions, errors)
    if len(set(states)) < 2:
        errors.setdefault("states", []).append("an exchange needs at least two member states")
    if coordinating_state not in states:
        errors["coordinating_state"] = ["must be one of the participating states"]
    check_course_codes(required_courses, errors)
    if ends_on < starts_on:
        errors["ends_on"] = ["is before starts_on"]
    _check_host_capacities(capacity_by_host, states, errors)
    if errors:
        raise Invalid("the programme is not valid", errors=errors)
    programme = ExchangeProgramme(
        code=code, name=name, coordinating_state_code=coordinating_state, starts_on=starts_on, ends_on=ends_on,
        capacity=capacity, required_courses=sorted(set(required_courses)), recognition_required=recognition_required,
        status=status,
    )
    programme.states_rel = list(state_rows)
    programme.professions_rel = list(profession_rows)
    programme.host_capacities = [ProgrammeHostCapacity(state_code=s, capacity=n)
                                 for s, n in sorted(capacity_by_host.items())]
    db.session.add(programme)
    db.session.flush()
    audit.record("programme.create", "programme", code, {
        "name": name, "coordinating_state": coordinating_state, "states": sorted(states),
        "professions": sorted(professions), "starts_on": starts_on, "ends_on": ends_on, "capacity": capacity,
        "capacity_by_host": capacity_by_host, "required_courses": sorted(set(required_courses)),
        "recognition_required": recognition_required, "status": status})
    return programme


def get_programme(code: str) -> ExchangeProgramme:
    programme = db.session.scalar(sa.select(ExchangeProgramme).where(ExchangeProgramme.code == code))
    if programme is None:
        raise NotFound(f"no programme {code}")
    return programme


def _lock_programme(programme: ExchangeProgramme) -> None:
    """Hold the programme row until the transaction ends: capacity is counted and taken under this lock.

    On SQLite every writing transaction already began IMMEDIATE (one writer at a time), so there is nothing to do.
    """
    if is_postgres():
        db.session.execute(sa.select(ExchangeProgramme.id).where(ExchangeProgramme.id == programme.id)
                           .with_for_update())
        db.session.expire(programme)  # what was read before the lock may be stale: read it again under it


def placed_count(programme_id: int, host_state_code: str | None = None, *, excluding: int | None = None) -> int:
    """Secondments holding a place in the programme (in one host state if given)."""
    stmt = sa.select(sa.func.count()).select_from(Secondment).where(
        Secondment.programme_id == programme_id, Secondment.status.in_(PLACED))
    if host_state_code is not None:
        stmt = stmt.where(Secondment.host_state_code == host_state_code)
    if excluding is not None:
        stmt = stmt.where(Secondment.id != excluding)
    return db.session.scalar(stmt) or 0


def update_programme(programme: ExchangeProgramme, *, name: str | None = None, status: ProgrammeStatus | None = None,
                     capacity: int | None = None, capacity_by_host: dict[str, int] | None = None) -> ExchangeProgramme:
    """Rename, open or close a programme, or change its places (never below the places already taken)."""
    _lock_programme(programme)
    changes: dict[str, Any] = {}
    if status is not None and status is not programme.status:
        if status not in _PROGRAMME_MOVES[programme.status]:
            raise Conflict(f"programme {programme.code} is {programme.status.value}: it cannot become {status.value}",
                           current_status=programme.status.value)
        changes["status"] = [programme.status, status]
        programme.status = status
    if name is not None and name != programme.name:
        changes["name"] = [programme.name, name]
        programme.name = name
    if capacity is not None and capacity != programme.capacity:
        taken = placed_count(programme.id)
        if capacity < taken:
            raise Conflict(f"{taken} places of programme {programme.code} are taken; the capacity cannot go "
                           f"below that", taken=taken)
        changes["capacity"] = [programme.capacity, capacity]
        programme.capacity = capacity
    if capacity_by_host is not None and capacity_by_host != programme.capacity_by_host:
        errors: dict[str, list[str]] = {}
        _check_host_capacities(capacity_by_host, programme.state_codes, errors)
        if errors:
            raise Invalid("the capacities are not valid", errors=errors)
        for state, places in capacity_by_host.items():
            taken = placed_count(programme.id, state)
            if places < taken:
                raise Conflict(f"{taken} places in {state} are taken; its capacity cannot go below that",
                               taken=taken, state=state)
        changes["capacity_by_host"] = [programme.capacity_by_host, capacity_by_host]
        current = {c.state_code: c for c in programme.host_capacities}
        programme.host_capacities = [
            current[s] if s in current else ProgrammeHostCapacity(state_code=s, capacity=n)
            for s, n in sorted(capacity_by_host.items())
        ]
        for row in programme.host_capacities:
            row.capacity = capacity_by_host[row.state_code]
    if changes:
        db.session.flush()
        audit.record("programme.update", "programme", programme.code, changes)
    return programme


# --- status ---------------------------------------------------------------------------------------------------

_RESULT = {
    SecondmentAction.PROPOSE: SecondmentStatus.PROPOSED,
    SecondmentAction.APPROVE: SecondmentStatus.APPROVED,
    SecondmentAction.CANCEL: SecondmentStatus.CANCELLED,
    SecondmentAction.TERMINATE: SecondmentStatus.TERMINATED,
    SecondmentAction.SUSPEND: SecondmentStatus.SUSPENDED,
    SecondmentAction.REINSTATE: SecondmentStatus.APPROVED,
}
_ALLOWED_FROM = {
    SecondmentAction.APPROVE: {SecondmentStatus.PROPOSED},
    SecondmentAction.CANCEL: {SecondmentStatus.PROPOSED, SecondmentStatus.APPROVED},
    SecondmentAction.TERMINATE: {SecondmentStatus.ACTIVE, SecondmentStatus.SUSPENDED},
    SecondmentAction.SUSPEND: {SecondmentStatus.APPROVED, SecondmentStatus.ACTIVE},
    SecondmentAction.REINSTATE: {SecondmentStatus.SUSPENDED},
}


def status_on(secondment: Any, day: date, events: list[Any] | None = None) -> SecondmentStatus | None:
    """Replay the events effective on or before `day`; an approved secondment is active from its first day and
    completed after its last. None before the proposal."""
    status: SecondmentStatus | None = None
    for event in events if events is not None else secondment.events:
        if event.effective_on > day:
            break
        status = _RESULT[event.action]
    if status is SecondmentStatus.APPROVED:
        if day > secondment.ends_on:
            return SecondmentStatus.COMPLETED
        if day >= secondment.starts_on:
            return SecondmentStatus.ACTIVE
    return status


def _record(secondment: Secondment, action: SecondmentAction, *, decided_on: date, effective_on: date | None = None,
            reason: str | None = None, actor: Account | None, cause_licence: LicenceEvent | None = None,
            cause_recognition: RecognitionEvent | None = None, changes: dict[str, Any] | None = None
            ) -> SecondmentEvent:
    """Append one event if the move is legal on its effective date; keep `status` as the latest outcome."""
    events = list(secondment.events)
    latest = events[-1].effective_on if events else decided_on
    effective_on = max(effective_on or decided_on, latest)
    before = status_on(secondment, effective_on, events)
    if action is not SecondmentAction.PROPOSE and before not in _ALLOWED_FROM[action]:
        state = before.value if before else "not yet proposed"
        raise Conflict(f"cannot {action.value} secondment {secondment.id}: it is {state} on "
                       f"{effective_on.isoformat()}", current_status=state)
    event = SecondmentEvent(
        secondment=secondment, action=action, decided_on=decided_on, effective_on=effective_on, reason=reason,
        cause_licence_event_id=cause_licence.id if cause_licence else None,
        cause_recognition_event_id=cause_recognition.id if cause_recognition else None,
        actor_id=actor.id if actor else None,
    )
    db.session.add(event)
    secondment.status = _RESULT[action]
    db.session.flush()
    audit.record(f"secondment.{action.value}", "secondment", secondment.id,
                 {"effective_on": effective_on, "reason": reason,
                  "cause_licence_event": cause_licence.id if cause_licence else None,
                  "cause_recognition_event": cause_recognition.id if cause_recognition else None,
                  "status": [before.value if before else None, secondment.status.value]} | (changes or {}))
    return event


def get_secondment(secondment_id: int) -> Secondment:
    secondment = db.session.get(Secondment, secondment_id)
    if secondment is None:
        raise NotFound(f"no secondment {secondment_id}")
    return secondment


# --- proposing -------------------------------------------------------------------------------------------------


def home_licence_for(clinician: Clinician, profession_code: str, day: date) -> Licence | None:
    """The clinician's licence from a board of their home state for the profession: the one active on `day`,
    else the latest issued."""
    licences = db.session.scalars(
        sa.select(Licence).join(Organisation, Organisation.id == Licence.board_id)
        .where(Licence.clinician_id == clinician.id, Licence.profession_code == profession_code,
               Organisation.member_state_code == clinician.home_state_code)
        .options(selectinload(Licence.events)).order_by(Licence.id)
    ).all()
    active = [lic for lic in licences if state_on(lic, day).status is LicenceStatus.ACTIVE]
    return (active or licences or [None])[-1]


def propose(*, clinician: Clinician, profession_code: str, host_state_code: str, host_institution: str,
            supervisor: str, starts_on: date, ends_on: date, programme: ExchangeProgramme | None,
            actor: Account | None, today: date) -> Secondment:
    """Propose a secondment of a clinician from their home state to a host state; the host board decides."""
    errors: dict[str, list[str]] = {}
    home = clinician.home_state_code
    if db.session.get(MemberState, host_state_code) is None:
        errors["host_state"] = [f"no member state {host_state_code}"]
    elif host_state_code == home:
        errors["host_state"] = [f"is the clinician's home state ({home}): a secondment goes to another state"]
    if db.session.get(Profession, profession_code) is None:
        errors["profession"] = [f"no ISCO-08 profession {profession_code}"]
    if ends_on < starts_on:
        errors["ends_on"] = ["is before starts_on"]
    elif ends_on < today:
        errors["ends_on"] = ["is in the past: a secondment is proposed before it ends"]
    licence = None
    if "profession" not in errors:
        licence = home_licence_for(clinician, profession_code, starts_on)
        if licence is None:
            errors["profession"] = [f"the clinician holds no licence of {home} for profession {profession_code}"]
    if errors:
        raise Invalid("the secondment is not valid", errors=errors)
    assert licence is not None
    secondment = Secondment(
        clinician_id=clinician.id, profession_code=profession_code, home_state_code=home,
        host_state_code=host_state_code, host_institution=host_institution, supervisor=supervisor,
        programme=programme, starts_on=starts_on, ends_on=ends_on, home_licence=licence,
        status=SecondmentStatus.PROPOSED, proposed_by_id=actor.id if actor else None,
    )
    db.session.add(secondment)
    db.session.flush()
    _record(secondment, SecondmentAction.PROPOSE, decided_on=today, actor=actor, changes={
        "clinician": clinician.registry_number, "profession": profession_code, "home_state": home,
        "host_state": host_state_code, "host_institution": host_institution, "supervisor": supervisor,
        "programme": programme.code if programme else None, "starts_on": starts_on, "ends_on": ends_on,
        "home_licence": licence.number})
    return secondment


# --- approval: every condition over the whole period ---------------------------------------------------------


def _days_to_check(start: date, end: date, events: list[Any], valid_until: list[date | None]) -> list[date]:
    """A status changes only on an event's effective date or the day after a validity ends."""
    days = {start}
    days.update(e.effective_on for e in events if start < e.effective_on <= end)
    days.update(v + timedelta(days=1) for v in valid_until if v is not None and start < v + timedelta(days=1) <= end)
    return sorted(days)


def licence_fails_on(licence: Licence, start: date, end: date) -> tuple[date, LicenceStatus] | None:
    """The first day in [start, end] the licence is not active, with its status then; None if it stays active."""
    events = list(licence.events)
    for day in _days_to_check(start, end, events, [e.valid_until for e in events]):
        status = state_on(licence, day, events).status
        if status is not LicenceStatus.ACTIVE:
            return day, status
    return None


def recognition_fails_on(recognition: Recognition, start: date, end: date
                         ) -> tuple[date, RecognitionStatus | None] | None:
    """The first day in [start, end] the recognition is not granted; None if it stays granted (and valid)."""
    events = list(recognition.events)
    for day in _days_to_check(start, end, events, [recognition.valid_until]):
        status = recognition_services.status_on(recognition, day, events)
        if status is not RecognitionStatus.GRANTED:
            return day, status
    return None


def _host_licence_holds(secondment: Secondment) -> bool:
    licences = db.session.scalars(
        sa.select(Licence).join(Organisation, Organisation.id == Licence.board_id)
        .where(Licence.clinician_id == secondment.clinician_id, Licence.profession_code == secondment.profession_code,
               Organisation.member_state_code == secondment.host_state_code)
    ).all()
    return any(licence_fails_on(lic, secondment.starts_on, secondment.ends_on) is None for lic in licences)


def recognition_required(secondment: Secondment) -> bool:
    """A programme says; without one, required unless a host-state licence stays active for the whole period."""
    if secondment.programme is not None:
        return secondment.programme.recognition_required
    return not _host_licence_holds(secondment)


def _recognition_unmet(secondment: Secondment) -> tuple[Recognition | None, list[Unmet]]:
    start, end, host = secondment.starts_on, secondment.ends_on, secondment.host_state_code
    candidates = db.session.scalars(
        sa.select(Recognition).where(
            Recognition.clinician_id == secondment.clinician_id, Recognition.host_state_code == host,
            Recognition.profession_code == secondment.profession_code,
            Recognition.status.in_([RecognitionStatus.GRANTED, RecognitionStatus.SUSPENDED]),
        ).options(selectinload(Recognition.events)).order_by(Recognition.id)
    ).all()
    if not candidates:
        return None, [Unmet("recognition_granted", f"no granted recognition in {host} for profession "
                                                   f"{secondment.profession_code}", fails_on=start)]
    failures = []
    for recognition in candidates:
        failure = recognition_fails_on(recognition, start, end)
        if failure is None:
            return recognition, []
        failures.append((failure, recognition))
    # Report the recognition that lasts longest: its failure is the one that matters.
    (day, status), recognition = max(failures, key=lambda f: f[0][0])
    label = status.value if status else "not yet granted"
    return None, [Unmet("recognition_granted", f"recognition {recognition.id} in {host} is {label} on "
                                               f"{day.isoformat()}", fails_on=day)]


def approval_unmet(secondment: Secondment) -> tuple[Recognition | None, list[Unmet]]:
    """Every condition the secondment fails somewhere in its period, each with the first day it fails, and the
    recognition the approval would rest on."""
    start, end = secondment.starts_on, secondment.ends_on
    unmet: list[Unmet] = []
    licence = secondment.home_licence
    failure = licence_fails_on(licence, start, end)
    if failure is not None:
        day, status = failure
        unmet.append(Unmet("home_licence_active", f"home licence {licence.number} is {status.value} on "
                                                  f"{day.isoformat()}", fails_on=day))
    recognition = None
    if recognition_required(secondment):
        recognition, missing = _recognition_unmet(secondment)
        unmet.extend(missing)
    programme = secondment.programme
    if programme is not None:
        for code, until in course_valid_until(secondment.clinician_id, programme.required_courses, start).items():
            if until is False:
                unmet.append(Unmet("course_current", f"no current passed completion of course {code} on "
                                                     f"{start.isoformat()}", fails_on=start))
            elif until is not None and until < end:
                unmet.append(Unmet("course_current", f"the completion of course {code} is valid until "
                                                     f"{until.isoformat()}", fails_on=until + timedelta(days=1)))
    for alert in alerts.alerts_about(secondment.clinician_id):
        if alert.effective_from <= end and (alert.closed_on is None or alert.closed_on > start):
            day = max(start, alert.effective_from)
            unmet.append(Unmet("no_open_alert", f"alert {alert.id} ({alert.measure.value} by {alert.board.code} "
                                                f"from {alert.effective_from.isoformat()}) is open", fails_on=day))
    overlapping = db.session.scalars(
        sa.select(Secondment).where(
            Secondment.clinician_id == secondment.clinician_id, Secondment.id != secondment.id,
            Secondment.status.in_(PLACED), Secondment.starts_on <= end, Secondment.ends_on >= start,
        ).order_by(Secondment.starts_on, Secondment.id)
    ).all()
    for other in overlapping:
        unmet.append(Unmet("no_overlap", f"secondment {other.id} to {other.host_state_code} from "
                                         f"{other.starts_on.isoformat()} to {other.ends_on.isoformat()} overlaps",
                           fails_on=max(start, other.starts_on)))
    if programme is not None:
        unmet.extend(_programme_unmet(secondment, programme))
    return recognition, unmet


def _programme_unmet(secondment: Secondment, programme: ExchangeProgramme) -> list[Unmet]:
    start, end, code = secondment.starts_on, secondment.ends_on, programme.code
    unmet = []
    if programme.status is not ProgrammeStatus.OPEN:
        unmet.append(Unmet("programme_open", f"programme {code} is {programme.status.value}", fails_on=start))
    if start < programme.starts_on or end > programme.ends_on:
        day = start if start < programme.starts_on else programme.ends_on + timedelta(days=1)
        unmet.append(Unmet("programme_dates", f"programme {code} runs from {programme.starts_on.isoformat()} to "
                                              f"{programme.ends_on.isoformat()}", fails_on=day))
    states = programme.state_codes
    for role, state in (("home", secondment.home_state_code), ("host", secondment.host_state_code)):
        if state not in states:
            unmet.append(Unmet(f"{role}_state_participates", f"{state} does not take part in programme {code}",
                               fails_on=start))
    if secondment.profession_code not in programme.profession_codes:
        unmet.append(Unmet("profession_participates", f"profession {secondment.profession_code} is not part of "
                                                      f"programme {code}", fails_on=start))
    taken = placed_count(programme.id, excluding=secondment.id)
    if taken >= programme.capacity:
        unmet.append(Unmet("programme_capacity", f"all {programme.capacity} places of programme {code} are taken",
                           fails_on=start))
    host_places = programme.capacity_by_host.get(secondment.host_state_code)
    if host_places is not None:
        taken = placed_count(programme.id, secondment.host_state_code, excluding=secondment.id)
        if taken >= host_places:
            unmet.append(Unmet("host_capacity", f"all {host_places} places of programme {code} in "
                                                f"{secondment.host_state_code} are taken", fails_on=start))
    return unmet


def approve(secondment: Secondment, *, decided_on: date, actor: Account | None) -> Secondment:
    """The host board approves a proposed secondment if every condition holds for its whole period; otherwise
    422 listing every unmet condition with the day it fails. Nothing is written on a refusal."""
    if is_postgres():
        # Lock order, the same in every approval: programme, clinician, secondment. The programme row serialises
        # the approvals that compete for its places; the clinician row those that could overlap.
        if secondment.programme is not None:
            _lock_programme(secondment.programme)
        db.session.execute(sa.select(Clinician.id).where(Clinician.id == secondment.clinician_id).with_for_update())
        db.session.execute(sa.select(Secondment.id).where(Secondment.id == secondment.id).with_for_update())
        db.session.expire(secondment)  # read again under the lock
    current = status_on(secondment, decided_on)
    if current is not SecondmentStatus.PROPOSED:
        label = current.value if current else "not yet proposed"
        raise Conflict(f"cannot approve secondment {secondment.id}: it is {label} on {decided_on.isoformat()}",
                       current_status=label)
    if decided_on > secondment.ends_on:
        raise Conflict(f"secondment {secondment.id} ended on {secondment.ends_on.isoformat()}; it cannot be "
                       "approved afterwards")
    recognition, unmet = approval_unmet(secondment)
    if unmet:
        raise ConditionsUnmet(
            f"{len(unmet)} condition{'s' if len(unmet) != 1 else ''} not met: " + "; ".join(u.detail for u in unmet),
            unmet=[u.as_dict() for u in unmet],
        )
    secondment.recognition = recognition
    _record(secondment, SecondmentAction.APPROVE, decided_on=decided_on, actor=actor,
            changes={"recognition": recognition.id if recognition else None})
    return secondment


def cancel(secondment: Secondment, *, decided_on: date, reason: str, actor: Account | None) -> Secondment:
    """Cancel a proposed secondment, or an approved one before it starts."""
    _record(secondment, SecondmentAction.CANCEL, decided_on=decided_on, reason=reason, actor=actor)
    return secondment


def terminate(secondment: Secondment, *, decided_on: date, effective_on: date | None, reason: str,
              actor: Account | None) -> Secondment:
    """End an active (or suspended) secondment before its last day."""
    effective_on = effective_on or decided_on
    if effective_on > secondment.ends_on:
        raise Invalid("the secondment has ended by then", errors={
            "effective_on": [f"is after the secondment's last day, {secondment.ends_on.isoformat()}"]})
    _record(secondment, SecondmentAction.TERMINATE, decided_on=decided_on, effective_on=effective_on, reason=reason,
            actor=actor)
    return secondment


# --- reading -------------------------------------------------------------------------------------------------


def annotate(secondment: Secondment, day: date) -> Secondment:
    current = status_on(secondment, day)
    secondment.status_on_day = current.value if current else None  # type: ignore[attr-defined]
    return secondment


def secondments_of(clinician_id: int, day: date) -> list[Secondment]:
    """Every secondment of a clinician, each with its status on `day`."""
    rows = db.session.scalars(
        sa.select(Secondment).where(Secondment.clinician_id == clinician_id)
        .options(selectinload(Secondment.events), selectinload(Secondment.clinician),
                 selectinload(Secondment.home_licence), selectinload(Secondment.programme))
        .order_by(Secondment.starts_on, Secondment.id)
    ).all()
    return [annotate(s, day) for s in rows]


def notices_for(host_state_code: str | None) -> list[MobilityNotice]:
    """Notices to a host state's boards (every notice when None), newest first."""
    stmt = sa.select(MobilityNotice).order_by(MobilityNotice.id.desc())
    if host_state_code is not None:
        stmt = stmt.where(MobilityNotice.host_state_code == host_state_code)
    return list(db.session.scalars(stmt))


# --- cascades (inside the cause's transaction: flush only) ---------------------------------------------------


def _notify(secondment: Secondment, event: SecondmentEvent, message: str) -> None:
    notice = MobilityNotice(host_state_code=secondment.host_state_code, secondment=secondment, event=event,
                            message=message)
    db.session.add(notice)
    db.session.flush()
    audit.record("mobility_notice.raise", "mobility_notice", notice.id,
                 {"host_state": secondment.host_state_code, "secondment": secondment.id, "message": message})


def _current_suspension(secondment: Secondment) -> SecondmentEvent | None:
    for event in reversed(secondment.events):
        if event.action is SecondmentAction.SUSPEND:
            return event
        if event.action in (SecondmentAction.REINSTATE, SecondmentAction.APPROVE):
            return None
    return None


def _cascade_suspend(secondment: Secondment, *, decided_on: date, effective_on: date, reason: str,
                     actor: Account | None, cause_licence: LicenceEvent | None = None,
                     cause_recognition: RecognitionEvent | None = None) -> None:
    day = max(effective_on, secondment.events[-1].effective_on)
    if status_on(secondment, day) not in (SecondmentStatus.APPROVED, SecondmentStatus.ACTIVE):
        return
    event = _record(secondment, SecondmentAction.SUSPEND, decided_on=decided_on, effective_on=effective_on,
                    reason=reason, actor=actor, cause_licence=cause_licence, cause_recognition=cause_recognition)
    _notify(secondment, event, f"secondment {secondment.id} of {secondment.clinician.full_name} "
                               f"({secondment.clinician.registry_number}) at {secondment.host_institution} is "
                               f"suspended from {event.effective_on.isoformat()}: {reason}")


def _grounds_hold(secondment: Secondment, day: date) -> bool:
    if state_on(secondment.home_licence, day).status is not LicenceStatus.ACTIVE:
        return False
    recognition = secondment.recognition
    return recognition is None or recognition_services.status_on(recognition, day) is RecognitionStatus.GRANTED


def _cascade_lift(secondment: Secondment, *, decided_on: date, effective_on: date, reason: str,
                  actor: Account | None, cause_licence: LicenceEvent | None = None,
                  cause_recognition: RecognitionEvent | None = None) -> None:
    day = max(effective_on, secondment.events[-1].effective_on)
    if status_on(secondment, day) is not SecondmentStatus.SUSPENDED:
        return
    suspension = _current_suspension(secondment)
    # Lift only a suspension a cascade recorded, and only once nothing it rests on is still suspended.
    if suspension is None or (suspension.cause_licence_event_id is None
                              and suspension.cause_recognition_event_id is None):
        return
    if not _grounds_hold(secondment, day):
        return
    event = _record(secondment, SecondmentAction.REINSTATE, decided_on=decided_on, effective_on=effective_on,
                    reason=reason, actor=actor, cause_licence=cause_licence, cause_recognition=cause_recognition)
    _notify(secondment, event, f"the suspension of secondment {secondment.id} of {secondment.clinician.full_name} "
                               f"({secondment.clinician.registry_number}) is lifted from "
                               f"{event.effective_on.isoformat()}: {reason}")


_SUSPENDING_LICENCE = {LicenceAction.SUSPEND: "home licence suspended", LicenceAction.REVOKE: "home licence revoked",
                       LicenceAction.SURRENDER: "home licence surrendered"}


@licence_event_recorded.connect
def _follow_home_licence(sender: Any, event: LicenceEvent, actor: Account | None = None, **_: Any) -> None:
    """A suspended, revoked or surrendered home licence suspends the secondments resting on it; reinstatement
    lifts those suspensions."""
    if event.action in _SUSPENDING_LICENCE:
        wanted, reason, step = SecondmentStatus.APPROVED, _SUSPENDING_LICENCE[event.action], _cascade_suspend
    elif event.action is LicenceAction.REINSTATE:
        wanted, reason, step = SecondmentStatus.SUSPENDED, "home licence reinstated", _cascade_lift
    else:
        return
    resting = db.session.scalars(
        sa.select(Secondment).where(Secondment.home_licence_id == event.licence_id, Secondment.status == wanted)
        .order_by(Secondment.id)
    ).all()
    for secondment in resting:
        step(secondment, decided_on=event.decided_on, effective_on=event.effective_on, reason=reason, actor=actor,
             cause_licence=event)


_SUSPENDING_RECOGNITION = {RecognitionAction.SUSPEND: "recognition in the host state suspended",
                           RecognitionAction.REVOKE: "recognition in the host state revoked"}


@recognition_event_recorded.connect
def _follow_recognition(sender: Any, recognition: Recognition, event: RecognitionEvent,
                        actor: Account | None = None, **_: Any) -> None:
    """A suspended or revoked recognition suspends the secondments resting on it; reinstatement lifts them."""
    if event.action in _SUSPENDING_RECOGNITION:
        wanted, reason, step = SecondmentStatus.APPROVED, _SUSPENDING_RECOGNITION[event.action], _cascade_suspend
    elif event.action is RecognitionAction.REINSTATE:
        wanted, reason, step = SecondmentStatus.SUSPENDED, "recognition in the host state reinstated", _cascade_lift
    else:
        return
    resting = db.session.scalars(
        sa.select(Secondment).where(Secondment.recognition_id == recognition.id, Secondment.status == wanted)
        .order_by(Secondment.id)
    ).all()
    for secondment in resting:
        step(secondment, decided_on=event.decided_on, effective_on=event.effective_on, reason=reason, actor=actor,
             cause_recognition=event)


@clinician_merge_requested.connect
def _merge_overlaps(sender: Any, survivor: Clinician, merged: Clinician, **_: Any) -> list[tuple[str, str]]:
    """One person cannot be placed twice at once: two records whose approved (or suspended) secondments overlap
    cannot be merged until one of them is cancelled or terminated."""
    mine, theirs = aliased(Secondment), aliased(Secondment)
    pairs = db.session.execute(
        sa.select(mine.id, theirs.id)
        .where(mine.clinician_id == survivor.id, theirs.clinician_id == merged.id,
               mine.status.in_(PLACED), theirs.status.in_(PLACED),
               mine.starts_on <= theirs.ends_on, theirs.starts_on <= mine.ends_on)
        .order_by(mine.starts_on, mine.id, theirs.id)).all()
    return [("no_overlap", f"secondment {a} of {survivor.registry_number} and secondment {b} of "
                           f"{merged.registry_number} overlap") for a, b in pairs]
