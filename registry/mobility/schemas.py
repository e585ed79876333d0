"""Input and output shapes for exchange programmes, secondments and mobility notices."""

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from registry.core.schemas import ISCO_CODE, ORG_CODE, STATE_CODE, Day, PageArgs, StrictSchema, Text, code_field
from registry.mobility.models import ProgrammeStatus, SecondmentAction, SecondmentStatus

_PLACES = validate.Range(min=0, max=100_000)


def _host_capacities(**kwargs):
    return fields.Dict(keys=code_field(2, STATE_CODE, "PT"), values=fields.Integer(validate=_PLACES),
                       validate=validate.Length(max=40),
                       metadata={"description": "places per host state, e.g. {\"PT\": 3}; a state not named is "
                                                "limited by the total only"}, **kwargs)


class ProgrammeIn(StrictSchema):
    code = code_field(0, ORG_CODE, "NURSE-EXCHANGE-2026", required=True)
    name = Text(max_length=200, required=True)
    coordinating_state = code_field(2, STATE_CODE, "IE", required=True)
    states = fields.List(code_field(2, STATE_CODE, "PT"), required=True, validate=validate.Length(min=2, max=40))
    professions = fields.List(code_field(4, ISCO_CODE, "2221"), required=True, validate=validate.Length(min=1, max=50))
    starts_on = Day(required=True)
    ends_on = Day(required=True)
    capacity = fields.Integer(required=True, validate=_PLACES)
    capacity_by_host = _host_capacities(load_default=dict)
    required_courses = fields.List(Text(max_length=40), load_default=list, validate=validate.Length(max=30))
    recognition_required = fields.Boolean(load_default=True)
    status = fields.Enum(ProgrammeStatus, by_value=True, load_default=ProgrammeStatus.PLANNED)

    @validates_schema
    def _dates(self, data, **kwargs):
        if data.get("starts_on") and data.get("ends_on") and data["ends_on"] < data["starts_on"]:
            raise ValidationError("is before starts_on", "ends_on")


class ProgrammePatch(StrictSchema):
    name = Text(max_length=200)
    status = fields.Enum(ProgrammeStatus, by_value=True)
    capacity = fields.Integer(validate=_PLACES)
    capacity_by_host = _host_capacities()

    @validates_schema
    def _something(self, data, **kwargs):
        if not data:
            raise ValidationError("name at least one of: name, status, capacity, capacity_by_host")


class ProgrammeOut(Schema):
    code = fields.String()
    name = fields.String()
    coordinating_state = fields.String(attribute="coordinating_state_code")
    states = fields.List(fields.String(), attribute="state_codes")
    professions = fields.List(fields.String(), attribute="profession_codes")
    starts_on = fields.Date()
    ends_on = fields.Date()
    capacity = fields.Integer()
    capacity_by_host = fields.Dict(keys=fields.String(), values=fields.Integer())
    required_courses = fields.List(fields.String())
    recognition_required = fields.Boolean()
    status = fields.Enum(ProgrammeStatus, by_value=True)


class SecondmentIn(StrictSchema):
    clinician = Text(max_length=20, required=True, metadata={"description": "registry number"})
    profession = code_field(4, ISCO_CODE, "2221", required=True)
    host_state = code_field(2, STATE_CODE, "PT", required=True)
    host_institution = Text(max_length=200, required=True)
    supervisor = Text(max_length=200, required=True)
    programme = code_field(0, ORG_CODE, "NURSE-EXCHANGE-2026", load_default=None, allow_none=True)
    starts_on = Day(required=True)
    ends_on = Day(required=True)

    @validates_schema
    def _dates(self, data, **kwargs):
        if data.get("starts_on") and data.get("ends_on") and data["ends_on"] < data["starts_on"]:
            raise ValidationError("is before starts_on", "ends_on")


class ApprovalIn(StrictSchema):
    decided_on = Day(load_default=None, metadata={"description": "default today"})


class CancellationIn(StrictSchema):
    reason = Text(max_length=2000, multiline=True, required=True)


class TerminationIn(StrictSchema):
    reason = Text(max_length=2000, multiline=True, required=True)
    effective_on = Day(load_default=None, metadata={"description": "default today"})


class SecondmentEventOut(Schema):
    id = fields.Integer()
    action = fields.Enum(SecondmentAction, by_value=True)
    decided_on = fields.Date()
    effective_on = fields.Date()
    reason = fields.String(allow_none=True)
    caused_by_licence_event = fields.Integer(attribute="cause_licence_event_id", allow_none=True)
    caused_by_recognition_event = fields.Integer(attribute="cause_recognition_event_id", allow_none=True)


class SecondmentOut(Schema):
    id = fields.Integer()
    clinician = fields.Function(lambda s: s.clinician.registry_number)
    name = fields.Function(lambda s: s.clinician.full_name)
    profession = fields.String(attribute="profession_code")
    home_state = fields.String(attribute="home_state_code")
    host_state = fields.String(attribute="host_state_code")
    host_institution = fields.String()
    supervisor = fields.String()
    programme = fields.Function(lambda s: s.programme.code if s.programme else None)
    starts_on = fields.Date()
    ends_on = fields.Date()
    home_licence = fields.Function(lambda s: {"id": s.home_licence.id, "number": s.home_licence.number,
                                              "board": s.home_licence.board.code})
    recognition = fields.Integer(attribute="recognition_id", allow_none=True)
    status = fields.Enum(SecondmentStatus, by_value=True, metadata={"description": "after the latest decision"})
    status_on = fields.Function(lambda s: getattr(s, "status_on_day", None),
                                metadata={"description": "on the date asked (default today): active and "
                                                         "completed are read from the dates"})
    events = fields.List(fields.Nested(SecondmentEventOut))


class SecondmentQuery(PageArgs):
    status = fields.Enum(SecondmentStatus, by_value=True, metadata={"description": "the latest recorded outcome"})
    programme = code_field(0, ORG_CODE, "NURSE-EXCHANGE-2026")
    clinician = Text(max_length=20)
    direction = fields.String(load_default="any", validate=validate.OneOf(["any", "in", "out"]),
                              metadata={"description": "for a board: into its state, out of it, or both"})


class NoticeOut(Schema):
    id = fields.Integer()
    host_state = fields.String(attribute="host_state_code")
    secondment = fields.Integer(attribute="secondment_id")
    action = fields.Function(lambda n: n.event.action.value)
    effective_on = fields.Function(lambda n: n.event.effective_on.isoformat())
    message = fields.String()
    created_at = fields.DateTime()
