"""Server-rendered pages (Jinja, no script needed) for clinicians, hubs, boards and the secretariat.

They call the same services and permission checks as the API and hold no rules of their own. Pages sign in
with a session cookie (Flask's signed session holding the account id); the API keeps its bearer tokens.
"""

from __future__ import annotations

from flask import Flask

from registry.web.base import blp, install


def init_app(app: Flask) -> None:
    """Register the pages, the session hook and the hooks the verification page uses."""
    from registry.web import (  # noqa: F401  (routes)
        board,
        certificate_forms,
        clinician,
        clinician_forms,
        hub,
        pages,
        secretariat,
    )

    app.register_blueprint(blp)
    install(app)


__all__ = ["blp", "init_app"]
