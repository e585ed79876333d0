"""The secretariat's pages: member states, agreements, issuer keys (with rotation) and figures."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Response, flash, redirect, url_for

from certificates import services as certificates
from certificates.schemas import KeyRotationIn
from registry.core.auth import Role, require_role
from registry.core.db import db
from registry.core.errors import NotFound, RegistryError
from registry.people import services as people
from registry.people.models import MemberState
from registry.recognition.models import Agreement
from registry.web import figures
from registry.web.base import blp, form_errors, load_form, render, today


def _dashboard(status: int = 200, **extra):
    organisations = people.organisations()
    context = {
        "states": db.session.scalars(sa.select(MemberState).order_by(MemberState.code)).all(),
        "agreements": db.session.scalars(sa.select(Agreement).order_by(Agreement.code)).all(),
        "issuers": [(org, certificates.keys_of(org)) for org in organisations],
        "day": today(), "failed_code": None, "errors": {}, "general": [],
    }
    context.update(extra)
    return render("secretariat/home.html", status=status, **context)


@blp.get("/secretariat")
def secretariat_home():
    require_role(Role.SECRETARIAT_ADMIN)
    return _dashboard()


@blp.post("/secretariat/issuers/<code>/keys")
def rotate_key(code: str):
    """Rotate an issuer's key, as POST /api/v1/issuers/<code>/keys does."""
    account = require_role(Role.SECRETARIAT_ADMIN)
    organisation = people.get_organisation(code)
    try:
        data = load_form(KeyRotationIn(), ("alg",))
        key = certificates.rotate_key(organisation, alg=data["alg"], actor=account)
        db.session.commit()
    except RegistryError as exc:
        db.session.rollback()
        errors, general = form_errors(exc, ("alg",))
        return _dashboard(status=exc.status, failed_code=code, errors=errors, general=general)
    flash(f"{organisation.code} now signs with key {key.kid[:16]}… ({key.alg.value}); the previous key still "
          "verifies what it signed.")
    return redirect(url_for("web.secretariat_home") + "#keys")


@blp.get("/secretariat/figures")
def figures_page():
    require_role(Role.SECRETARIAT_ADMIN)
    shown = figures.all_figures(today())
    return render("secretariat/figures.html", figures=[(f, figures.bar_chart(f)) for f in shown])


@blp.get("/secretariat/figures/<name>.csv")
def figure_csv(name: str):
    require_role(Role.SECRETARIAT_ADMIN)
    figure = next((f for f in figures.all_figures(today()) if f.name == name), None)
    if figure is None:
        raise NotFound(f"no figure {name[:40]}")
    return Response(figures.as_csv(figure), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{figure.name}.csv"'})
