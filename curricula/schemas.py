"""Input and output shapes for courses, accreditations, offerings, enrolments, completions and imports."""

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from curricula.models import CompletionStatus, Outcome
from registry.core.schemas import (
    ISCO_CODE,
    LANG_CODE,
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

COURSE_CODE = r"^[A-Z0-9][A-Z0-9-]{1,39}$"
MAX_ID = 2**31 - 1


def course_code(**kwargs):
    return code_field(0, COURSE_CODE, "TRAUMA-ITLS", **kwargs)


class LanguageTag(fields.String):
    def __init__(self, **kwargs):
        kwargs["metadata"] = {"example": "fr", **kwargs.get("metadata", {})}
        super().__init__(validate=[validate.Length(max=35), Pattern(LANG_CODE, error="must be a BCP 47 tag")],
                         **kwargs)


def _two_decimals(value: float) -> None:
    if round(value, 2) != value:
        raise ValidationError("has more than two decimals")


class OwnerIn(StrictSchema):
    hub = code_field(0, ORG_CODE, "IE-DTH", load_default=None)
    member_state = code_field(2, STATE_CODE, "IE", load_default=None)

    @validates_schema
    def _one(self, data, **kwargs):
        if bool(data.get("hub")) == bool(data.get("member_state")):
            raise ValidationError("name either a hub or a member_state", "_schema")


def _course_fields(required: bool) -> dict:
    """The course fields: all required on creation, all optional in a change."""
    optional = {} if required else {"required": False}
    return {
        "titles": fields.Dict(
            keys=LanguageTag(), values=Text(max_length=300), validate=validate.Length(min=1, max=30),
            required=required, metadata={"example": {"en": "Joint trauma life support", "fr": "Traumatologie"}},
        ),
        "fallback_language": LanguageTag(required=required),
        "description": Text(max_length=5000, multiline=True, allow_none=True,
                            **({"load_default": None} if required else optional)),
        "competencies": fields.List(Text(max_length=300), validate=validate.Length(max=50),
                                    **({"load_default": list} if required else optional)),
        "cpd_hours": fields.Float(required=required, validate=[validate.Range(min=0, max=1000), _two_decimals]),
        "validity_months": fields.Integer(
            allow_none=True, validate=validate.Range(min=1, max=600),
            metadata={"description": "none: completions never expire"},
            **({"load_default": None} if required else optional),
        ),
        "professions": fields.List(code_field(4, ISCO_CODE, "2221"), validate=validate.Length(min=1, max=30),
                                   required=required),
        "owners": fields.List(fields.Nested(OwnerIn), validate=validate.Length(min=1, max=30), required=required,
                              metadata={"description": "hubs or member states; a joint course has several"}),
    }


def _fallback_has_title(data: dict) -> None:
    if data.get("titles") and data.get("fallback_language") and data["fallback_language"] not in data["titles"]:
        raise ValidationError("has no title in titles", "fallback_language")


class CourseIn(StrictSchema.from_dict({"code": course_code(required=True), **_course_fields(True)})):
    @validates_schema
    def _fallback(self, data, **kwargs):
        _fallback_has_title(data)


class CoursePatch(StrictSchema.from_dict(_course_fields(False))):
    @validates_schema
    def _fallback(self, data, **kwargs):
        _fallback_has_title(data)


class OwnerOut(Schema):
    hub = fields.Function(lambda o: o.organisation.code if o.organisation else None, allow_none=True)
    member_state = fields.String(attribute="member_state_code", allow_none=True)


class CourseOut(Schema):
    code = fields.String()
    title = fields.Function(lambda c: c.title_in(getattr(c, "requested_language", None)),
                            metadata={"description": "in the requested language (?lang=), else the fallback"})
    titles = fields.Dict(keys=fields.String(), values=fields.String())
    fallback_language = fields.String()
    description = fields.String(allow_none=True)
    competencies = fields.List(fields.String())
    cpd_hours = fields.Float()
    validity_months = fields.Integer(allow_none=True)
    professions = fields.Function(lambda c: [p.code for p in c.professions])
    owners = fields.List(fields.Nested(OwnerOut))


class CourseQuery(StrictSchema):
    lang = LanguageTag(metadata={"description": "language of `title`"})
    profession = code_field(4, ISCO_CODE, "2221")


class LangArgs(StrictSchema):
    lang = LanguageTag()


class AccreditationIn(StrictSchema):
    hub = code_field(0, ORG_CODE, "IE-DTH", required=True)
    granted_by = code_field(2, STATE_CODE, "IE", required=True)  # the member state that grants it
    valid_from = Day(required=True)
    valid_until = Day(load_default=None, allow_none=True, metadata={"description": "none: open-ended"})

    @validates_schema
    def _dates(self, data, **kwargs):
        if data.get("valid_until") and data.get("valid_from") and data["valid_until"] < data["valid_from"]:
            raise ValidationError("is before valid_from", "valid_until")


class AccreditationPatch(StrictSchema):
    valid_until = Day(required=True, allow_none=True)


class AccreditationOut(Schema):
    id = fields.Integer()
    course = fields.Function(lambda a: a.course.code)
    hub = fields.Function(lambda a: a.hub.code)
    granted_by = fields.String(attribute="granted_by_state_code")
    valid_from = fields.Date()
    valid_until = fields.Date(allow_none=True)
    recorded_at = fields.DateTime()


class OfferingIn(StrictSchema):
    course = course_code(required=True)
    starts_on = Day(required=True)
    ends_on = Day(required=True)
    language = LanguageTag(required=True)
    place = Text(max_length=200, required=True)
    capacity = fields.Integer(required=True, validate=validate.Range(min=1, max=10_000))

    @validates_schema
    def _dates(self, data, **kwargs):
        if data.get("starts_on") and data.get("ends_on") and data["ends_on"] < data["starts_on"]:
            raise ValidationError("is before starts_on", "ends_on")


class OfferingOut(Schema):
    id = fields.Integer()
    course = fields.Function(lambda o: o.course.code)
    hub = fields.Function(lambda o: o.hub.code)
    starts_on = fields.Date()
    ends_on = fields.Date()
    language = fields.String()
    place = fields.String()
    capacity = fields.Integer()
    enrolled = fields.Integer()
    seats_left = fields.Function(lambda o: max(o.capacity - o.enrolled, 0))


class EnrolmentIn(StrictSchema):
    clinician = Text(max_length=20, required=True, metadata={"description": "registry number"})


class EnrolmentOut(Schema):
    id = fields.Integer()
    offering = fields.Integer(attribute="offering_id")
    clinician = fields.Function(lambda e: e.clinician.registry_number)
    name = fields.Function(lambda e: e.clinician.full_name)
    enrolled_at = fields.DateTime()


class CompletionIn(StrictSchema):
    reference = Text(max_length=64, required=True, metadata={"description": "the hub's own reference, unique"})
    clinician = Text(max_length=20, load_default=None, metadata={"description": "registry number"})
    licence_number = Text(max_length=40, load_default=None, metadata={"description": "instead of clinician"})
    board = code_field(0, ORG_CODE, "IE-HPB", load_default=None)  # with licence_number
    course = course_code(required=True)
    offering = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=1, max=MAX_ID))
    completed_on = Day(required=True)
    outcome = fields.Enum(Outcome, by_value=True, required=True)
    score = fields.Float(load_default=None, allow_none=True, validate=validate.Range(min=0, max=100))
    credits = fields.Float(load_default=None, allow_none=True,
                           validate=[validate.Range(min=0, max=1000), _two_decimals],
                           metadata={"description": "default: the course's CPD hours if passed, 0 if failed"})

    @validates_schema
    def _who(self, data, **kwargs):
        if data.get("clinician"):
            return
        if not data.get("licence_number") and not data.get("board"):
            raise ValidationError("give the registry number, or licence_number and board", "clinician")
        if not data.get("licence_number"):
            raise ValidationError("is required with board", "licence_number")
        if not data.get("board"):
            raise ValidationError("is required with licence_number", "board")


