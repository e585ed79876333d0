"""Decisions that ask for confirmation: the service runs first (so every rule is checked by the service itself),
what it would write is read back from the audit events of this transaction, and then it is all rolled back.

The confirmation page can so name what a decision sets off (an alert to the other states, a suspended recognition
or secondment, a revoked certificate) without the pages knowing any of those rules.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import sqlalchemy as sa
from flask import g

from registry.core.audit import AuditEvent
from registry.core.db import db

T = TypeVar("T")

_PAST = {"raise": "raised", "close": "closed", "suspend": "suspended", "unsuspend": "no longer suspended",
         "revoke": "revoked", "reinstate": "reinstated", "approve": "approved", "cancel": "cancelled",
         "terminate": "terminated", "withdraw": "withdrawn"}
_SAID = {
    "alert.raise": "an alert goes to the boards of every other member state",
    "alert.close": "the open alert about this licence is closed",
    "mobility_notice.raise": "the host state's boards receive a notice about the secondment",
}


def describe(action: str, object_type: str, object_id: str) -> str:
    """One audit event in words, e.g. "recognition 4 is suspended"."""
    if action in _SAID:
        return _SAID[action]
    verb = action.split(".", 1)[-1]
    return f"{object_type.replace('_', ' ')} {object_id} is {_PAST.get(verb, verb)}"


def dry_run(step: Callable[[], T], *, main: tuple[str, Any]) -> tuple[T, list[str]]:
    """Run `step` (a service call), list in words what else it recorded, then roll everything back.

    `main` is the (object type, id) of the decision itself, left out of the list. A RegistryError from the step
    propagates (the caller rolls back and shows it next to the fields).
    """
    before = db.session.scalar(sa.select(sa.func.max(AuditEvent.seq))) or 0
    result = step()
    db.session.flush()
    stmt = sa.select(AuditEvent.action, AuditEvent.object_type, AuditEvent.object_id).where(AuditEvent.seq > before)
    if g.get("request_id"):
        stmt = stmt.where(AuditEvent.request_id == g.request_id)
    rows = db.session.execute(stmt.order_by(AuditEvent.seq)).all()
    db.session.rollback()
    main_type, main_id = main[0], str(main[1])
    effects = [describe(r.action, r.object_type, r.object_id) for r in rows
               if not (r.object_type == main_type and r.object_id == main_id)]
    return result, list(dict.fromkeys(effects))
