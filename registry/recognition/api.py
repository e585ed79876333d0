"""HTTP API for agreements, recognition applications and decisions, and the right-to-practise answer."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from flask.views import MethodView
from flask_smorest import Blueprint

from registry.core.auth import Account, Role, current_account, current_caller, require_role
from registry.core.db import db
from registry.core.errors import Forbidden, Invalid, NotFound
from registry.licensing.services import find_licence
from registry.people import services as people
from registry.people.api import can_read_full_record
from registry.recognition import services
from registry.recognition.models import Agreement, Recognition, RecognitionStatus
from registry.recognition.practise import right_to_practise
from registry.recognition.schemas import (
    AgreementEndIn,
    AgreementIn,
    AgreementOut,
    ApplicationIn,
    DecisionIn,
    MeasureIn,
    PractiseOut,
    PractiseQuery,
    RecognitionOut,
    RecognitionQuery,
    WithdrawalIn,
)

blp = Blueprint("recognition", __name__, url_prefix="/api/v1",
                description="Agreements, recognitions, right to practise")


@blp.route("/agreements")
class Agreements(MethodView):
    @blp.response(200, AgreementOut(many=True))
    def get(self):
        """Recognition agreements between member states (public)."""
        return db.session.scalars(sa.select(Agreement).order_by(Agreement.code)).all()

    @blp.arguments(AgreementIn())
    @blp.response(201, AgreementOut)
    def post(self, data):
        """Record an agreement (secretariat)."""
        require_role(Role.SECRETARIAT_ADMIN)
        agreement = services.create_agreement(**data)
        db.session.commit()
        return agreement


@blp.route("/agreements/<code>")
class AgreementItem(MethodView):
    @blp.response(200, AgreementOut)
    def get(self, code):
        return services.get_agreement(code)

    @blp.arguments(AgreementEndIn())
    @blp.response(200, AgreementOut)
    def patch(self, data, code):
        """Set the agreement's last day in force (secretariat)."""
        require_role(Role.SECRETARIAT_ADMIN)
        agreement = services.end_agreement(services.get_agreement(code), data["in_force_until"])
        db.session.commit()
        return agreement


def _annotate(recognition: Recognition, today: date) -> Recognition:
    recognition.is_overdue = (recognition.status is RecognitionStatus.PENDING  # type: ignore[attr-defined]
                              and recognition.decision_due_on < today)
    current = services.status_on(recognition, today)
    recognition.status_on_day = current.value if current else None  # type: ignore[attr-defined]
    return recognition


def is_applicant(account: Account, recognition_or_licence) -> bool:
    """The clinician themself, or an officer of the board that issued the home licence."""
    licence = getattr(recognition_or_licence, "licence", recognition_or_licence)
    if account.role is Role.CLINICIAN:
        return account.clinician_id == licence.clinician_id
    return account.role is Role.BOARD_OFFICER and account.organisation_id == licence.board_id


def decision_day(decided_on: date | None) -> date:
    """The decision's date: today by default, never in the future."""
    today = date.today()
    if decided_on is not None and decided_on > today:
        raise Invalid("a decision cannot be dated in the future", errors={"decided_on": ["is in the future"]})
    return decided_on or today


def require_host_board(recognition: Recognition) -> Account:
    """Only a board of the host state decides."""
    account = require_role(Role.BOARD_OFFICER)
    if account.organisation.member_state_code != recognition.host_state_code:
        raise Forbidden(f"only a licensing board of {recognition.host_state_code} decides this recognition")
    return account


@blp.route("/recognitions")
class Recognitions(MethodView):
    @blp.arguments(RecognitionQuery(), location="query")
    @blp.response(200, RecognitionOut(many=True))
    def get(self, args):
        """A board sees applications into its state; a clinician their own; the secretariat all."""
        account = current_account()
        stmt = sa.select(Recognition)
        if account.role is Role.BOARD_OFFICER:
            stmt = stmt.where(Recognition.host_state_code == account.organisation.member_state_code)
        elif account.role is Role.CLINICIAN:
            stmt = stmt.where(Recognition.clinician_id == account.clinician_id)
        elif account.role is not Role.SECRETARIAT_ADMIN:
            raise Forbidden("hubs do not see recognitions")
        today = date.today()
        if args.get("status"):
            stmt = stmt.where(Recognition.status == args["status"])
        if args["overdue"]:
            stmt = stmt.where(Recognition.status == RecognitionStatus.PENDING, Recognition.decision_due_on < today)
        if args.get("clinician"):
            stmt = stmt.where(Recognition.clinician_id == people.get_clinician(args["clinician"]).id)
        # Overdue and soonest deadlines first: the host board's working queue.
        stmt = stmt.order_by(Recognition.decision_due_on, Recognition.id)
        page = db.session.scalars(stmt.offset((args["page"] - 1) * args["page_size"]).limit(args["page_size"]))
        return [_annotate(r, today) for r in page]

    @blp.arguments(ApplicationIn())
    @blp.response(201, RecognitionOut)
    def post(self, data):
        """Apply for recognition of a home licence in a host state (the clinician or the home board)."""
        account = current_account()
        try:
            licence = find_licence(data["licence_id"])
        except NotFound as exc:
            raise Invalid(exc.detail, errors={"licence_id": [exc.detail]}) from exc
        if not is_applicant(account, licence):
            raise Forbidden("only the clinician or the board that issued the licence may apply")
        recognition = services.apply(licence, data["host_state"], actor=account, today=date.today())
        db.session.commit()
        return _annotate(recognition, date.today())


