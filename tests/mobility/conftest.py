"""Mobility fixtures: an open IE–PT–FR nursing exchange requiring a current TRAUMA-1 completion and a recognition
in the host state, and helpers to grant recognitions, complete the course, propose and approve secondments."""

from __future__ import annotations

import itertools
from datetime import date, timedelta
from typing import Any

import pytest

from curricula.models import Completion, Course, CourseOwner, Outcome
from registry.core.db import db

T = date.today()


def d(days: int) -> date:
    return T + timedelta(days=days)


def iso(days: int) -> str:
    return d(days).isoformat()


PROGRAMME = "NURSE-X"
_refs = itertools.count(1)


def _hub_id(code: str) -> int:
    from registry.people.services import get_organisation

    return get_organisation(code).id


def programme_body(**overrides: Any) -> dict[str, Any]:
    body = {"code": PROGRAMME, "name": "Compact nursing exchange", "coordinating_state": "IE",
            "states": ["IE", "PT", "FR"], "professions": ["2221"], "starts_on": iso(-60), "ends_on": iso(400),
            "capacity": 3, "capacity_by_host": {"PT": 2}, "required_courses": ["TRAUMA-1"],
            "recognition_required": True, "status": "open"}
    body.update(overrides)
    return body


@pytest.fixture
def exchange(world, app, client):
    """The world plus the TRAUMA-1 course, a recognition agreement (no conditions) and the open NURSE-X programme."""
    from registry.recognition import services as recognition

    with app.app_context():
        course = Course(code="TRAUMA-1", titles={"en": "Joint trauma care"}, fallback_language="en", cpd_hours=16,
                        validity_months=24, competencies=["airway"])
        course.owners = [CourseOwner(organisation_id=_hub_id("IE-HUB"))]
        db.session.add(course)
        recognition.create_agreement(
            code="IE-PT-FR-NURSING", title="Nursing", states=["IE", "PT", "FR"], professions=["2221"],
            in_force_from=d(-1000), in_force_until=None, required_courses=[], language_level=None,
            adaptation_months=0, validity_months=36, decision_deadline_days=30, silence_is_approval=False)
        db.session.commit()
    r = client.post("/api/v1/programmes", headers=world.h("secretariat"), json=programme_body())
    assert r.status_code == 201, r.get_json()
    return world


def complete_course(app, world, clinician_id: int, completed_on: date, valid_until: date | None) -> None:
    with app.app_context():
        course = db.session.query(Course).filter_by(code="TRAUMA-1").one()
        db.session.add(Completion(clinician_id=clinician_id, course_id=course.id, hub_id=_hub_id("IE-HUB"),
                                  reference=f"REF-{next(_refs)}",
                                  completed_on=completed_on, outcome=Outcome.PASSED, credits=16,
                                  valid_until=valid_until))
        db.session.commit()


def grant_recognition(app, licence_id: int, host: str = "PT", *, granted: date | None = None,
                      valid_until: date | None = None) -> int:
    """A granted recognition of the licence in `host`; `valid_until` overrides the agreement's validity."""
    from registry.licensing.models import Licence
    from registry.recognition import services as recognition

    granted = granted or d(-100)
    with app.app_context():
        licence = db.session.get(Licence, licence_id)
        rec = recognition.apply(licence, host, actor=None, today=granted)
        recognition.grant(rec, decided_on=granted, conditions=None, actor=None)
        if valid_until is not None:
            rec.valid_until = valid_until
        db.session.commit()
        return rec.id


def ready(app, world, clinician=None, licence=None, *, host: str = "PT") -> None:
    """Everything the programme asks for, for the whole of a year from today."""
    clinician = clinician or world.clinician
    complete_course(app, world, clinician.id, d(-10), d(700))
    grant_recognition(app, licence or world.licence, host, valid_until=d(900))


def propose(client, world, who: str = "clinician", clinician=None, **overrides: Any):
    body = {"clinician": (clinician or world.clinician).registry_number, "profession": "2221", "host_state": "PT",
            "host_institution": "Hospital de Santa Maria, Lisboa", "supervisor": "Dr. Ana Costa",
            "programme": PROGRAMME, "starts_on": iso(10), "ends_on": iso(100)}
    body.update(overrides)
    return client.post("/api/v1/secondments", headers=world.h(who), json=body)


def proposed(client, world, **kwargs: Any) -> int:
    r = propose(client, world, **kwargs)
    assert r.status_code == 201, r.get_json()
    return r.get_json()["id"]


def approve(client, world, secondment_id: int, who: str = "board_pt"):
    return client.post(f"/api/v1/secondments/{secondment_id}/approval", headers=world.h(who), json={})
