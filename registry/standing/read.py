"""The standing read model: one Core query per section, shaped for the sections' own output schemas.

Standing is the registry's busiest read (every counter check, every employer's query). Loading it
through the ORM cost about 8 ms of CPU per request, almost all of it building ORM objects. Here each
section is one joined Core query turned into light objects with the attributes the existing output
schemas read, and every status is computed by the domain's own functions (licence `state_on`,
recognition `status_on`, completion and certificate status), so no rule is written twice.
"""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace
from typing import Any

import sqlalchemy as sa

from certificates.models import Certificate, IssuerKey
from curricula.models import Completion, Course
from registry.core.errors import NotFound
from registry.core.prepared import fetch_all, fetch_first
from registry.licensing.models import Alert, AlertRecipient, Licence, LicenceEvent
from registry.licensing.services import state_on
from registry.mobility.models import ExchangeProgramme, Secondment, SecondmentEvent
from registry.mobility.services import status_on as secondment_status_on
from registry.people import numbers
from registry.people.models import Clinician, ClinicianMerge, Organisation, Profession
from registry.recognition.models import Agreement, Recognition, RecognitionEvent
from registry.recognition.services import status_on

_C = Clinician.__table__
_ORG = Organisation.__table__
_L, _LE, _P = Licence.__table__, LicenceEvent.__table__, Profession.__table__
_R, _RE, _AG = Recognition.__table__, RecognitionEvent.__table__, Agreement.__table__
_A, _AR = Alert.__table__, AlertRecipient.__table__
_CO, _COURSE = Completion.__table__, Course.__table__
_CERT, _KEY = Certificate.__table__, IssuerKey.__table__
_S, _SE, _PROG = Secondment.__table__, SecondmentEvent.__table__, ExchangeProgramme.__table__

_HOME_BOARD = _ORG.alias("home_board")
_HUB = _ORG.alias("hub")
_ISSUER = _ORG.alias("issuer")
_REPLACED = _CERT.alias("replaced")



def _has(table: sa.Table) -> sa.Label:
    return sa.exists().where(table.c.clinician_id == _C.c.id).label(f"has_{table.name}")


# The clinician and, for each other section, whether it has any row: most clinicians hold a licence or two and
# little else, so the sections' own queries run only where there is something to read (indexed probes).
_SECTIONS = (_R, _A, _CO, _CERT, _S)
_MERGED_INTO = (sa.select(ClinicianMerge.__table__.c.survivor_id)
                .where(ClinicianMerge.__table__.c.merged_id == _C.c.id).scalar_subquery().label("merged_into"))
_CLINICIAN = (sa.select(_C, _MERGED_INTO, *(_has(t) for t in _SECTIONS))
              .where(_C.c.registry_number == sa.bindparam("number")))
