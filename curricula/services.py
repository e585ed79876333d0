"""Curricula rules (DOMAIN.md "Curricula"): courses, accreditations, offerings, completions and their validity.

The bulk import (importer.py) applies the same rules through `completion_problems`, row by row.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from curricula.models import (
    Accreditation,
    Completion,
    Course,
    CourseOwner,
    Enrolment,
    Offering,
    Outcome,
)
from registry.core import audit
from registry.core.auth import Account
from registry.core.db import db, is_postgres, utcnow
from registry.core.errors import Conflict, Invalid, NotFound
from registry.core.events import clinician_merging, completion_withdrawn
from registry.licensing.models import Licence
from registry.people import services as people
from registry.people.models import Clinician, MemberState, Organisation, OrganisationKind, Profession

Window = tuple[date, date | None]


def add_months(day: date, months: int) -> date:
    """`day` plus whole months; the 31st of a shorter month becomes its last day (31 Jan + 1 = 28/29 Feb)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def valid_until(completed_on: date, outcome: Outcome | str, validity_months: int | None) -> date | None:
    """A passed completion is valid until its date plus the course's validity; without one it never expires."""
    if outcome != Outcome.PASSED or validity_months is None:
        return None
    return add_months(completed_on, validity_months)


# --- courses -------------------------------------------------------------------------------------------------


def check_course_codes(codes: list[str], errors: dict[str, list[str]]) -> None:
    """Report each course code that names no course in `errors` under "required_courses"."""
    known = set(db.session.scalars(sa.select(Course.code).where(Course.code.in_(codes))))
    unknown = sorted(set(codes) - known)
    if unknown:
        errors.setdefault("required_courses", []).extend(f"unknown course {c}" for c in unknown)


def get_course(code: str) -> Course:
    course = db.session.scalar(sa.select(Course).where(Course.code == code.upper()))
    if course is None:
        raise NotFound(f"no course {code}")
    return course


def get_hub(code: str) -> Organisation:
    """A training hub by code; another kind of organisation is not a hub."""
    org = people.get_organisation(code)
    if org.kind is not OrganisationKind.TRAINING_HUB:
        raise NotFound(f"{code} is not a training hub")
    return org


def courses(profession: str | None = None) -> list[Course]:
    stmt = sa.select(Course).options(selectinload(Course.professions), selectinload(Course.owners)).order_by(
        Course.code
    )
    if profession:
        stmt = stmt.where(Course.professions.any(Profession.code == profession))
    return list(db.session.scalars(stmt))


def _professions(codes: Sequence[str]) -> list[Profession]:
    found = {p.code: p for p in db.session.scalars(sa.select(Profession).where(Profession.code.in_(codes)))}
    unknown = [c for c in codes if c not in found]
    if unknown:
        raise Invalid("unknown profession", errors={"professions": [f"no ISCO-08 profession {c}" for c in unknown]})
    return [found[c] for c in dict.fromkeys(codes)]


def _owners(owners: Sequence[dict[str, str | None]]) -> list[CourseOwner]:
    """Owner rows from [{"hub": code} | {"member_state": code}]; each hub must be a training hub."""
    result: list[CourseOwner] = []
    problems: list[str] = []
    seen: set[tuple[str, str]] = set()
    for owner in owners:
        if owner.get("hub"):
            key = ("hub", owner["hub"])
            org = db.session.scalar(sa.select(Organisation).where(Organisation.code == owner["hub"]))
            if org is None or org.kind is not OrganisationKind.TRAINING_HUB:
                problems.append(f"{owner['hub']} is not a training hub")
                continue
            if key not in seen:
                result.append(CourseOwner(organisation=org))
        else:
            key = ("member_state", owner["member_state"])
            if db.session.get(MemberState, owner["member_state"]) is None:
                problems.append(f"no member state {owner['member_state']}")
                continue
            if key not in seen:
                result.append(CourseOwner(member_state_code=owner["member_state"]))
        seen.add(key)
    if problems:
        raise Invalid("unknown owner", errors={"owners": problems})
    return result


