"""Curricula fixtures: two courses, accreditation windows for the world's hubs, and request helpers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import pytest

from registry.core.db import db

T = date.today()


def d(days: int) -> date:
    return T + timedelta(days=days)


@dataclass
class Curriculum:
    """TRAUMA-ITLS (8 CPD hours, valid 24 months, owned by IE-HUB and PT): IE-HUB accredited since d(-1000),
    PT-HUB only from d(-1000) to d(-500). EMLOG (4 hours, no expiry, owned by PT-HUB): IE-HUB from d(-100)."""

    trauma: str = "TRAUMA-ITLS"
    emlog: str = "EMLOG"


@pytest.fixture
def curriculum(world, app) -> Curriculum:
    from curricula import services

    with app.app_context():
        ie_hub = services.get_hub("IE-HUB")
        pt_hub = services.get_hub("PT-HUB")
        trauma = services.create_course(
            code="TRAUMA-ITLS",
            titles={"en": "Joint trauma life support", "fr": "Soins conjoints en traumatologie",
                    "pt": "Suporte de vida em trauma"},
            fallback_language="en", description="Primary and secondary survey of the injured patient.",
            competencies=["airway management", "haemorrhage control"], cpd_hours=8, validity_months=24,
            professions=["2221", "2211", "3258"], owners=[{"hub": "IE-HUB"}, {"member_state": "PT"}], actor=None,
        )
        emlog = services.create_course(
            code="EMLOG", titles={"en": "Emergency logistics", "pt": "Logística de emergência"},
            fallback_language="pt", description=None, competencies=[], cpd_hours=4, validity_months=None,
            professions=["3258"], owners=[{"hub": "PT-HUB"}], actor=None,
        )
        services.grant_accreditation(trauma, hub=ie_hub, granted_by="IE", valid_from=d(-1000), valid_until=None,
                                     actor=None)
        services.grant_accreditation(trauma, hub=pt_hub, granted_by="PT", valid_from=d(-1000),
                                     valid_until=d(-500), actor=None)
        services.grant_accreditation(emlog, hub=ie_hub, granted_by="PT", valid_from=d(-100), valid_until=None,
                                     actor=None)
        db.session.commit()
    return Curriculum()


def completion_body(world, **overrides) -> dict:
    body = {"reference": "IE-2026-0001", "clinician": world.clinician.registry_number, "course": "TRAUMA-ITLS",
            "completed_on": d(-10).isoformat(), "outcome": "passed", "score": 88.5}
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not None}


def post_completion(client, world, who: str = "hub_ie", hub: str = "IE-HUB", **overrides):
    return client.post(f"/api/v1/hubs/{hub}/completions", json=completion_body(world, **overrides),
                       headers=world.h(who))