def _readable(recognition_id: int) -> Recognition:
    account = current_account()  # before the lookup: an anonymous caller learns not even which ids exist
    recognition = services.get_recognition(recognition_id)
    if not can_read_full_record(account, recognition.clinician):
        raise Forbidden("you may not read this recognition")
    return recognition


@blp.route("/recognitions/<id:recognition_id>")
class RecognitionItem(MethodView):
    @blp.response(200, RecognitionOut)
    def get(self, recognition_id):
        return _annotate(_readable(recognition_id), date.today())


@blp.route("/recognitions/<id:recognition_id>/decision")
class RecognitionDecision(MethodView):
    @blp.arguments(DecisionIn())
    @blp.response(200, RecognitionOut)
    def post(self, data, recognition_id):
        """Grant (optionally with conditions) or refuse (reason required): a board of the host state."""
        current_account()  # before the lookup: an anonymous caller learns not even which ids exist
        recognition = services.get_recognition(recognition_id)
        account = require_host_board(recognition)
        decided_on = decision_day(data["decided_on"])
        if data["decision"] == "grant":
            services.grant(recognition, decided_on=decided_on, conditions=data["conditions"], actor=account)
        else:
            services.refuse(recognition, decided_on=decided_on, reason=data["reason"], actor=account)
        db.session.commit()
        return _annotate(recognition, date.today())


@blp.route("/recognitions/<id:recognition_id>/withdrawal")
class RecognitionWithdrawal(MethodView):
    @blp.arguments(WithdrawalIn())
    @blp.response(200, RecognitionOut)
    def post(self, data, recognition_id):
        """Withdraw a pending application (the applicant)."""
        account = current_account()  # before the lookup: an anonymous caller learns not even which ids exist
        recognition = services.get_recognition(recognition_id)
        if not is_applicant(account, recognition):
            raise Forbidden("only the clinician or the home board may withdraw the application")
        services.withdraw(recognition, decided_on=date.today(), reason=data["reason"], actor=account)
        db.session.commit()
        return _annotate(recognition, date.today())


@blp.route("/recognitions/<id:recognition_id>/measures")
class RecognitionMeasures(MethodView):
    @blp.arguments(MeasureIn())
    @blp.response(200, RecognitionOut)
    def post(self, data, recognition_id):
        """Suspend, reinstate or revoke a recognition on the host board's own account."""
        current_account()  # before the lookup: an anonymous caller learns not even which ids exist
        recognition = services.get_recognition(recognition_id)
        account = require_host_board(recognition)
        decided_on = decision_day(data["decided_on"])
        services.host_measure(recognition, data["action"], decided_on=decided_on, reason=data["reason"],
                              actor=account)
        db.session.commit()
        return _annotate(recognition, date.today())


@blp.route("/right-to-practise")
class RightToPractise(MethodView):
    @blp.arguments(PractiseQuery(), location="query")
    @blp.response(200, PractiseOut)
    def get(self, args):
        """May this clinician practise this profession in this state on this date? Basis and unmet conditions."""
        account = current_caller()
        try:
            clinician = people.clinician_ref(args["clinician"])
        except NotFound as exc:
            raise Invalid(exc.detail, errors={"clinician": [exc.detail]}) from exc
        if not can_read_full_record(account, clinician):
            raise Forbidden("boards, the secretariat and the clinician themself may ask")
        if not people.state_exists(args["state"]):
            raise Invalid("unknown member state", errors={"state": [f"no member state {args['state']}"]})
        return right_to_practise(clinician, args["state"], args["profession"], args["on"] or date.today())
