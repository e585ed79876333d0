"""Input and output shapes for licences and licence events."""

from marshmallow import Schema, fields, validate

from registry.core.schemas import (
    ISCO_CODE,
    ORG_CODE,
    STATE_CODE,
    Day,
    PageArgs,
    Pattern,
    StrictSchema,
    Text,
    code_field,
    page_schema,
)
from registry.licensing.models import LicenceAction, LicenceStatus


class LicenceIn(StrictSchema):
    clinician = Text(max_length=20, required=True, metadata={"description": "registry number"})
    profession = code_field(4, ISCO_CODE, "2221", required=True)
    number = fields.String(
        required=True,
        validate=[validate.Length(min=1, max=40),
                  Pattern(r"^[A-Za-z0-9][A-Za-z0-9/.-]*$", error="letters, digits, '/', '.' and '-' only")],
    )
    decided_on = Day(required=True)
    valid_from = Day(load_default=None, metadata={"description": "default: decided_on"})
    valid_until = Day(load_default=None, allow_none=True, metadata={"description": "none: no expiry"})


_EVENT_ACTIONS = [a.value for a in LicenceAction if a is not LicenceAction.ISSUE]


class LicenceEventIn(StrictSchema):
    action = fields.Enum(
        LicenceAction, by_value=True, required=True,
        validate=validate.OneOf([LicenceAction(a) for a in _EVENT_ACTIONS],
                                error=f"must be one of: {', '.join(_EVENT_ACTIONS)}"),
    )
    decided_on = Day(required=True)
    effective_on = Day(load_default=None, metadata={"description": "default: decided_on"})
    reason = Text(max_length=2000, multiline=True, load_default=None)
    scope = Text(max_length=2000, multiline=True, load_default=None,
                 metadata={"description": "what a restriction covers"})
    valid_until = Day(load_default=None, metadata={"description": "new end of validity (renewals)"})


class LicenceEventOut(Schema):
    id = fields.Integer()
    action = fields.Enum(LicenceAction, by_value=True)
    decided_on = fields.Date()
    effective_on = fields.Date()
    valid_until = fields.Date(allow_none=True)
    scope = fields.String(allow_none=True)
    reason = fields.String(allow_none=True)
    recorded_at = fields.DateTime()


class LicenceStateOut(Schema):
    on = fields.Date()
    status = fields.Enum(LicenceStatus, by_value=True)
    restricted = fields.Boolean()
    restrictions = fields.List(fields.String())
    valid_from = fields.Date(allow_none=True)
    valid_until = fields.Date(allow_none=True)


class LicenceOut(Schema):
    id = fields.Integer()
    number = fields.String()
    board = fields.Function(lambda lic: lic.board.code)
    member_state = fields.Function(lambda lic: lic.board.member_state_code)
    clinician = fields.Function(lambda lic: lic.clinician.registry_number)
    profession = fields.String(attribute="profession_code")
    profession_title = fields.Function(lambda lic: lic.profession.title)
    state = fields.Nested(LicenceStateOut, metadata={"description": "status on the requested date (default today)"})
    events = fields.List(fields.Nested(LicenceEventOut))


class LicenceQuery(StrictSchema):
    number = Text(max_length=40, required=True)
    board = code_field(0, ORG_CODE, "PT-OM")


class LookupQuery(StrictSchema):
    registry_number = Text(max_length=20)
    licence_number = Text(max_length=40)
    board = code_field(0, ORG_CODE, "PT-OM")


class LookupOut(Schema):
    registry_number = fields.String()
    name = fields.String()
    professions = fields.List(fields.Dict())


class AlertRecipientOut(Schema):
    state = fields.String(attribute="state_code")
    acknowledged_at = fields.DateTime(allow_none=True)


class AlertOut(Schema):
    """Identity, profession, deciding board, scope and period: no reasons, no disciplinary detail."""

    id = fields.Integer()
    clinician = fields.Function(lambda a: a.clinician.registry_number)
    name = fields.Function(lambda a: a.clinician.full_name)
    date_of_birth = fields.Function(lambda a: a.clinician.date_of_birth.isoformat())
    profession = fields.String(attribute="profession_code")
    deciding_board = fields.Function(lambda a: a.board.code)
    origin_state = fields.String(attribute="origin_state_code")
    measure = fields.Function(lambda a: a.measure.value)
    scope = fields.String(allow_none=True)
    decided_on = fields.Date()
    effective_from = fields.Date()
    closed_on = fields.Date(allow_none=True)
    sent_at = fields.DateTime()
    late = fields.Boolean()
    recipients = fields.List(fields.Nested(AlertRecipientOut))


AlertPage = page_schema(AlertOut, "AlertPage")


class AlertQuery(PageArgs):
    unacknowledged = fields.Boolean(load_default=False, metadata={
        "description": "only alerts not yet acknowledged: by the caller's state (boards), by `state`, or by any "
                       "receiving state (secretariat)"})
    state = code_field(2, STATE_CODE, "FR")
    state.metadata["description"] = "secretariat only: the alerts sent to this member state"
