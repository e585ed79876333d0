"""Reference data and clinicians: creation, duplicate detection, search."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import sqlalchemy as sa

from registry.core import audit
from registry.core.db import db
from registry.core.errors import Conflict, Invalid, NotFound
from registry.core.prepared import fetch_first
from registry.core.schemas import ORG_CODE, STATE_CODE
from registry.people import numbers
from registry.people.models import Clinician, MemberState, Organisation, OrganisationKind, Profession, name_key


def _shown(text: str, *, quoted: bool = False) -> str:
    """An identifier from the URL as it may be echoed in an error: bounded, control characters escaped."""
    if len(text) <= 40 and text.isprintable() and not quoted:
        return text
    return repr(text[:40]) + ("..." if len(text) > 40 else "")


def get_state(code: str) -> MemberState:
    # Only a code can name a state; anything else (a NUL byte included, which PostgreSQL refuses) is not found.
    state = db.session.get(MemberState, code) if re.fullmatch(STATE_CODE, code) else None
    if state is None:
        raise NotFound(f"no member state {_shown(code)}")
    return state


def get_organisation(code: str) -> Organisation:
    org = (db.session.scalar(sa.select(Organisation).where(Organisation.code == code))
           if re.fullmatch(ORG_CODE, code) else None)
    if org is None:
        raise NotFound(f"no organisation {_shown(code)}")
    return org


def create_state(**data: Any) -> MemberState:
    if db.session.get(MemberState, data["code"]) is not None:
        raise Conflict(f"member state {data['code']} exists already")
    if db.session.scalar(sa.select(MemberState).where(MemberState.name == data["name"])) is not None:
        raise Conflict(f"a member state named {data['name']} exists already")
    state = MemberState(**data)
    db.session.add(state)
    db.session.flush()
    audit.record("member_state.create", "member_state", state.code, data)
    return state


def update_state(state: MemberState, **changes: Any) -> MemberState:
    name = changes.get("name")
    if name is not None and db.session.scalar(
        sa.select(MemberState.code).where(MemberState.name == name, MemberState.code != state.code)
    ) is not None:
        raise Conflict(f"a member state named {name} exists already")
    diff = _apply(state, changes)
    if state.left_on is not None and state.left_on < state.joined_on:
        raise Invalid("a state cannot leave before it joined", errors={"left_on": ["is before joined_on"]})
    db.session.flush()
    if diff:
        audit.record("member_state.update", "member_state", state.code, diff)
    return state


def _known_state(code: str, field: str) -> None:
    """A state named in a request body must exist: an unknown one is invalid input (422), not a missing resource."""
    try:
        get_state(code)
    except NotFound as exc:
        raise Invalid(exc.detail, errors={field: [exc.detail]}) from exc


def create_organisation(**data: Any) -> Organisation:
    _known_state(data["member_state_code"], "member_state_code")
    if db.session.scalar(sa.select(Organisation).where(Organisation.code == data["code"])) is not None:
        raise Conflict(f"organisation {data['code']} exists already")
    org = Organisation(**data)
    db.session.add(org)
    db.session.flush()
    audit.record("organisation.create", "organisation", org.code, data)
    return org


def update_organisation(org: Organisation, **changes: Any) -> Organisation:
    diff = _apply(org, changes)
    db.session.flush()
    if diff:
        audit.record("organisation.update", "organisation", org.code, diff)
    return org


def create_profession(code: str, title: str) -> Profession:
    if db.session.get(Profession, code) is not None:
        raise Conflict(f"profession {code} exists already")
    profession = Profession(code=code, title=title)
    db.session.add(profession)
    db.session.flush()
    audit.record("profession.create", "profession", code, {"title": title})
    return profession


def _apply(obj: Any, changes: dict[str, Any]) -> dict[str, list[Any]]:
    diff = {}
    for key, value in changes.items():
        old = getattr(obj, key)
        if old != value:
            diff[key] = [old, value]
            setattr(obj, key, value)
    return diff


def states_and_professions(states: list[str], professions: list[str], errors: dict[str, list[str]]
                           ) -> tuple[list[MemberState], list[Profession]]:
    """The rows for these codes; each unknown code is reported in `errors` under "states" or "professions"."""
    state_rows = list(db.session.scalars(sa.select(MemberState).where(MemberState.code.in_(states))))
    unknown = sorted(set(states) - {s.code for s in state_rows})
    if unknown:
        errors.setdefault("states", []).extend(f"unknown member state {c}" for c in unknown)
    profession_rows = list(db.session.scalars(sa.select(Profession).where(Profession.code.in_(professions))))
    unknown = sorted(set(professions) - {p.code for p in profession_rows})
    if unknown:
        errors.setdefault("professions", []).extend(f"unknown profession {c}" for c in unknown)
    return state_rows, profession_rows


def find_duplicates(family_name: str, given_names: str, date_of_birth: date, home_state_code: str) -> list[Clinician]:
    key = name_key(family_name, given_names)
    return list(
        db.session.scalars(
            sa.select(Clinician).where(
                Clinician.name_key == key,
                Clinician.date_of_birth == date_of_birth,
                Clinician.home_state_code == home_state_code,
            )
        )
    )


def create_clinician(*, not_duplicate_of: list[str] | None = None, today: date, **data: Any) -> Clinician:
    """Register a clinician; a match on name, date of birth and home state is a conflict unless acknowledged."""
    _known_state(data["home_state_code"], "home_state_code")
    if data["date_of_birth"] >= today:
        raise Invalid("the date of birth must be in the past", errors={"date_of_birth": ["is not in the past"]})
    matches = find_duplicates(data["family_name"], data["given_names"], data["date_of_birth"],
                              data["home_state_code"])
    acknowledged = {numbers.normalise(n) for n in not_duplicate_of or []}
    unacknowledged = [c for c in matches if c.registry_number not in acknowledged]
    if unacknowledged:
        first = unacknowledged[0]
        raise Conflict(
            f"a clinician with this name, date of birth and home state is already registered as "
            f"{first.registry_number}; use that record, or resend with not_duplicate_of naming it "
            "if this is a different person",
            existing=[c.registry_number for c in unacknowledged],
            existing_url=f"/api/v1/clinicians/{first.registry_number}",
        )
    clinician = Clinician(
        registry_number=_unused_registry_number(),
        name_key=name_key(data["family_name"], data["given_names"]),
        **data,
    )
    db.session.add(clinician)
    db.session.flush()
    audit.record(
        "clinician.create",
        "clinician",
        clinician.registry_number,
        {k: v for k, v in data.items() if k not in ("email",)} | {"not_duplicate_of": sorted(acknowledged - {None})},
    )
    return clinician


def _unused_registry_number() -> str:
    while True:
        number = numbers.new_registry_number()
        if db.session.scalar(sa.select(Clinician.id).where(Clinician.registry_number == number)) is None:
            return number


def update_clinician(clinician: Clinician, **changes: Any) -> Clinician:
    diff = _apply(clinician, changes)
    clinician.name_key = name_key(clinician.family_name, clinician.given_names)
    db.session.flush()
    if diff:
        # Contact details stay out of the audit log; that they changed is recorded.
        recorded = {k: v for k, v in diff.items() if k != "email"}
        if "email" in diff:
            recorded["email"] = "changed"
        audit.record("clinician.update", "clinician", clinician.registry_number, recorded)
    return clinician


def get_clinician(registry_number: str) -> Clinician:
    canonical = numbers.normalise(registry_number)
    if canonical is None:
        raise NotFound(
            f"{_shown(registry_number, quoted=True)} is not a valid registry number (wrong shape or check character)"
        )
    clinician = db.session.scalar(sa.select(Clinician).where(Clinician.registry_number == canonical))
    if clinician is None:
        raise NotFound(f"no clinician {canonical}")
    return clinician


_CLINICIAN_REF = (
    sa.select(Clinician.__table__.c.id, Clinician.__table__.c.registry_number,
              (Clinician.__table__.c.given_names + " " + Clinician.__table__.c.family_name).label("full_name"))
    .where(Clinician.__table__.c.registry_number == sa.bindparam("number"))
)
_STATE_EXISTS = sa.select(MemberState.__table__.c.code).where(MemberState.__table__.c.code == sa.bindparam("code"))


def clinician_ref(registry_number: str) -> sa.Row:
    """id, registry_number and full_name of a clinician, read without loading the ORM object (hot paths)."""
    canonical = numbers.normalise(registry_number)
    if canonical is None:
        raise NotFound(f"{registry_number!r} is not a valid registry number (wrong shape or check character)")
    row = fetch_first(_CLINICIAN_REF, {"number": canonical})
    if row is None:
        raise NotFound(f"no clinician {canonical}")
    return row


def state_exists(code: str) -> bool:
    return fetch_first(_STATE_EXISTS, {"code": code}) is not None


def search_clinicians(
    *, q: str | None, licence_number: str | None, home_state: str | None, page: int, page_size: int
) -> tuple[list[Clinician], int]:
    """Search by registry number, name (any order, accents ignored) or licence number."""
    from registry.core.db import Base  # licences are looked up by table, not imported: people sits below licensing

    stmt = sa.select(Clinician)
    if q:
        canonical = numbers.normalise(q)
        if canonical:
            stmt = stmt.where(Clinician.registry_number == canonical)
        else:
            for word in name_key(q, "").split():
                escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
                stmt = stmt.where(Clinician.name_key.like(f"%{escaped}%", escape="\\"))
    if licence_number:
        licences = Base.metadata.tables["licences"]
        stmt = stmt.where(
            Clinician.id.in_(sa.select(licences.c.clinician_id).where(licences.c.number == licence_number))
        )
    if home_state:
        stmt = stmt.where(Clinician.home_state_code == home_state)
    total = db.session.scalar(sa.select(sa.func.count()).select_from(stmt.subquery())) or 0
    rows = db.session.scalars(
        stmt.order_by(Clinician.family_name, Clinician.given_names, Clinician.id)
        .offset((page - 1) * page_size)
        .limit(page_size)
    ).all()
    return list(rows), total


def organisations(kind: OrganisationKind | None = None, state: str | None = None) -> list[Organisation]:
    stmt = sa.select(Organisation).order_by(Organisation.code)
    if kind:
        stmt = stmt.where(Organisation.kind == kind)
    if state:
        stmt = stmt.where(Organisation.member_state_code == state)
    return list(db.session.scalars(stmt))
