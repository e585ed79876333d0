"""The application factory: configuration, extensions, blueprints, error handlers, CLI."""

from __future__ import annotations

import logging
import re
import uuid
from pathlib import Path
from typing import Any

from flask import Flask, g, jsonify, render_template, request
from flask_migrate import Migrate
from flask_smorest import Api
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

from registry import config as config_module
from registry.core import prepared
from registry.core.db import db, expect_writes
from registry.core.errors import RegistryError, register_error_handlers
from registry.core.schemas import check_json_body, request_body

MIGRATIONS_DIR = str(Path(__file__).resolve().parent.parent / "migrations")
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
_JSON_TYPES = {"application/json", "application/problem+json"}

migrate = Migrate()


class IdConverter(IntegerConverter):
    """A database id: 1 to 2**31-1; anything else is a 404, never an overflow."""

    def __init__(self, url_map, *args, **kwargs):
        super().__init__(url_map, min=1, max=2**31 - 1)


class UnsupportedMediaType(RegistryError):
    status = 415
    title = "Unsupported media type"
    slug = "unsupported-media-type"


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the registry application; `test_config` overrides everything else."""
    app = Flask(__name__, instance_relative_config=False)
    app.url_map.converters["id"] = IdConverter
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.config.update(config_module.defaults(app.instance_path))
    app.config.update(config_module.from_environment())
    if test_config:
        app.config.update(test_config)
    config_module.check_production(app.config)
    trust_proxies(app, config_module.check_proxies(app.config))
    if app.config["ENV_NAME"] == "production":
        app.config.update(SESSION_COOKIE_SECURE=True)
    app.config.update(SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax")
    logging.getLogger("registry").setLevel(app.config["LOG_LEVEL"])

    db.init_app(app)
    prepared.init_app(app)  # a read-only request's own read connection is given back when it ends
    migrate.init_app(app, db, directory=MIGRATIONS_DIR, render_as_batch=True, compare_type=True)
    _import_models()

    api = Api(app)
    api.register_converter(IdConverter, lambda converter: {"type": "integer", "minimum": 1})
    from certificates.api import blp as certificates_blp
    from certificates.api import public_blp as certificates_public_blp
    from curricula.api import blp as curricula_blp
    from registry.accounts.api import blp as accounts_blp
    from registry.licensing.api import blp as licensing_blp
    from registry.mobility.api import blp as mobility_blp
    from registry.people.api import blp as people_blp
    from registry.recognition.api import blp as recognition_blp
    from registry.reports.api import blp as reports_blp
    from registry.standing.api import blp as standing_blp
    from registry.system_api import blp as system_blp

    for blp in (system_blp, accounts_blp, people_blp, licensing_blp, curricula_blp, recognition_blp,
                standing_blp, certificates_blp, certificates_public_blp, mobility_blp, reports_blp):
        api.register_blueprint(blp)
    api.spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"})
    api.spec.components.security_scheme("apiKey", {"type": "apiKey", "in": "header", "name": "X-API-Key"})
    app.extensions["registry_api"] = api

    register_error_handlers(app)
    _request_hooks(app)

    from registry.web import init_app as init_web

    init_web(app)  # the server-rendered pages

    @app.get("/api/v1/docs")
    def api_docs():
        """A readable index of the API, rendered from the OpenAPI document (no assets from elsewhere)."""
        spec = api.spec.to_dict()
        return render_template("api_docs.html", spec=spec)

    @app.get("/")
    def index():
        if request.accept_mimetypes.best_match(["application/json", "text/html"]) == "text/html":
            from registry.web.pages import home

            return home()  # browsers get the home page; API clients keep this JSON
        return jsonify(
            {
                "service": "Workforce Registry",
                "api": "/api/v1",
                "openapi": "/api/v1/openapi.json",
                "docs": "/api/v1/docs",
            }
        )

    from registry.cli import register_commands

    register_commands(app)
    return app


def trust_proxies(app: Flask, proxies: int) -> None:
    """Behind `proxies` reverse proxies, the client's address is the one that many places from the right of
    X-Forwarded-For: the verification rate limit and the sign-in throttle count per client, not per proxy.
    Addresses a client wrote further left are ignored, and so is the header when `proxies` is 0."""
    if proxies:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)  # type: ignore[method-assign]


def _import_models() -> None:
    """Every model module, so metadata and string relationships are complete."""
    import certificates.models  # noqa: F401
    import certificates.services  # noqa: F401  (connects the certificate cascades)
    import curricula.models  # noqa: F401
    import registry.accounts.throttle  # noqa: F401
    import registry.core.audit  # noqa: F401
    import registry.core.auth  # noqa: F401
    import registry.licensing.models  # noqa: F401
    import registry.mobility.models  # noqa: F401
    import registry.mobility.services  # noqa: F401  (connects the secondment cascades)
    import registry.people.models  # noqa: F401
    import registry.recognition.models  # noqa: F401
    import registry.recognition.services  # noqa: F401  (connects the licence cascade)


def _request_hooks(app: Flask) -> None:
    # The request and g are taken from their proxies once: each lookup through a proxy costs about a microsecond.
    @app.before_request
    def _start() -> None:
        req = request._get_current_object()  # type: ignore[attr-defined]
        method, environ = req.method, req.environ
        expect_writes(method not in ("GET", "HEAD", "OPTIONS"))
        supplied = environ.get("HTTP_X_REQUEST_ID", "")
        g._get_current_object().request_id = supplied if _REQUEST_ID.match(supplied) else uuid.uuid4().hex
        if (
            method in ("POST", "PUT", "PATCH")
            and req.path.startswith("/api/")
            and (req.content_length or environ.get("HTTP_TRANSFER_ENCODING"))
        ):
            view = app.view_functions.get(req.endpoint or "")
            accepted = getattr(getattr(view, "view_class", None), "accepts_media", None) or _JSON_TYPES
            mimetype = req.mimetype
            if mimetype not in accepted:
                raise UnsupportedMediaType(
                    f"send the body as {' or '.join(sorted(accepted))}, not {mimetype or 'no type'}"
                )
            # A view with its own accepts_media reads (and limits) its own body, e.g. a file upload.
            if mimetype in _JSON_TYPES and accepted is _JSON_TYPES:
                check_json_body(request_body(req))

    @app.after_request
    def _finish(response):
        headers, req = response.headers, request._get_current_object()  # type: ignore[attr-defined]
        headers["X-Request-ID"] = g._get_current_object().get("request_id", "")
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "same-origin")
        if req.path.startswith("/api/") and "Cache-Control" not in headers:
            headers["Cache-Control"] = "no-store"
        return response

    @app.teardown_request
    def _rollback_unfinished(exc: BaseException | None) -> None:
        # A view that raised after writing must leave nothing behind.
        if exc is not None:
            db.session.rollback()