_SURVIVOR = sa.select(_C.c.registry_number).where(_C.c.id == sa.bindparam("id"))
_LICENCES = (
    sa.select(_L.c.id, _L.c.number, _ORG.c.code.label("board_code"), _ORG.c.member_state_code,
              _L.c.profession_code, _P.c.title.label("profession_title"),
              _LE.c.id.label("event_id"), _LE.c.action, _LE.c.decided_on, _LE.c.effective_on, _LE.c.valid_until,
              _LE.c.scope, _LE.c.reason, _LE.c.recorded_at)
    .join(_ORG, _ORG.c.id == _L.c.board_id)
    .join(_P, _P.c.code == _L.c.profession_code)
    .join(_LE, _LE.c.licence_id == _L.c.id)
    .where(_L.c.clinician_id == sa.bindparam("clinician_id"))
    .order_by(_L.c.id, _LE.c.effective_on, _LE.c.id)
)
_RECOGNITIONS = (
    sa.select(_R, _L.c.number.label("licence_number"), _HOME_BOARD.c.code.label("home_board"),
              _HOME_BOARD.c.member_state_code.label("home_state"), _AG.c.code.label("agreement_code"),
              _RE.c.id.label("event_id"), _RE.c.action, _RE.c.decided_on.label("event_decided_on"),
              _RE.c.effective_on, _RE.c.reason, _RE.c.cause_licence_event_id)
    .join(_L, _L.c.id == _R.c.licence_id)
    .join(_HOME_BOARD, _HOME_BOARD.c.id == _L.c.board_id)
    .join(_AG, _AG.c.id == _R.c.agreement_id)
    .join(_RE, _RE.c.recognition_id == _R.c.id)
    .where(_R.c.clinician_id == sa.bindparam("clinician_id"))
    .order_by(_R.c.id, _RE.c.effective_on, _RE.c.id)
)
_ALERTS = (
    sa.select(_A, _ORG.c.code.label("board_code"), _AR.c.state_code, _AR.c.acknowledged_at)
    .join(_ORG, _ORG.c.id == _A.c.board_id)
    .outerjoin(_AR, _AR.c.alert_id == _A.c.id)
    .where(_A.c.clinician_id == sa.bindparam("clinician_id"))
    .order_by(_A.c.effective_from, _A.c.id, _AR.c.state_code)
)
_COMPLETIONS = (
    sa.select(_CO, _COURSE.c.code.label("course_code"), _COURSE.c.titles, _COURSE.c.fallback_language,
              _HUB.c.code.label("hub_code"))
    .join(_COURSE, _COURSE.c.id == _CO.c.course_id)
    .join(_HUB, _HUB.c.id == _CO.c.hub_id)
    .where(_CO.c.clinician_id == sa.bindparam("clinician_id"), _CO.c.completed_on <= sa.bindparam("day"))
    .order_by(_CO.c.completed_on.desc(), _CO.c.id.desc())
)
_CERTIFICATES = (
    sa.select(*(c for c in _CERT.c if c.name not in ("pdf", "credential", "compact_token")),
              _ISSUER.c.code.label("issuer_code"), _KEY.c.kid, _REPLACED.c.credential_id.label("replaces_credential"))
    .join(_ISSUER, _ISSUER.c.id == _CERT.c.issuer_id)
    .join(_KEY, _KEY.c.id == _CERT.c.key_id)
    .outerjoin(_REPLACED, _REPLACED.c.id == _CERT.c.replaces_id)
    .where(_CERT.c.clinician_id == sa.bindparam("clinician_id"))
    .order_by(_CERT.c.issued_at.desc(), _CERT.c.id.desc())
)
_SECONDMENTS = (
    sa.select(_S, _L.c.number.label("licence_number"), _HOME_BOARD.c.code.label("home_board"),
              _PROG.c.code.label("programme_code"), _SE.c.id.label("event_id"), _SE.c.action,
              _SE.c.decided_on.label("event_decided_on"), _SE.c.effective_on, _SE.c.reason,
              _SE.c.cause_licence_event_id, _SE.c.cause_recognition_event_id)
    .join(_L, _L.c.id == _S.c.home_licence_id)
    .join(_HOME_BOARD, _HOME_BOARD.c.id == _L.c.board_id)
    .outerjoin(_PROG, _PROG.c.id == _S.c.programme_id)
    .join(_SE, _SE.c.secondment_id == _S.c.id)
    .where(_S.c.clinician_id == sa.bindparam("clinician_id"))
    .order_by(_S.c.starts_on, _S.c.id, _SE.c.effective_on, _SE.c.id)
)


def clinician(registry_number: str) -> SimpleNamespace:
    """The clinician record (every column), as ClinicianOut reads it."""
    canonical = numbers.normalise(registry_number)
    if canonical is None:
        raise NotFound(f"{registry_number!r} is not a valid registry number (wrong shape or check character)")
    row = fetch_first(_CLINICIAN, {"number": canonical})
    if row is None:
        raise NotFound(f"no clinician {canonical}")
    if row.merged_into is not None:  # a merged record's number leads to the record it was merged into
        row = fetch_first(_CLINICIAN, {"number": fetch_first(_SURVIVOR, {"id": row.merged_into}).registry_number})
    values = dict(row._mapping)
    person = SimpleNamespace(**{c.name: values[c.name] for c in _C.c})
    person.sections = {t.name for t in _SECTIONS if values[f"has_{t.name}"]}
    person.full_name = f"{person.given_names} {person.family_name}"
    return person


def licences(person: SimpleNamespace, day: date) -> list[SimpleNamespace]:
    found: dict[int, SimpleNamespace] = {}
    for row in fetch_all(_LICENCES, {"clinician_id": person.id}):
        licence = found.get(row.id)
        if licence is None:
            licence = found[row.id] = SimpleNamespace(
                id=row.id, number=row.number, profession_code=row.profession_code, clinician=person,
                board=SimpleNamespace(code=row.board_code, member_state_code=row.member_state_code),
                profession=SimpleNamespace(title=row.profession_title), events=[])
        licence.events.append(SimpleNamespace(id=row.event_id, action=row.action, decided_on=row.decided_on,
                                              effective_on=row.effective_on, valid_until=row.valid_until,
                                              scope=row.scope, reason=row.reason, recorded_at=row.recorded_at))
    for licence in found.values():
        state = state_on(licence, day, licence.events)
        licence.state = {"on": day, "status": state.status, "restricted": state.restricted,
                         "restrictions": state.restrictions, "valid_from": state.valid_from,
                         "valid_until": state.valid_until}
    return list(found.values())


