"""Licence rules (DOMAIN.md "Licences"): status from events, legal moves, point-in-time answers."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from registry.core import audit
from registry.core.auth import Account
from registry.core.db import db
from registry.core.errors import Conflict, Invalid, NotFound
from registry.core.events import licence_event_recorded
from registry.licensing import alerts
from registry.licensing.models import Licence, LicenceAction, LicenceEvent, LicenceStatus
from registry.people.models import Clinician, Organisation, OrganisationKind, Profession

FINAL = {LicenceStatus.REVOKED, LicenceStatus.SURRENDERED}


@dataclass
class LicenceState:
    """What a licence was on one day."""

    status: LicenceStatus
    valid_from: date | None = None
    valid_until: date | None = None
    restrictions: list[str] = field(default_factory=list)
    last_event: LicenceEvent | None = None

    @property
    def restricted(self) -> bool:
        return bool(self.restrictions)


def state_on(licence: Licence, day: date, events: list[LicenceEvent] | None = None) -> LicenceState:
    """Replay the licence's events effective on or before `day`."""
    state = LicenceState(status=LicenceStatus.NOT_YET_VALID)
    held = LicenceStatus.NOT_YET_VALID  # status before lapse is considered
    for event in events if events is not None else licence.events:
        if event.effective_on > day:
            break
        action = event.action
        if action is LicenceAction.ISSUE:
            held = LicenceStatus.ACTIVE
            state.valid_from = event.effective_on
            state.valid_until = event.valid_until
        elif action is LicenceAction.RENEW:
            # A renewal extends validity and nothing else: a suspension it finds (a suspended licence that lapsed
            # meanwhile) still holds, and only a reinstatement lifts it.
            state.valid_until = event.valid_until
        elif action is LicenceAction.RESTRICT:
            state.restrictions.append(event.scope or "")
        elif action is LicenceAction.SUSPEND:
            held = LicenceStatus.SUSPENDED
        elif action is LicenceAction.REINSTATE:
            if held is LicenceStatus.SUSPENDED:
                held = LicenceStatus.ACTIVE
            else:
                state.restrictions = []
        elif action is LicenceAction.REVOKE:
            held = LicenceStatus.REVOKED
        elif action is LicenceAction.SURRENDER:
            held = LicenceStatus.SURRENDERED
        state.last_event = event
    lapsed = (
        held in (LicenceStatus.ACTIVE, LicenceStatus.SUSPENDED)
        and state.valid_until is not None
        and day > state.valid_until
    )
    state.status = LicenceStatus.LAPSED if lapsed else held
    return state


def status_on(licence: Licence, day: date) -> LicenceStatus:
    return state_on(licence, day).status


# Which statuses each action may start from. Reinstate is checked separately (suspension or restriction).
_ALLOWED_FROM: dict[LicenceAction, set[LicenceStatus]] = {
    LicenceAction.RENEW: {LicenceStatus.ACTIVE, LicenceStatus.LAPSED},
    LicenceAction.RESTRICT: {LicenceStatus.ACTIVE},
    LicenceAction.SUSPEND: {LicenceStatus.ACTIVE},
    LicenceAction.REVOKE: {LicenceStatus.ACTIVE, LicenceStatus.SUSPENDED},
    LicenceAction.SURRENDER: {LicenceStatus.ACTIVE},
}


def find_licence(licence_id: int) -> Licence:
    licence = db.session.get(Licence, licence_id)
    if licence is None:
        raise NotFound(f"no licence with id {licence_id}")
    return licence


def issue_licence(
    *,
    board: Organisation,
    clinician: Clinician,
    profession_code: str,
    number: str,
    decided_on: date,
    valid_from: date,
    valid_until: date | None,
    actor: Account | None,
    today: date,
) -> Licence:
    """Create a licence and its issue event."""
    if board.kind is not OrganisationKind.LICENSING_BOARD:
        raise Invalid(f"{board.code} is not a licensing board")
    if db.session.get(Profession, profession_code) is None:
        raise Invalid("unknown profession", errors={"profession": [f"no ISCO-08 profession {profession_code}"]})
    if decided_on > today:
        raise Invalid("a decision cannot be dated in the future", errors={"decided_on": ["is in the future"]})
    if valid_from < decided_on:
        raise Invalid("a licence cannot take effect before it was decided",
                      errors={"valid_from": ["is before decided_on"]})
    if valid_until is not None and valid_until < valid_from:
        raise Invalid("validity ends before it starts", errors={"valid_until": ["is before valid_from"]})
    existing = db.session.scalar(
        sa.select(Licence).where(Licence.board_id == board.id, Licence.number == number)
    )
    if existing is not None:
        raise Conflict(f"{board.code} already has a licence numbered {number}", existing_id=existing.id)
    licence = Licence(number=number, board=board, clinician=clinician, profession_code=profession_code)
    event = LicenceEvent(
        licence=licence,
        action=LicenceAction.ISSUE,
        decided_on=decided_on,
        effective_on=valid_from,
        valid_until=valid_until,
        actor_id=actor.id if actor else None,
    )
    db.session.add_all([licence, event])
    db.session.flush()
    audit.record(
        "licence.issue",
        "licence",
        licence.id,
        {"number": number, "board": board.code, "clinician": clinician.registry_number,
         "profession": profession_code, "decided_on": decided_on, "valid_from": valid_from,
         "valid_until": valid_until},
    )
    licence_event_recorded.send(event, event=event, actor=actor)
    return licence


