"""A clinician's standing: everything a board needs to decide, as on any date. Each read is logged."""

from __future__ import annotations

from datetime import date

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields

from certificates import services as certificates
from certificates.schemas import CertificateOut
from curricula import services as curricula
from curricula.api import dump_completion
from curricula.schemas import CompletionOut
from registry.core import audit
from registry.core.auth import current_account
from registry.core.db import loaded_after_commit, start_writing
from registry.core.errors import Forbidden
from registry.core.schemas import OnDateArgs
from registry.licensing import alerts
from registry.licensing import services as licensing
from registry.licensing.api import dump_licence
from registry.licensing.schemas import AlertOut, LicenceOut
from registry.people import services as people
from registry.people.api import can_read_full_record
from registry.people.schemas import ClinicianOut
from registry.recognition import services as recognition
from registry.recognition.schemas import RecognitionOut

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
        recognitions = recognition.recognitions_of(clinician.id)
        for item in recognitions:
            status = recognition.status_on(item, day)
            item.status_on_day = status.value if status else None
        alerts_about = alerts.alerts_about(clinician.id)
        completions = [dump_completion(c, day) for c in curricula.completions_of(clinician, day)]
        issued = certificates.certificates_of(clinician.id)
        # The access log is the only write: end the read first (SQLite readers then never hold the write lock)
        # and keep what was read loaded, so serialising the response does not read it all again.
        with loaded_after_commit() as session:
            start_writing()
            audit.log_access(clinician.id, "standing")
            session.commit()
        return {"on": day, "clinician": clinician, "licences": licences, "recognitions": recognitions,
                "alerts": alerts_about, "open_alerts": [a.id for a in alerts_about if a.open_on(day)],
                "completions": completions, "certificates": issued}
