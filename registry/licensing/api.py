"""HTTP API for licences: issue, decide, status on a date, and the hubs' limited lookup."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from flask.views import MethodView
from flask_smorest import Blueprint

from registry.core.auth import Account, Role, current_account, require_role
from registry.core.db import db
from registry.core.errors import Forbidden, Invalid, NotFound
from registry.core.schemas import OnDateArgs
from registry.licensing import alerts, services
from registry.licensing.models import Licence
from registry.licensing.schemas import (
    AlertOut,
    AlertPage,
    AlertQuery,
    LicenceEventIn,
    LicenceEventOut,
    LicenceIn,
    LicenceOut,
    LicenceQuery,
    LicenceStateOut,
    LookupOut,
    LookupQuery,
)
from registry.people import services as people
from registry.people.api import can_read_full_record

blp = Blueprint("licensing", __name__, url_prefix="/api/v1", description="Licences and licence decisions")


def require_board_of(licence: Licence) -> Account:
    """Only an officer of the board that issued the licence acts on it."""
    account = require_role(Role.BOARD_OFFICER)
    if account.organisation_id != licence.board_id:
        raise Forbidden(f"only {licence.board.code} may act on licence {licence.number}")
    return account


def require_reader_of(licence: Licence) -> Account:
    account = current_account()
    if not can_read_full_record(account, licence.clinician):
        raise Forbidden("you may not read this licence")
    return account


def _state_dict(state: services.LicenceState) -> dict:
    return {
        "status": state.status,
        "restricted": state.restricted,
        "restrictions": state.restrictions,
        "valid_from": state.valid_from,
        "valid_until": state.valid_until,
    }


def dump_licence(licence: Licence, day: date) -> Licence:
    """Attach the state on `day` so LicenceOut can dump it."""
    licence.state = {"on": day, **_state_dict(services.state_on(licence, day))}  # type: ignore[attr-defined]
    return licence


@blp.route("/licences")
class Licences(MethodView):
    @blp.arguments(LicenceQuery(), location="query")
    @blp.response(200, LicenceOut(many=True))
    def get(self, args):
        """Find licences by number, optionally at one board (boards and secretariat)."""
        require_role(Role.BOARD_OFFICER, Role.SECRETARIAT_ADMIN)
        stmt = sa.select(Licence).where(Licence.number == args["number"])
        if args.get("board"):
            stmt = stmt.where(Licence.board_id == people.get_organisation(args["board"]).id)
        return [dump_licence(lic, date.today()) for lic in db.session.scalars(stmt.order_by(Licence.id))]

    @blp.arguments(LicenceIn())
    @blp.response(201, LicenceOut)
    def post(self, data):
        """Issue a licence at the caller's own board."""
        account = require_role(Role.BOARD_OFFICER)
        try:
            clinician = people.get_clinician(data["clinician"])
        except NotFound as exc:
            raise Invalid("unknown clinician", errors={"clinician": [exc.detail]}) from exc
        licence = services.issue_licence(
            board=account.organisation,
            clinician=clinician,
            profession_code=data["profession"],
            number=data["number"],
            decided_on=data["decided_on"],
            valid_from=data["valid_from"] or data["decided_on"],
            valid_until=data["valid_until"],
            actor=account,
            today=date.today(),
        )
        db.session.commit()
        return dump_licence(licence, date.today())


@blp.route("/licences/<id:licence_id>")
class LicenceItem(MethodView):
    @blp.arguments(OnDateArgs(), location="query")
    @blp.response(200, LicenceOut)
    def get(self, args, licence_id):
        """A licence, its status on a date (default today) and its whole history."""
        current_account()  # before the lookup: an anonymous caller learns not even which ids exist
        licence = services.find_licence(licence_id)
        require_reader_of(licence)
        return dump_licence(licence, args.get("on") or date.today())


@blp.route("/licences/<id:licence_id>/status")
class LicenceStatusView(MethodView):
    @blp.arguments(OnDateArgs(), location="query")
    @blp.response(200, LicenceStateOut)
    def get(self, args, licence_id):
        """The licence's status on any date, past or future."""
        current_account()  # before the lookup: an anonymous caller learns not even which ids exist
        licence = services.find_licence(licence_id)
        require_reader_of(licence)
        day = args.get("on") or date.today()
        return {"on": day, **_state_dict(services.state_on(licence, day))}


