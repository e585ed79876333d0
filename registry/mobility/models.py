"""Exchange programmes and secondments (DOMAIN.md "Mobility").

A secondment's `status` column is the outcome of its latest recorded event (for queues and capacity);
`active` and `completed` are never recorded: they are read from the dates, like a licence's `lapsed`.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from registry.core.db import db, str_enum, utcnow
from registry.licensing.models import Licence
from registry.people.models import Clinician
from registry.recognition.models import Recognition


class ProgrammeStatus(enum.StrEnum):
    PLANNED = "planned"
    OPEN = "open"
    CLOSED = "closed"


programme_states = sa.Table(
    "programme_states",
    db.metadata,
    sa.Column("programme_id", sa.ForeignKey("exchange_programmes.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("state_code", sa.ForeignKey("member_states.code"), primary_key=True),
)

programme_professions = sa.Table(
    "programme_professions",
    db.metadata,
    sa.Column("programme_id", sa.ForeignKey("exchange_programmes.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("profession_code", sa.ForeignKey("professions.code"), primary_key=True),
)


class ExchangeProgramme(db.Model):
    """A programme the secretariat runs: who takes part, when, how many places in all and per host state."""

    __tablename__ = "exchange_programmes"
    __table_args__ = (
        sa.CheckConstraint("ends_on >= starts_on", name="dates_in_order"),
        sa.CheckConstraint("capacity >= 0", name="capacity_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(40), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    coordinating_state_code: Mapped[str] = mapped_column(sa.ForeignKey("member_states.code"))
    starts_on: Mapped[date]
    ends_on: Mapped[date]
    capacity: Mapped[int]
    required_courses: Mapped[list[Any]] = mapped_column(default=list)
    recognition_required: Mapped[bool] = mapped_column(default=True)
    status: Mapped[ProgrammeStatus] = mapped_column(str_enum(ProgrammeStatus, "programme_status"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    states_rel = relationship("MemberState", secondary=programme_states, order_by="MemberState.code")
    professions_rel = relationship("Profession", secondary=programme_professions, order_by="Profession.code")
    host_capacities: Mapped[list[ProgrammeHostCapacity]] = relationship(
        back_populates="programme", cascade="all, delete-orphan", order_by="ProgrammeHostCapacity.state_code"
    )

    @property
    def state_codes(self) -> list[str]:
        return [s.code for s in self.states_rel]

    @property
    def profession_codes(self) -> list[str]:
        return [p.code for p in self.professions_rel]

    @property
    def capacity_by_host(self) -> dict[str, int]:
        return {c.state_code: c.capacity for c in self.host_capacities}


class ProgrammeHostCapacity(db.Model):
    """The places a programme offers in one host state (a state without a row is limited by the total only)."""

    __tablename__ = "programme_host_capacities"
    __table_args__ = (sa.CheckConstraint("capacity >= 0", name="capacity_not_negative"),)

    programme_id: Mapped[int] = mapped_column(sa.ForeignKey("exchange_programmes.id", ondelete="CASCADE"),
                                              primary_key=True)
    state_code: Mapped[str] = mapped_column(sa.ForeignKey("member_states.code"), primary_key=True)
    capacity: Mapped[int]

    programme: Mapped[ExchangeProgramme] = relationship(back_populates="host_capacities")


class SecondmentStatus(enum.StrEnum):
    PROPOSED = "proposed"
    APPROVED = "approved"
    ACTIVE = "active"  # read from dates, never recorded
    COMPLETED = "completed"  # read from dates, never recorded
    TERMINATED = "terminated"
    CANCELLED = "cancelled"
    SUSPENDED = "suspended"


class SecondmentAction(enum.StrEnum):
    PROPOSE = "propose"
    APPROVE = "approve"
    CANCEL = "cancel"
    TERMINATE = "terminate"
    SUSPEND = "suspend"
    REINSTATE = "reinstate"


# Recorded outcomes that hold a place in a programme and block overlapping secondments.
PLACED = (SecondmentStatus.APPROVED, SecondmentStatus.SUSPENDED)


class Secondment(db.Model):
    """A clinician working for a while in another member state, on a home licence (and a recognition there)."""

    __tablename__ = "secondments"
    __table_args__ = (
        sa.CheckConstraint("host_state_code <> home_state_code", name="host_differs_from_home"),
        sa.CheckConstraint("ends_on >= starts_on", name="dates_in_order"),
        sa.Index("ix_secondments_programme_status", "programme_id", "status"),
        sa.Index("ix_secondments_clinician_dates", "clinician_id", "starts_on"),
        sa.Index("ix_secondments_flow", "starts_on", "home_state_code", "host_state_code"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    clinician_id: Mapped[int] = mapped_column(sa.ForeignKey("clinicians.id"))
    profession_code: Mapped[str] = mapped_column(sa.ForeignKey("professions.code"))
    home_state_code: Mapped[str] = mapped_column(sa.ForeignKey("member_states.code"))
    host_state_code: Mapped[str] = mapped_column(sa.ForeignKey("member_states.code"), index=True)
    host_institution: Mapped[str] = mapped_column(sa.String(200))
    supervisor: Mapped[str] = mapped_column(sa.String(200))
    programme_id: Mapped[int | None] = mapped_column(sa.ForeignKey("exchange_programmes.id"))
    starts_on: Mapped[date]
    ends_on: Mapped[date]
    home_licence_id: Mapped[int] = mapped_column(sa.ForeignKey("licences.id"), index=True)
    recognition_id: Mapped[int | None] = mapped_column(sa.ForeignKey("recognitions.id"), index=True)
    status: Mapped[SecondmentStatus] = mapped_column(str_enum(SecondmentStatus, "secondment_status"))
    proposed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("accounts.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    clinician: Mapped[Clinician] = relationship()
    home_licence: Mapped[Licence] = relationship()
    recognition: Mapped[Recognition | None] = relationship()
    programme: Mapped[ExchangeProgramme | None] = relationship()
    events: Mapped[list[SecondmentEvent]] = relationship(
        back_populates="secondment", order_by="(SecondmentEvent.effective_on, SecondmentEvent.id)"
    )


class SecondmentEvent(db.Model):
    """One step of a secondment. A cascade step names its cause: a licence event or a recognition event."""

    __tablename__ = "secondment_events"
    __table_args__ = (
        sa.CheckConstraint("action NOT IN ('cancel', 'terminate', 'suspend') OR reason IS NOT NULL",
                           name="reason_required"),
        sa.CheckConstraint("cause_licence_event_id IS NULL OR cause_recognition_event_id IS NULL",
                           name="one_cause"),
        sa.CheckConstraint("action <> 'suspend' OR cause_licence_event_id IS NOT NULL "
                           "OR cause_recognition_event_id IS NOT NULL", name="suspension_has_cause"),
        sa.Index("ix_secondment_events_order", "secondment_id", "effective_on", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    secondment_id: Mapped[int] = mapped_column(sa.ForeignKey("secondments.id"))
    action: Mapped[SecondmentAction] = mapped_column(str_enum(SecondmentAction, "secondment_action"))
    decided_on: Mapped[date]
    effective_on: Mapped[date]
    reason: Mapped[str | None] = mapped_column(sa.Text)
    cause_licence_event_id: Mapped[int | None] = mapped_column(sa.ForeignKey("licence_events.id"), index=True)
    cause_recognition_event_id: Mapped[int | None] = mapped_column(sa.ForeignKey("recognition_events.id"),
                                                                   index=True)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("accounts.id"))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)

    secondment: Mapped[Secondment] = relationship(back_populates="events")


class MobilityNotice(db.Model):
    """A message to the host state's boards: a secondment into their state was suspended or its suspension lifted."""

    __tablename__ = "mobility_notices"

    id: Mapped[int] = mapped_column(primary_key=True)
    host_state_code: Mapped[str] = mapped_column(sa.ForeignKey("member_states.code"), index=True)
    secondment_id: Mapped[int] = mapped_column(sa.ForeignKey("secondments.id"), index=True)
    event_id: Mapped[int] = mapped_column(sa.ForeignKey("secondment_events.id"), unique=True)
    message: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    secondment: Mapped[Secondment] = relationship()
    event: Mapped[SecondmentEvent] = relationship()