def _owner_key(owner: CourseOwner) -> tuple[int | None, str | None]:
    return (owner.organisation.id if owner.organisation is not None else None, owner.member_state_code)


def _owner_labels(course: Course) -> list[str]:
    return [o.organisation.code if o.organisation else f"state:{o.member_state_code}" for o in course.owners]


def create_course(
    *,
    code: str,
    titles: dict[str, str],
    fallback_language: str,
    description: str | None,
    competencies: list[str],
    cpd_hours: float,
    validity_months: int | None,
    professions: list[str],
    owners: list[dict[str, str | None]],
    actor: Account | None,
) -> Course:
    """Add a course to the curriculum; its code is unique and its fallback language has a title."""
    if fallback_language not in titles:
        raise Invalid("the fallback language needs a title", errors={"fallback_language": ["has no title"]})
    if db.session.scalar(sa.select(Course.id).where(Course.code == code)) is not None:
        raise Conflict(f"course {code} exists already", existing_url=f"/api/v1/courses/{code}")
    course = Course(
        code=code,
        titles=titles,
        fallback_language=fallback_language,
        description=description,
        competencies=competencies,
        cpd_hours=cpd_hours,
        validity_months=validity_months,
        professions=_professions(professions),
        owners=_owners(owners),
    )
    db.session.add(course)
    db.session.flush()
    audit.record(
        "course.create",
        "course",
        code,
        {"titles": titles, "fallback_language": fallback_language, "cpd_hours": cpd_hours,
         "validity_months": validity_months, "professions": professions, "owners": _owner_labels(course),
         "competencies": competencies},
    )
    return course


def update_course(course: Course, *, actor: Account | None, **changes: Any) -> Course:
    """Change a course's titles, description, competencies, credits, validity, professions or owners."""
    diff: dict[str, list[Any]] = {}
    if "professions" in changes:
        codes = changes.pop("professions")
        before = [p.code for p in course.professions]
        if before != sorted(set(codes)):
            course.professions = _professions(codes)
            diff["professions"] = [before, [p.code for p in course.professions]]
    if "owners" in changes:
        before = _owner_labels(course)
        new_owners = _owners(changes.pop("owners"))
        wanted = {_owner_key(o) for o in new_owners}
        current = {_owner_key(o) for o in course.owners}
        if wanted != current:
            # Keep the rows that stay (the unique constraints would trip on delete-then-insert).
            course.owners = [o for o in course.owners if _owner_key(o) in wanted] + [
                o for o in new_owners if _owner_key(o) not in current
            ]
            db.session.flush()
            diff["owners"] = [before, _owner_labels(course)]
    for key, value in changes.items():
        old = getattr(course, key)
        if old != value:
            diff[key] = [old, value]
            setattr(course, key, value)
    if course.fallback_language not in course.titles:
        raise Invalid("the fallback language needs a title", errors={"fallback_language": ["has no title"]})
    if diff:
        course.updated_at = utcnow()
        db.session.flush()
        audit.record("course.update", "course", course.code, diff)
    return course


# --- accreditations ------------------------------------------------------------------------------------------


def accreditations(course: Course) -> list[Accreditation]:
    return list(
        db.session.scalars(
            sa.select(Accreditation).where(Accreditation.course_id == course.id).order_by(
                Accreditation.valid_from, Accreditation.id
            )
        )
    )


def get_accreditation(accreditation_id: int) -> Accreditation:
    accreditation = db.session.get(Accreditation, accreditation_id)
    if accreditation is None:
        raise NotFound(f"no accreditation with id {accreditation_id}")
    return accreditation


def _overlaps(a: Window, b: Window) -> bool:
    a_end, b_end = a[1] or date.max, b[1] or date.max
    return a[0] <= b_end and b[0] <= a_end


def _lock(model: type, row_id: int) -> None:
    """Serialise writers of one row's dependants on PostgreSQL (SQLite already has one writer)."""
    if is_postgres():
        db.session.execute(sa.select(model.id).where(model.id == row_id).with_for_update())


