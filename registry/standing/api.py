"""A clinician's standing: everything a board needs to decide, as on any date. Each read is logged."""

from __future__ import annotations

from datetime import date

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields

from certificates.schemas import CertificateOut
from curricula.schemas import CompletionOut
from registry.core import audit
from registry.core.auth import current_caller
from registry.core.errors import Forbidden
from registry.core.schemas import OnDateArgs
from registry.licensing.schemas import AlertOut, LicenceOut
from registry.mobility.schemas import SecondmentOut
from registry.people.api import can_read_full_record
from registry.people.schemas import ClinicianOut
from registry.recognition.schemas import RecognitionOut
from registry.standing import read

blp = Blueprint("standing", __name__, url_prefix="/api/v1", description="A clinician's standing")


class StandingOut(Schema):
    on = fields.Date()
    clinician = fields.Nested(ClinicianOut)
    licences = fields.List(fields.Nested(LicenceOut))
    recognitions = fields.List(fields.Nested(RecognitionOut), metadata={"description": "with status_on the date"})
    alerts = fields.List(fields.Nested(AlertOut), metadata={"description": "every alert about the clinician"})
    open_alerts = fields.List(fields.Integer(), metadata={"description": "ids of the alerts open on the date"})
    completions = fields.List(fields.Nested(CompletionOut),
                              metadata={"description": "course completions up to the date, each with its status"})
    certificates = fields.List(fields.Nested(CertificateOut), metadata={"description": "certificates and their status"})
    secondments = fields.List(fields.Nested(SecondmentOut), metadata={"description": "with status_on the date"})


@blp.route("/clinicians/<registry_number>/standing")
class Standing(MethodView):
    @blp.arguments(OnDateArgs(), location="query")
    @blp.response(200, StandingOut)
    def get(self, args, registry_number):
        """Every licence with its status on a date (default today) and its history (boards, secretariat, self)."""
        account = current_caller()
        day = args.get("on") or date.today()
        document = read.standing(registry_number, day, date.today())
        if not can_read_full_record(account, document["clinician"]):
            raise Forbidden("you may not read this clinician's standing")
        audit.log_access(document["clinician"].id, "standing")  # the only write; commits, keeps what was read
        return document
