"""The RegistryError family and its rendering as RFC 9457 problem+json."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, current_app, g, json, request
from sqlalchemy.exc import DataError, IntegrityError, OperationalError
from werkzeug.exceptions import HTTPException

PROBLEM_BASE = "https://registry.example/problems/"
log = logging.getLogger("registry.errors")


class RegistryError(Exception):
    """A rule was broken; rendered as problem+json with a stable type URI."""

    status = 400
    title = "Bad request"
    slug = "bad-request"

    def __init__(self, detail: str | None = None, *, errors: dict[str, Any] | None = None, **extra: Any):
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.errors = errors
        self.extra = extra

    def to_problem(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": PROBLEM_BASE + self.slug,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        }
        if self.errors:
            body["errors"] = self.errors
        body.update(self.extra)
        return body


class Invalid(RegistryError):
    status = 422
    title = "Invalid input"
    slug = "invalid-input"


class Unauthorized(RegistryError):
    status = 401
    title = "Authentication required"
    slug = "unauthorized"


class Forbidden(RegistryError):
    status = 403
    title = "Forbidden"
    slug = "forbidden"


class NotFound(RegistryError):
    status = 404
    title = "Not found"
    slug = "not-found"


class Conflict(RegistryError):
    status = 409
    title = "Conflict"
    slug = "conflict"


class TooLarge(RegistryError):
    status = 413
    title = "Payload too large"
    slug = "payload-too-large"


class TooManyRequests(RegistryError):
    status = 429
    title = "Too many requests"
    slug = "rate-limited"


def problem_response(body: dict[str, Any], headers: dict[str, str] | None = None) -> Response:
    """Serialise a problem document with the right media type and the request id."""
    body = dict(body)
    rid = getattr(g, "request_id", None)
    if rid:
        body.setdefault("request_id", rid)
    body.setdefault("instance", request.path)
    resp = current_app.response_class(
        json.dumps(body), status=body["status"], mimetype="application/problem+json"
    )
    for key, value in (headers or {}).items():
        resp.headers[key] = value
    return resp


_HTTP_SLUGS = {
    400: "bad-request",
    401: "unauthorized",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    406: "not-acceptable",
    409: "conflict",
    413: "payload-too-large",
    415: "unsupported-media-type",
    422: "invalid-input",
    429: "rate-limited",
}


def _flatten_webargs(messages: Any) -> tuple[dict[str, Any] | None, str]:
    """webargs nests errors by location ({"json": {...}}); keep the field map."""
    if not isinstance(messages, dict):
        return None, "the request could not be read"
    merged: dict[str, Any] = {}
    for location, fields in messages.items():
        if isinstance(fields, dict):
            merged.update(fields)
        else:
            merged[location] = fields
    if "_schema" in merged and len(merged) == 1:
        detail = "; ".join(str(m) for m in merged["_schema"]) if isinstance(merged["_schema"], list) else str(
            merged["_schema"]
        )
        return merged, detail
    names = ", ".join(sorted(merged))
    return merged, f"invalid value for: {names}"


def _rollback() -> None:
    from registry.core.db import db

    try:
        db.session.rollback()
    except Exception:  # noqa: BLE001 - rollback after a failed request must never mask the real error
        log.exception("rollback failed")


def register_error_handlers(app: Flask) -> None:
    """Every error leaves as problem+json; nothing is half-written."""

    @app.errorhandler(RegistryError)
    def _registry_error(exc: RegistryError) -> Response:
        _rollback()
        return problem_response(exc.to_problem())

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> Response:
        _rollback()
        status = exc.code or 500
        body: dict[str, Any] = {
            "type": PROBLEM_BASE + _HTTP_SLUGS.get(status, "http-error"),
            "title": exc.name,
            "status": status,
            "detail": exc.description,
        }
        data = getattr(exc, "data", None) or {}
        messages = data.get("messages") if isinstance(data, dict) else None
        if messages:
            errors, detail = _flatten_webargs(messages)
            if errors:
                body["errors"] = errors
            body["detail"] = detail
            if status == 400 and isinstance(messages, dict) and "json" in messages:
                body["detail"] = "the body is not valid JSON"
        elif isinstance(data, dict) and data.get("message"):
            body["detail"] = data["message"]
        if status == 413:
            limit = current_app.config.get("MAX_CONTENT_LENGTH")
            body["detail"] = f"the request body is larger than the limit of {limit} bytes"
        headers = {}
        valid_methods = getattr(exc, "valid_methods", None)
        if status == 405 and valid_methods:
            headers["Allow"] = ", ".join(valid_methods)
        return problem_response(body, headers)

    @app.errorhandler(DataError)
    def _data_error(exc: DataError) -> Response:
        # A value the schema let through but the database cannot hold (out of range).
        _rollback()
        return problem_response(
            {
                "type": PROBLEM_BASE + "invalid-input",
                "title": "Invalid input",
                "status": 422,
                "detail": "a value is outside what the register can store",
            }
        )

    @app.errorhandler(IntegrityError)
    def _integrity_error(exc: IntegrityError) -> Response:
        # Reached only when two writers race past a service check; the database constraint decides.
        _rollback()
        log.warning("integrity error: %s", exc.orig)
        return problem_response(
            {
                "type": PROBLEM_BASE + "conflict",
                "title": "Conflict",
                "status": 409,
                "detail": "the change conflicts with data written at the same time; retry",
            }
        )

    @app.errorhandler(OperationalError)
    def _operational_error(exc: OperationalError) -> Response:
        _rollback()
        if app.config.get("PROPAGATE_EXCEPTIONS") and app.testing:
            raise exc
        log.error("database unavailable: %s", exc.orig)
        return problem_response(
            {
                "type": PROBLEM_BASE + "unavailable",
                "title": "Service unavailable",
                "status": 503,
                "detail": "the database is busy or unavailable; retry shortly",
            },
            {"Retry-After": "2"},
        )

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Response:
        _rollback()
        if app.testing:
            raise exc  # under test nothing is silenced
        log.exception("unhandled error")
        return problem_response(
            {
                "type": PROBLEM_BASE + "internal-error",
                "title": "Internal error",
                "status": 500,
                "detail": "an unexpected error occurred; it has been logged with the request id",
            }
        )
