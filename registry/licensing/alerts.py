"""Alerts (DOMAIN.md "Alerts"): raised to every other member state, acknowledged per state, closed by reinstatement."""

from __future__ import annotations

from datetime import date, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from registry.core import audit
from registry.core.auth import Account
from registry.core.db import db, utcnow
from registry.core.errors import Forbidden, NotFound
from registry.licensing.models import Alert, AlertRecipient, LicenceAction, LicenceEvent
from registry.people.models import MemberState

ALERTING = {LicenceAction.SUSPEND, LicenceAction.RESTRICT, LicenceAction.REVOKE}
SEND_WITHIN_DAYS = 3


def raise_alert(event: LicenceEvent) -> Alert:
    """Alert every other current member state about a suspension, restriction or revocation."""
    licence = event.licence
    origin = licence.board.member_state_code
    sent_at = utcnow()
    alert = Alert(
        licence=licence,
        cause_event_id=event.id,
        clinician_id=licence.clinician_id,
        profession_code=licence.profession_code,
        board_id=licence.board_id,
        origin_state_code=origin,
        measure=event.action,
        scope=event.scope if event.action is LicenceAction.RESTRICT else None,
        decided_on=event.decided_on,
        effective_from=event.effective_on,
        sent_at=sent_at,
        late=sent_at.date() > event.decided_on + timedelta(days=SEND_WITHIN_DAYS),
    )
    states = db.session.scalars(
        sa.select(MemberState.code).where(
            MemberState.code != origin,
            sa.or_(MemberState.left_on.is_(None), MemberState.left_on > event.decided_on),
        )
    ).all()
    alert.recipients = [AlertRecipient(state_code=code) for code in states]
    db.session.add(alert)
    db.session.flush()
    audit.record("alert.raise", "alert", alert.id,
                 {"licence": licence.number, "measure": event.action, "recipients": list(states),
                  "late": alert.late})
    return alert


def close_alerts(event: LicenceEvent, lifted: LicenceAction) -> list[Alert]:
    """A reinstatement closes the open alerts for the measure it lifts (suspension or restriction)."""
    alerts = db.session.scalars(
        sa.select(Alert).where(
            Alert.licence_id == event.licence_id, Alert.measure == lifted, Alert.closed_on.is_(None)
        )
    ).all()
    for alert in alerts:
        alert.closed_on = event.effective_on
        alert.closing_event_id = event.id
        audit.record("alert.close", "alert", alert.id, {"closed_on": event.effective_on})
    db.session.flush()
    return list(alerts)


def get_alert(alert_id: int) -> Alert:
    alert = db.session.get(Alert, alert_id)
    if alert is None:
        raise NotFound(f"no alert {alert_id}")
    return alert


def acknowledge(alert: Alert, account: Account) -> AlertRecipient:
    """A board of a receiving state acknowledges for its state; acknowledging twice changes nothing."""
    state = account.organisation.member_state_code if account.organisation else None
    recipient = next((r for r in alert.recipients if r.state_code == state), None)
    if recipient is None:
        raise Forbidden(f"alert {alert.id} was not sent to {state}")
    if recipient.acknowledged_at is None:
        recipient.acknowledged_at = utcnow()
        recipient.acknowledged_by_id = account.id
        db.session.flush()
        audit.record("alert.acknowledge", "alert", alert.id, {"state": state})
    return recipient


def _for_state(state_code: str, *, unacknowledged: bool) -> sa.Select:
    stmt = sa.select(Alert).join(AlertRecipient).where(AlertRecipient.state_code == state_code)
    if unacknowledged:
        stmt = stmt.where(AlertRecipient.acknowledged_at.is_(None))
    return stmt


def _newest_first(stmt: sa.Select) -> sa.Select:
    return stmt.options(selectinload(Alert.recipients)).order_by(Alert.sent_at.desc(), Alert.id.desc())


def alerts_for_state(state_code: str, *, unacknowledged: bool) -> list[Alert]:
    """The alerts sent to a member state, newest first (its boards' list)."""
    return list(db.session.scalars(_newest_first(_for_state(state_code, unacknowledged=unacknowledged))))


def alerts_page(state_code: str | None, *, unacknowledged: bool, page: int, page_size: int) -> tuple[list[Alert], int]:
    """One page of alerts, newest first, and how many there are in all. With `state_code` those sent to that
    state; without, every alert (the secretariat's view).

    `unacknowledged`: not acknowledged by `state_code`, or, without one, by at least one receiving state.
    """
    if state_code is not None:
        stmt = _for_state(state_code, unacknowledged=unacknowledged)
    else:
        stmt = sa.select(Alert)
        if unacknowledged:
            stmt = stmt.where(
                sa.exists().where(AlertRecipient.alert_id == Alert.id, AlertRecipient.acknowledged_at.is_(None)))
    total = db.session.scalar(sa.select(sa.func.count()).select_from(stmt.subquery())) or 0
    items = db.session.scalars(_newest_first(stmt).offset((page - 1) * page_size).limit(page_size))
    return list(items), total


def alerts_about(clinician_id: int) -> list[Alert]:
    return list(
        db.session.scalars(
            sa.select(Alert)
            .where(Alert.clinician_id == clinician_id)
            .options(selectinload(Alert.recipients))
            .order_by(Alert.effective_from, Alert.id)
        )
    )


def open_alerts(clinician_id: int, day: date) -> list[Alert]:
    """Alerts about a clinician in force on `day`."""
    return [a for a in alerts_about(clinician_id) if a.open_on(day)]
