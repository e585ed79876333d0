"""A clinician's write forms: apply for recognition of a home licence in a host state, withdraw a pending
application; and the share link of each certificate (the public verification page, opened by its code).

The rules, and who may apply or withdraw, are the recognition service's and the API's own helpers.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import sqlalchemy as sa
from flask import flash, redirect, request, url_for

from certificates.services import base_url
from registry.core.auth import Account, Role, require_role
from registry.core.db import db
from registry.core.errors import Forbidden, Invalid, NotFound, RegistryError
from registry.licensing import services as licensing
from registry.people.models import Clinician, MemberState
from registry.recognition import services as recognition_services
from registry.recognition.api import is_applicant  # the API's own check
from registry.recognition.models import Recognition
from registry.recognition.schemas import ApplicationIn, WithdrawalIn
from registry.web.base import blp, form_errors, load_form, render, today

APPLICATION_FIELDS = ("licence_id", "host_state")


@blp.app_template_global()
def share_link(certificate: Any) -> str:
    """The address anyone can open to check a certificate: the public verification page with its code."""
    return f"{base_url().rstrip('/')}/verify?{urlencode({'code': certificate.verification_code})}"


def _clinician_of(account: Account) -> Clinician:
    return db.session.get(Clinician, account.clinician_id)


def _apply_page(account: Account, status: int = 200, **extra: Any):
    clinician = _clinician_of(account)
    day = today()
    licences = [(lic.id, f"{lic.number} · {lic.board.code} · {lic.profession_code} {lic.profession.title} · "
                         f"{licensing.state_on(lic, day).status.value.replace('_', ' ')} today")
                for lic in licensing.licences_of(clinician)]
    states = [(s.code, f"{s.code} {s.name}") for s in db.session.scalars(sa.select(MemberState)
                                                                          .order_by(MemberState.code))]
    context: dict[str, Any] = {"licences": licences, "states": states, "form": {}, "errors": {}, "general": [],
                               "unmet": []}
    context.update(extra)
    return render("clinician/apply.html", status=status, **context)


@blp.get("/me/recognitions/new")
def my_apply():
    return _apply_page(require_role(Role.CLINICIAN))


@blp.post("/me/recognitions/new")
def my_apply_submit():
    """Apply (as POST /api/v1/recognitions); a refusal lists every condition the service found unmet."""
    account = require_role(Role.CLINICIAN)
    try:
        data = load_form(ApplicationIn(), APPLICATION_FIELDS)
        try:
            licence = licensing.find_licence(data["licence_id"])
        except NotFound as exc:
            raise Invalid(exc.detail, errors={"licence_id": [exc.detail]}) from exc
        if not is_applicant(account, licence):
            raise Forbidden("only the clinician or the board that issued the licence may apply")
        recognition = recognition_services.apply(licence, data["host_state"], actor=account, today=today())
        db.session.commit()
    except RegistryError as exc:
        db.session.rollback()
        if isinstance(exc, Forbidden):
            raise
        errors, general = form_errors(exc, APPLICATION_FIELDS)
        unmet = exc.extra.get("unmet") or []
        if unmet:  # each condition on its own line, below the summary
            general = [f"The application was refused and nothing was recorded: {len(unmet)} condition"
                       f"{'s' if len(unmet) != 1 else ''} not met."]
        return _apply_page(account, status=exc.status, form=request.form, errors=errors, general=general,
                           unmet=unmet)
    flash(f"Application {recognition.id} for recognition in {recognition.host_state_code} recorded; the decision "
          f"is due by {recognition.decision_due_on.isoformat()}.")
    return redirect(url_for("web.my_record"))


def _own_application(recognition_id: int) -> tuple[Account, Recognition]:
    account = require_role(Role.CLINICIAN)  # before the lookup
    recognition = recognition_services.get_recognition(recognition_id)
    if not is_applicant(account, recognition):
        raise Forbidden("only the clinician or the home board may withdraw the application")
    return account, recognition


def _withdraw_page(recognition: Recognition, status: int = 200, **extra: Any):
    current = recognition_services.status_on(recognition, today())
    context: dict[str, Any] = {"r": recognition, "current": current.value if current else "not yet applied",
                               "form": {}, "errors": {}, "general": []}
    context.update(extra)
    return render("clinician/withdraw.html", status=status, **context)


@blp.get("/me/recognitions/<id:recognition_id>/withdrawal")
def my_withdraw(recognition_id: int):
    """The confirmation step: what will be withdrawn, with an optional reason."""
    _, recognition = _own_application(recognition_id)
    return _withdraw_page(recognition)


@blp.post("/me/recognitions/<id:recognition_id>/withdrawal")
def my_withdraw_submit(recognition_id: int):
    account, recognition = _own_application(recognition_id)
    try:
        data = load_form(WithdrawalIn(), ("reason",))
        recognition_services.withdraw(recognition, decided_on=today(), reason=data["reason"], actor=account)
        db.session.commit()
    except RegistryError as exc:
        db.session.rollback()
        errors, general = form_errors(exc, ("reason",))
        return _withdraw_page(recognition_services.get_recognition(recognition_id), status=exc.status,
                              form=request.form, errors=errors, general=general)
    flash(f"Application {recognition_id} for recognition in {recognition.host_state_code} withdrawn.")
    return redirect(url_for("web.my_record"))
