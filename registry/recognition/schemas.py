"""Input and output shapes for agreements, recognitions and the right-to-practise answer."""

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from registry.core.schemas import ISCO_CODE, ORG_CODE, STATE_CODE, Day, PageArgs, StrictSchema, Text, code_field
from registry.recognition.models import CEFR_LEVELS, RecognitionAction, RecognitionStatus


class AgreementIn(StrictSchema):
    code = code_field(0, ORG_CODE, "IE-PT-NURSING-2025", required=True)
    title = Text(max_length=200, required=True)
    states = fields.List(code_field(2, STATE_CODE, "PT"), required=True, validate=validate.Length(min=2, max=40))
    professions = fields.List(code_field(4, ISCO_CODE, "2221"), required=True, validate=validate.Length(min=1, max=50))
    in_force_from = Day(required=True)
    in_force_until = Day(load_default=None, allow_none=True)
    required_courses = fields.List(Text(max_length=40), load_default=list, validate=validate.Length(max=30))
    language_level = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(CEFR_LEVELS))
    adaptation_months = fields.Integer(load_default=0, validate=validate.Range(min=0, max=60))
    validity_months = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=1, max=240))
    decision_deadline_days = fields.Integer(required=True, validate=validate.Range(min=1, max=365))
    silence_is_approval = fields.Boolean(load_default=False)

    @validates_schema
    def _dates(self, data, **kwargs):
        if data.get("in_force_until") and data.get("in_force_from") and data["in_force_until"] < data["in_force_from"]:
            raise ValidationError("is before in_force_from", "in_force_until")


class AgreementEndIn(StrictSchema):
    in_force_until = Day(required=True)


class AgreementOut(Schema):
    code = fields.String()
    title = fields.String()
    kind = fields.String()
    states = fields.List(fields.String(), attribute="state_codes")
    professions = fields.List(fields.String(), attribute="profession_codes")
    in_force_from = fields.Date()
    in_force_until = fields.Date(allow_none=True)
    required_courses = fields.List(fields.String())
    language_level = fields.String(allow_none=True)
    adaptation_months = fields.Integer()
    validity_months = fields.Integer(allow_none=True)
    decision_deadline_days = fields.Integer()
    silence_is_approval = fields.Boolean()


class ApplicationIn(StrictSchema):
    licence_id = fields.Integer(required=True, validate=validate.Range(min=1, max=2**31 - 1))
    host_state = code_field(2, STATE_CODE, "PT", required=True)


class DecisionIn(StrictSchema):
    decision = fields.String(required=True, validate=validate.OneOf(["grant", "refuse"]))
    decided_on = Day(load_default=None, metadata={"description": "default today"})
    conditions = Text(max_length=2000, multiline=True, load_default=None)
    reason = Text(max_length=2000, multiline=True, load_default=None)

    @validates_schema
    def _reason(self, data, **kwargs):
        if data.get("decision") == "refuse" and not data.get("reason"):
            raise ValidationError("a refusal needs a reason", "reason")
        if data.get("decision") == "refuse" and data.get("conditions"):
            raise ValidationError("only a grant carries conditions", "conditions")


class WithdrawalIn(StrictSchema):
    reason = Text(max_length=2000, multiline=True, load_default=None)


_HOST_MEASURES = [RecognitionAction.SUSPEND, RecognitionAction.REINSTATE, RecognitionAction.REVOKE]


class MeasureIn(StrictSchema):
    action = fields.Enum(RecognitionAction, by_value=True, required=True,
                         validate=validate.OneOf(_HOST_MEASURES, error="must be suspend, reinstate or revoke"))
    reason = Text(max_length=2000, multiline=True, required=True)
    decided_on = Day(load_default=None)


class RecognitionEventOut(Schema):
    id = fields.Integer()
    action = fields.Enum(RecognitionAction, by_value=True)
    decided_on = fields.Date()
    effective_on = fields.Date()
    reason = fields.String(allow_none=True)
    caused_by_licence_event = fields.Integer(attribute="cause_licence_event_id", allow_none=True)


class RecognitionOut(Schema):
    id = fields.Integer()
    clinician = fields.Function(lambda r: r.clinician.registry_number)
    name = fields.Function(lambda r: r.clinician.full_name)
    home_licence = fields.Function(lambda r: {"id": r.licence.id, "number": r.licence.number,
                                              "board": r.licence.board.code,
                                              "state": r.licence.board.member_state_code})
    host_state = fields.String(attribute="host_state_code")
    profession = fields.String(attribute="profession_code")
    agreement = fields.Function(lambda r: r.agreement.code)
    status = fields.Enum(RecognitionStatus, by_value=True, metadata={"description": "after the latest decision"})
    status_on = fields.Function(lambda r: getattr(r, "status_on_day", None),
                                metadata={"description": "status on the requested date, if one was asked"})
    applied_on = fields.Date()
    decision_due_on = fields.Date()
    overdue = fields.Function(lambda r: getattr(r, "is_overdue", False))
    granted_on = fields.Date(allow_none=True)
    valid_until = fields.Date(allow_none=True)
    conditions = fields.String(allow_none=True)
    tacit = fields.Boolean()
    events = fields.List(fields.Nested(RecognitionEventOut))


class RecognitionQuery(PageArgs):
    status = fields.Enum(RecognitionStatus, by_value=True)
    overdue = fields.Boolean(load_default=False)
    clinician = Text(max_length=20)


class PractiseQuery(StrictSchema):
    clinician = Text(max_length=20, required=True, metadata={"description": "registry number"})
    state = code_field(2, STATE_CODE, "PT", required=True)
    profession = code_field(4, ISCO_CODE, "2221", required=True)
    on = Day(load_default=None, metadata={"description": "default today"})


class UnmetOut(Schema):
    condition = fields.String()
    detail = fields.String()
    fails_on = fields.String()


class PractiseOut(Schema):
    clinician = fields.String()
    name = fields.String()
    state = fields.String()
    profession = fields.String()
    on = fields.Date()
    may_practise = fields.Boolean()
    basis = fields.Dict(allow_none=True)
    unmet = fields.List(fields.Nested(UnmetOut))