def grant_accreditation(
    course: Course,
    *,
    hub: Organisation,
    granted_by: str,
    valid_from: date,
    valid_until: date | None,
    actor: Account | None,
) -> Accreditation:
    """Accredit a hub for a course; windows of the same hub and course never overlap."""
    if hub.kind is not OrganisationKind.TRAINING_HUB:
        raise Invalid(f"{hub.code} is not a training hub", errors={"hub": ["is not a training hub"]})
    if db.session.get(MemberState, granted_by) is None:
        raise Invalid("unknown member state", errors={"granted_by": [f"no member state {granted_by}"]})
    if valid_until is not None and valid_until < valid_from:
        raise Invalid("the accreditation ends before it starts", errors={"valid_until": ["is before valid_from"]})
    _lock(Course, course.id)
    for other in _hub_accreditations(hub.id, course.id):
        if _overlaps((valid_from, valid_until), (other.valid_from, other.valid_until)):
            raise Conflict(
                f"{hub.code} is already accredited for {course.code} from {other.valid_from.isoformat()}"
                + (f" until {other.valid_until.isoformat()}" if other.valid_until else ""),
                existing_id=other.id,
            )
    accreditation = Accreditation(
        course=course, hub=hub, granted_by_state_code=granted_by, valid_from=valid_from, valid_until=valid_until,
        recorded_by_id=actor.id if actor else None,
    )
    db.session.add(accreditation)
    db.session.flush()
    audit.record(
        "accreditation.grant",
        "accreditation",
        accreditation.id,
        {"course": course.code, "hub": hub.code, "granted_by": granted_by, "valid_from": valid_from,
         "valid_until": valid_until},
    )
    return accreditation


def _hub_accreditations(hub_id: int, course_id: int) -> list[Accreditation]:
    return list(
        db.session.scalars(
            sa.select(Accreditation).where(Accreditation.hub_id == hub_id, Accreditation.course_id == course_id)
        )
    )


def change_accreditation_end(accreditation: Accreditation, *, valid_until: date | None,
                             actor: Account | None) -> Accreditation:
    """End an accreditation earlier, extend it, or make it open-ended."""
    if valid_until is not None and valid_until < accreditation.valid_from:
        raise Invalid("the accreditation would end before it starts", errors={"valid_until": ["is before valid_from"]})
    _lock(Course, accreditation.course_id)
    for other in _hub_accreditations(accreditation.hub_id, accreditation.course_id):
        if other.id != accreditation.id and _overlaps(
            (accreditation.valid_from, valid_until), (other.valid_from, other.valid_until)
        ):
            raise Conflict(f"the new end overlaps accreditation {other.id} from {other.valid_from.isoformat()}",
                           existing_id=other.id)
    before = accreditation.valid_until
    if before != valid_until:
        accreditation.valid_until = valid_until
        db.session.flush()
        audit.record("accreditation.update", "accreditation", accreditation.id, {"valid_until": [before, valid_until]})
    return accreditation


def accreditation_windows(hub_id: int, course_ids: Iterable[int] | None = None) -> dict[int, list[Window]]:
    """The hub's accreditation windows by course id, in one query."""
    stmt = sa.select(Accreditation.course_id, Accreditation.valid_from, Accreditation.valid_until).where(
        Accreditation.hub_id == hub_id
    )
    if course_ids is not None:
        stmt = stmt.where(Accreditation.course_id.in_(list(course_ids)))
    windows: dict[int, list[Window]] = {}
    for course_id, start, end in db.session.execute(stmt):
        windows.setdefault(course_id, []).append((start, end))
    return windows


def accreditation_problem(windows: list[Window] | None, hub_code: str, course_code: str,
                          day: date) -> tuple[str, str] | None:
    """(field, message) when the hub was not accredited for the course on `day`."""
    if not windows:
        return "course", f"{hub_code} is not accredited for {course_code}"
    for start, end in windows:
        if start <= day and (end is None or day <= end):
            return None
    return "completed_on", f"{hub_code} was not accredited for {course_code} on {day.isoformat()}"


# --- offerings and enrolments --------------------------------------------------------------------------------


