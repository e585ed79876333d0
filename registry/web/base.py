"""The pages' blueprint and what every page shares: the session account, CSRF, errors as pages, form loading."""

from __future__ import annotations

import hmac
import logging
import secrets
import time
from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, Flask, current_app, g, redirect, render_template, request, session, url_for
from marshmallow import Schema, ValidationError
from sqlalchemy.exc import DataError, IntegrityError, OperationalError, SQLAlchemyError
from werkzeug.exceptions import HTTPException

from registry.core.auth import Account, Role, current_account_or_none
from registry.core.db import db
from registry.core.errors import Invalid, RegistryError, Unauthorized

log = logging.getLogger("registry.web")

blp = Blueprint("web", __name__, template_folder="templates", static_folder="static",
                static_url_path="/web/static")

# A signed-in page session ends after this many seconds, whatever the browser keeps.
SESSION_SECONDS = 12 * 3600
CSRF_FIELD = "csrf_token"


class CsrfRejected(RegistryError):
    status = 400
    title = "Form expired"
    slug = "csrf-rejected"


# --- the session account -------------------------------------------------------------------------------------


def sign_in(account: Account) -> None:
    """Start a fresh page session for the account (a new CSRF token too)."""
    session.clear()
    session["account_id"] = account.id
    session["signed_in_at"] = int(time.time())
    session[CSRF_FIELD] = secrets.token_urlsafe(32)


def sign_out() -> None:
    session.clear()


def _load_session_account() -> None:
    """For page requests only: the signed-in account from the session cookie, as g.session_account.

    API requests never read the cookie (no cross-site request can act through it); a request that sends
    a bearer token or an API key is decided by that alone.
    """
    if request.path.startswith("/api/") or request.endpoint in (None, "web.static", "static"):
        return
    if request.headers.get("Authorization") or request.headers.get("X-API-Key"):
        return
    account_id = session.get("account_id")
    if account_id is None:
        return
    started = session.get("signed_in_at", 0)
    account = db.session.get(Account, account_id) if isinstance(account_id, int) else None
    if account is None or not account.active or not isinstance(started, int) or \
            time.time() - started > SESSION_SECONDS:
        sign_out()
        return
    g.session_account = account
    g.auth_via = "session"


def csrf_token() -> str:
    """This session's CSRF token, created on first use (anonymous sessions get one for the sign-in form)."""
    token = session.get(CSRF_FIELD)
    if not token:
        token = session[CSRF_FIELD] = secrets.token_urlsafe(32)
    return token


@blp.before_request
def _check_csrf() -> None:
    """Every POST to a page carries the session's token in a hidden field; anything else writes nothing."""
    if request.method != "POST":
        return
    if request.endpoint == "web.hub_import":
        from curricula.importer import import_limits

        request.max_content_length = import_limits()[0] + 64 * 1024  # the upload's own limit, as the API's
    if not _csrf_matches(session.get(CSRF_FIELD), request.form.getlist(CSRF_FIELD)):
        raise CsrfRejected("the form has expired or did not come from this site; reload the page and try again")


def _csrf_matches(expected: Any, supplied: list[str]) -> bool:
    """Exactly one token was posted and it is this session's; any other input is a mismatch, never an error.

    Compared as UTF-8 bytes: hmac.compare_digest refuses str holding anything but ASCII.
    """
    if not expected or len(supplied) != 1 or not isinstance(supplied[0], str) or not supplied[0]:
        return False
    return hmac.compare_digest(str(expected).encode("utf-8", "surrogatepass"),
                               supplied[0].encode("utf-8", "surrogatepass"))


def install(app: Flask) -> None:
    app.before_request(_load_session_account)
    # The verification page (certificates) asks the app for these, so it need not import the pages.
    app.extensions["page_context"] = lambda: {"csrf_token": csrf_token()}


@blp.after_request
def _headers(response):
    if request.endpoint == "web.verify_upload":
        return response  # the certificates' verification page, with its own inline style
    response.headers["Content-Security-Policy"] = (
        "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; "
        "base-uri 'none'"
    )
    response.headers["X-Frame-Options"] = "DENY"
    if g.get("session_account") is not None or request.method == "POST":
        response.headers["Cache-Control"] = "private, no-store"
    return response


# --- rendering -----------------------------------------------------------------------------------------------


HOME_OF = {
    Role.CLINICIAN: "web.my_record",
    Role.HUB_OFFICER: "web.hub_home",
    Role.BOARD_OFFICER: "web.board_home",
    Role.SECRETARIAT_ADMIN: "web.secretariat_home",
}


@blp.app_template_global()
def home_of(account: Account | None) -> str:
    return url_for(HOME_OF[account.role]) if account is not None else url_for("web.sign_in_page")


def page_account() -> Account | None:
    """The signed-in account for the page header; a bad API credential never breaks a page."""
    try:
        return current_account_or_none()
    except RegistryError:
        return None


@blp.app_context_processor
def _common() -> dict[str, Any]:
    return {"account": page_account(), "Role": Role}


# Globals, so that imported form macros see them too.
blp.add_app_template_global(csrf_token, "csrf_token")
blp.add_app_template_global(CSRF_FIELD, "CSRF_FIELD")


def render(template: str, status: int = 200, **context: Any):
    return render_template(f"web/{template}", **context), status


