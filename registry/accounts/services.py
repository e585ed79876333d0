"""Account administration: create, deactivate, API keys."""

from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa

from registry.core import audit
from registry.core.auth import Account, ApiKey, Role, new_api_key
from registry.core.db import db, utcnow
from registry.core.errors import Conflict, Invalid, NotFound
from registry.people.models import Clinician, Organisation, OrganisationKind

_ROLE_ORG_KIND = {
    Role.SECRETARIAT_ADMIN: OrganisationKind.SECRETARIAT,
    Role.BOARD_OFFICER: OrganisationKind.LICENSING_BOARD,
    Role.HUB_OFFICER: OrganisationKind.TRAINING_HUB,
}


def create_account_named(data: dict[str, Any]) -> Account:
    """An account from AccountIn's fields, its organisation and clinician named by code and registry number
    (an unknown one is invalid input on that field): what POST /api/v1/accounts and the secretariat's page create."""
    from registry.people import services as people

    organisation = clinician = None
    try:
        if data["organisation"]:
            organisation = people.get_organisation(data["organisation"])
    except NotFound as exc:
        raise Invalid(exc.detail, errors={"organisation": [exc.detail]}) from exc
    try:
        if data["clinician"]:
            clinician = people.get_clinician(data["clinician"])
    except NotFound as exc:
        raise Invalid(exc.detail, errors={"clinician": [exc.detail]}) from exc
    return create_account(email=data["email"], display_name=data["display_name"], role=data["role"],
                          password=data["password"], organisation=organisation, clinician=clinician)


def create_account(
    *, email: str, display_name: str, role: Role, password: str | None, organisation: Organisation | None = None,
    clinician: Clinician | None = None,
) -> Account:
    """An account bound to an organisation of the matching kind, or to a clinician."""
    email = email.strip().lower()
    if db.session.scalar(sa.select(Account.id).where(Account.email == email)) is not None:
        raise Conflict(f"an account for {email} exists already")
    if role is Role.CLINICIAN:
        if clinician is None or organisation is not None:
            raise Invalid("a clinician account names a clinician and no organisation",
                          errors={"clinician": ["required for the clinician role"]})
        if db.session.scalar(sa.select(Account.id).where(Account.clinician_id == clinician.id)) is not None:
            raise Conflict(f"clinician {clinician.registry_number} has an account already")
    else:
        if organisation is None or clinician is not None:
            raise Invalid(f"a {role.value} account names an organisation",
                          errors={"organisation": [f"required for the {role.value} role"]})
        if organisation.kind is not _ROLE_ORG_KIND[role]:
            raise Invalid(f"a {role.value} belongs to a {_ROLE_ORG_KIND[role].value}, not a {organisation.kind.value}",
                          errors={"organisation": [f"must be a {_ROLE_ORG_KIND[role].value}"]})
    account = Account(email=email, display_name=display_name, role=role, organisation=organisation,
                      clinician_id=clinician.id if clinician else None)
    if password:
        account.set_password(password)
    db.session.add(account)
    db.session.flush()
    audit.record("account.create", "account", account.id,
                 {"email": email, "role": role, "organisation": organisation.code if organisation else None,
                  "clinician": clinician.registry_number if clinician else None})
    return account


def set_active(account: Account, active: bool) -> Account:
    if account.active != active:
        account.active = active
        db.session.flush()
        audit.record("account.activate" if active else "account.deactivate", "account", account.id,
                     {"active": active})
    return account


def create_api_key(account: Account, name: str) -> tuple[ApiKey, str]:
    key, secret = new_api_key(account, name)
    audit.record("api_key.create", "api_key", key.prefix, {"account": account.id, "name": name})
    return key, secret


def revoke_api_key(account: Account, prefix: str) -> ApiKey:
    # Prefixes are 12 hex digits; anything else (a NUL byte included, which PostgreSQL refuses) names no key.
    key = db.session.scalar(
        sa.select(ApiKey).where(ApiKey.prefix == prefix, ApiKey.account_id == account.id)
    ) if re.fullmatch(r"[0-9a-f]{12}", prefix) else None
    if key is None:
        raise NotFound(f"no API key {prefix[:40]!r} on this account")
    if key.revoked_at is None:
        key.revoked_at = utcnow()
        db.session.flush()
        audit.record("api_key.revoke", "api_key", key.prefix, {"account": account.id})
    return key


def account_summary(account: Account) -> dict[str, Any]:
    clinician = db.session.get(Clinician, account.clinician_id) if account.clinician_id else None
    return {
        "id": account.id,
        "email": account.email,
        "display_name": account.display_name,
        "role": account.role,
        "organisation": account.organisation.code if account.organisation else None,
        "member_state": account.organisation.member_state_code if account.organisation else None,
        "clinician": clinician.registry_number if clinician else None,
        "active": account.active,
    }
