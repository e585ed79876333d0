"""HTTP API for exchange programmes, secondments and the notices host boards receive."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from flask.views import MethodView
from flask_smorest import Blueprint
from sqlalchemy.orm import selectinload

from registry.core.auth import Account, Role, current_account, require_role
from registry.core.db import db
from registry.core.errors import Forbidden, Invalid, NotFound
from registry.mobility import services
from registry.mobility.models import ExchangeProgramme, Secondment
from registry.mobility.schemas import (
    ApprovalIn,
    CancellationIn,
    NoticeOut,
    ProgrammeIn,
    ProgrammeOut,
    ProgrammePatch,
    SecondmentIn,
    SecondmentOut,
    SecondmentQuery,
    TerminationIn,
)
from registry.people import services as people
from registry.people.api import can_read_full_record

blp = Blueprint("mobility", __name__, url_prefix="/api/v1", description="Exchange programmes and secondments")


@blp.route("/programmes")
class Programmes(MethodView):
    @blp.response(200, ProgrammeOut(many=True))
    def get(self):
        """Exchange programmes (any signed-in account)."""
        current_account()
        return db.session.scalars(sa.select(ExchangeProgramme).order_by(ExchangeProgramme.code)).all()

    @blp.arguments(ProgrammeIn())
    @blp.response(201, ProgrammeOut)
    def post(self, data):
        """Record an exchange programme (secretariat)."""
        require_role(Role.SECRETARIAT_ADMIN)
        programme = services.create_programme(**data)
        db.session.commit()
        return programme


@blp.route("/programmes/<code>")
class ProgrammeItem(MethodView):
    @blp.response(200, ProgrammeOut)
    def get(self, code):
        current_account()
        return services.get_programme(code)

    @blp.arguments(ProgrammePatch())
    @blp.response(200, ProgrammeOut)
    def patch(self, data, code):
        """Rename, open or close a programme, or change its places (secretariat)."""
        require_role(Role.SECRETARIAT_ADMIN)
        programme = services.update_programme(services.get_programme(code), **data)
        db.session.commit()
        return programme


def _state_of(account: Account) -> str | None:
    return account.organisation.member_state_code if account.organisation else None


def require_board_of_state(state_code: str, what: str) -> Account:
    account = require_role(Role.BOARD_OFFICER)
    if _state_of(account) != state_code:
        raise Forbidden(f"only a licensing board of {state_code} may {what}")
    return account


def _readable(secondment_id: int) -> Secondment:
    account = current_account()  # before the lookup: an anonymous caller learns not even which ids exist
    secondment = services.get_secondment(secondment_id)
    if not can_read_full_record(account, secondment.clinician):
        raise Forbidden("you may not read this secondment")
    return secondment


def decision_day_or_today(day: date | None, field: str) -> date:
    today = date.today()
    if day is not None and day > today:
        raise Invalid("a decision cannot be dated in the future", errors={field: ["is in the future"]})
    return day or today


@blp.route("/secondments")
class Secondments(MethodView):
    @blp.arguments(SecondmentQuery(), location="query")
    @blp.response(200, SecondmentOut(many=True))
    def get(self, args):
        """A board sees secondments into and out of its state; a clinician their own; the secretariat all."""
        account = current_account()
        stmt = sa.select(Secondment).options(selectinload(Secondment.events))
        if account.role is Role.BOARD_OFFICER:
            state = _state_of(account)
            into, out = Secondment.host_state_code == state, Secondment.home_state_code == state
            stmt = stmt.where({"in": into, "out": out}.get(args["direction"], sa.or_(into, out)))
        elif account.role is Role.CLINICIAN:
            stmt = stmt.where(Secondment.clinician_id == account.clinician_id)
        elif account.role is not Role.SECRETARIAT_ADMIN:
            raise Forbidden("hubs do not see secondments")
        if args.get("status"):
            stmt = stmt.where(Secondment.status == args["status"])
        if args.get("programme"):
            stmt = stmt.where(Secondment.programme_id == services.get_programme(args["programme"]).id)
        if args.get("clinician"):
            stmt = stmt.where(Secondment.clinician_id == people.get_clinician(args["clinician"]).id)
        stmt = stmt.order_by(Secondment.starts_on, Secondment.id)
        page = db.session.scalars(stmt.offset((args["page"] - 1) * args["page_size"]).limit(args["page_size"]))
        today = date.today()
        return [services.annotate(s, today) for s in page]

    @blp.arguments(SecondmentIn())
    @blp.response(201, SecondmentOut)
    def post(self, data):
        """Propose a secondment (the clinician themself or a board of their home state)."""
        account = current_account()
        try:
            clinician = people.get_clinician(data["clinician"])
        except NotFound as exc:
            raise Invalid(exc.detail, errors={"clinician": [exc.detail]}) from exc
        mine = account.role is Role.CLINICIAN and account.clinician_id == clinician.id
        home_board = account.role is Role.BOARD_OFFICER and _state_of(account) == clinician.home_state_code
        if not (mine or home_board):
            raise Forbidden("only the clinician or a board of their home state may propose a secondment")
        programme = None
        if data["programme"]:
            try:
                programme = services.get_programme(data["programme"])
            except NotFound as exc:
                raise Invalid(exc.detail, errors={"programme": [exc.detail]}) from exc
        secondment = services.propose(
            clinician=clinician, profession_code=data["profession"], host_state_code=data["host_state"],
            host_institution=data["host_institution"], supervisor=data["supervisor"], starts_on=data["starts_on"],
            ends_on=data["ends_on"], programme=programme, actor=account, today=date.today())
        db.session.commit()
        return services.annotate(secondment, date.today())


@blp.route("/secondments/<id:secondment_id>")
class SecondmentItem(MethodView):
    @blp.response(200, SecondmentOut)
    def get(self, secondment_id):
        return services.annotate(_readable(secondment_id), date.today())


@blp.route("/secondments/<id:secondment_id>/approval")
class SecondmentApproval(MethodView):
    @blp.arguments(ApprovalIn())
    @blp.response(200, SecondmentOut)
    def post(self, data, secondment_id):
        """Approve (a board of the host state): every condition must hold for the whole period; a refusal (422)
        lists every unmet condition with the day it fails."""
        current_account()  # before the lookup: an anonymous caller learns not even which ids exist
        secondment = services.get_secondment(secondment_id)
        account = require_board_of_state(secondment.host_state_code, "approve a secondment into it")
        services.approve(secondment, decided_on=decision_day_or_today(data["decided_on"], "decided_on"), actor=account)
        db.session.commit()
        return services.annotate(secondment, date.today())


@blp.route("/secondments/<id:secondment_id>/cancellation")
class SecondmentCancellation(MethodView):
    @blp.arguments(CancellationIn())
    @blp.response(200, SecondmentOut)
    def post(self, data, secondment_id):
        """Cancel before it starts (the clinician, a board of the home state or of the host state)."""
        account = current_account()  # before the lookup: an anonymous caller learns not even which ids exist
        secondment = services.get_secondment(secondment_id)
        allowed = (account.role is Role.CLINICIAN and account.clinician_id == secondment.clinician_id) or (
            account.role is Role.BOARD_OFFICER
            and _state_of(account) in (secondment.home_state_code, secondment.host_state_code))
        if not allowed:
            raise Forbidden("only the clinician or a board of the home or host state may cancel")
        services.cancel(secondment, decided_on=date.today(), reason=data["reason"], actor=account)
        db.session.commit()
        return services.annotate(secondment, date.today())


@blp.route("/secondments/<id:secondment_id>/termination")
class SecondmentTermination(MethodView):
    @blp.arguments(TerminationIn())
    @blp.response(200, SecondmentOut)
    def post(self, data, secondment_id):
        """End an active or suspended secondment early (a board of the host or home state)."""
        current_account()  # before the lookup: an anonymous caller learns not even which ids exist
        secondment = services.get_secondment(secondment_id)
        account = require_role(Role.BOARD_OFFICER)
        if _state_of(account) not in (secondment.home_state_code, secondment.host_state_code):
            raise Forbidden("only a board of the home or host state may terminate a secondment")
        services.terminate(secondment, decided_on=date.today(), effective_on=data["effective_on"],
                           reason=data["reason"], actor=account)
        db.session.commit()
        return services.annotate(secondment, date.today())


@blp.route("/mobility/notices")
class Notices(MethodView):
    @blp.response(200, NoticeOut(many=True))
    def get(self):
        """Notices of suspended and lifted secondments into the caller's state (boards); every notice (secretariat)."""
        account = require_role(Role.BOARD_OFFICER, Role.SECRETARIAT_ADMIN)
        return services.notices_for(_state_of(account) if account.role is Role.BOARD_OFFICER else None)