def recognitions(person: SimpleNamespace, day: date, today: date) -> list[SimpleNamespace]:
    found: dict[int, SimpleNamespace] = {}
    for row in fetch_all(_RECOGNITIONS, {"clinician_id": person.id}):
        item = found.get(row.id)
        if item is None:
            item = found[row.id] = SimpleNamespace(
                **{c.name: row._mapping[c.name] for c in _R.c}, clinician=person,
                licence=SimpleNamespace(id=row.licence_id, number=row.licence_number,
                                        board=SimpleNamespace(code=row.home_board, member_state_code=row.home_state)),
                agreement=SimpleNamespace(code=row.agreement_code), events=[])
        item.events.append(SimpleNamespace(id=row.event_id, action=row.action, decided_on=row.event_decided_on,
                                           effective_on=row.effective_on, reason=row.reason,
                                           cause_licence_event_id=row.cause_licence_event_id))
    for item in found.values():
        status = status_on(item, day, item.events)
        item.status_on_day = status.value if status else None
        item.is_overdue = item.status.value == "pending" and item.decision_due_on < today
    return list(found.values())


def alerts(person: SimpleNamespace) -> list[SimpleNamespace]:
    found: dict[int, SimpleNamespace] = {}
    for row in fetch_all(_ALERTS, {"clinician_id": person.id}):
        alert = found.get(row.id)
        if alert is None:
            alert = found[row.id] = SimpleNamespace(**{c.name: row._mapping[c.name] for c in _A.c}, clinician=person,
                                                    board=SimpleNamespace(code=row.board_code), recipients=[])
        if row.state_code is not None:
            alert.recipients.append(SimpleNamespace(state_code=row.state_code, acknowledged_at=row.acknowledged_at))
    return list(found.values())


def open_on(alert: SimpleNamespace, day: date) -> bool:
    return Alert.open_on(alert, day)  # the model's own rule, on the row


def completions(person: SimpleNamespace, day: date) -> list[SimpleNamespace]:
    result = []
    for row in fetch_all(_COMPLETIONS, {"clinician_id": person.id, "day": day}):
        values = {c.name: row._mapping[c.name] for c in _CO.c}
        course = SimpleNamespace(code=row.course_code, titles=row.titles, fallback_language=row.fallback_language)
        course.title_in = lambda language, course=course: Course.title_in(course, language)
        completion = SimpleNamespace(**values, clinician=person, course=course,
                                     hub=SimpleNamespace(code=row.hub_code), requested_language=None)
        completion.status = Completion.status_on(completion, day)
        result.append(completion)
    return result


def certificates(person: SimpleNamespace) -> list[SimpleNamespace]:
    result = []
    for row in fetch_all(_CERTIFICATES, {"clinician_id": person.id}):
        values = dict(row._mapping)
        certificate = SimpleNamespace(**values, issuer=SimpleNamespace(code=row.issuer_code),
                                      key=SimpleNamespace(kid=row.kid),
                                      replaces=SimpleNamespace(credential_id=row.replaces_credential)
                                      if row.replaces_credential else None)
        certificate.status = Certificate.status.fget(certificate)
        result.append(certificate)
    return result


def secondments(person: SimpleNamespace, day: date) -> list[SimpleNamespace]:
    """Every secondment of the clinician with its events and its status on `day` (as SecondmentOut reads it)."""
    found: dict[int, SimpleNamespace] = {}
    for row in fetch_all(_SECONDMENTS, {"clinician_id": person.id}):
        item = found.get(row.id)
        if item is None:
            item = found[row.id] = SimpleNamespace(
                **{c.name: row._mapping[c.name] for c in _S.c}, clinician=person,
                home_licence=SimpleNamespace(id=row.home_licence_id, number=row.licence_number,
                                             board=SimpleNamespace(code=row.home_board)),
                programme=SimpleNamespace(code=row.programme_code) if row.programme_code else None, events=[])
        item.events.append(SimpleNamespace(id=row.event_id, action=row.action, decided_on=row.event_decided_on,
                                           effective_on=row.effective_on, reason=row.reason,
                                           cause_licence_event_id=row.cause_licence_event_id,
                                           cause_recognition_event_id=row.cause_recognition_event_id))
    for item in found.values():
        status = secondment_status_on(item, day, item.events)
        item.status_on_day = status.value if status else None
    return list(found.values())


def standing(registry_number: str, day: date, today: date) -> dict[str, Any]:
    """Everything a board needs on `day`, in the shape of StandingOut."""
    person = clinician(registry_number)
    has = person.sections.__contains__
    alert_rows = alerts(person) if has(_A.name) else []
    return {
        "clinician": person,
        "on": day,
        "licences": licences(person, day),
        "recognitions": recognitions(person, day, today) if has(_R.name) else [],
        "alerts": alert_rows,
        "open_alerts": [a.id for a in alert_rows if open_on(a, day)],
        "completions": completions(person, day) if has(_CO.name) else [],
        "certificates": certificates(person) if has(_CERT.name) else [],
        "secondments": secondments(person, day) if has(_S.name) else [],
    }