def today() -> date:
    return date.today()


def safe_next(target: str | None) -> str | None:
    """A local path to return to after signing in; never another site."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    parts = urlsplit(target)
    return target if not parts.scheme and not parts.netloc else None


# --- errors as pages -----------------------------------------------------------------------------------------


def _error_page(status: int, title: str, detail: str):
    return render("error.html", status=status, status_code=status, title=title, detail=detail)


@blp.errorhandler(RegistryError)
def _registry_error(exc: RegistryError):
    db.session.rollback()
    if isinstance(exc, Unauthorized):
        return redirect(url_for("web.sign_in_page", next=request.full_path.rstrip("?")
                                if request.method == "GET" else None))
    return _error_page(exc.status, exc.title, exc.detail)


@blp.errorhandler(HTTPException)
def _http_error(exc: HTTPException):
    db.session.rollback()
    detail = exc.description or exc.name
    if exc.code == 413:
        detail = "the file is larger than the upload limit; split it into smaller files"
    return _error_page(exc.code or 500, exc.name, detail)


def _database_error_page(status: int, title: str, detail: str):
    """An error page after a database failure; if showing who is signed in needs the database too, without it."""
    try:
        return _error_page(status, title, detail)
    except SQLAlchemyError:
        _rollback()
        return render("error.html", status=status, status_code=status, title=title, detail=detail, account=None)


def _rollback() -> None:
    try:
        db.session.rollback()
    except Exception:  # noqa: BLE001 - a failed rollback must not turn the error page into a 500
        log.exception("rollback failed")


# The blueprint's own handlers come before the app's for any page (its catch-all included), so every database
# error the app's handlers answer (registry/core/errors.py) is answered here with the same status, as a page.


@blp.errorhandler(DataError)
def _data_error(exc: DataError):
    # A value the form let through but the database cannot hold (out of range, a NUL byte on PostgreSQL).
    _rollback()
    return _database_error_page(422, "Invalid input", "a value is outside what the register can store")


@blp.errorhandler(IntegrityError)
def _integrity_error(exc: IntegrityError):
    # Two writers raced past a service check; the database constraint decided.
    _rollback()
    log.warning("integrity error on a page: %s", exc.orig)
    return _database_error_page(409, "Conflict",
                                "the change conflicts with data written at the same time; try again")


@blp.errorhandler(OperationalError)
def _operational_error(exc: OperationalError):
    # The database is busy (SQLite "database is locked") or unreachable; nothing was written.
    _rollback()
    if current_app.config.get("PROPAGATE_EXCEPTIONS") and current_app.testing:
        raise exc  # as the app's handler
    log.error("database unavailable on a page: %s", exc.orig)
    page, status = _database_error_page(503, "Service unavailable",
                                        "the database is busy or unavailable; try again in a moment")
    return page, status, {"Retry-After": "2"}


@blp.errorhandler(Exception)
def _unexpected(exc: Exception):
    _rollback()
    if current_app.testing:
        raise exc  # under test nothing is silenced
    log.exception("unhandled error on a page")
    return _error_page(500, "Something went wrong",
                       f"an unexpected error occurred; it has been logged (request {g.get('request_id', '')})")


# --- forms ---------------------------------------------------------------------------------------------------


def load_form(schema: Schema, names: Iterable[str], form: Mapping[str, str] | None = None, *,
              lists: Iterable[str] = (), extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The named fields of the posted form through the API's own input schema; blanks are left out.

    `lists` names fields sent several times (checkboxes), loaded as lists of their non-blank values; `extra`
    adds values the page has put together itself (e.g. a mapping from several inputs).
    A ValidationError becomes Invalid with the messages by field, as the API would answer.
    """
    form = request.form if form is None else form
    raw: dict[str, Any] = {name: form[name].strip() for name in names if form.get(name, "").strip() != ""}
    for name in lists:
        values = [v.strip() for v in form.getlist(name) if v.strip()]  # type: ignore[attr-defined]
        if values:
            raw[name] = values
    raw.update(extra or {})
    try:
        return schema.load(raw)
    except ValidationError as exc:
        raise Invalid("some fields need attention", errors=exc.messages) from exc


def _messages(value: Any) -> list[str]:
    if isinstance(value, Mapping):
        return [m for key, inner in value.items() for m in (f"{key}: {x}" for x in _messages(inner))]
    if isinstance(value, list | tuple):
        return [m for item in value for m in _messages(item)]
    return [str(value)]


def form_errors(exc: RegistryError, fields: Iterable[str]) -> tuple[dict[str, list[str]], list[str]]:
    """(messages next to the fields they concern, messages for the form as a whole)."""
    known = set(fields)
    by_field: dict[str, list[str]] = {}
    general: list[str] = []
    for name, value in (exc.errors or {}).items():
        if name in known:
            by_field.setdefault(name, []).extend(_messages(value))
        else:
            general.extend(f"{name}: {m}" for m in _messages(value))
    unmet = exc.extra.get("unmet")
    if isinstance(unmet, list):
        general.extend(str(u.get("detail", u)) if isinstance(u, Mapping) else str(u) for u in unmet)
    general.insert(0, exc.detail)  # the summary first; the details sit next to their fields
    return by_field, list(dict.fromkeys(general))
