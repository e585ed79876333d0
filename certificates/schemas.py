"""Input and output schemas of the certificates API."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from registry.core.schemas import ORG_CODE, Day, StrictSchema, Text, code_field


class GoodStandingIn(StrictSchema):
    on = Day(load_default=None, metadata={"description": "the date the licence is in good standing (default today)"})


class StatusChangeIn(StrictSchema):
    action = fields.String(required=True, validate=validate.OneOf(["revoke", "suspend", "unsuspend"]))
    reason = Text(max_length=500, load_default=None)


class ReissueIn(StrictSchema):
    reason = Text(max_length=500, required=True)


class KeyRotationIn(StrictSchema):
    alg = fields.String(load_default="ES256", validate=validate.OneOf(["ES256", "EdDSA"]))


class CompromiseIn(StrictSchema):
    reason = Text(max_length=500, required=True)


class VerifyIn(StrictSchema):
    token = fields.String(validate=validate.Length(min=1, max=262_144),
                          metadata={"description": "a VC-JWT, a QR token or a verification URL"})
    code = fields.String(validate=validate.Length(min=1, max=40), metadata={"example": "7K3M-Q9XD-2HT8"})


class StatementQuery(StrictSchema):
    clinician = fields.String(required=True, validate=validate.Length(min=1, max=40))
    state = code_field(2, r"^[A-Z]{2}$", "PT", required=True)
    profession = code_field(4, r"^[0-9]{4}$", "2221", required=True)
    on = Day(load_default=None)


class IssuerPath(StrictSchema):
    code = code_field(0, ORG_CODE, "IE-HPB")


class KeyOut(Schema):
    kid = fields.String()
    alg = fields.String()
    organisation = fields.Function(lambda key: key.organisation.code)
    jwk = fields.Dict(attribute="public_jwk")
    not_before = fields.DateTime()
    not_after = fields.DateTime(allow_none=True)
    compromised_at = fields.DateTime(allow_none=True)


class CertificateOut(Schema):
    id = fields.Integer()
    credential_id = fields.String()
    kind = fields.String()
    issuer = fields.Function(lambda c: c.issuer.code)
    kid = fields.Function(lambda c: c.key.kid)
    clinician = fields.Function(lambda c: c.snapshot["holder"]["registry_number"])
    holder = fields.Function(lambda c: c.snapshot["holder"]["name"])
    description = fields.Function(lambda c: c.snapshot.get("description"))
    status = fields.String()
    completion_id = fields.Integer(allow_none=True)
    recognition_id = fields.Integer(allow_none=True)
    licence_id = fields.Integer(allow_none=True)
    valid_from = fields.DateTime()
    valid_until = fields.DateTime(allow_none=True)
    issued_at = fields.DateTime()
    signed_at = fields.DateTime()
    revoked_at = fields.DateTime(allow_none=True)
    revocation_reason = fields.String(allow_none=True)
    suspended = fields.Boolean()
    verification_code = fields.String()
    pdf_sha256 = fields.String()
    replaces = fields.Function(lambda c: c.replaces.credential_id if c.replaces else None)
    links = fields.Function(lambda c: {"pdf": f"/api/v1/certificates/{c.id}/pdf",
                                       "credential": f"/api/v1/certificates/{c.id}/credential"})


class BatchOut(Schema):
    issued = fields.List(fields.Nested(CertificateOut))
    skipped = fields.List(fields.Dict())


class VerificationLogOut(Schema):
    occurred_at = fields.DateTime()
    method = fields.String()
    outcome = fields.String()
    certificate_id = fields.Integer(allow_none=True)
    organisation = fields.Function(lambda v: {"code": v.organisation.code, "name": v.organisation.name}
                                   if v.organisation else None)
    pdf_identical = fields.Boolean(allow_none=True)


class VerifyOut(Schema):
    outcome = fields.String()
    valid = fields.Boolean()
    method = fields.String()
    steps = fields.List(fields.Dict())
    issuer = fields.Dict(allow_none=True)
    kid = fields.String(allow_none=True)
    payload = fields.Dict(allow_none=True)
    data = fields.Dict(allow_none=True, metadata={"description": "what the verified token states"})
    pdf = fields.Dict(metadata={"description": "for an uploaded PDF: whether it is the file issued"})


class StatementOut(Schema):
    statement = fields.String()