@blp.route("/licences/<id:licence_id>/events")
class LicenceEvents(MethodView):
    @blp.response(200, LicenceEventOut(many=True))
    def get(self, licence_id):
        current_account()  # before the lookup: an anonymous caller learns not even which ids exist
        licence = services.find_licence(licence_id)
        require_reader_of(licence)
        return licence.events

    @blp.arguments(LicenceEventIn())
    @blp.response(201, LicenceEventOut)
    def post(self, data, licence_id):
        """Record a decision: renew, restrict, suspend, reinstate, revoke or surrender (the issuing board)."""
        require_role(Role.BOARD_OFFICER)  # before the lookup: only boards learn which ids exist
        licence = services.find_licence(licence_id)
        account = require_board_of(licence)
        event = services.record_event(licence, actor=account, today=date.today(), **data)
        db.session.commit()
        return event


@blp.route("/lookup")
class Lookup(MethodView):
    @blp.arguments(LookupQuery(), location="query")
    @blp.response(200, LookupOut)
    def get(self, args):
        """Name and professions only, by registry number or licence number (hubs, boards, secretariat)."""
        require_role(Role.HUB_OFFICER, Role.BOARD_OFFICER, Role.SECRETARIAT_ADMIN)
        if args.get("registry_number"):
            clinician = people.get_clinician(args["registry_number"])
        elif args.get("licence_number"):
            stmt = sa.select(Licence).where(Licence.number == args["licence_number"])
            if args.get("board"):
                stmt = stmt.where(Licence.board_id == people.get_organisation(args["board"]).id)
            found = db.session.scalars(stmt.limit(2)).all()
            if not found:
                raise NotFound(f"no licence numbered {args['licence_number']}")
            if len({lic.clinician_id for lic in found}) > 1:
                raise Invalid("several boards use this licence number; name the board",
                              errors={"board": ["required for this licence number"]})
            clinician = found[0].clinician
        else:
            raise Invalid("give a registry number or a licence number",
                          errors={"registry_number": ["or licence_number is required"]})
        licences = services.licences_of(clinician)
        return {
            "registry_number": clinician.registry_number,
            "name": clinician.full_name,
            "professions": [
                {"code": code, "title": title}
                for code, title in sorted({(lic.profession_code, lic.profession.title) for lic in licences})
            ],
        }


@blp.route("/alerts")
class Alerts(MethodView):
    @blp.arguments(AlertQuery(), location="query")
    @blp.response(200, AlertPage)
    def get(self, args):
        """Alerts, newest first, a page at a time (`page`, `page_size`, and `total` in the answer). A board
        officer sees the alerts sent to its member state; `unacknowledged=true` keeps those its state has not
        acknowledged.

        The secretariat sees every alert. With `state=XX` only those sent to member state XX, and
        `unacknowledged=true` then keeps those XX has not acknowledged; without `state`, `unacknowledged=true`
        keeps the alerts that at least one receiving state has not acknowledged. Only the secretariat names a
        state (422 for a board, which always sees its own); an unknown state is a 422.
        """
        account = require_role(Role.BOARD_OFFICER, Role.SECRETARIAT_ADMIN)
        state = args.get("state")
        if account.role is Role.BOARD_OFFICER:
            if state is not None:
                raise Invalid("a board sees the alerts sent to its own member state",
                              errors={"state": ["only the secretariat names a state"]})
            state = account.organisation.member_state_code
        elif state is not None and not people.state_exists(state):
            raise Invalid("unknown member state", errors={"state": [f"no member state {state}"]})
        items, total = alerts.alerts_page(state, unacknowledged=args["unacknowledged"], page=args["page"],
                                          page_size=args["page_size"])
        return {"items": items, "page": args["page"], "page_size": args["page_size"], "total": total}


@blp.route("/alerts/<id:alert_id>")
class AlertItem(MethodView):
    @blp.response(200, AlertOut)
    def get(self, alert_id):
        """One alert (boards, secretariat, the clinician it concerns)."""
        account = current_account()  # before the lookup: an anonymous caller learns not even which ids exist
        alert = alerts.get_alert(alert_id)
        if not can_read_full_record(account, alert.clinician):
            raise Forbidden("you may not read this alert")
        return alert


@blp.route("/alerts/<id:alert_id>/acknowledgement")
class AlertAcknowledgement(MethodView):
    @blp.response(200, AlertOut)
    def post(self, alert_id):
        """Acknowledge an alert for the caller's member state (a board of a receiving state)."""
        account = require_role(Role.BOARD_OFFICER)
        alert = alerts.get_alert(alert_id)
        alerts.acknowledge(alert, account)
        db.session.commit()
        return alert


@blp.route("/clinicians/<registry_number>/alerts")
class ClinicianAlerts(MethodView):
    @blp.response(200, AlertOut(many=True))
    def get(self, registry_number):
        """Every alert about a clinician (the clinician, boards, secretariat)."""
        account = current_account()
        clinician = people.get_clinician(registry_number)
        if not can_read_full_record(account, clinician):
            raise Forbidden("you may not read this clinician's alerts")
        return alerts.alerts_about(clinician.id)
