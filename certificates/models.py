"""Issuer keys, status lists and their entries, certificates, and the verification log.

Private keys are stored only as the KEK-encrypted blob of `certificates.keys`. A certificate keeps
the snapshot it was rendered from, its signed credential, its QR token and the PDF with its SHA-256,
so later changes to names or courses never change what was issued.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from registry.core.db import db, str_enum, utcnow
from registry.people.models import Organisation


class KeyAlgorithm(enum.StrEnum):
    ES256 = "ES256"
    EDDSA = "EdDSA"


class CertificateKindColumn(enum.StrEnum):
    """The kinds of certificate (mirrors certificates.credentials.CertificateKind, stored as text)."""

    COURSE_COMPLETION = "course_completion"
    RECOGNITION = "recognition"
    GOOD_STANDING = "good_standing"


class ListPurpose(enum.StrEnum):
    REVOCATION = "revocation"
    SUSPENSION = "suspension"


class IssuerKey(db.Model):
    """A signing key of one organisation. Current while `not_after` is empty; a compromised key verifies nothing."""

    __tablename__ = "issuer_keys"
    __table_args__ = (
        sa.CheckConstraint("not_after IS NULL OR not_after >= not_before", name="window_order"),
        sa.CheckConstraint("compromised_at IS NULL OR not_after IS NOT NULL", name="compromised_is_retired"),
        sa.Index("ix_issuer_keys_organisation_current", "organisation_id", "not_after"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id"))
    kid: Mapped[str] = mapped_column(sa.String(64), unique=True)
    alg: Mapped[KeyAlgorithm] = mapped_column(str_enum(KeyAlgorithm, "key_algorithm"))
    public_jwk: Mapped[dict[str, Any]]
    encrypted_private_key: Mapped[str] = mapped_column(sa.Text)
    not_before: Mapped[datetime]
    not_after: Mapped[datetime | None]
    compromised_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    organisation: Mapped[Organisation] = relationship(lazy="joined")

    def __repr__(self) -> str:  # never the blob
        return f"<IssuerKey {self.kid} of organisation {self.organisation_id}>"


class StatusList(db.Model):
    """One Bitstring Status List of an issuer for one purpose; `signed` caches its signed credential."""

    __tablename__ = "status_lists"
    __table_args__ = (
        sa.UniqueConstraint("organisation_id", "purpose", "number"),
        sa.CheckConstraint("size >= 131072 AND size % 8 = 0", name="size_minimum"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id"))
    purpose: Mapped[ListPurpose] = mapped_column(str_enum(ListPurpose, "list_purpose"))
    number: Mapped[int]
    size: Mapped[int]
    bits: Mapped[bytes] = mapped_column(sa.LargeBinary)
    allocated: Mapped[int] = mapped_column(default=0)
    signed: Mapped[str | None] = mapped_column(sa.Text)
    signed_at: Mapped[datetime | None]
    signed_kid: Mapped[str | None] = mapped_column(sa.String(64))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    organisation: Mapped[Organisation] = relationship(lazy="joined")


class Certificate(db.Model):
    """An issued certificate. `current_key` names what it certifies while it is the live one (issued once)."""

    __tablename__ = "certificates"
    __table_args__ = (
        sa.CheckConstraint(
            "(kind = 'course_completion' AND completion_id IS NOT NULL) OR "
            "(kind = 'recognition' AND recognition_id IS NOT NULL) OR "
            "(kind = 'good_standing' AND licence_id IS NOT NULL)",
            name="subject_of_kind",
        ),
        sa.CheckConstraint("revoked_at IS NULL OR revocation_reason IS NOT NULL", name="revocation_has_reason"),
        sa.CheckConstraint("valid_until IS NULL OR valid_until > valid_from", name="valid_until_after_from"),
        sa.UniqueConstraint("revocation_list_id", "revocation_index"),
        sa.UniqueConstraint("suspension_list_id", "suspension_index"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    credential_id: Mapped[str] = mapped_column(sa.String(45), unique=True)
    kind: Mapped[CertificateKindColumn] = mapped_column(str_enum(CertificateKindColumn, "certificate_kind"))
    issuer_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id"), index=True)
    key_id: Mapped[int] = mapped_column(sa.ForeignKey("issuer_keys.id"), index=True)
    clinician_id: Mapped[int] = mapped_column(sa.ForeignKey("clinicians.id"), index=True)
    completion_id: Mapped[int | None] = mapped_column(sa.ForeignKey("completions.id"), index=True)
    recognition_id: Mapped[int | None] = mapped_column(sa.ForeignKey("recognitions.id"), index=True)
    licence_id: Mapped[int | None] = mapped_column(sa.ForeignKey("licences.id"), index=True)
    current_key: Mapped[str | None] = mapped_column(sa.String(80), unique=True)
    verification_code: Mapped[str] = mapped_column(sa.String(14), unique=True)
    language: Mapped[str] = mapped_column(sa.String(35))
    snapshot: Mapped[dict[str, Any]]
    credential: Mapped[str] = mapped_column(sa.Text)
    compact_token: Mapped[str] = mapped_column(sa.Text)
    valid_from: Mapped[datetime]
    valid_until: Mapped[datetime | None]
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    signed_at: Mapped[datetime]
    issued_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("accounts.id"))
    revocation_list_id: Mapped[int] = mapped_column(sa.ForeignKey("status_lists.id"))
    revocation_index: Mapped[int]
    suspension_list_id: Mapped[int] = mapped_column(sa.ForeignKey("status_lists.id"))
    suspension_index: Mapped[int]
    revoked_at: Mapped[datetime | None]
    revocation_reason: Mapped[str | None] = mapped_column(sa.Text)
    suspended: Mapped[bool] = mapped_column(default=False)
    replaces_id: Mapped[int | None] = mapped_column(sa.ForeignKey("certificates.id"), unique=True)
    pdf: Mapped[bytes] = mapped_column(sa.LargeBinary, deferred=True)
    pdf_sha256: Mapped[str] = mapped_column(sa.String(64), index=True)

    issuer: Mapped[Organisation] = relationship(lazy="joined", foreign_keys=[issuer_id])
    key: Mapped[IssuerKey] = relationship(foreign_keys=[key_id])
    revocation_list: Mapped[StatusList] = relationship(foreign_keys=[revocation_list_id])
    suspension_list: Mapped[StatusList] = relationship(foreign_keys=[suspension_list_id])
    replaces: Mapped[Certificate | None] = relationship(remote_side=[id], foreign_keys=[replaces_id])

    @property
    def status(self) -> str:
        if self.revoked_at is not None:
            return "revoked"
        if self.suspended:
            return "suspended"
        if self.valid_until is not None and utcnow() >= self.valid_until:
            return "expired"
        return "active"


class Verification(db.Model):
    """One verification: when, how, the result, and the signed-in organisation if any (the clinician sees these)."""

    __tablename__ = "verifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow)
    method: Mapped[str] = mapped_column(sa.String(20))
    outcome: Mapped[str] = mapped_column(sa.String(30))
    # Not indexed (migration 0008): nothing reads the log by certificate, and each index costs every verification.
    certificate_id: Mapped[int | None] = mapped_column(sa.ForeignKey("certificates.id"))
    clinician_id: Mapped[int | None] = mapped_column(sa.ForeignKey("clinicians.id"), index=True)
    organisation_id: Mapped[int | None] = mapped_column(sa.ForeignKey("organisations.id"))
    account_id: Mapped[int | None] = mapped_column(sa.ForeignKey("accounts.id"))
    pdf_identical: Mapped[bool | None]

    organisation: Mapped[Organisation | None] = relationship(lazy="joined")


class TrustListVersion(db.Model):
    """One row: a number the database raises, by triggers (migration 0007), whenever an issuer key or an
    organisation is written. A worker's parsed trust list stays current while the number is unchanged."""

    __tablename__ = "trust_list_version"
    __table_args__ = (sa.CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    version: Mapped[int] = mapped_column(sa.BigInteger)