def record_event(
    licence: Licence,
    *,
    action: LicenceAction,
    decided_on: date,
    effective_on: date | None,
    reason: str | None,
    scope: str | None,
    valid_until: date | None,
    actor: Account | None,
    today: date,
) -> LicenceEvent:
    """Apply one decision to a licence if the move is legal on its effective date; 409 otherwise."""
    effective_on = effective_on or decided_on
    errors: dict[str, list[str]] = {}
    if action is LicenceAction.ISSUE:
        raise Conflict("a licence is issued once; record a renewal instead")
    if decided_on > today:
        errors.setdefault("decided_on", []).append("is in the future")
    if effective_on < decided_on:
        errors.setdefault("effective_on", []).append("is before decided_on")
    if action in (LicenceAction.RESTRICT, LicenceAction.SUSPEND, LicenceAction.REVOKE) and not reason:
        errors.setdefault("reason", []).append(f"a reason is required to {action.value}")
    if action is LicenceAction.RESTRICT and not scope:
        errors.setdefault("scope", []).append("say what the restriction covers")
    if action is LicenceAction.RENEW and valid_until is None:
        errors.setdefault("valid_until", []).append("a renewal needs the new end of validity")
    if action is not LicenceAction.RENEW and valid_until is not None:
        errors.setdefault("valid_until", []).append("only a renewal sets validity")
    if action is not LicenceAction.RESTRICT and scope is not None:
        errors.setdefault("scope", []).append("only a restriction has a scope")
    if errors:
        raise Invalid("the decision is incomplete", errors=errors)

    # Lock the licence row so two officers cannot both apply a move to the same state.
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(sa.select(Licence.id).where(Licence.id == licence.id).with_for_update())
        db.session.refresh(licence, attribute_names=["events"])
    events = list(licence.events)
    latest = events[-1] if events else None
    if latest is not None and effective_on < latest.effective_on:
        raise Conflict(
            f"licence {licence.number} has a decision effective {latest.effective_on.isoformat()}; "
            "decisions are recorded in order and cannot take effect before it"
        )
    before = state_on(licence, effective_on, events)
    if action is LicenceAction.REINSTATE:
        if before.status is not LicenceStatus.SUSPENDED and not (
            before.status is LicenceStatus.ACTIVE and before.restricted
        ):
            raise Conflict(
                f"licence {licence.number} is {before.status.value} on {effective_on.isoformat()} "
                "and not restricted: there is nothing to reinstate",
                current_status=before.status.value,
            )
    elif before.status not in _ALLOWED_FROM[action]:
        raise Conflict(
            f"cannot {action.value} licence {licence.number}: it is {before.status.value} "
            f"on {effective_on.isoformat()}",
            current_status=before.status.value,
        )
    if action is LicenceAction.RENEW and before.valid_until is not None and valid_until <= before.valid_until:
        raise Conflict(
            f"a renewal must extend validity beyond {before.valid_until.isoformat()}",
            current_valid_until=before.valid_until.isoformat(),
        )
    event = LicenceEvent(
        licence=licence,
        action=action,
        decided_on=decided_on,
        effective_on=effective_on,
        reason=reason,
        scope=scope,
        valid_until=valid_until,
        actor_id=actor.id if actor else None,
    )
    db.session.add(event)
    db.session.flush()
    after = state_on(licence, effective_on, [*events, event])
    audit.record(
        f"licence.{action.value}",
        "licence",
        licence.id,
        {"number": licence.number, "decided_on": decided_on, "effective_on": effective_on, "reason": reason,
         "scope": scope, "valid_until": valid_until,
         "status": [before.status.value, after.status.value]},
    )
    # Alerts belong to licensing itself; other capabilities react through the signal below.
    if action in alerts.ALERTING:
        alerts.raise_alert(event)
    elif action is LicenceAction.REINSTATE:
        lifted = LicenceAction.SUSPEND if before.status is LicenceStatus.SUSPENDED else LicenceAction.RESTRICT
        alerts.close_alerts(event, lifted)
    licence_event_recorded.send(event, event=event, actor=actor)
    return event


def licences_of(clinician: Clinician) -> list[Licence]:
    """Every licence of a clinician with its events loaded in one round trip."""
    return list(
        db.session.scalars(
            sa.select(Licence)
            .where(Licence.clinician_id == clinician.id)
            .options(selectinload(Licence.events))
            .order_by(Licence.id)
        )
    )
