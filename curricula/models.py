"""Courses and their owners, hub accreditations, offerings and enrolments, completions.

A completion's `valid_until` is fixed when it is recorded (its date plus the course's validity then):
a later change to the course's validity does not rewrite what was already recorded.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from registry.core.db import db, str_enum, utcnow
from registry.people.models import Clinician, MemberState, Organisation, Profession


class Outcome(enum.StrEnum):
    PASSED = "passed"
    FAILED = "failed"


class CompletionStatus(enum.StrEnum):
    """What a completion was on one day; read from its dates, never stored."""

    CURRENT = "current"
    EXPIRED = "expired"
    FAILED = "failed"
    WITHDRAWN = "withdrawn"


course_professions = sa.Table(
    "course_professions",
    db.metadata,
    sa.Column("course_id", sa.ForeignKey("courses.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("profession_code", sa.ForeignKey("professions.code"), primary_key=True),
)


class Course(db.Model):
    """A course of the compact's curriculum; a joint course has several owners."""

    __tablename__ = "courses"
    __table_args__ = (
        sa.CheckConstraint("cpd_hours >= 0", name="cpd_hours_not_negative"),
        sa.CheckConstraint("validity_months IS NULL OR validity_months > 0", name="validity_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(40), unique=True)
    titles: Mapped[dict[str, Any]]
    fallback_language: Mapped[str] = mapped_column(sa.String(35))
    description: Mapped[str | None] = mapped_column(sa.Text)
    competencies: Mapped[list[Any]] = mapped_column(default=list)
    cpd_hours: Mapped[float] = mapped_column(sa.Float)
    validity_months: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime | None]

    professions: Mapped[list[Profession]] = relationship(secondary=course_professions, order_by=Profession.code)
    owners: Mapped[list[CourseOwner]] = relationship(
        back_populates="course", cascade="all, delete-orphan", order_by="CourseOwner.id"
    )

    def title_in(self, language: str | None) -> str:
        """The title in `language` (or its primary subtag), else in the fallback language."""
        if language:
            if language in self.titles:
                return self.titles[language]
            primary = language.split("-")[0]
            if primary in self.titles:
                return self.titles[primary]
        return self.titles.get(self.fallback_language) or next(iter(self.titles.values()), self.code)

    @property
    def owning_hub_ids(self) -> set[int]:
        return {o.organisation_id for o in self.owners if o.organisation_id is not None}


class CourseOwner(db.Model):
    """One owner of a course: a training hub or a member state, never both."""

    __tablename__ = "course_owners"
    __table_args__ = (
        sa.CheckConstraint("(organisation_id IS NULL) <> (member_state_code IS NULL)", name="hub_or_state"),
        sa.UniqueConstraint("course_id", "organisation_id"),
        sa.UniqueConstraint("course_id", "member_state_code"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(sa.ForeignKey("courses.id", ondelete="CASCADE"))
    organisation_id: Mapped[int | None] = mapped_column(sa.ForeignKey("organisations.id"))
    member_state_code: Mapped[str | None] = mapped_column(sa.ForeignKey("member_states.code"))

    course: Mapped[Course] = relationship(back_populates="owners")
    organisation: Mapped[Organisation | None] = relationship(lazy="joined")
    member_state: Mapped[MemberState | None] = relationship()


class Accreditation(db.Model):
    """A member state allows a hub to deliver a course from one date until another (or open-ended)."""

    __tablename__ = "accreditations"
    __table_args__ = (
        sa.CheckConstraint("valid_until IS NULL OR valid_until >= valid_from", name="until_after_from"),
        sa.Index("ix_accreditations_hub_course", "hub_id", "course_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(sa.ForeignKey("courses.id"), index=True)
    hub_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id"))
    granted_by_state_code: Mapped[str] = mapped_column(sa.ForeignKey("member_states.code"))
    valid_from: Mapped[date]
    valid_until: Mapped[date | None]
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
    recorded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("accounts.id"))

    course: Mapped[Course] = relationship(lazy="joined")
    hub: Mapped[Organisation] = relationship(lazy="joined")

    def covers(self, day: date) -> bool:
        return self.valid_from <= day and (self.valid_until is None or day <= self.valid_until)


class Offering(db.Model):
    """A cohort: a course delivered by a hub on given dates, in one language, for a limited number of people."""

    __tablename__ = "offerings"
    __table_args__ = (
        sa.CheckConstraint("ends_on >= starts_on", name="ends_after_start"),
        sa.CheckConstraint("capacity > 0", name="capacity_positive"),
        sa.Index("ix_offerings_hub_starts", "hub_id", "starts_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(sa.ForeignKey("courses.id"), index=True)
    hub_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id"))
    starts_on: Mapped[date]
    ends_on: Mapped[date]
    language: Mapped[str] = mapped_column(sa.String(35))
    place: Mapped[str] = mapped_column(sa.String(200))
    capacity: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    course: Mapped[Course] = relationship(lazy="joined")
    hub: Mapped[Organisation] = relationship(lazy="joined")


class Enrolment(db.Model):
    __tablename__ = "enrolments"
    __table_args__ = (sa.UniqueConstraint("offering_id", "clinician_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    offering_id: Mapped[int] = mapped_column(sa.ForeignKey("offerings.id"))
    clinician_id: Mapped[int] = mapped_column(sa.ForeignKey("clinicians.id"), index=True)
    enrolled_at: Mapped[datetime] = mapped_column(default=utcnow)
    enrolled_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("accounts.id"))

    offering: Mapped[Offering] = relationship()
    clinician: Mapped[Clinician] = relationship(lazy="joined")


class Completion(db.Model):
    """A clinician completed (passed or failed) a course at a hub. Never deleted: a withdrawal keeps the record."""

    __tablename__ = "completions"
    __table_args__ = (
        sa.UniqueConstraint("hub_id", "reference"),
        sa.CheckConstraint("score IS NULL OR (score >= 0 AND score <= 100)", name="score_range"),
        sa.CheckConstraint("credits >= 0", name="credits_not_negative"),
        sa.CheckConstraint("outcome = 'passed' OR credits = 0", name="failed_earns_nothing"),
        sa.CheckConstraint("valid_until IS NULL OR valid_until > completed_on", name="valid_after_completion"),
        sa.CheckConstraint(
            "(withdrawn_at IS NULL AND withdrawal_reason IS NULL) OR "
            "(withdrawn_at IS NOT NULL AND withdrawal_reason IS NOT NULL)",
            name="withdrawal_has_reason",
        ),
        sa.Index("ix_completions_clinician_completed", "clinician_id", "completed_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    clinician_id: Mapped[int] = mapped_column(sa.ForeignKey("clinicians.id"))
    course_id: Mapped[int] = mapped_column(sa.ForeignKey("courses.id"), index=True)
    hub_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id"))
    offering_id: Mapped[int | None] = mapped_column(sa.ForeignKey("offerings.id"))
    reference: Mapped[str] = mapped_column(sa.String(64))
    completed_on: Mapped[date]
    outcome: Mapped[Outcome] = mapped_column(str_enum(Outcome, "completion_outcome"))
    score: Mapped[float | None] = mapped_column(sa.Float)
    credits: Mapped[float] = mapped_column(sa.Float)
    valid_until: Mapped[date | None]
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
    recorded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("accounts.id"))
    withdrawn_at: Mapped[datetime | None]
    withdrawal_reason: Mapped[str | None] = mapped_column(sa.Text)
    withdrawn_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("accounts.id"))

    clinician: Mapped[Clinician] = relationship(lazy="joined")
    course: Mapped[Course] = relationship(lazy="joined")
    hub: Mapped[Organisation] = relationship(lazy="joined")
    offering: Mapped[Offering | None] = relationship()

    def status_on(self, day: date) -> CompletionStatus:
        """Withdrawn (from its withdrawal date), failed, expired (after valid_until) or current."""
        if self.withdrawn_at is not None and self.withdrawn_at.date() <= day:
            return CompletionStatus.WITHDRAWN
        if self.outcome is Outcome.FAILED:
            return CompletionStatus.FAILED
        if self.valid_until is not None and day > self.valid_until:
            return CompletionStatus.EXPIRED
        return CompletionStatus.CURRENT
