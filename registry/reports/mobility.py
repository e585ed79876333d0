"""Mobility figures: secondments by route, each state's inflow, outflow and net flow, programme fill rates, and
counts by sex and age band. Every figure is one SQL aggregate (GROUP BY); Python only folds the grouped rows.

A secondment counts once it was approved, whatever came after (active, completed, suspended, terminated);
proposals and cancellations do not. It belongs to the period in which it starts.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa

from registry.core.db import db
from registry.mobility.models import PLACED, ExchangeProgramme, Secondment, SecondmentStatus
from registry.people.models import Clinician, MemberState

COUNTED = (SecondmentStatus.APPROVED, SecondmentStatus.SUSPENDED, SecondmentStatus.TERMINATED)
AGE_BANDS = [(30, "under 30"), (40, "30-39"), (50, "40-49"), (60, "50-59"), (None, "60 and over")]

_S = Secondment.__table__


@dataclass
class Filters:
    """Which secondments a figure covers: started within [start, end], of a profession, from or to a state."""

    start: date | None = None
    end: date | None = None
    profession: str | None = None
    home_state: str | None = None
    host_state: str | None = None

    def where(self) -> list[Any]:
        conditions: list[Any] = [_S.c.status.in_([s.value for s in COUNTED])]
        if self.start is not None:
            conditions.append(_S.c.starts_on >= self.start)
        if self.end is not None:
            conditions.append(_S.c.starts_on <= self.end)
        if self.profession is not None:
            conditions.append(_S.c.profession_code == self.profession)
        if self.home_state is not None:
            conditions.append(_S.c.home_state_code == self.home_state)
        if self.host_state is not None:
            conditions.append(_S.c.host_state_code == self.host_state)
        return conditions


def by_route(filters: Filters) -> list[dict[str, Any]]:
    """Secondments by home state → host state, profession and year of start."""
    year = sa.cast(sa.extract("year", _S.c.starts_on), sa.Integer).label("year")
    stmt = (
        sa.select(_S.c.home_state_code, _S.c.host_state_code, _S.c.profession_code, year,
                  sa.func.count().label("secondments"))
        .where(*filters.where())
        .group_by(_S.c.home_state_code, _S.c.host_state_code, _S.c.profession_code, year)
        .order_by(_S.c.home_state_code, _S.c.host_state_code, _S.c.profession_code, year)
    )
    return [{"home_state": r.home_state_code, "host_state": r.host_state_code, "profession": r.profession_code,
             "year": int(r.year), "secondments": r.secondments} for r in db.session.execute(stmt)]


def flows(filters: Filters) -> list[dict[str, Any]]:
    """Each member state's inflow (hosted), outflow (sent) and net flow (inflow - outflow): the brain-drain view.

    One GROUP BY over the (home, host) pairs; the pairs (at most states²) are folded per state."""
    stmt = (
        sa.select(_S.c.home_state_code, _S.c.host_state_code, sa.func.count().label("n"))
        .where(*filters.where())
        .group_by(_S.c.home_state_code, _S.c.host_state_code)
    )
    inflow: dict[str, int] = defaultdict(int)
    outflow: dict[str, int] = defaultdict(int)
    for home, host, n in db.session.execute(stmt):
        outflow[home] += n
        inflow[host] += n
    states = db.session.execute(sa.select(MemberState.code, MemberState.name).order_by(MemberState.code)).all()
    return [{"state": code, "name": name, "inflow": inflow[code], "outflow": outflow[code],
             "net": inflow[code] - outflow[code]} for code, name in states]


def _rate(placed: int, capacity: int | None) -> float | None:
    return round(placed / capacity, 4) if capacity else None


def programme_fill() -> list[dict[str, Any]]:
    """Per programme, in all (host_state null) and per host state: capacity, places taken, fill rate."""
    placed = db.session.execute(
        sa.select(_S.c.programme_id, _S.c.host_state_code, sa.func.count())
        .where(_S.c.programme_id.is_not(None), _S.c.status.in_([s.value for s in PLACED]))
        .group_by(_S.c.programme_id, _S.c.host_state_code)
    ).all()
    taken: dict[int, dict[str, int]] = defaultdict(dict)
    for programme_id, host, n in placed:
        taken[programme_id][host] = n
    rows = []
    for programme in db.session.scalars(sa.select(ExchangeProgramme).order_by(ExchangeProgramme.code)):
        by_host = taken[programme.id]
        total = sum(by_host.values())
        rows.append({"programme": programme.code, "status": programme.status.value, "host_state": None,
                     "capacity": programme.capacity, "placed": total, "fill_rate": _rate(total, programme.capacity)})
        limits = programme.capacity_by_host
        for state in sorted(set(limits) | set(by_host)):
            n = by_host.get(state, 0)
            rows.append({"programme": programme.code, "status": programme.status.value, "host_state": state,
                         "capacity": limits.get(state), "placed": n, "fill_rate": _rate(n, limits.get(state))})
    return rows


def _age_band(start: Any, birth: Any) -> Any:
    """Whole years between birth and the secondment's first day, as a band label, portable SQL."""
    def part(field: str, column: Any) -> Any:
        return sa.cast(sa.extract(field, column), sa.Integer)

    before_birthday = sa.case(
        (part("month", start) * 100 + part("day", start) < part("month", birth) * 100 + part("day", birth), 1),
        else_=0)
    age = part("year", start) - part("year", birth) - before_birthday
    return sa.case(*[(age < limit, label) for limit, label in AGE_BANDS if limit is not None],
                   else_=AGE_BANDS[-1][1])


def by_sex_and_age(filters: Filters) -> list[dict[str, Any]]:
    """Secondments by the clinician's sex and age band on the first day."""
    c = Clinician.__table__
    inner = (
        sa.select(c.c.sex.label("sex"), _age_band(_S.c.starts_on, c.c.date_of_birth).label("age_band"))
        .select_from(_S.join(c, c.c.id == _S.c.clinician_id))
        .where(*filters.where())
        .subquery()
    )
    stmt = sa.select(inner.c.sex, inner.c.age_band, sa.func.count().label("n")).group_by(inner.c.sex,
                                                                                         inner.c.age_band)
    order = {label: i for i, (_, label) in enumerate(AGE_BANDS)}
    rows = sorted(db.session.execute(stmt), key=lambda r: (r.sex, order[r.age_band]))
    return [{"sex": getattr(r.sex, "value", r.sex), "age_band": r.age_band, "secondments": r.n} for r in rows]
