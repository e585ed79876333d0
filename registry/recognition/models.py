"""Agreements between member states and recognitions of home licences in host states."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from registry.core.db import db, str_enum, utcnow
from registry.licensing.models import Licence
from registry.people.models import Clinician

CEFR_LEVELS = ["A1", "A2", "B1", "B2", "C1", "C2"]

agreement_states = sa.Table(
    "agreement_states",
    db.metadata,
    sa.Column("agreement_id", sa.ForeignKey("agreements.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("state_code", sa.ForeignKey("member_states.code"), primary_key=True),
)

agreement_professions = sa.Table(
    "agreement_professions",
    db.metadata,
    sa.Column("agreement_id", sa.ForeignKey("agreements.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("profession_code", sa.ForeignKey("professions.code"), primary_key=True),
)


class Agreement(db.Model):
    """A mutual recognition agreement: bilateral (two states) or multilateral (more)."""

    __tablename__ = "agreements"
    __table_args__ = (
        sa.CheckConstraint("in_force_until IS NULL OR in_force_until >= in_force_from", name="in_force_order"),
        sa.CheckConstraint("decision_deadline_days BETWEEN 1 AND 365", name="deadline_range"),
        sa.CheckConstraint("validity_months IS NULL OR validity_months BETWEEN 1 AND 240", name="validity_range"),
        sa.CheckConstraint("adaptation_months BETWEEN 0 AND 60", name="adaptation_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(40), unique=True)
    title: Mapped[str] = mapped_column(sa.String(200))
    in_force_from: Mapped[date]
    in_force_until: Mapped[date | None]
    required_courses: Mapped[list[Any]] = mapped_column(default=list)
    language_level: Mapped[str | None] = mapped_column(sa.String(2))
    adaptation_months: Mapped[int] = mapped_column(default=0)
    validity_months: Mapped[int | None]
    decision_deadline_days: Mapped[int]
    silence_is_approval: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    state_codes_rel = relationship("MemberState", secondary=agreement_states, order_by="MemberState.code")
    professions_rel = relationship("Profession", secondary=agreement_professions, order_by="Profession.code")

    @property
    def state_codes(self) -> list[str]:
        return [s.code for s in self.state_codes_rel]

    @property
    def profession_codes(self) -> list[str]:
        return [p.code for p in self.professions_rel]

    @property
    def kind(self) -> str:
        return "bilateral" if len(self.state_codes_rel) == 2 else "multilateral"

    def in_force_on(self, day: date) -> bool:
        return self.in_force_from <= day and (self.in_force_until is None or day <= self.in_force_until)


class RecognitionStatus(enum.StrEnum):
    PENDING = "pending"
    GRANTED = "granted"
    REFUSED = "refused"
    WITHDRAWN = "withdrawn"
    SUSPENDED = "suspended"
    REVOKED = "revoked"
    EXPIRED = "expired"  # read from dates, never recorded


class RecognitionAction(enum.StrEnum):
    APPLY = "apply"
    GRANT = "grant"
    REFUSE = "refuse"
    WITHDRAW = "withdraw"
    SUSPEND = "suspend"
    REINSTATE = "reinstate"
    REVOKE = "revoke"


class Recognition(db.Model):
    """An application for, and then the recognition of, a home licence in a host state.

    `status` is the outcome of the latest recorded event (for queues); the status on a
    given date is replayed from the events.
    """

    __tablename__ = "recognitions"
    __table_args__ = (
        sa.Index("ix_recognitions_host_status", "host_state_code", "status"),
        sa.CheckConstraint("valid_until IS NULL OR granted_on IS NULL OR valid_until >= granted_on",
                           name="valid_after_grant"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    clinician_id: Mapped[int] = mapped_column(sa.ForeignKey("clinicians.id"), index=True)
    licence_id: Mapped[int] = mapped_column(sa.ForeignKey("licences.id"), index=True)
    host_state_code: Mapped[str] = mapped_column(sa.ForeignKey("member_states.code"))
    profession_code: Mapped[str] = mapped_column(sa.ForeignKey("professions.code"))
    agreement_id: Mapped[int] = mapped_column(sa.ForeignKey("agreements.id"), index=True)
    status: Mapped[RecognitionStatus] = mapped_column(str_enum(RecognitionStatus, "recognition_status"))
    applied_on: Mapped[date]
    decision_due_on: Mapped[date]
    granted_on: Mapped[date | None]
    valid_until: Mapped[date | None]
    conditions: Mapped[str | None] = mapped_column(sa.Text)
    tacit: Mapped[bool] = mapped_column(default=False)
    applied_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("accounts.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    clinician: Mapped[Clinician] = relationship()
    licence: Mapped[Licence] = relationship()
    agreement: Mapped[Agreement] = relationship()
    events: Mapped[list[RecognitionEvent]] = relationship(
        back_populates="recognition", order_by="(RecognitionEvent.effective_on, RecognitionEvent.id)"
    )


class RecognitionEvent(db.Model):
    """One step of a recognition. `cause_licence_event_id` marks cascade steps caused by the home licence."""

    __tablename__ = "recognition_events"
    __table_args__ = (
        sa.CheckConstraint("action NOT IN ('refuse', 'suspend', 'revoke') OR reason IS NOT NULL",
                           name="reason_required"),
        sa.Index("ix_recognition_events_order", "recognition_id", "effective_on", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    recognition_id: Mapped[int] = mapped_column(sa.ForeignKey("recognitions.id"))
    action: Mapped[RecognitionAction] = mapped_column(str_enum(RecognitionAction, "recognition_action"))
    decided_on: Mapped[date]
    effective_on: Mapped[date]
    reason: Mapped[str | None] = mapped_column(sa.Text)
    cause_licence_event_id: Mapped[int | None] = mapped_column(sa.ForeignKey("licence_events.id"), index=True)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("accounts.id"))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)

    recognition: Mapped[Recognition] = relationship(back_populates="events")
