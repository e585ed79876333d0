"""Sign-in, the caller's own account, API keys, and account administration."""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort, request
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from registry.accounts import services
from registry.accounts.throttle import TooManyAttempts, authenticate_throttled
from registry.core.auth import Account, Role, current_account, issue_access_token, require_role
from registry.core.db import db
from registry.core.errors import NotFound, problem_response
from registry.core.schemas import ORG_CODE, StrictSchema, Text, code_field

blp = Blueprint("accounts", __name__, url_prefix="/api/v1", description="Sign-in, accounts and API keys")


class TokenIn(StrictSchema):
    email = fields.Email(required=True, validate=validate.Length(max=254))
    password = fields.String(required=True, validate=validate.Length(min=1, max=200), load_only=True)


class TokenOut(Schema):
    access_token = fields.String()
    token_type = fields.String()
    expires_in = fields.Integer()


class AccountOut(Schema):
    id = fields.Integer()
    email = fields.String()
    display_name = fields.String()
    role = fields.Enum(Role, by_value=True)
    organisation = fields.String(allow_none=True)
    member_state = fields.String(allow_none=True)
    clinician = fields.String(allow_none=True)
    active = fields.Boolean()


class AccountIn(StrictSchema):
    email = fields.Email(required=True, validate=validate.Length(max=254))
    display_name = Text(max_length=200, required=True)
    role = fields.Enum(Role, by_value=True, required=True)
    organisation = code_field(0, ORG_CODE, "PT-OM", load_default=None)
    clinician = Text(max_length=20, load_default=None, metadata={"description": "registry number"})
    password = fields.String(required=True, load_only=True, validate=validate.Length(min=12, max=200))


class AccountPatch(StrictSchema):
    active = fields.Boolean(required=True)


class ApiKeyIn(StrictSchema):
    name = Text(max_length=100, required=True)


class ApiKeyOut(Schema):
    prefix = fields.String()
    name = fields.String()
    created_at = fields.DateTime()
    revoked_at = fields.DateTime(allow_none=True)


class ApiKeyCreated(ApiKeyOut):
    key = fields.String(metadata={"description": "shown once; store it now"})


@blp.route("/auth/token")
class Token(MethodView):
    @blp.arguments(TokenIn())
    @blp.response(200, TokenOut)
    @blp.alt_response(429, description="too many failed attempts for this e-mail or client address (Retry-After)")
    def post(self, data):
        """Exchange e-mail and password for a short-lived bearer token.

        After too many failed attempts for an e-mail address or from a client address, further attempts are
        refused for a while (429 with Retry-After), whether or not the account exists.
        """
        try:
            account = authenticate_throttled(data["email"], data["password"], request.remote_addr)
        except TooManyAttempts as exc:
            abort(problem_response(exc.to_problem(), {"Retry-After": str(exc.retry_after)}))
        token, lifetime = issue_access_token(account)
        return {"access_token": token, "token_type": "Bearer", "expires_in": lifetime}


@blp.route("/me")
class Me(MethodView):
    @blp.response(200, AccountOut)
    def get(self):
        """The signed-in account."""
        return services.account_summary(current_account())


@blp.route("/me/api-keys")
class MyApiKeys(MethodView):
    @blp.response(200, ApiKeyOut(many=True))
    def get(self):
        """API keys of the signed-in account (never their secrets)."""
        return current_account().api_keys

    @blp.arguments(ApiKeyIn())
    @blp.response(201, ApiKeyCreated)
    def post(self, data):
        """Create an API key for a machine client acting as this account (hub and board officers)."""
        account = require_role(Role.HUB_OFFICER, Role.BOARD_OFFICER, Role.SECRETARIAT_ADMIN)
        key, secret = services.create_api_key(account, data["name"])
        db.session.commit()
        return {"prefix": key.prefix, "name": key.name, "created_at": key.created_at, "revoked_at": None,
                "key": secret}


@blp.route("/me/api-keys/<prefix>")
class MyApiKey(MethodView):
    @blp.response(200, ApiKeyOut)
    def delete(self, prefix):
        """Revoke one of the signed-in account's API keys."""
        key = services.revoke_api_key(current_account(), prefix)
        db.session.commit()
        return key


@blp.route("/accounts")
class Accounts(MethodView):
    @blp.response(200, AccountOut(many=True))
    def get(self):
        """Every account (secretariat)."""
        require_role(Role.SECRETARIAT_ADMIN)
        return [services.account_summary(a) for a in db.session.scalars(sa.select(Account).order_by(Account.id))]

    @blp.arguments(AccountIn())
    @blp.response(201, AccountOut)
    def post(self, data):
        """Create an account for an organisation's officer or a clinician (secretariat)."""
        require_role(Role.SECRETARIAT_ADMIN)
        account = services.create_account_named(data)
        db.session.commit()
        return services.account_summary(account)


@blp.route("/accounts/<id:account_id>")
class AccountItem(MethodView):
    @blp.arguments(AccountPatch())
    @blp.response(200, AccountOut)
    def patch(self, data, account_id):
        """Activate or deactivate an account (secretariat)."""
        require_role(Role.SECRETARIAT_ADMIN)
        account = db.session.get(Account, account_id)
        if account is None:
            raise NotFound(f"no account {account_id}")
        services.set_active(account, data["active"])
        db.session.commit()
        return services.account_summary(account)
