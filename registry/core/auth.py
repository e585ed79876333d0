"""Accounts, roles, access tokens, API keys and the permission primitives every feature uses."""

from __future__ import annotations

import enum
import hashlib
import hmac
import secrets
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import jwt
import sqlalchemy as sa
from flask import current_app, g, request
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from registry.core.db import db, str_enum, utcnow
from registry.core.errors import Forbidden, Unauthorized
from registry.core.prepared import fetch_first

if TYPE_CHECKING:
    from registry.people.models import Organisation

TOKEN_AUDIENCE = "workforce-registry-api"  # noqa: S105 - a claim value, not a secret
TOKEN_ISSUER = "workforce-registry"  # noqa: S105
API_KEY_PREFIX = "wr_"


class Role(enum.StrEnum):
    SECRETARIAT_ADMIN = "secretariat_admin"
    BOARD_OFFICER = "board_officer"
    HUB_OFFICER = "hub_officer"
    CLINICIAN = "clinician"


ORG_ROLES = {Role.SECRETARIAT_ADMIN, Role.BOARD_OFFICER, Role.HUB_OFFICER}


class Account(db.Model):
    """A person or a machine client that signs in. Bound to an organisation, or to a clinician."""

    __tablename__ = "accounts"
    __table_args__ = (
        sa.CheckConstraint(
            "(role = 'clinician' AND clinician_id IS NOT NULL AND organisation_id IS NULL) OR "
            "(role <> 'clinician' AND organisation_id IS NOT NULL AND clinician_id IS NULL)",
            name="bound_to_org_or_clinician",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    display_name: Mapped[str] = mapped_column(sa.String(200))
    password_hash: Mapped[str | None] = mapped_column(sa.String(255))
    role: Mapped[Role] = mapped_column(str_enum(Role, "role"))
    organisation_id: Mapped[int | None] = mapped_column(sa.ForeignKey("organisations.id"), index=True)
    clinician_id: Mapped[int | None] = mapped_column(sa.ForeignKey("clinicians.id"), unique=True)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    api_keys: Mapped[list[ApiKey]] = relationship(back_populates="account")
    # Named by string: core sits below people and must not import it.
    organisation: Mapped[Organisation | None] = relationship("Organisation")  # noqa: F821

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password)

    def check_password(self, password: str) -> bool:
        return bool(self.password_hash) and check_password_hash(self.password_hash, password)


class ApiKey(db.Model):
    """A machine client's key; only its SHA-256 is stored, the secret is shown once."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("accounts.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    prefix: Mapped[str] = mapped_column(sa.String(16), unique=True)
    key_hash: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]

    account: Mapped[Account] = relationship(back_populates="api_keys")


# A fixed hash to compare against when the e-mail is unknown, so timing does not reveal accounts.
_DUMMY_HASH = generate_password_hash("not-a-real-password")


def authenticate(email: str, password: str) -> Account:
    """Return the active account for these credentials or raise Unauthorized."""
    account = db.session.scalar(sa.select(Account).where(Account.email == email.strip().lower()))
    if account is None:
        check_password_hash(_DUMMY_HASH, password)
        raise Unauthorized("unknown e-mail or wrong password")
    if not account.check_password(password) or not account.active:
        raise Unauthorized("unknown e-mail or wrong password")
    return account


def issue_access_token(account: Account) -> tuple[str, int]:
    """A short-lived HS256 bearer token naming the account; returns (token, seconds to expiry)."""
    lifetime = int(current_app.config["ACCESS_TOKEN_SECONDS"])
    now = utcnow()
    claims = {
        "iss": TOKEN_ISSUER,
        "aud": TOKEN_AUDIENCE,
        "sub": str(account.id),
        "role": account.role.value,
        "iat": now,
        "nbf": now,
        "exp": now + timedelta(seconds=lifetime),
        "jti": uuid.uuid4().hex,
    }
    return jwt.encode(claims, current_app.config["SECRET_KEY"], algorithm="HS256"), lifetime


# Decoded access tokens, per worker: a token's signature and claims are checked once, then only its expiry.
# Keyed by the signing secret too, so a changed secret (or another app in the same process) never reuses one.
_TOKEN_CACHE: dict[tuple[str, str], tuple[int, float]] = {}
_TOKEN_CACHE_SIZE = 4096


def _token_account_id(token: str) -> int:
    """The account id a valid, unexpired access token names (401 otherwise)."""
    secret = current_app.config["SECRET_KEY"]
    cached = _TOKEN_CACHE.get((secret, token))
    if cached is not None:
        account_id, expires = cached
        if time.time() < expires:
            return account_id
        del _TOKEN_CACHE[(secret, token)]
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=["HS256"],
            audience=TOKEN_AUDIENCE,
            issuer=TOKEN_ISSUER,
            options={"require": ["exp", "sub", "iat"]},
        )
    except jwt.ExpiredSignatureError as exc:
        raise Unauthorized("the access token has expired; request a new one") from exc
    except jwt.PyJWTError as exc:
        raise Unauthorized("the access token is not valid") from exc
    try:
        account_id = int(claims["sub"])
        expires = float(claims["exp"])
    except (TypeError, ValueError) as exc:
        raise Unauthorized("the access token is not valid") from exc
    if len(_TOKEN_CACHE) >= _TOKEN_CACHE_SIZE:
        _TOKEN_CACHE.clear()
    _TOKEN_CACHE[(secret, token)] = (account_id, expires)
    return account_id


def _account_from_token(token: str) -> Account:
    account = db.session.get(Account, _token_account_id(token))
    if account is None or not account.active:
        raise Unauthorized("the account behind this token is not active")
    return account


def hash_api_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def new_api_key(account: Account, name: str) -> tuple[ApiKey, str]:
    """Create a key for a machine client; the returned secret is never stored or shown again."""
    prefix = secrets.token_hex(6)
    secret = f"{API_KEY_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    key = ApiKey(account=account, name=name, prefix=prefix, key_hash=hash_api_key(secret))
    db.session.add(key)
    db.session.flush()
    return key, secret


def _account_from_api_key(secret: str) -> Account:
    parts = secret.split("_")
    if len(parts) < 3 or not secret.startswith(API_KEY_PREFIX):
        raise Unauthorized("the API key is not valid")
    key = db.session.scalar(sa.select(ApiKey).where(ApiKey.prefix == parts[1]))
    if key is None or key.revoked_at is not None or not hmac.compare_digest(key.key_hash, hash_api_key(secret)):
        raise Unauthorized("the API key is not valid")
    if not key.account.active:
        raise Unauthorized("the account behind this API key is not active")
    g.auth_via = f"api-key:{key.prefix}"
    return key.account


def _credentials() -> tuple[str, str] | None:
    """("bearer", token) or ("api-key", secret) from the request's headers; None when it sends neither."""
    environ = request.environ  # the WSGI names of the two headers: one proxy lookup, no header object
    header = environ.get("HTTP_AUTHORIZATION", "")
    api_key = environ.get("HTTP_X_API_KEY")
    if not header and not api_key:
        return None
    if header[:7].lower() == "bearer ":
        return "bearer", header[7:].strip()
    if header[:7].lower() == "apikey ":
        return "api-key", header[7:].strip()
    if api_key:
        return "api-key", api_key.strip()
    raise Unauthorized("use 'Authorization: Bearer <token>' or an API key")


def _account_from(credentials: tuple[str, str] | None) -> Account | None:
    """The account the credentials name, or the page session's account when there are none."""
    if credentials is None:
        return g.get("session_account")
    if credentials[0] == "bearer":
        return _account_from_token(credentials[1])
    return _account_from_api_key(credentials[1])


def current_account_or_none() -> Account | None:
    """The caller, from a bearer token or an API key; None when anonymous. Cached per request."""
    if "account" in g:
        return g.account
    account = g.account = _account_from(_credentials())
    return account


@dataclass(frozen=True, slots=True)
class Caller:
    """Who is asking, as plain values: what read permissions and the logs need, without loading the ORM account.

    The busiest reads (standing, right to practise) are answered for bearer tokens with one Core query here;
    writes use the ORM `Account` from `current_account()`.
    """

    id: int
    role: Role
    organisation_id: int | None
    clinician_id: int | None
    member_state_code: str | None

    @classmethod
    def of(cls, account: Account) -> Caller:
        organisation = account.organisation
        return cls(account.id, account.role, account.organisation_id, account.clinician_id,
                   organisation.member_state_code if organisation is not None else None)


def _caller_statement() -> sa.Select:
    from registry.people.models import Organisation

    accounts, organisations = Account.__table__, Organisation.__table__
    return (sa.select(accounts.c.id, accounts.c.role, accounts.c.organisation_id, accounts.c.clinician_id,
                      accounts.c.active, organisations.c.member_state_code)
            .outerjoin(organisations, organisations.c.id == accounts.c.organisation_id)
            .where(accounts.c.id == sa.bindparam("account_id")))


_CALLER: list[sa.Select] = []


def current_caller_or_none() -> Caller | None:
    """The caller as a `Caller`; None when anonymous. Cached per request; the account is read on every request
    (deactivating it takes effect at once)."""
    request_g = g._get_current_object()  # type: ignore[attr-defined]  (one proxy lookup: each costs ~1 µs)
    if "caller" in request_g:
        return request_g.caller
    if "account" in request_g:
        caller = Caller.of(request_g.account) if request_g.account is not None else None
    else:
        credentials = _credentials()
        if credentials is not None and credentials[0] == "bearer":
            if not _CALLER:
                _CALLER.append(_caller_statement())
            row = fetch_first(_CALLER[0], {"account_id": _token_account_id(credentials[1])})
            if row is None or not row.active:
                raise Unauthorized("the account behind this token is not active")
            caller = Caller(row.id, row.role, row.organisation_id, row.clinician_id, row.member_state_code)
        else:  # the credentials are read once: an anonymous verification asks for the caller on every request
            account = request_g.account = _account_from(credentials)
            caller = Caller.of(account) if account is not None else None
    request_g.caller = caller
    return caller


def current_caller() -> Caller:
    """The signed-in caller as a `Caller`, or 401."""
    caller = current_caller_or_none()
    if caller is None:
        raise Unauthorized("sign in: POST /api/v1/auth/token, then send 'Authorization: Bearer <token>'")
    return caller


def current_account() -> Account:
    """The signed-in caller or 401."""
    account = current_account_or_none()
    if account is None:
        raise Unauthorized("sign in: POST /api/v1/auth/token, then send 'Authorization: Bearer <token>'")
    return account


def require_role(*roles: Role) -> Account:
    """The caller, who must hold one of these roles (403 otherwise)."""
    account = current_account()
    if account.role not in roles:
        allowed = ", ".join(r.value for r in roles)
        raise Forbidden(f"this action needs one of these roles: {allowed}")
    return account
