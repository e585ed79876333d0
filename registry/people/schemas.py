"""Input and output shapes for member states, organisations, professions and clinicians."""

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

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
from registry.people.models import OrganisationKind, Sex

CEFR = ["A1", "A2", "B1", "B2", "C1", "C2", "native"]


class LanguageCode(fields.String):
    def __init__(self, **kwargs):
        super().__init__(validate=[validate.Length(max=35), Pattern(LANG_CODE, error="must be a BCP 47 tag")],
                         metadata={"example": "fr"}, **kwargs)


class MemberStateIn(StrictSchema):
    code = code_field(2, STATE_CODE, "PT", required=True)
    name = Text(max_length=100, required=True)
    official_languages = fields.List(LanguageCode(), required=True, validate=validate.Length(min=1, max=10))
    joined_on = Day(required=True)
    left_on = Day(load_default=None, allow_none=True)

    @validates_schema
    def _dates(self, data, **kwargs):
        if data.get("left_on") and data.get("joined_on") and data["left_on"] < data["joined_on"]:
            raise ValidationError("is before joined_on", "left_on")


class MemberStatePatch(StrictSchema):
    name = Text(max_length=100)
    official_languages = fields.List(LanguageCode(), validate=validate.Length(min=1, max=10))
    left_on = Day(allow_none=True)


class MemberStateOut(Schema):
    code = fields.String()
    name = fields.String()
    official_languages = fields.List(fields.String())
    joined_on = fields.Date()
    left_on = fields.Date(allow_none=True)


class OrganisationIn(StrictSchema):
    code = code_field(0, ORG_CODE, "PT-OM", required=True)
    name = Text(max_length=200, required=True)
    kind = fields.Enum(OrganisationKind, by_value=True, required=True)
    member_state_code = code_field(2, STATE_CODE, "PT", required=True)
    language = LanguageCode(required=True)


class OrganisationPatch(StrictSchema):
    name = Text(max_length=200)
    language = LanguageCode()


class OrganisationOut(Schema):
    id = fields.Integer()
    code = fields.String()
    name = fields.String()
    kind = fields.Enum(OrganisationKind, by_value=True)
    member_state_code = fields.String()
    language = fields.String()


class OrganisationQuery(StrictSchema):
    kind = fields.Enum(OrganisationKind, by_value=True)
    state = code_field(2, STATE_CODE, "PT")


class ProfessionIn(StrictSchema):
    code = code_field(4, ISCO_CODE, "2221", required=True)
    title = Text(max_length=200, required=True)


class ProfessionOut(Schema):
    code = fields.String()
    title = fields.String()


class LanguageLevel(StrictSchema):
    language = LanguageCode(required=True)
    level = fields.String(required=True, validate=validate.OneOf(CEFR))


class ClinicianIn(StrictSchema):
    family_name = Text(max_length=100, required=True)
    given_names = Text(max_length=150, required=True)
    native_name = Text(max_length=250, load_default=None, allow_none=True)
    date_of_birth = Day(required=True)
    sex = fields.Enum(Sex, by_value=True, required=True)
    nationality = code_field(2, STATE_CODE, "PT", required=True)
    home_state_code = code_field(2, STATE_CODE, "PT", required=True)
    languages = fields.List(fields.Nested(LanguageLevel), load_default=list, validate=validate.Length(max=20))
    email = fields.Email(load_default=None, allow_none=True, validate=validate.Length(max=254))
    not_duplicate_of = fields.List(
        Text(max_length=20),
        load_default=list,
        validate=validate.Length(max=10),
        metadata={"description": "registry numbers of existing records that are known to be other people"},
    )


class ClinicianPatch(StrictSchema):
    family_name = Text(max_length=100)
    given_names = Text(max_length=150)
    native_name = Text(max_length=250, allow_none=True)
    languages = fields.List(fields.Nested(LanguageLevel), validate=validate.Length(max=20))
    email = fields.Email(allow_none=True, validate=validate.Length(max=254))


class ClinicianOut(Schema):
    registry_number = fields.String()
    family_name = fields.String()
    given_names = fields.String()
    native_name = fields.String(allow_none=True)
    date_of_birth = fields.Date()
    sex = fields.Enum(Sex, by_value=True)
    nationality = fields.String()
    home_state_code = fields.String()
    languages = fields.List(fields.Dict())
    email = fields.String(allow_none=True)
    created_at = fields.DateTime()


ClinicianPage = page_schema(ClinicianOut, "ClinicianPage")


class MergeIn(StrictSchema):
    merged = Text(max_length=20, required=True, metadata={
        "description": "registry number of the record to fold into this one (the duplicate)", "example": "K7M2Q9XA4TR"})
    reason = Text(max_length=500, min_length=3, required=True,
                  metadata={"description": "why the two records are one person", "example": "same passport number"})


class MergeOut(Schema):
    merged = fields.Function(lambda m: m.merged.registry_number,
                             metadata={"description": "the registry number that now leads to the survivor"})
    survivor = fields.Function(lambda m: m.survivor.registry_number)
    merged_at = fields.DateTime()
    reason = fields.String()
    organisation = fields.Function(lambda m: m.organisation.code if m.organisation else None, allow_none=True)
    moved = fields.Dict(metadata={"description": "rows moved to the survivor, per table"})


class ClinicianQuery(PageArgs):
    q = Text(max_length=200, metadata={"description": "registry number or part of a name"})
    licence_number = Text(max_length=40)
    home_state = code_field(2, STATE_CODE, "PT")
