"""Member states, organisations, professions and clinicians."""

from __future__ import annotations

import enum
import unicodedata
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from registry.core.db import db, str_enum, utcnow


class OrganisationKind(enum.StrEnum):
    LICENSING_BOARD = "licensing_board"
    TRAINING_HUB = "training_hub"
    SECRETARIAT = "secretariat"


class Sex(enum.StrEnum):
    FEMALE = "female"
    MALE = "male"
    OTHER = "other"
    UNKNOWN = "unknown"


class MemberState(db.Model):
    __tablename__ = "member_states"
    __table_args__ = (sa.CheckConstraint("left_on IS NULL OR left_on >= joined_on", name="left_after_joined"),)

    code: Mapped[str] = mapped_column(sa.String(2), primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(100), unique=True)
    official_languages: Mapped[list[Any]]
    joined_on: Mapped[date]
    left_on: Mapped[date | None]


class Organisation(db.Model):
    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(40), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    kind: Mapped[OrganisationKind] = mapped_column(str_enum(OrganisationKind, "organisation_kind"))
    member_state_code: Mapped[str] = mapped_column(sa.ForeignKey("member_states.code"), index=True)
    language: Mapped[str] = mapped_column(sa.String(35))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    member_state: Mapped[MemberState] = relationship()


class Profession(db.Model):
    """An ISCO-08 unit group."""

    __tablename__ = "professions"

    code: Mapped[str] = mapped_column(sa.String(4), primary_key=True)
    title: Mapped[str] = mapped_column(sa.String(200))


def name_key(family_name: str, given_names: str) -> str:
    """Case-, accent- and spacing-insensitive key for duplicate detection and search."""
    text = f"{family_name} {given_names}"
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(stripped.replace("-", " ").split())


class Clinician(db.Model):
    __tablename__ = "clinicians"
    __table_args__ = (sa.Index("ix_clinicians_duplicate_key", "name_key", "date_of_birth", "home_state_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    registry_number: Mapped[str] = mapped_column(sa.String(11), unique=True)
    family_name: Mapped[str] = mapped_column(sa.String(100))
    given_names: Mapped[str] = mapped_column(sa.String(150))
    native_name: Mapped[str | None] = mapped_column(sa.String(250))
    name_key: Mapped[str] = mapped_column(sa.String(260))
    date_of_birth: Mapped[date]
    sex: Mapped[Sex] = mapped_column(str_enum(Sex, "sex"))
    nationality: Mapped[str] = mapped_column(sa.String(2))
    home_state_code: Mapped[str] = mapped_column(sa.ForeignKey("member_states.code"), index=True)
    languages: Mapped[list[Any]] = mapped_column(default=list)
    email: Mapped[str | None] = mapped_column(sa.String(254))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    home_state: Mapped[MemberState] = relationship()

    @property
    def full_name(self) -> str:
        return f"{self.given_names} {self.family_name}"


class ClinicianMerge(db.Model):
    """Two records found to be one person: `merged` was folded into `survivor` (an explicit, audited act).

    Everything the merged record held (licences, completions, recognitions, certificates, secondments, alerts, the
    logs about it, its sign-in account) moved to the survivor; its registry number now leads there. Issued
    certificates are not changed: they keep naming the number they were issued under. Never deleted.
    """

    __tablename__ = "clinician_merges"

    merged_id: Mapped[int] = mapped_column(sa.ForeignKey("clinicians.id"), primary_key=True, autoincrement=False)
    # Always a record that is not itself merged: a later merge of the survivor moves these rows on.
    survivor_id: Mapped[int] = mapped_column(sa.ForeignKey("clinicians.id"), index=True)
    merged_at: Mapped[datetime] = mapped_column(default=utcnow)
    reason: Mapped[str] = mapped_column(sa.String(500))
    account_id: Mapped[int | None] = mapped_column(sa.ForeignKey("accounts.id"))
    organisation_id: Mapped[int | None] = mapped_column(sa.ForeignKey("organisations.id"))
    # Rows moved, per table: {"licences": 2, ...}; the ids are in the audit event.
    moved: Mapped[dict[str, Any]] = mapped_column(default=dict)

    merged: Mapped[Clinician] = relationship(foreign_keys=[merged_id])
    survivor: Mapped[Clinician] = relationship(foreign_keys=[survivor_id])
    organisation: Mapped[Organisation | None] = relationship()
