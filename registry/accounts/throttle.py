"""Sign-in throttling: after too many failed attempts for an e-mail address (or from a client address) within a
window, further attempts are refused for a while, whether or not the account exists.

Failures are rows in `sign_in_failures`, so every gunicorn worker (and every host on one database) sees the same
count. Neither the e-mail nor the client address is stored: each is an HMAC-SHA256 under the secret key. A refused
attempt is not counted (so the lock lifts on its own, when the oldest counted failure leaves the window) and never
reaches the password check, so its answer is the same for a known and an unknown address. A successful sign-in
clears the failures of its e-mail address (not of its client address: signing in to one's own account must not
reset the count of guesses at others). Refusal is per e-mail address after SIGN_IN_MAX_FAILURES and per client
address after SIGN_IN_MAX_FAILURES_PER_ADDRESS failures within SIGN_IN_WINDOW_SECONDS (0 turns a limit off).

Both the sign-in page and POST /api/v1/auth/token go through `authenticate_throttled`.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import math
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import InstrumentedAttribute, Mapped, mapped_column

from registry.core.auth import Account, authenticate
from registry.core.db import db, is_postgres, utcnow
from registry.core.errors import TooManyRequests, Unauthorized

log = logging.getLogger("registry.accounts")

DEFAULT_MAX_FAILURES = 5
DEFAULT_MAX_FAILURES_PER_ADDRESS = 30
DEFAULT_WINDOW_SECONDS = 15 * 60
# pg_advisory_xact_lock(int, int): the first key names this use ("SIGN"); the single-key form the audit chain
# uses is a separate key space.
_LOCK_CLASS = 0x5349_474E


class SignInFailure(db.Model):
    """One failed sign-in: keyed (HMAC) e-mail address and client address, and when."""

    __tablename__ = "sign_in_failures"
    __table_args__ = (
        sa.Index("ix_sign_in_failures_email_key_failed_at", "email_key", "failed_at"),
        sa.Index("ix_sign_in_failures_client_key_failed_at", "client_key", "failed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email_key: Mapped[str] = mapped_column(sa.String(64))
    client_key: Mapped[str] = mapped_column(sa.String(64))
    failed_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class TooManyAttempts(TooManyRequests):
    """Refused before the password is checked; `retry_after` is in whole seconds."""

    def __init__(self, seconds: float):
        self.retry_after = max(1, math.ceil(seconds))
        minutes = max(1, math.ceil(self.retry_after / 60))
        super().__init__(
            f"too many failed sign-in attempts; wait {minutes} minute{'s' if minutes != 1 else ''} and try again",
            retry_after=self.retry_after,
        )


def limits() -> tuple[int, int, int]:
    """(failures per e-mail address, failures per client address, window in seconds) from the configuration."""
    config = current_app.config
    return (int(config.get("SIGN_IN_MAX_FAILURES", DEFAULT_MAX_FAILURES)),
            int(config.get("SIGN_IN_MAX_FAILURES_PER_ADDRESS", DEFAULT_MAX_FAILURES_PER_ADDRESS)),
            int(config.get("SIGN_IN_WINDOW_SECONDS", DEFAULT_WINDOW_SECONDS)))


def _key(kind: str, value: str) -> str:
    secret = str(current_app.config["SECRET_KEY"]).encode()
    return hmac.new(secret, f"{kind}:{value}".encode(errors="replace"), hashlib.sha256).hexdigest()


def _limit_reached(column: InstrumentedAttribute[str], key: str, limit: int, since: datetime) -> datetime | None:
    """The `limit`-th most recent failure within the window (the lock lifts when it leaves the window), or None
    while there are fewer."""
    if limit <= 0:
        return None
    return db.session.scalar(
        sa.select(SignInFailure.failed_at).where(column == key, SignInFailure.failed_at > since)
        .order_by(SignInFailure.failed_at.desc()).offset(limit - 1).limit(1)
    )


def _serialise(email_key: str) -> None:
    """On PostgreSQL, attempts on one e-mail address take turns (count, check, record), so parallel guesses
    cannot all slip under the limit. On SQLite every writing request already began IMMEDIATE."""
    if is_postgres():
        db.session.execute(sa.text("SELECT pg_advisory_xact_lock(:c, :k)"),
                           {"c": _LOCK_CLASS, "k": int.from_bytes(bytes.fromhex(email_key[:8]), "big", signed=True)})


def authenticate_throttled(email: str, password: str, client: str | None) -> Account:
    """`authenticate`, unless this e-mail or client address is over its failure limit (TooManyAttempts, 429).

    Commits its own bookkeeping: a failure is recorded and committed before Unauthorized is raised (the error
    path rolls back), and a success clears the e-mail's failures.
    """
    per_email, per_address, window = limits()
    email_key = _key("email", email.strip().lower())
    client_key = _key("client", client or "unknown")
    now = utcnow()
    since = now - timedelta(seconds=max(window, 0))
    if window > 0:
        _serialise(email_key)
        until = [t for t in (_limit_reached(SignInFailure.email_key, email_key, per_email, since),
                             _limit_reached(SignInFailure.client_key, client_key, per_address, since)) if t]
        if until:
            db.session.rollback()
            log.warning("sign-in refused: too many failed attempts (request %s)", _request_id())
            raise TooManyAttempts((max(until) + timedelta(seconds=window) - now).total_seconds())
    try:
        account = authenticate(email, password)
    except Unauthorized:  # nothing was written; the lock (PostgreSQL) is held until the failure is recorded
        if window > 0:
            db.session.execute(sa.delete(SignInFailure).where(SignInFailure.failed_at <= since))  # old ones
            db.session.add(SignInFailure(email_key=email_key, client_key=client_key, failed_at=now))
            db.session.commit()
        raise
    if window > 0:
        db.session.execute(sa.delete(SignInFailure).where(SignInFailure.email_key == email_key))
        db.session.commit()
    return account


def _request_id() -> str:
    from flask import g

    return g.get("request_id", "")
