"""Licences and their events. A licence's status is never stored: it is read from its events."""

from __future__ import annotations

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from registry.core.db import db, str_enum, utcnow
from registry.people.models import Clinician, Organisation, Profession


class LicenceAction(enum.StrEnum):
    ISSUE = "issue"
    RENEW = "renew"
    RESTRICT = "restrict"
    SUSPEND = "suspend"
    REINSTATE = "reinstate"
    REVOKE = "revoke"
    SURRENDER = "surrender"


class LicenceStatus(enum.StrEnum):
    NOT_YET_VALID = "not_yet_valid"
    ACTIVE = "active"
    SUSPENDED = "suspended"
    REVOKED = "revoked"
    LAPSED = "lapsed"
    SURRENDERED = "surrendered"


class Licence(db.Model):
    __tablename__ = "licences"
    __table_args__ = (sa.UniqueConstraint("board_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(sa.String(40), index=True)
    board_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id"))
    clinician_id: Mapped[int] = mapped_column(sa.ForeignKey("clinicians.id"), index=True)
    profession_code: Mapped[str] = mapped_column(sa.ForeignKey("professions.code"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    board: Mapped[Organisation] = relationship(lazy="joined")
    clinician: Mapped[Clinician] = relationship()
    profession: Mapped[Profession] = relationship(lazy="joined")
    events: Mapped[list[LicenceEvent]] = relationship(
        back_populates="licence", order_by="(LicenceEvent.effective_on, LicenceEvent.id)"
    )


class LicenceEvent(db.Model):
    """One decision about a licence. Append-only: corrections are new events."""

    __tablename__ = "licence_events"
    __table_args__ = (
        sa.CheckConstraint("effective_on >= decided_on", name="effective_after_decision"),
        sa.CheckConstraint("action <> 'renew' OR valid_until IS NOT NULL", name="renewal_sets_validity"),
        sa.CheckConstraint(
            "action NOT IN ('restrict', 'suspend', 'revoke') OR reason IS NOT NULL", name="reason_required"
        ),
        sa.CheckConstraint("action <> 'restrict' OR scope IS NOT NULL", name="restriction_has_scope"),
        sa.CheckConstraint("valid_until IS NULL OR valid_until >= effective_on", name="valid_until_after_effect"),
        sa.Index("ix_licence_events_licence_order", "licence_id", "effective_on", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    licence_id: Mapped[int] = mapped_column(sa.ForeignKey("licences.id"))
    action: Mapped[LicenceAction] = mapped_column(str_enum(LicenceAction, "licence_action"))
    decided_on: Mapped[date]
    effective_on: Mapped[date]
    valid_until: Mapped[date | None]
    scope: Mapped[str | None] = mapped_column(sa.Text)
    reason: Mapped[str | None] = mapped_column(sa.Text)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("accounts.id"))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)

    licence: Mapped[Licence] = relationship(back_populates="events")


class Alert(db.Model):
    """A warning to every other member state that a licence was suspended, restricted or revoked.

    It carries identity, profession, deciding board, scope and period, and no more (no reasons).
    """

    __tablename__ = "alerts"

    id: Mapped[int] = mapped_column(primary_key=True)
    licence_id: Mapped[int] = mapped_column(sa.ForeignKey("licences.id"), index=True)
    cause_event_id: Mapped[int] = mapped_column(sa.ForeignKey("licence_events.id"), unique=True)
    clinician_id: Mapped[int] = mapped_column(sa.ForeignKey("clinicians.id"), index=True)
    profession_code: Mapped[str] = mapped_column(sa.ForeignKey("professions.code"))
    board_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id"))
    origin_state_code: Mapped[str] = mapped_column(sa.ForeignKey("member_states.code"))
    measure: Mapped[LicenceAction] = mapped_column(str_enum(LicenceAction, "alert_measure"))
    scope: Mapped[str | None] = mapped_column(sa.Text)
    decided_on: Mapped[date]
    effective_from: Mapped[date]
    sent_at: Mapped[datetime]
    late: Mapped[bool]
    closed_on: Mapped[date | None]
    closing_event_id: Mapped[int | None] = mapped_column(sa.ForeignKey("licence_events.id"))

    licence: Mapped[Licence] = relationship()
    clinician: Mapped[Clinician] = relationship()
    board: Mapped[Organisation] = relationship()
    recipients: Mapped[list[AlertRecipient]] = relationship(
        back_populates="alert", order_by="AlertRecipient.state_code"
    )

    __table_args__ = (
        sa.CheckConstraint("measure IN ('suspend', 'restrict', 'revoke')", name="alerting_measure"),
        sa.CheckConstraint("closed_on IS NULL OR closed_on >= effective_from", name="closed_after_start"),
    )

    def open_on(self, day: date) -> bool:
        """In force on `day`: effective and not yet closed."""
        return self.effective_from <= day and (self.closed_on is None or day < self.closed_on)


class AlertRecipient(db.Model):
    """One other member state that must acknowledge an alert."""

    __tablename__ = "alert_recipients"
    __table_args__ = (sa.UniqueConstraint("alert_id", "state_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    alert_id: Mapped[int] = mapped_column(sa.ForeignKey("alerts.id"))
    state_code: Mapped[str] = mapped_column(sa.ForeignKey("member_states.code"), index=True)
    acknowledged_at: Mapped[datetime | None]
    acknowledged_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("accounts.id"))

    alert: Mapped[Alert] = relationship(back_populates="recipients")
