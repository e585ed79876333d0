"""Reference data and clinicians: creation, duplicate detection, search."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import sqlalchemy as sa

from registry.core import audit
from registry.core.db import db, is_postgres
from registry.core.errors import Conflict, Invalid, NotFound
from registry.core.events import clinician_merge_requested, clinician_merging
from registry.core.prepared import fetch_first
from registry.core.schemas import ORG_CODE, STATE_CODE
from registry.people import numbers
from registry.people.models import (
    Clinician,
    ClinicianMerge,
    MemberState,
    Organisation,
    OrganisationKind,
    Profession,
    name_key,
)


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
                _NOT_MERGED,
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


# --- merging two records of one person ------------------------------------------------------------------------


def _clinician_columns() -> list[tuple[sa.Table, sa.Column]]:
    """Every column, in every table but clinicians and accounts, that holds a clinician's id: the foreign keys
    to clinicians.id, and the access log's clinician_id (a plain column, not a foreign key)."""
    found = []
    for table in db.metadata.sorted_tables:
        if table.name in ("clinicians", "accounts", "clinician_merges"):
            continue
        for column in table.columns:
            if column.name == "clinician_id" or any(fk.column is _C.c.id for fk in column.foreign_keys):
                found.append((table, column))
    return found


def merge_unmet(survivor: Clinician, merged: Clinician) -> list[dict[str, str]]:
    """Why these two records cannot be merged (each reason once; empty when they can)."""
    from registry.core.auth import Account, Role  # core's account model: people sits above core

    unmet: list[dict[str, str]] = []
    for clinician in (survivor, merged):
        into = db.session.scalar(sa.select(ClinicianMerge).where(ClinicianMerge.merged_id == clinician.id))
        if into is not None:
            unmet.append({"condition": "not_merged", "detail": f"{clinician.registry_number} was merged into "
                                                               f"{into.survivor.registry_number} already"})
    accounts = {a.clinician_id: a for a in db.session.scalars(
        sa.select(Account).where(Account.role == Role.CLINICIAN,
                                 Account.clinician_id.in_((survivor.id, merged.id))))}
    theirs, ours = accounts.get(merged.id), accounts.get(survivor.id)
    if theirs is not None and theirs.active and ours is not None:
        unmet.append({"condition": "one_account",
                      "detail": f"both records have a sign-in account; {merged.registry_number}'s account must be "
                                "deactivated first (it stays with the merged record), or merge the other way"})
    for _receiver, reasons in clinician_merge_requested.send(survivor, survivor=survivor, merged=merged):
        unmet.extend({"condition": condition, "detail": detail} for condition, detail in reasons or ())
    return unmet


