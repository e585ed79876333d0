"""HTTP API for member states, organisations, professions and clinicians."""

from __future__ import annotations

from datetime import date
from typing import Any

import sqlalchemy as sa
from flask.views import MethodView
from flask_smorest import Blueprint

from registry.core.auth import Account, Caller, Role, current_account, require_role
from registry.core.db import db
from registry.core.errors import Conflict, Forbidden
from registry.people import numbers, services
from registry.people.models import MemberState, Profession
from registry.people.schemas import (
    ClinicianIn,
    ClinicianOut,
    ClinicianPage,
    ClinicianPatch,
    ClinicianQuery,
    MemberStateIn,
    MemberStateOut,
    MemberStatePatch,
    MergeIn,
    MergeOut,
    OrganisationIn,
    OrganisationOut,
    OrganisationPatch,
    OrganisationQuery,
    ProfessionIn,
    ProfessionOut,
)

blp = Blueprint("people", __name__, url_prefix="/api/v1", description="Member states, organisations, clinicians")


@blp.route("/member-states")
class MemberStates(MethodView):
    @blp.response(200, MemberStateOut(many=True))
    def get(self):
        """Member states of the compact (public)."""
        return db.session.scalars(sa.select(MemberState).order_by(MemberState.code)).all()

    @blp.arguments(MemberStateIn())
    @blp.response(201, MemberStateOut)
    def post(self, data):
        """Add a member state (secretariat)."""
        require_role(Role.SECRETARIAT_ADMIN)
        state = services.create_state(**data)
        db.session.commit()
        return state


@blp.route("/member-states/<code>")
class MemberStateItem(MethodView):
    @blp.response(200, MemberStateOut)
    def get(self, code):
        return services.get_state(code.upper())

    @blp.arguments(MemberStatePatch())
    @blp.response(200, MemberStateOut)
    def patch(self, data, code):
        """Change a member state's name, languages or leaving date (secretariat)."""
        require_role(Role.SECRETARIAT_ADMIN)
        state = services.update_state(services.get_state(code.upper()), **data)
        db.session.commit()
        return state


@blp.route("/organisations")
class Organisations(MethodView):
    @blp.arguments(OrganisationQuery(), location="query")
    @blp.response(200, OrganisationOut(many=True))
    def get(self, args):
        """Boards, hubs and the secretariat (public)."""
        return services.organisations(args.get("kind"), args.get("state"))

    @blp.arguments(OrganisationIn())
    @blp.response(201, OrganisationOut)
    def post(self, data):
        """Add an organisation (secretariat)."""
        require_role(Role.SECRETARIAT_ADMIN)
        org = services.create_organisation(**data)
        db.session.commit()
        return org


@blp.route("/organisations/<code>")
class OrganisationItem(MethodView):
    @blp.response(200, OrganisationOut)
    def get(self, code):
        return services.get_organisation(code)

    @blp.arguments(OrganisationPatch())
    @blp.response(200, OrganisationOut)
    def patch(self, data, code):
        require_role(Role.SECRETARIAT_ADMIN)
        org = services.update_organisation(services.get_organisation(code), **data)
        db.session.commit()
        return org


@blp.route("/professions")
class Professions(MethodView):
    @blp.response(200, ProfessionOut(many=True))
    def get(self):
        """ISCO-08 professions the register knows (public)."""
        return db.session.scalars(sa.select(Profession).order_by(Profession.code)).all()

    @blp.arguments(ProfessionIn())
    @blp.response(201, ProfessionOut)
    def post(self, data):
        require_role(Role.SECRETARIAT_ADMIN)
        profession = services.create_profession(**data)
        db.session.commit()
        return profession


def require_board_officer_of_state(state_code: str) -> Account:
    """A board officer whose board sits in this member state."""
    account = require_role(Role.BOARD_OFFICER)
    if account.organisation is None or account.organisation.member_state_code != state_code:
        raise Forbidden(f"only a licensing board of {state_code} may do this")
    return account


def can_read_full_record(account: Account | Caller, clinician: Any) -> bool:
    """Boards and the secretariat read any clinician; a clinician reads only themself."""
    if account.role in (Role.BOARD_OFFICER, Role.SECRETARIAT_ADMIN):
        return True
    return account.role is Role.CLINICIAN and account.clinician_id == clinician.id


