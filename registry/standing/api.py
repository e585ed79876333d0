"""A clinician's standing: everything a board needs to decide, as on any date. Each read is logged."""

from __future__ import annotations

from datetime import date

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields

from registry.core import audit
from registry.core.auth import current_account
from registry.core.db import db
from registry.core.errors import Forbidden
from registry.core.schemas import OnDateArgs
from registry.licensing import services as licensing
from registry.licensing.api import dump_licence
from registry.licensing.schemas import LicenceOut
from registry.people import services as people
from registry.people.api import can_read_full_record
from registry.people.schemas import ClinicianOut

blp = Blueprint("standing", __name__, url_prefix="/api/v1", description="A clinician's standing")


class StandingOut(Schema):
    on = fields.Date()
    clinician = fields.Nested(ClinicianOut)
    licences = fields.List(fields.Nested(LicenceOut))


@blp.route("/clinicians/<registry_number>/standing")
class Standing(MethodView):
    @blp.arguments(OnDateArgs, location="query")
    @blp.response(200, StandingOut)
    def get(self, args, registry_number):
        """Every licence with its status on a date (default today) and its history (boards, secretariat, self)."""
        account = current_account()
        clinician = people.get_clinician(registry_number)
        if not can_read_full_record(account, clinician):
            raise Forbidden("you may not read this clinician's standing")
        day = args.get("on") or date.today()
        licences = [dump_licence(lic, day) for lic in licensing.licences_of(clinician)]
        audit.log_access(clinician.id, "standing")
        db.session.commit()
        return {"on": day, "clinician": clinician, "licences": licences}