def get_offering(offering_id: int) -> Offering:
    offering = db.session.get(Offering, offering_id)
    if offering is None:
        raise NotFound(f"no offering with id {offering_id}")
    return offering


def offerings_of(hub: Organisation) -> list[Offering]:
    return list(
        db.session.scalars(
            sa.select(Offering).where(Offering.hub_id == hub.id).order_by(Offering.starts_on, Offering.id)
        )
    )


def create_offering(
    hub: Organisation,
    *,
    course: Course,
    starts_on: date,
    ends_on: date,
    language: str,
    place: str,
    capacity: int,
    actor: Account | None,
) -> Offering:
    """Schedule a cohort; the hub must be accredited for the course on its first and last day."""
    if ends_on < starts_on:
        raise Invalid("the offering ends before it starts", errors={"ends_on": ["is before starts_on"]})
    windows = accreditation_windows(hub.id, [course.id]).get(course.id)
    for field, day in (("starts_on", starts_on), ("ends_on", ends_on)):
        problem = accreditation_problem(windows, hub.code, course.code, day)
        if problem:
            raise Invalid(problem[1], errors={field if problem[0] == "completed_on" else "course": [problem[1]]})
    offering = Offering(course=course, hub=hub, starts_on=starts_on, ends_on=ends_on, language=language,
                        place=place, capacity=capacity)
    db.session.add(offering)
    db.session.flush()
    audit.record(
        "offering.create",
        "offering",
        offering.id,
        {"course": course.code, "hub": hub.code, "starts_on": starts_on, "ends_on": ends_on, "language": language,
         "place": place, "capacity": capacity},
    )
    return offering


def enrolled_count(offering_id: int) -> int:
    return db.session.scalar(
        sa.select(sa.func.count()).select_from(Enrolment).where(Enrolment.offering_id == offering_id)
    ) or 0


def enrolments_of(offering: Offering) -> list[Enrolment]:
    return list(
        db.session.scalars(
            sa.select(Enrolment).where(Enrolment.offering_id == offering.id).order_by(Enrolment.enrolled_at,
                                                                                      Enrolment.id)
        )
    )


def enrol(offering: Offering, clinician: Clinician, *, actor: Account | None, today: date) -> Enrolment:
    """Enrol a clinician while seats remain; the offering row is locked so capacity holds under concurrency."""
    if offering.ends_on < today:
        raise Conflict(f"offering {offering.id} ended on {offering.ends_on.isoformat()}")
    _lock(Offering, offering.id)
    existing = db.session.scalar(
        sa.select(Enrolment).where(Enrolment.offering_id == offering.id, Enrolment.clinician_id == clinician.id)
    )
    if existing is not None:
        raise Conflict(f"{clinician.registry_number} is already enrolled in offering {offering.id}",
                       existing_id=existing.id)
    taken = enrolled_count(offering.id)
    if taken >= offering.capacity:
        raise Conflict(f"offering {offering.id} is full: {taken} of {offering.capacity} seats are taken",
                       capacity=offering.capacity, enrolled=taken)
    enrolment = Enrolment(offering=offering, clinician=clinician, enrolled_by_id=actor.id if actor else None)
    db.session.add(enrolment)
    db.session.flush()
    audit.record("enrolment.create", "enrolment", enrolment.id,
                 {"offering": offering.id, "clinician": clinician.registry_number})
    return enrolment


@clinician_merging.connect
def _fold_enrolments(sender: Any, survivor: Clinician, merged: Clinician, **_: Any) -> dict[str, list[int]]:
    """Two records of one person enrolled in the same offering: the merged record's enrolment is the duplicate
    (one seat too many) and goes; the survivor's, with its date, stays."""
    twice = list(db.session.scalars(
        sa.select(Enrolment).where(
            Enrolment.clinician_id == merged.id,
            Enrolment.offering_id.in_(sa.select(Enrolment.offering_id).where(Enrolment.clinician_id == survivor.id)),
        ).order_by(Enrolment.id)))
    for enrolment in twice:
        db.session.delete(enrolment)
    return {"enrolments_dropped": [e.id for e in twice]} if twice else {}