@blp.route("/clinicians")
class Clinicians(MethodView):
    @blp.arguments(ClinicianQuery(), location="query")
    @blp.response(200, ClinicianPage)
    def get(self, args):
        """Search clinicians by name, registry number or licence number (boards and secretariat)."""
        require_role(Role.BOARD_OFFICER, Role.SECRETARIAT_ADMIN)
        items, total = services.search_clinicians(
            q=args.get("q"),
            licence_number=args.get("licence_number"),
            home_state=args.get("home_state"),
            page=args["page"],
            page_size=args["page_size"],
        )
        return {"items": items, "page": args["page"], "page_size": args["page_size"], "total": total}

    @blp.arguments(ClinicianIn())
    @blp.response(201, ClinicianOut)
    def post(self, data):
        """Register a clinician (a board of the clinician's home state)."""
        require_board_officer_of_state(data["home_state_code"])
        clinician = services.create_clinician(today=date.today(), **data)
        db.session.commit()
        return clinician


@blp.route("/clinicians/<registry_number>")
class ClinicianItem(MethodView):
    @blp.response(200, ClinicianOut)
    def get(self, registry_number):
        """A clinician's record (boards, secretariat, the clinician)."""
        account = current_account()
        clinician = services.get_clinician(registry_number)
        if not can_read_full_record(account, clinician):
            raise Forbidden("you may not read this clinician's record")
        return clinician

    @blp.arguments(ClinicianPatch())
    @blp.response(200, ClinicianOut)
    def patch(self, data, registry_number):
        """Correct a clinician's names, languages or contact (a board of the home state)."""
        require_role(Role.BOARD_OFFICER)  # before the lookup: only boards learn which numbers exist
        clinician = services.get_clinician(registry_number)
        require_board_officer_of_state(clinician.home_state_code)
        services.update_clinician(clinician, **data)
        db.session.commit()
        return clinician


@blp.route("/clinicians/<registry_number>/merges")
class ClinicianMerges(MethodView):
    @blp.response(200, MergeOut(many=True))
    def get(self, registry_number):
        """The records merged into this one: their numbers, when, by which organisation, why (boards, secretariat,
        the clinician)."""
        account = current_account()
        clinician = services.get_clinician(registry_number)
        if not can_read_full_record(account, clinician):
            raise Forbidden("you may not read this clinician's record")
        return services.merges_into(clinician.id)

    @blp.arguments(MergeIn())
    @blp.response(201, MergeOut)
    def post(self, data, registry_number):
        """Merge a duplicate record into this one (a board of both records' home state, or the secretariat).

        Everything the duplicate holds moves here; this record keeps its identity (names, date of birth, home
        state); the duplicate's number leads here from then on. A board may merge only two records whose home
        state is its own. Refused with 409, listing every reason, when either record is merged already, both have
        an active sign-in account, or their approved secondments overlap. Audited.
        """
        account, survivor, merged = merge_parties(registry_number, data["merged"])
        record = services.merge_clinicians(survivor, merged, reason=data["reason"], account=account)
        db.session.commit()
        return record


def merge_parties(survivor_number: str, merged_number: str) -> tuple[Account, Any, Any]:
    """The caller and the two records of a merge, if the caller may merge them: a board officer of both records'
    home state, or the secretariat. The role is checked before any lookup (only they learn which numbers exist)."""
    account = require_role(Role.BOARD_OFFICER, Role.SECRETARIAT_ADMIN)
    survivor = _unmerged(survivor_number, "registry_number")
    merged = _unmerged(merged_number, "merged")
    if account.role is Role.BOARD_OFFICER:
        for clinician in (survivor, merged):
            if account.organisation.member_state_code != clinician.home_state_code:
                raise Forbidden(f"only a licensing board of {clinician.home_state_code} (the home state of "
                                f"{clinician.registry_number}) or the secretariat may merge these records")
    return account, survivor, merged


def _unmerged(registry_number: str, field: str) -> Any:
    """The record a number names itself (not the one it leads to): a merge must name both records exactly."""
    clinician = services.get_clinician(registry_number)
    if clinician.registry_number != numbers.normalise(registry_number):
        raise Conflict(f"{numbers.normalise(registry_number)} was merged into {clinician.registry_number} "
                       "already", errors={field: ["was merged already"]}, survivor=clinician.registry_number)
    return clinician
