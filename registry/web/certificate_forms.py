"""Certificates from the browser: the issuing organisation revokes (a reason, then a confirmation; permanent),
suspends or unsuspends its certificates; a home board certifies a licence's good standing; a host board issues the
certificate of a granted recognition.

The permission checks and rules are the certificates API's own (require_issuer, change_status,
require_certifying_board, require_host_board and the issuing service); the pages only collect, confirm and show.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import flash, redirect, request, url_for

from certificates import services as certificates
from certificates.api import (
    change_status,
    issue_good_standing_certificate,
    issue_recognition_certificate,
    require_certifying_board,
    require_issuer,
)
from certificates.models import Certificate
from certificates.schemas import GoodStandingIn, StatusChangeIn
from curricula.models import Completion
from registry.core.auth import Account, Role, require_role
from registry.core.db import db
from registry.core.errors import RegistryError
from registry.licensing import services as licensing
from registry.licensing.models import Licence
from registry.recognition import services as recognition_services
from registry.recognition.api import require_host_board
from registry.recognition.models import Recognition
from registry.web.base import blp, form_errors, load_form, render, safe_next, today
from registry.web.confirm import dry_run

STATUS_FIELDS = ("action", "reason")
ACTION_LABELS = {"suspend": "Suspend (reversible)", "unsuspend": "Unsuspend (lift the suspension)",
                 "revoke": "Revoke (permanent)"}
PAST = {"suspend": "suspended", "unsuspend": "no longer suspended", "revoke": "revoked"}


def offered_actions(certificate: Any) -> list[str]:
    """The changes a page offers for a certificate in its present status (the service decides what it allows)."""
    if certificate.revoked_at is not None:
        return []
    return ["unsuspend" if certificate.suspended else "suspend", "revoke"]


def certificates_of_completions(completion_ids: list[int]) -> dict[int, list[Certificate]]:
    """The certificates issued for these completions, newest first, by completion."""
    found: dict[int, list[Certificate]] = {}
    if completion_ids:
        for certificate in db.session.scalars(sa.select(Certificate).where(Certificate.completion_id.in_(
                completion_ids)).order_by(Certificate.issued_at.desc(), Certificate.id.desc())):
            found.setdefault(certificate.completion_id, []).append(certificate)
    return found


def cohort_certificates(offering_id: int) -> list[Certificate]:
    """Every certificate issued for a completion of the cohort (withdrawn ones too: theirs show as revoked)."""
    return list(db.session.scalars(
        sa.select(Certificate).join(Completion, Completion.id == Certificate.completion_id)
        .where(Completion.offering_id == offering_id).order_by(Certificate.id)))


# --- revoke, suspend, unsuspend -------------------------------------------------------------------------------


def _issued_by_viewer(certificate_id: int) -> tuple[Account, Certificate]:
    require_role(Role.HUB_OFFICER, Role.BOARD_OFFICER)  # before the lookup: only issuers learn which ids exist
    certificate = certificates.get_certificate(certificate_id)
    return require_issuer(certificate), certificate


def _back(account: Account, certificate: Certificate) -> str:
    """Where to go after a change: the page the officer came from, else the clinician (boards) or the cohort."""
    target = safe_next(request.values.get("back"))
    if target:
        return target
    if account.role is Role.BOARD_OFFICER:
        return url_for("web.standing_page", registry_number=certificate.snapshot["holder"]["registry_number"])
    completion = db.session.get(Completion, certificate.completion_id) if certificate.completion_id else None
    if completion is not None and completion.offering_id is not None:
        return url_for("web.hub_cohort", offering_id=completion.offering_id) + "#h-issued"
    return url_for("web.hub_home") + "#h-recent"


def _status_page(account: Account, certificate: Certificate, status: int = 200, **extra: Any):
    offered = offered_actions(certificate)
    context: dict[str, Any] = {
        "cert": certificate, "holder": certificate.snapshot["holder"], "back": _back(account, certificate),
        "options": [(a, ACTION_LABELS[a]) for a in offered], "form": {"action": request.args.get("action", "")},
        "errors": {}, "general": [], "confirm": None, "effects": [],
    }
    context.update(extra)
    return render("certificates/status.html", status=status, **context)


@blp.get("/certificates/<id:certificate_id>/status")
def certificate_status(certificate_id: int):
    account, certificate = _issued_by_viewer(certificate_id)
    return _status_page(account, certificate)


@blp.post("/certificates/<id:certificate_id>/status")
def certificate_status_submit(certificate_id: int):
    """Suspend or unsuspend at once; revoke after a confirmation page (as POST /api/v1/certificates/<id>/status)."""
    account, certificate = _issued_by_viewer(certificate_id)
    back = _back(account, certificate)
    try:
        data = load_form(StatusChangeIn(), STATUS_FIELDS)
        if data["action"] == "revoke" and request.form.get("confirmed") != "yes":
            # The service checks the revocation (a reason, not revoked already); undone, then confirmed.
            _, effects = dry_run(lambda: change_status(certificate, data, account),
                                 main=("certificate", certificate.credential_id))
            return _status_page(account, certificates.get_certificate(certificate_id), form=request.form,
                                confirm=data, effects=effects)
        change_status(certificate, data, account)
        db.session.commit()
    except RegistryError as exc:
        db.session.rollback()
        errors, general = form_errors(exc, STATUS_FIELDS)
        return _status_page(account, certificates.get_certificate(certificate_id), status=exc.status,
                            form=request.form, errors=errors, general=general)
    flash(f"Certificate {certificate.verification_code} ({certificate.snapshot['holder']['name']}) "
          f"{PAST[data['action']]}.")
    return redirect(back)


# --- a good-standing certificate of the board's own licence ---------------------------------------------------


def _certifiable(licence_id: int) -> tuple[Account, Licence]:
    require_role(Role.BOARD_OFFICER)
    licence = licensing.find_licence(licence_id)
    return require_certifying_board(licence), licence


def _good_standing_page(licence: Licence, status: int = 200, **extra: Any):
    context: dict[str, Any] = {"licence": licence, "state": licensing.state_on(licence, today()),
                               "form": {"on": today().isoformat()}, "errors": {}, "general": []}
    context.update(extra)
    return render("board/good_standing.html", status=status, **context)


@blp.get("/board/licences/<id:licence_id>/good-standing-certificate")
def board_good_standing(licence_id: int):
    _, licence = _certifiable(licence_id)
    return _good_standing_page(licence)


@blp.post("/board/licences/<id:licence_id>/good-standing-certificate")
def board_good_standing_submit(licence_id: int):
    """Certify that the licence is active and unrestricted on a date, for three months (the licence's board)."""
    account, licence = _certifiable(licence_id)
    try:
        data = load_form(GoodStandingIn(), ("on",))
        certificate = issue_good_standing_certificate(licence, data["on"], account)
        db.session.commit()
    except RegistryError as exc:
        db.session.rollback()
        if not exc.errors:  # the licence is not in good standing on that date, or it was certified for it already
            exc.errors = {"on": [exc.detail]}
        errors, general = form_errors(exc, ("on",))
        return _good_standing_page(licensing.find_licence(licence_id), status=exc.status, form=request.form,
                                   errors=errors, general=general)
    flash(f"Good-standing certificate {certificate.verification_code} issued for licence {licence.number}.")
    return redirect(url_for("web.standing_page", registry_number=licence.clinician.registry_number)
                    + "#h-certificates")


# --- the certificate of a recognition granted in the board's state --------------------------------------------


def _recognition_of_host(recognition_id: int) -> tuple[Account, Recognition]:
    require_role(Role.BOARD_OFFICER)
    recognition = recognition_services.get_recognition(recognition_id)
    return require_host_board(recognition), recognition


def _recognition_page(recognition: Recognition, status: int = 200, **extra: Any):
    issued = db.session.scalars(sa.select(Certificate).where(Certificate.recognition_id == recognition.id)
                                .order_by(Certificate.id)).all()
    current = recognition_services.status_on(recognition, today())
    context: dict[str, Any] = {"r": recognition, "issued": issued, "current": current.value if current else "",
                               "general": []}
    context.update(extra)
    return render("board/recognition_certificate.html", status=status, **context)


@blp.get("/board/recognitions/<id:recognition_id>/certificate")
def board_recognition_certificate(recognition_id: int):
    _, recognition = _recognition_of_host(recognition_id)
    return _recognition_page(recognition)


@blp.post("/board/recognitions/<id:recognition_id>/certificate")
def board_recognition_certificate_submit(recognition_id: int):
    """Issue the certificate of a recognition granted in the board's state (as the API; once only)."""
    account, recognition = _recognition_of_host(recognition_id)
    try:
        certificate = issue_recognition_certificate(recognition, account)
        db.session.commit()
    except RegistryError as exc:
        db.session.rollback()
        _, general = form_errors(exc, ())
        return _recognition_page(recognition_services.get_recognition(recognition_id), status=exc.status,
                                 general=general)
    flash(f"Recognition certificate {certificate.verification_code} issued for {recognition.clinician.full_name} "
          f"in {recognition.host_state_code}.")
    return redirect(url_for("web.standing_page", registry_number=recognition.clinician.registry_number)
                    + "#h-certificates")