# --- completions ---------------------------------------------------------------------------------------------


def find_clinician(registry_number: str | None, licence_number: str | None, board: str | None) -> Clinician:
    """The clinician by registry number, or by a licence number at a board; 422 naming the field otherwise."""
    if registry_number:
        try:
            return people.get_clinician(registry_number)
        except NotFound as exc:
            raise Invalid("unknown clinician", errors={"clinician": [exc.detail]}) from exc
    try:
        board_org = people.get_organisation(board or "")
    except NotFound as exc:
        raise Invalid("unknown board", errors={"board": [exc.detail]}) from exc
    clinician = db.session.scalar(
        sa.select(Clinician).join(Licence, Licence.clinician_id == Clinician.id).where(
            Licence.board_id == board_org.id, Licence.number == licence_number
        )
    )
    if clinician is None:
        raise Invalid("unknown clinician",
                      errors={"licence_number": [f"no licence {licence_number} at {board_org.code}"]})
    return clinician


def get_completion(completion_id: int) -> Completion:
    completion = db.session.get(Completion, completion_id)
    if completion is None:
        raise NotFound(f"no completion with id {completion_id}")
    return completion


def completion_problems(
    *,
    hub_id: int,
    hub_code: str,
    course_id: int,
    course_code: str,
    cpd_hours: float,
    windows: list[Window] | None,
    completed_on: date,
    outcome: str,
    credits: float,
    offering: tuple[int, int, int, date] | None,
    today: date,
) -> list[tuple[str, str]]:
    """Every broken rule of one completion as (field, message); `offering` is (id, hub_id, course_id, starts_on)."""
    problems: list[tuple[str, str]] = []
    if completed_on > today:
        problems.append(("completed_on", "is in the future"))
    else:
        problem = accreditation_problem(windows, hub_code, course_code, completed_on)
        if problem:
            problems.append(problem)
    if outcome != Outcome.PASSED and credits > 0:
        problems.append(("credits", "a failed completion earns no credits"))
    elif credits > cpd_hours:
        problems.append(("credits", f"is more than the course's {cpd_hours:g} CPD hours"))
    if offering is not None:
        offering_id, offering_hub, offering_course, starts_on = offering
        if offering_hub != hub_id:
            problems.append(("offering", f"offering {offering_id} is not one of {hub_code}'s"))
        elif offering_course != course_id:
            problems.append(("offering", f"offering {offering_id} is of another course than {course_code}"))
        elif completed_on < starts_on:
            problems.append(("completed_on", f"is before offering {offering_id} starts ({starts_on.isoformat()})"))
    return problems


COMPARED = ("clinician_id", "course_id", "offering_id", "completed_on", "outcome", "score", "credits")


def differences(existing: Any, incoming: dict[str, Any]) -> list[str]:
    """Names of the fields where a re-sent completion differs from the recorded one."""
    labels = {"clinician_id": "clinician", "course_id": "course", "offering_id": "offering"}
    return [labels.get(f, f) for f in COMPARED if getattr(existing, f) != incoming[f]]


