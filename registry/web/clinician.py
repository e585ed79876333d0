"""The clinician's own pages: the whole record, certificates (PDF), who verified them, and an export."""

from __future__ import annotations

import json
from datetime import date, datetime
from types import SimpleNamespace
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import aliased

from certificates import services as certificates
from certificates.api import can_read_certificate
from certificates.schemas import VerificationLogOut
from curricula.models import Course, Enrolment, Offering
from registry.core import audit
from registry.core.audit import AccessLog, AuditEvent
from registry.core.auth import Account, Role, current_account, require_role
from registry.core.db import db
from registry.core.errors import Forbidden
from registry.mobility import services as mobility
from registry.mobility.models import MobilityNotice, Secondment, SecondmentEvent
from registry.people import services as people
from registry.people.api import can_read_full_record
from registry.people.models import Clinician, Organisation
from registry.people.schemas import ClinicianOut, MergeOut
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
    clinician_id = document["clinician"].id
    verifications = certificates.verifications_of(clinician_id)
    return render("clinician/record.html", doc=document, verifications=verifications, day=today(),
                  enrolments=enrolments_of(clinician_id), reads=access_log_of(clinician_id, account.id))


def _instant(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _organisation(code: str | None, name: str | None) -> dict[str, str] | None:
    return {"code": code, "name": name} if code is not None else None


def enrolments_of(clinician_id: int) -> list[dict[str, Any]]:
    """The clinician's enrolments in course offerings, oldest first, with the offering as stored."""
    hub = aliased(Organisation)
    rows = db.session.execute(
        sa.select(Enrolment.id, Enrolment.enrolled_at, Offering.id.label("offering_id"), Offering.starts_on,
                  Offering.ends_on, Offering.language, Offering.place, Course.code.label("course_code"),
                  Course.titles, Course.fallback_language, hub.code.label("hub_code"), hub.name.label("hub_name"))
        .join(Offering, Offering.id == Enrolment.offering_id)
        .join(Course, Course.id == Offering.course_id)
        .join(hub, hub.id == Offering.hub_id)
        .where(Enrolment.clinician_id == clinician_id)
        .order_by(Enrolment.enrolled_at, Enrolment.id))
    return [{
        "id": row.id,
        "enrolled_at": _instant(row.enrolled_at),
        "offering": {
            "id": row.offering_id,
            "course": row.course_code,
            "course_title": Course.title_in(SimpleNamespace(code=row.course_code, titles=row.titles,
                                                            fallback_language=row.fallback_language), None),
            "hub": _organisation(row.hub_code, row.hub_name),
            "starts_on": row.starts_on.isoformat(),
            "ends_on": row.ends_on.isoformat(),
            "language": row.language,
            "place": row.place,
        },
    } for row in rows]


def access_log_of(clinician_id: int, own_account_id: int | None) -> list[dict[str, Any]]:
    """Who read the clinician's record, newest first: when, what, the reader's organisation and role (no officer's
    name, e-mail or account), or "you" for the clinician's own reads."""
    rows = db.session.execute(
        sa.select(AccessLog.id, AccessLog.occurred_at, AccessLog.what, AccessLog.actor_id, Account.role,
                  Organisation.code, Organisation.name)
        .outerjoin(Organisation, Organisation.id == AccessLog.organisation_id)
        .outerjoin(Account, Account.id == AccessLog.actor_id)
        .where(AccessLog.clinician_id == clinician_id)
        .order_by(AccessLog.occurred_at.desc(), AccessLog.id.desc()))
    return [{
        "occurred_at": _instant(row.occurred_at),
        "what": row.what,
        "by": ("you" if own_account_id is not None and row.actor_id == own_account_id
               else row.role.value if row.role is not None else "the registry"),
        "organisation": _organisation(row.code, row.name),
    } for row in rows]


def mobility_notices_of(clinician_id: int) -> list[dict[str, Any]]:
    """The notices host boards received about the clinician's secondments (suspended, suspension lifted)."""
    rows = db.session.execute(
        sa.select(MobilityNotice.id, MobilityNotice.host_state_code, MobilityNotice.secondment_id,
                  MobilityNotice.message, MobilityNotice.created_at, SecondmentEvent.action,
                  SecondmentEvent.effective_on)
        .join(Secondment, Secondment.id == MobilityNotice.secondment_id)
        .join(SecondmentEvent, SecondmentEvent.id == MobilityNotice.event_id)
        .where(Secondment.clinician_id == clinician_id)
        .order_by(MobilityNotice.created_at, MobilityNotice.id))
    return [{"id": row.id, "host_state": row.host_state_code, "secondment": row.secondment_id,
             "action": row.action.value, "effective_on": row.effective_on.isoformat(), "message": row.message,
             "created_at": _instant(row.created_at)} for row in rows]


def record_history_of(registry_numbers: list[str]) -> list[dict[str, Any]]:
    """The audit log's entries about the clinician's own records (created, corrected, merged), oldest first: which
    record, what changed and when; who made the change is left out."""
    rows = db.session.execute(
        sa.select(AuditEvent.occurred_at, AuditEvent.object_id, AuditEvent.action, AuditEvent.changes)
        .where(AuditEvent.object_type == "clinician", AuditEvent.object_id.in_(registry_numbers))
        .order_by(AuditEvent.seq))
    return [{"occurred_at": _instant(row.occurred_at), "record": row.object_id, "action": row.action,
             "changes": row.changes} for row in rows]


def export_document(account: Account, day: date) -> dict[str, Any]:
    """Everything the registry holds on the signed-in clinician (the read is logged first, so it is listed)."""
    document = standing_document(account, _own_number(account), day, what="export")
    clinician = document["clinician"]
    merges = people.merges_into(clinician.id)
    return {
        "exported_on": day.isoformat(),
        "account": {"email": account.email, "display_name": account.display_name, "role": account.role.value,
                    "created_at": _instant(account.created_at)},
        **StandingOut().dump(document),
        "verifications": VerificationLogOut(many=True).dump(certificates.verifications_of(clinician.id)),
        "enrolments": enrolments_of(clinician.id),
        "mobility_notices": mobility_notices_of(clinician.id),
        "access_log": access_log_of(clinician.id, account.id),
        "merged_records": [{**MergeOut().dump(merge), "record": ClinicianOut().dump(merge.merged)}
                           for merge in merges],
        "record_history": record_history_of([clinician.registry_number,
                                             *(merge.merged.registry_number for merge in merges)]),
    }


@blp.get("/me/export.json")
def my_export():
    """Everything the registry holds on the signed-in clinician, as one JSON file."""
    account = require_role(Role.CLINICIAN)
    day = today()
    body = export_document(account, day)
    response = current_app.response_class(json.dumps(body, ensure_ascii=False, indent=2),
                                          mimetype="application/json")
    number = body["clinician"]["registry_number"]
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