def merge_clinicians(survivor: Clinician, merged: Clinician, *, reason: str, account: Any) -> ClinicianMerge:
    """Fold `merged` into `survivor`: every row that names the merged record moves to the survivor, which keeps
    its own identity (names, date of birth, sex, nationality); the merged number then leads to the survivor.

    Refused (409, every reason listed, nothing written) when either record is merged already, both have an active
    sign-in account, or an upper layer cannot carry its rows over (overlapping approved secondments). Issued
    certificates are not touched: they keep naming the number they were issued under, and verify as before.
    Flushes; the caller commits. The audit log holds the ids of every row moved.
    """
    from registry.core.auth import Account

    if survivor.id == merged.id:
        raise Invalid("a record cannot be merged into itself", errors={"merged": ["is the surviving record"]})
    if is_postgres():  # serialise with anything else that locks these clinicians (approvals, other merges)
        db.session.execute(sa.select(Clinician.id).where(Clinician.id.in_((survivor.id, merged.id)))
                           .order_by(Clinician.id).with_for_update())
    unmet = merge_unmet(survivor, merged)
    if unmet:
        raise Conflict(
            f"cannot merge {merged.registry_number} into {survivor.registry_number}: "
            + "; ".join(u["detail"] for u in unmet), unmet=unmet)
    folded: dict[str, list[Any]] = {}
    for _receiver, notes in clinician_merging.send(survivor, survivor=survivor, merged=merged):
        folded.update(notes or {})
    db.session.flush()
    connection = db.session.connection()
    moved: dict[str, list[Any]] = {}
    for table, column in _clinician_columns():
        key = next(iter(table.primary_key.columns))
        ids = list(connection.execute(sa.select(key).where(column == merged.id).order_by(key)).scalars())
        if ids:
            connection.execute(sa.update(table).where(column == merged.id).values({column.name: survivor.id}))
            moved.setdefault(table.name, []).extend(ids)
    theirs = db.session.scalar(sa.select(Account).where(Account.clinician_id == merged.id))
    if theirs is not None and theirs.active:  # merge_unmet made sure the survivor has none
        theirs.clinician_id = survivor.id
        moved["accounts"] = [theirs.id]
    # Records merged into this one earlier now lead to the survivor directly.
    earlier = list(db.session.scalars(sa.select(ClinicianMerge).where(ClinicianMerge.survivor_id == merged.id)))
    for row in earlier:
        row.survivor_id = survivor.id
    record = ClinicianMerge(merged_id=merged.id, survivor_id=survivor.id, reason=reason,
                            account_id=getattr(account, "id", None),
                            organisation_id=getattr(account, "organisation_id", None),
                            moved={name: len(ids) for name, ids in sorted(moved.items())})
    db.session.add(record)
    db.session.flush()
    db.session.expire_all()  # the moved rows were updated past the ORM
    audit.record("clinician.merge", "clinician", survivor.registry_number, {
        "merged": merged.registry_number, "reason": reason, "moved": moved, "folded": folded,
        "also_leading_here": sorted(r.merged.registry_number for r in earlier),
    })
    audit.record("clinician.merged_into", "clinician", merged.registry_number,
                 {"survivor": survivor.registry_number, "reason": reason})
    return record


def merges_into(clinician_id: int) -> list[ClinicianMerge]:
    """The records merged into this one, oldest first."""
    return list(db.session.scalars(sa.select(ClinicianMerge).where(ClinicianMerge.survivor_id == clinician_id)
                                   .order_by(ClinicianMerge.merged_at, ClinicianMerge.merged_id)))


def get_clinician(registry_number: str) -> Clinician:
    canonical = numbers.normalise(registry_number)
    if canonical is None:
        raise NotFound(
            f"{_shown(registry_number, quoted=True)} is not a valid registry number (wrong shape or check character)"
        )
    row = db.session.execute(
        sa.select(Clinician, ClinicianMerge.survivor_id)
        .outerjoin(ClinicianMerge, ClinicianMerge.merged_id == Clinician.id)
        .where(Clinician.registry_number == canonical)
    ).first()
    if row is None:
        raise NotFound(f"no clinician {canonical}")
    # A merged record's number leads to the record it was merged into.
    return row[0] if row[1] is None else db.session.get(Clinician, row[1])


_C, _M = Clinician.__table__, ClinicianMerge.__table__
_NOT_MERGED = ~sa.exists().where(_M.c.merged_id == Clinician.id)
_SURVIVOR = _C.alias("survivor")
# The clinician a number leads to: itself, or the record it was merged into.
_CLINICIAN_REF = (
    sa.select(_SURVIVOR.c.id, _SURVIVOR.c.registry_number,
              (_SURVIVOR.c.given_names + " " + _SURVIVOR.c.family_name).label("full_name"))
    .select_from(_C.outerjoin(_M, _M.c.merged_id == _C.c.id)
                 .join(_SURVIVOR, _SURVIVOR.c.id == sa.func.coalesce(_M.c.survivor_id, _C.c.id)))
    .where(_C.c.registry_number == sa.bindparam("number"))
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

    stmt = sa.select(Clinician).where(_NOT_MERGED)
    if q:
        canonical = numbers.normalise(q)
        if canonical:
            # a merged record's number finds the record it was merged into
            found = fetch_first(_CLINICIAN_REF, {"number": canonical})
            stmt = stmt.where(Clinician.id == (found.id if found else None))
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
