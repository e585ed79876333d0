"""Right to practise (DOMAIN.md): may clinician C practise profession P in state S on date D?

Yes only through an active home licence in S, or a granted recognition in S whose home licence is
active, and with no open alert. The answer names its basis and, when it is no, every unmet condition.

This is a hot read path (boards ask it at the counter, employers in bulk), so it reads with a few
Core queries instead of loading ORM objects; the rules themselves are the licensing and recognition
services' own `state_on` and `status_on`, replayed over the rows.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from types import SimpleNamespace
from typing import Any

import sqlalchemy as sa

from registry.core.prepared import fetch_all
from registry.licensing.models import Alert, Licence, LicenceEvent, LicenceStatus
from registry.licensing.services import state_on
from registry.people.models import Organisation
from registry.recognition.models import Recognition, RecognitionEvent, RecognitionStatus
from registry.recognition.services import Unmet, status_on

_L, _E, _O = Licence.__table__, LicenceEvent.__table__, Organisation.__table__
_R, _RE, _A = Recognition.__table__, RecognitionEvent.__table__, Alert.__table__

_LICENCE_EVENTS = (
    sa.select(_L.c.id, _L.c.number, _O.c.code.label("board"), _O.c.member_state_code.label("state"),
              _L.c.profession_code, _E.c.action, _E.c.effective_on, _E.c.valid_until, _E.c.scope)
    .join(_O, _O.c.id == _L.c.board_id)
    .join(_E, _E.c.licence_id == _L.c.id)
    .where(_L.c.clinician_id == sa.bindparam("clinician_id"))
    .order_by(_L.c.id, _E.c.effective_on, _E.c.id)
)
_RECOGNITION_EVENTS = (
    sa.select(_R.c.id, _R.c.licence_id, _R.c.valid_until, _R.c.conditions, _RE.c.action, _RE.c.effective_on)
    .join(_RE, _RE.c.recognition_id == _R.c.id)
    .where(_R.c.clinician_id == sa.bindparam("clinician_id"), _R.c.host_state_code == sa.bindparam("state"),
           _R.c.profession_code == sa.bindparam("profession"))
    .order_by(_R.c.id, _RE.c.effective_on, _RE.c.id)
)
_OPEN_ALERTS = (
    sa.select(_A.c.id, _A.c.measure, _A.c.effective_from, _O.c.code.label("board"))
    .join(_O, _O.c.id == _A.c.board_id)
    .where(_A.c.clinician_id == sa.bindparam("clinician_id"), _A.c.effective_from <= sa.bindparam("day"),
           sa.or_(_A.c.closed_on.is_(None), _A.c.closed_on > sa.bindparam("day")))
    .order_by(_A.c.effective_from, _A.c.id)
)


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


def _licences(clinician_id: int) -> dict[int, SimpleNamespace]:
    """Every licence of the clinician with its events in order (one query)."""
    licences: dict[int, SimpleNamespace] = {}
    for row in fetch_all(_LICENCE_EVENTS, {"clinician_id": clinician_id}):
        licence = licences.get(row.id)
        if licence is None:
            licence = licences[row.id] = SimpleNamespace(id=row.id, number=row.number, board=row.board,
                                                         state=row.state, profession=row.profession_code, events=[])
        licence.events.append(row)
    return licences


def right_to_practise(clinician: Any, state_code: str, profession_code: str, day: date) -> dict[str, Any]:
    """The answer for one clinician (anything with id, registry_number and full_name)."""
    unmet: list[Unmet] = []
    basis: dict[str, Any] | None = None
    licences = _licences(clinician.id)

    home_licences = [lic for lic in licences.values() if lic.state == state_code and lic.profession == profession_code]
    for licence in home_licences:
        state = state_on(licence, day, licence.events)
        if state.status is LicenceStatus.ACTIVE:
            basis = {"kind": "licence", "id": licence.id, "number": licence.number, "board": licence.board,
                     "valid_until": _iso(state.valid_until), "restrictions": state.restrictions}
            break
        unmet.append(Unmet("licence_active", f"licence {licence.number} of {licence.board} is "
                                             f"{state.status.value} on {day.isoformat()}"))

    recognitions: dict[int, SimpleNamespace] = defaultdict(lambda: SimpleNamespace(events=[]))
    rows = fetch_all(_RECOGNITION_EVENTS, {"clinician_id": clinician.id, "state": state_code,
                                           "profession": profession_code})
    for row in rows:
        recognition = recognitions[row.id]
        recognition.__dict__.update(id=row.id, licence_id=row.licence_id, valid_until=row.valid_until,
                                    conditions=row.conditions)
        recognition.events.append(row)
    if basis is None:
        for recognition in recognitions.values():
            status = status_on(recognition, day, recognition.events)
            if status is not RecognitionStatus.GRANTED:
                label = status.value if status else "not yet applied for"
                unmet.append(Unmet("recognition_granted",
                                   f"recognition {recognition.id} is {label} on {day.isoformat()}"))
                continue
            home_licence = licences[recognition.licence_id]
            home = state_on(home_licence, day, home_licence.events)
            if home.status is not LicenceStatus.ACTIVE:
                unmet.append(Unmet("home_licence_active",
                                   f"recognition {recognition.id} rests on licence {home_licence.number}, "
                                   f"{home.status.value} on {day.isoformat()}"))
                continue
            basis = {"kind": "recognition", "id": recognition.id, "host_state": state_code,
                     "home_licence": home_licence.number, "home_board": home_licence.board,
                     "valid_until": _iso(recognition.valid_until), "conditions": recognition.conditions,
                     "restrictions": home.restrictions}
            break
    if not home_licences and not recognitions:
        unmet.append(Unmet("licence_or_recognition",
                           f"no licence or recognition in {state_code} for profession {profession_code}"))

    open_alerts = fetch_all(_OPEN_ALERTS, {"clinician_id": clinician.id, "day": day})
    for alert in open_alerts:
        unmet.append(Unmet("no_open_alert", f"alert {alert.id}: {alert.measure.value} by {alert.board} from "
                                            f"{alert.effective_from.isoformat()}"))
    may_practise = basis is not None and not open_alerts
    return {
        "clinician": clinician.registry_number,
        "name": clinician.full_name,
        "state": state_code,
        "profession": profession_code,
        "on": day,
        "may_practise": may_practise,
        "basis": basis if may_practise else None,
        "unmet": [] if may_practise else [u.as_dict() for u in unmet],
    }