def record_completion(
    hub: Organisation,
    *,
    clinician: Clinician,
    course: Course,
    offering: Offering | None,
    completed_on: date,
    outcome: Outcome,
    score: float | None,
    credits: float | None,
    reference: str,
    actor: Account | None,
    today: date,
) -> tuple[Completion, bool]:
    """Record a completion; re-sending the same reference with the same data returns the recorded one unchanged."""
    if credits is None:
        credits = course.cpd_hours if outcome is Outcome.PASSED else 0.0
    incoming = {
        "clinician_id": clinician.id, "course_id": course.id, "offering_id": offering.id if offering else None,
        "completed_on": completed_on, "outcome": outcome, "score": score, "credits": credits,
    }
    existing = db.session.scalar(
        sa.select(Completion).where(Completion.hub_id == hub.id, Completion.reference == reference)
    )
    if existing is not None:
        changed = differences(existing, incoming)
        if changed:
            raise Conflict(
                f"{hub.code} already recorded reference {reference} for a different completion "
                f"(differs in: {', '.join(changed)}); use a new reference or withdraw the old one",
                existing_id=existing.id, differs=changed, existing_url=f"/api/v1/completions/{existing.id}",
            )
        return existing, False
    problems = completion_problems(
        hub_id=hub.id, hub_code=hub.code, course_id=course.id, course_code=course.code, cpd_hours=course.cpd_hours,
        windows=accreditation_windows(hub.id, [course.id]).get(course.id), completed_on=completed_on,
        outcome=outcome, credits=credits,
        offering=(offering.id, offering.hub_id, offering.course_id, offering.starts_on) if offering else None,
        today=today,
    )
    if problems:
        errors: dict[str, list[str]] = {}
        for field, message in problems:
            errors.setdefault(field, []).append(message)
        raise Invalid("the completion cannot be recorded: " + "; ".join(m for _, m in problems), errors=errors)
    completion = Completion(
        hub=hub, clinician=clinician, course=course, offering=offering, reference=reference,
        completed_on=completed_on, outcome=outcome, score=score, credits=credits,
        valid_until=valid_until(completed_on, outcome, course.validity_months),
        recorded_by_id=actor.id if actor else None,
    )
    db.session.add(completion)
    db.session.flush()
    audit.record(
        "completion.record",
        "completion",
        completion.id,
        {"hub": hub.code, "reference": reference, "clinician": clinician.registry_number, "course": course.code,
         "offering": completion.offering_id, "completed_on": completed_on, "outcome": outcome, "score": score,
         "credits": credits, "valid_until": completion.valid_until},
    )
    return completion, True


def withdraw_completion(completion: Completion, *, reason: str, actor: Account | None) -> Completion:
    """Withdraw a completion: the record stays, marked with when, why and by whom; its certificate is revoked."""
    if completion.withdrawn_at is not None:
        raise Conflict(f"completion {completion.reference} was already withdrawn on "
                       f"{completion.withdrawn_at.date().isoformat()}")
    completion.withdrawn_at = utcnow()
    completion.withdrawal_reason = reason
    completion.withdrawn_by_id = actor.id if actor else None
    db.session.flush()
    audit.record("completion.withdraw", "completion", completion.id,
                 {"hub": completion.hub.code, "reference": completion.reference, "reason": reason})
    completion_withdrawn.send(completion, completion=completion, actor=actor)
    return completion


def completions_of(clinician: Clinician, day: date | None = None) -> list[Completion]:
    """A clinician's completions, newest first; with `day`, only those completed on or before it."""
    stmt = sa.select(Completion).where(Completion.clinician_id == clinician.id)
    if day is not None:
        stmt = stmt.where(Completion.completed_on <= day)
    return list(db.session.scalars(stmt.order_by(Completion.completed_on.desc(), Completion.id.desc())))


def hub_completions(hub: Organisation, *, course: Course | None, page: int,
                    page_size: int) -> tuple[list[Completion], int]:
    stmt = sa.select(Completion).where(Completion.hub_id == hub.id)
    if course is not None:
        stmt = stmt.where(Completion.course_id == course.id)
    total = db.session.scalar(sa.select(sa.func.count()).select_from(stmt.subquery())) or 0
    rows = db.session.scalars(
        stmt.order_by(Completion.completed_on.desc(), Completion.id.desc()).offset((page - 1) * page_size)
        .limit(page_size)
    ).all()
    return list(rows), total


def cpd_credits(clinician: Clinician, start: date, end: date) -> tuple[float, list[Completion]]:
    """CPD credits earned in [start, end]: completions dated in the period and not withdrawn."""
    if end < start:
        raise Invalid("the period ends before it starts", errors={"to": ["is before from"]})
    items = list(
        db.session.scalars(
            sa.select(Completion)
            .where(
                Completion.clinician_id == clinician.id,
                Completion.completed_on >= start,
                Completion.completed_on <= end,
                Completion.withdrawn_at.is_(None),
            )
            .order_by(Completion.completed_on, Completion.id)
        )
    )
    return round(sum(c.credits for c in items), 2), items
