"""The clinician's own pages: the whole record, certificates (PDF), who verified them, and an export."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from flask import current_app

from certificates import services as certificates
from certificates.api import can_read_certificate
from certificates.schemas import VerificationLogOut
from registry.core import audit
from registry.core.auth import Account, Role, current_account, require_role
from registry.core.db import db
from registry.core.errors import Forbidden
from registry.mobility import services as mobility
from registry.people.api import can_read_full_record
from registry.people.models import Clinician
from registry.standing import read
from registry.standing.api import StandingOut
from registry.web.base import blp, render, today


def standing_document(account: Account, registry_number: str, day: date, what: str = "standing") -> dict[str, Any]:
    """A clinician's standing on `day` as the standing API builds it: permission, secondments, the read logged."""
    document = read.standing(registry_number, day, today())
    if not can_read_full_record(account, document["clinician"]):
        raise Forbidden("you may not read this clinician's standing")
    document["secondments"] = mobility.secondments_of(document["clinician"].id, day)
    audit.log_access(document["clinician"].id, what)  # commits, keeping what was read
    return document


def _own_number(account: Account) -> str:
    return db.session.get(Clinician, account.clinician_id).registry_number


@blp.get("/me")
def my_record():
    account = require_role(Role.CLINICIAN)
    document = standing_document(account, _own_number(account), today())
    verifications = certificates.verifications_of(document["clinician"].id)
    return render("clinician/record.html", doc=document, verifications=verifications, day=today())


@blp.get("/me/export.json")
def my_export():
    """Everything the registry holds on the signed-in clinician, as one JSON file."""
    account = require_role(Role.CLINICIAN)
    day = today()
    document = standing_document(account, _own_number(account), day, what="export")
    body = {
        "exported_on": day.isoformat(),
        "account": {"email": account.email, "display_name": account.display_name, "role": account.role.value},
        **StandingOut().dump(document),
        "verifications": VerificationLogOut(many=True).dump(certificates.verifications_of(document["clinician"].id)),
    }
    response = current_app.response_class(json.dumps(body, ensure_ascii=False, indent=2),
                                          mimetype="application/json")
    number = document["clinician"].registry_number
    response.headers["Content-Disposition"] = f'attachment; filename="registry-record-{number}.json"'
    return response


@blp.get("/certificates/<id:certificate_id>/pdf")
def certificate_pdf(certificate_id: int):
    """The stored PDF, after the same check as GET /api/v1/certificates/<id>/pdf."""
    account = current_account()
    certificate = certificates.get_certificate(certificate_id)
    if not can_read_certificate(account, certificate):
        raise Forbidden("you may not read this certificate")
    response = current_app.response_class(certificate.pdf, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="certificate-{certificate.id}.pdf"'
    response.set_etag(certificate.pdf_sha256)
    return response
