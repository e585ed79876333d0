"""Hash-chained, append-only audit log, and the access log of standing reads."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from flask import g, has_request_context
from sqlalchemy.orm import Mapped, mapped_column

from registry.core.db import db, utcnow
from registry.core.prepared import commit_log_row

GENESIS = "0" * 64
# Any constant identifies the lock; every writer of the chain takes the same one.
_CHAIN_LOCK_KEY = 0x5245_4749  # "REGI"


class AuditEvent(db.Model):
    """One write to the register. `seq` is the chain position; `prev_hash` is unique, so the chain cannot fork."""

    __tablename__ = "audit_events"

    seq: Mapped[int] = mapped_column(sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True,
                                     autoincrement=False)
    occurred_at: Mapped[datetime]
    actor_id: Mapped[int | None]
    actor_label: Mapped[str] = mapped_column(sa.String(200))
    action: Mapped[str] = mapped_column(sa.String(80), index=True)
    object_type: Mapped[str] = mapped_column(sa.String(60))
    object_id: Mapped[str] = mapped_column(sa.String(80))
    changes: Mapped[dict[str, Any]]
    request_id: Mapped[str | None] = mapped_column(sa.String(64))
    prev_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    hash: Mapped[str] = mapped_column(sa.String(64), unique=True)

    __table_args__ = (sa.Index("ix_audit_events_object", "object_type", "object_id"),)


class AccessLog(db.Model):
    """Who read a clinician's full standing, and when (DOMAIN: every read is logged)."""

    __tablename__ = "access_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_at: Mapped[datetime]
    actor_id: Mapped[int | None]
    actor_label: Mapped[str] = mapped_column(sa.String(200))
    organisation_id: Mapped[int | None]
    clinician_id: Mapped[int] = mapped_column(index=True)
    what: Mapped[str] = mapped_column(sa.String(60))
    request_id: Mapped[str | None] = mapped_column(sa.String(64))


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if hasattr(value, "value") and not isinstance(value, (str, int, float, bool)):
        return value.value  # enums
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_plain(v) for v in value]
    return value


def _canonical(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def compute_hash(event: AuditEvent) -> str:
    """SHA-256 over every recorded field and the previous hash."""
    payload = {
        "seq": event.seq,
        "occurred_at": event.occurred_at.isoformat(),
        "actor_id": event.actor_id,
        "actor_label": event.actor_label,
        "action": event.action,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "changes": event.changes,
        "request_id": event.request_id,
        "prev_hash": event.prev_hash,
    }
    return hashlib.sha256(_canonical(payload)).hexdigest()


def _actor() -> tuple[int | None, str]:
    from registry.core.auth import current_caller_or_none

    caller = current_caller_or_none() if has_request_context() else None
    if caller is None:
        label = getattr(g, "cli_actor", None) if _has_g() else None
        return None, label or "system"
    via = getattr(g, "auth_via", "token")
    return caller.id, f"{caller.role.value}:{caller.id}" + (f" via {via}" if via != "token" else "")


def _has_g() -> bool:
    from flask import has_app_context

    return has_app_context()


def record(action: str, object_type: str, object_id: Any, changes: dict[str, Any] | None = None) -> AuditEvent:
    """Append one event to the chain in the caller's transaction (flushes, never commits)."""
    session = db.session
    if session.get_bind().dialect.name == "postgresql":
        # One writer at a time extends the chain; held until the transaction ends.
        session.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _CHAIN_LOCK_KEY})
    last = session.execute(
        sa.select(AuditEvent.seq, AuditEvent.hash).order_by(AuditEvent.seq.desc()).limit(1)
    ).first()
    actor_id, actor_label = _actor()
    event = AuditEvent(
        seq=(last.seq + 1) if last else 1,
        occurred_at=utcnow(),
        actor_id=actor_id,
        actor_label=actor_label,
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        changes=_plain(changes or {}),
        request_id=getattr(g, "request_id", None) if _has_g() else None,
        prev_hash=last.hash if last else GENESIS,
    )
    event.hash = compute_hash(event)
    session.add(event)
    session.flush()
    return event


def log_access(clinician_id: int, what: str) -> None:
    """Record a read of a clinician's record (not chained: reads are frequent and not changes) and commit.

    Runs on every standing read, so it is one row written the cheapest safe way (`commit_log_row`); what
    the request read stays loaded.
    """
    from registry.core.auth import current_caller_or_none

    caller = current_caller_or_none()
    actor_id, actor_label = _actor()
    commit_log_row(AccessLog.__table__, {
        "occurred_at": utcnow(), "actor_id": actor_id, "actor_label": actor_label,
        "organisation_id": caller.organisation_id if caller else None, "clinician_id": clinician_id,
        "what": what, "request_id": getattr(g, "request_id", None),
    })


@dataclass
class ChainProblem:
    seq: int
    problem: str

    def __str__(self) -> str:
        return f"event {self.seq}: {self.problem}"


def verify_chain(batch: int = 5000) -> tuple[int, list[ChainProblem]]:
    """Walk the chain in order; report edited, deleted, inserted or reordered events by position."""
    problems: list[ChainProblem] = []
    expected_prev = GENESIS
    expected_seq = 1
    checked = 0
    last_seq = 0
    while True:
        rows = db.session.scalars(
            sa.select(AuditEvent).where(AuditEvent.seq > last_seq).order_by(AuditEvent.seq).limit(batch)
        ).all()
        if not rows:
            break
        for event in rows:
            checked += 1
            if event.seq != expected_seq:
                problems.append(
                    ChainProblem(event.seq, f"events {expected_seq}..{event.seq - 1} are missing (deleted)")
                )
            if compute_hash(event) != event.hash:
                problems.append(ChainProblem(event.seq, "content does not match its hash (edited)"))
            if event.prev_hash != expected_prev:
                problems.append(
                    ChainProblem(event.seq, "does not follow the event before it (deleted, inserted or reordered)")
                )
            expected_prev = event.hash
            expected_seq = event.seq + 1
            last_seq = event.seq
        db.session.expunge_all()
    return checked, problems