class CompletionWithdrawalIn(StrictSchema):
    reason = Text(max_length=2000, multiline=True, required=True)


class CompletionOut(Schema):
    id = fields.Integer()
    reference = fields.String()
    hub = fields.Function(lambda c: c.hub.code)
    clinician = fields.Function(lambda c: c.clinician.registry_number)
    name = fields.Function(lambda c: c.clinician.full_name)
    course = fields.Function(lambda c: c.course.code)
    course_title = fields.Function(lambda c: c.course.title_in(getattr(c, "requested_language", None)))
    offering = fields.Integer(attribute="offering_id", allow_none=True)
    completed_on = fields.Date()
    outcome = fields.Enum(Outcome, by_value=True)
    score = fields.Float(allow_none=True)
    credits = fields.Float()
    valid_until = fields.Date(allow_none=True, metadata={"description": "none: does not expire"})
    status = fields.Enum(CompletionStatus, by_value=True, metadata={"description": "on the requested date"})
    recorded_at = fields.DateTime()
    withdrawn_at = fields.DateTime(allow_none=True)
    withdrawal_reason = fields.String(allow_none=True)


CompletionPage = page_schema(CompletionOut, "CompletionPage")


class HubCompletionQuery(PageArgs):
    course = course_code()
    on = Day(load_default=None, metadata={"description": "the date the status is for (default today)"})


class ClinicianCompletionQuery(StrictSchema):
    on = Day(load_default=None, metadata={"description": "the date to evaluate (default today)"})
    status = fields.Enum(CompletionStatus, by_value=True, load_default=None)
    lang = LanguageTag()


class CpdQuery(StrictSchema):
    start = Day(data_key="from", load_default=None, metadata={"description": "default: 12 months before `to`"})
    end = Day(data_key="to", load_default=None, metadata={"description": "default: today"})


class CpdOut(Schema):
    clinician = fields.String()
    start = fields.Date(data_key="from")
    end = fields.Date(data_key="to")
    credits = fields.Float()
    completions = fields.List(fields.Nested(CompletionOut))


class ImportArgs(StrictSchema):
    dry_run = fields.Boolean(load_default=False)
    format = fields.String(load_default=None, validate=validate.OneOf(["csv", "json"]),
                           metadata={"description": "default: from the content type or the file name"})


class RowErrorOut(Schema):
    row = fields.Integer()
    field = fields.String()
    message = fields.String()


class ImportReportOut(Schema):
    hub = fields.String()
    format = fields.String()
    dry_run = fields.Boolean()
    committed = fields.Boolean()
    file_sha256 = fields.String()
    bytes = fields.Integer()
    rows = fields.Integer()
    new = fields.Integer(metadata={"description": "created, or that a commit would create"})
    existing = fields.Integer(metadata={"description": "already recorded with the same data"})
    created = fields.Integer()
    error_count = fields.Integer()
    errors_truncated = fields.Boolean()
    summary = fields.String()
    errors = fields.List(fields.Nested(RowErrorOut))
