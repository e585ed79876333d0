"""The secretariat's pages: the dashboard (member states, agreements, issuer keys with rotation and compromise),
reference data (member states, organisations, professions), agreements, exchange programmes, accounts, figures.

Every form goes through the API's input schema and the same service the API calls, with the same role check
(the secretariat admin); nothing here decides a rule.
"""

from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa
from flask import Response, flash, redirect, request, url_for
from marshmallow import ValidationError
from werkzeug.datastructures import MultiDict

from certificates import services as certificates
from certificates.schemas import CompromiseIn, KeyRotationIn
from curricula import services as curricula
from registry.accounts import services as accounts
from registry.accounts.api import AccountIn, AccountPatch
from registry.core.auth import Account, Role, require_role
from registry.core.db import db
from registry.core.errors import Conflict, Invalid, NotFound, RegistryError
from registry.licensing import alerts as alert_services
from registry.licensing.schemas import AlertQuery
from registry.mobility import services as mobility
from registry.mobility.models import ExchangeProgramme, ProgrammeStatus
from registry.mobility.schemas import ProgrammeIn, ProgrammePatch
from registry.people import services as people
from registry.people.models import MemberState, OrganisationKind, Profession
from registry.people.schemas import MemberStateIn, OrganisationIn, ProfessionIn
from registry.recognition import services as recognition
from registry.recognition.models import CEFR_LEVELS, Agreement
from registry.recognition.schemas import AgreementEndIn, AgreementIn
from registry.web import figures
from registry.web.base import blp, form_errors, load_form, render, today

AGREEMENT_FIELDS = ("code", "title", "in_force_from", "in_force_until", "language_level", "adaptation_months",
                    "validity_months", "decision_deadline_days", "silence_is_approval")
AGREEMENT_LISTS = ("states", "professions", "required_courses")
PROGRAMME_FIELDS = ("code", "name", "coordinating_state", "starts_on", "ends_on", "capacity", "recognition_required",
                    "status")
PROGRAMME_LISTS = ("states", "professions", "required_courses")
PROGRAMME_PATCH_FIELDS = ("name", "status", "capacity")
STATE_FIELDS = ("code", "name", "joined_on", "left_on")
ORGANISATION_FIELDS = ("code", "name", "kind", "member_state_code", "language")
PROFESSION_FIELDS = ("code", "title")
ACCOUNT_FIELDS = ("email", "display_name", "role", "organisation", "clinician", "password")
HOST_PREFIX = "capacity_by_host-"
# What a code in a page address can look like (states, organisations, agreements, programmes, key ids); anything
# else names nothing and is answered 404 before it reaches the database (PostgreSQL refuses NUL bytes).
_CODE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def _admin() -> Account:
    return require_role(Role.SECRETARIAT_ADMIN)


def _code(value: str, what: str) -> str:
    if not _CODE.match(value):
        raise NotFound(f"no {what} {value[:40]!r}")
    return value


def _empty_form() -> MultiDict:
    return MultiDict()


def _reference() -> dict[str, Any]:
    """The choices the forms offer: member states, professions, courses."""
    states = db.session.scalars(sa.select(MemberState).order_by(MemberState.code)).all()
    return {
        "state_options": [(s.code, f"{s.code} · {s.name}") for s in states],
        "profession_options": [(p.code, f"{p.code} · {p.title}")
                               for p in db.session.scalars(sa.select(Profession).order_by(Profession.code))],
        "course_options": [(c.code, c.code) for c in curricula.courses()],
    }


# --- the dashboard ----------------------------------------------------------------------------------------------


def _dashboard(status: int = 200, **extra):
    organisations = people.organisations()
    context = {
        "states": db.session.scalars(sa.select(MemberState).order_by(MemberState.code)).all(),
        "agreements": db.session.scalars(sa.select(Agreement).order_by(Agreement.code)).all(),
        "programmes": db.session.scalars(sa.select(ExchangeProgramme).order_by(ExchangeProgramme.code)).all(),
        "issuers": [(org, certificates.keys_of(org)) for org in organisations],
        "day": today(), "failed_code": None, "errors": {}, "general": [],
    }
    context.update(extra)
    return render("secretariat/home.html", status=status, **context)


@blp.get("/secretariat")
def secretariat_home():
    _admin()
    return _dashboard()


@blp.post("/secretariat/issuers/<code>/keys")
def rotate_key(code: str):
    """Rotate an issuer's key, as POST /api/v1/issuers/<code>/keys does."""
    account = _admin()
    organisation = people.get_organisation(_code(code, "organisation"))
    try:
        data = load_form(KeyRotationIn(), ("alg",))
        key = certificates.rotate_key(organisation, alg=data["alg"], actor=account)
        db.session.commit()
    except RegistryError as exc:
        db.session.rollback()
        errors, general = form_errors(exc, ("alg",))
        return _dashboard(status=exc.status, failed_code=code, errors=errors, general=general)
    flash(f"{organisation.code} now signs with key {key.kid[:16]}… ({key.alg.value}); the previous key still "
          "verifies what it signed.")
    return redirect(url_for("web.secretariat_home") + "#keys")


# --- marking a key compromised: a page that asks for the reason and confirms ---------------------------------


def _key(kid: str):
    return certificates.get_key(_code(kid, "issuer key"))


def _compromise_page(key, status: int = 200, **extra: Any):
    context: dict[str, Any] = {"key": key, "form": {}, "errors": {}, "general": []}
    context.update(extra)
    return render("secretariat/compromise.html", status=status, **context)


@blp.get("/secretariat/keys/<kid>/compromise")
def compromise_form(kid: str):
    _admin()
    return _compromise_page(_key(kid))


@blp.post("/secretariat/keys/<kid>/compromise")
def compromise_key(kid: str):
    """Mark a key compromised, as POST /api/v1/keys/<kid>/compromise does."""
    account = _admin()
    key = _key(kid)
    try:
        data = load_form(CompromiseIn(), ("reason",))
        certificates.compromise_key(key, reason=data["reason"], actor=account)
        db.session.commit()
    except RegistryError as exc:
        db.session.rollback()
        errors, general = form_errors(exc, ("reason",))
        return _compromise_page(_key(kid), status=exc.status, form=request.form, errors=errors, general=general)
    successor = certificates.current_key(key.organisation)
    flash(f"Key {key.kid[:16]}… of {key.organisation.code} is marked compromised: what it signed fails verification "
          "until `registry certificates resign` is run."
          + (f" {key.organisation.code} now signs with key {successor.kid[:16]}…." if successor else ""))
    return redirect(url_for("web.secretariat_home") + "#keys")


# --- reference data: member states, organisations, professions ---------------------------------------------


def _reference_page(status: int = 200, **extra: Any):
    context: dict[str, Any] = {
        "states": db.session.scalars(sa.select(MemberState).order_by(MemberState.code)).all(),
        "organisations": people.organisations(),
        "professions": db.session.scalars(sa.select(Profession).order_by(Profession.code)).all(),
        "kind_options": [(k.value, k.value.replace("_", " ")) for k in OrganisationKind],
        "state_form": {}, "state_errors": {}, "state_general": [],
        "org_form": {}, "org_errors": {}, "org_general": [],
        "profession_form": {}, "profession_errors": {}, "profession_general": [],
        **_reference(),
    }
    context.update(extra)
    return render("secretariat/reference.html", status=status, **context)


@blp.get("/secretariat/reference")
def reference_data():
    _admin()
    return _reference_page()


def _languages(value: str) -> list[str]:
    """"en, ga" or "en ga" as a list; the schema checks each tag."""
    return [part for part in re.split(r"[\s,;]+", value.strip()) if part]


@blp.post("/secretariat/member-states")
def create_state():
    """Add a member state, as POST /api/v1/member-states does."""
    _admin()
    try:
        languages = _languages(request.form.get("official_languages", ""))
        data = load_form(MemberStateIn(), STATE_FIELDS,
                         extra={"official_languages": languages} if languages else None)
        state = people.create_state(**data)
        db.session.commit()
    except RegistryError as exc:
        db.session.rollback()
        errors, general = form_errors(exc, (*STATE_FIELDS, "official_languages"))
        return _reference_page(status=exc.status, state_form=request.form, state_errors=errors,
                               state_general=general)
    flash(f"Member state {state.code} ({state.name}) added.")
    return redirect(url_for("web.reference_data") + "#states")


@blp.post("/secretariat/organisations")
def create_organisation():
    """Add a licensing board, training hub or secretariat, as POST /api/v1/organisations does."""
    _admin()
    try:
        data = load_form(OrganisationIn(), ORGANISATION_FIELDS)
        try:
            org = people.create_organisation(**data)
        except NotFound as exc:  # the member state
            raise Invalid(exc.detail, errors={"member_state_code": [exc.detail]}) from exc
        db.session.commit()
    except RegistryError as exc:
        db.session.rollback()
        errors, general = form_errors(exc, ORGANISATION_FIELDS)
        return _reference_page(status=exc.status, org_form=request.form, org_errors=errors, org_general=general)
    flash(f"Organisation {org.code} ({org.name}) added.")
    return redirect(url_for("web.reference_data") + "#organisations")


@blp.post("/secretariat/professions")
def create_profession():
    """Add an ISCO-08 profession, as POST /api/v1/professions does."""
    _admin()
    try:
        data = load_form(ProfessionIn(), PROFESSION_FIELDS)
        profession = people.create_profession(**data)
        db.session.commit()
    except RegistryError as exc:
        db.session.rollback()
        errors, general = form_errors(exc, PROFESSION_FIELDS)
        return _reference_page(status=exc.status, profession_form=request.form, profession_errors=errors,
                               profession_general=general)
    flash(f"Profession {profession.code} ({profession.title}) added.")
    return redirect(url_for("web.reference_data") + "#professions")


# --- agreements -------------------------------------------------------------------------------------------------


def _agreements_page(status: int = 200, **extra: Any):
    context: dict[str, Any] = {
        "agreements": db.session.scalars(sa.select(Agreement).order_by(Agreement.code)).all(), "day": today(),
        "cefr_options": [(level, level) for level in CEFR_LEVELS],
        "form": _empty_form(), "errors": {}, "general": [],
        "end_code": None, "end_form": {}, "end_errors": {}, "end_general": [],
        **_reference(),
    }
    context.update(extra)
    return render("secretariat/agreements.html", status=status, **context)


@blp.get("/secretariat/agreements")
def agreements_page():
    _admin()
    return _agreements_page()


@blp.post("/secretariat/agreements")
def create_agreement():
    """Record a bilateral (two states) or multilateral agreement, as POST /api/v1/agreements does."""
    _admin()
    try:
        data = load_form(AgreementIn(), AGREEMENT_FIELDS, lists=AGREEMENT_LISTS)
        agreement = recognition.create_agreement(**data)
        db.session.commit()
    except RegistryError as exc:
        db.session.rollback()
        errors, general = form_errors(exc, (*AGREEMENT_FIELDS, *AGREEMENT_LISTS))
        return _agreements_page(status=exc.status, form=request.form, errors=errors, general=general)
    flash(f"Agreement {agreement.code} ({agreement.kind}: {', '.join(agreement.state_codes)}) recorded, in force "
          f"from {agreement.in_force_from.isoformat()}.")
    return redirect(url_for("web.agreements_page") + "#list")


@blp.post("/secretariat/agreements/<code>/end")
def end_agreement(code: str):
    """Set the last day an agreement is in force, as PATCH /api/v1/agreements/<code> does."""
    _admin()
    agreement = recognition.get_agreement(_code(code, "agreement"))
    try:
        data = load_form(AgreementEndIn(), ("in_force_until",))
        recognition.end_agreement(agreement, data["in_force_until"])
        db.session.commit()
    except RegistryError as exc:
        db.session.rollback()
        errors, general = form_errors(exc, ("in_force_until",))
        return _agreements_page(status=exc.status, end_code=code, end_form=request.form, end_errors=errors,
                                end_general=general)
    flash(f"Agreement {agreement.code} is in force until {agreement.in_force_until.isoformat()}.")
    return redirect(url_for("web.agreements_page") + "#list")


# --- exchange programmes ----------------------------------------------------------------------------------------


def _host_capacities() -> dict[str, str]:
    """The places per host state typed into the form ("capacity_by_host-PT" = "3"); blanks are left out."""
    return {name[len(HOST_PREFIX):]: value.strip() for name, value in request.form.items()
            if name.startswith(HOST_PREFIX) and value.strip()}


def _programmes_page(status: int = 200, **extra: Any):
    programmes = db.session.scalars(sa.select(ExchangeProgramme).order_by(ExchangeProgramme.code)).all()
    context: dict[str, Any] = {
        "programmes": [(p, mobility.placed_count(p.id)) for p in programmes],
        "status_options": [(s.value, s.value) for s in ProgrammeStatus],
        "form": _empty_form(), "errors": {}, "general": [],
        **_reference(),
    }
    context.update(extra)
    return render("secretariat/programmes.html", status=status, **context)


@blp.get("/secretariat/programmes")
def programmes_page():
    _admin()
    return _programmes_page()


@blp.post("/secretariat/programmes")
def create_programme():
    """Record an exchange programme, as POST /api/v1/programmes does."""
    _admin()
    try:
        data = load_form(ProgrammeIn(), PROGRAMME_FIELDS, lists=PROGRAMME_LISTS,
                         extra={"capacity_by_host": _host_capacities()})
        programme = mobility.create_programme(**data)
        db.session.commit()
    except RegistryError as exc:
        db.session.rollback()
        errors, general = form_errors(exc, (*PROGRAMME_FIELDS, *PROGRAMME_LISTS, "capacity_by_host"))
        return _programmes_page(status=exc.status, form=request.form, errors=errors, general=general)
    flash(f"Programme {programme.code} recorded ({programme.status.value}, {programme.capacity} places).")
    return redirect(url_for("web.programme_page", code=programme.code))


def _programme(code: str) -> ExchangeProgramme:
    return mobility.get_programme(_code(code, "programme"))


def _programme_page(programme: ExchangeProgramme, status: int = 200, **extra: Any):
    form = MultiDict({"name": programme.name, "status": programme.status.value, "capacity": str(programme.capacity),
                      **{HOST_PREFIX + s: str(n) for s, n in programme.capacity_by_host.items()}})
    context: dict[str, Any] = {
        "programme": programme, "placed": mobility.placed_count(programme.id),
        "placed_by_host": {s: mobility.placed_count(programme.id, s) for s in programme.state_codes},
        "status_options": [(s.value, s.value) for s in ProgrammeStatus],
        "form": form, "errors": {}, "general": [],
    }
    context.update(extra)
    return render("secretariat/programme.html", status=status, **context)


@blp.get("/secretariat/programmes/<code>")
def programme_page(code: str):
    _admin()
    return _programme_page(_programme(code))


@blp.post("/secretariat/programmes/<code>")
def update_programme(code: str):
    """Rename, open or close a programme or change its places, as PATCH /api/v1/programmes/<code> does."""
    _admin()
    programme = _programme(code)
    try:
        data = load_form(ProgrammePatch(), PROGRAMME_PATCH_FIELDS, extra={"capacity_by_host": _host_capacities()})
        mobility.update_programme(programme, **data)
        db.session.commit()
    except RegistryError as exc:
        db.session.rollback()
        errors, general = form_errors(exc, (*PROGRAMME_PATCH_FIELDS, "capacity_by_host"))
        return _programme_page(_programme(code), status=exc.status, form=request.form, errors=errors,
                               general=general)
    flash(f"Programme {programme.code} saved: {programme.status.value}, {programme.capacity} places.")
    return redirect(url_for("web.programme_page", code=programme.code))


# --- accounts ---------------------------------------------------------------------------------------------------


def _accounts_page(status: int = 200, **extra: Any):
    rows = db.session.scalars(sa.select(Account).order_by(Account.id)).all()
    context: dict[str, Any] = {
        "accounts": [accounts.account_summary(a) for a in rows],
        "role_options": [(r.value, r.value.replace("_", " ")) for r in Role],
        "organisation_options": [(o.code, f"{o.code} · {o.name} ({o.kind.value.replace('_', ' ')})")
                                 for o in people.organisations()],
        "form": {}, "errors": {}, "general": [], "failed_id": None, "active_general": [],
    }
    context.update(extra)
    return render("secretariat/accounts.html", status=status, **context)


@blp.get("/secretariat/accounts")
def accounts_page():
    _admin()
    return _accounts_page()


@blp.post("/secretariat/accounts")
def create_account():
    """Create an account for an organisation's officer or a clinician, as POST /api/v1/accounts does."""
    _admin()
    try:
        data = load_form(AccountIn(), ACCOUNT_FIELDS)
        account = accounts.create_account_named(data)
        db.session.commit()
    except RegistryError as exc:
        db.session.rollback()
        errors, general = form_errors(exc, ACCOUNT_FIELDS)
        if isinstance(exc, Conflict):  # the address is taken, or the clinician has an account: say so there
            field = "email" if "account for" in exc.detail else "clinician" if "clinician" in exc.detail else None
            if field:
                errors.setdefault(field, []).append(exc.detail)
        form = {k: v for k, v in request.form.items() if k != "password"}  # never sent back
        return _accounts_page(status=exc.status, form=form, errors=errors, general=general)
    flash(f"Account {account.email} ({account.role.value.replace('_', ' ')}) created.")
    return redirect(url_for("web.accounts_page") + "#list")


@blp.post("/secretariat/accounts/<id:account_id>/active")
def set_account_active(account_id: int):
    """Activate or deactivate an account, as PATCH /api/v1/accounts/<id> does."""
    _admin()
    account = db.session.get(Account, account_id)
    if account is None:
        raise NotFound(f"no account {account_id}")
    try:
        data = load_form(AccountPatch(), ("active",))
        accounts.set_active(account, data["active"])
        db.session.commit()
    except RegistryError as exc:
        db.session.rollback()
        errors, general = form_errors(exc, ("active",))
        return _accounts_page(status=exc.status, failed_id=account_id,
                              active_general=general + [m for ms in errors.values() for m in ms])
    flash(f"Account {account.email} is now {'active' if account.active else 'deactivated'}.")
    return redirect(url_for("web.accounts_page") + "#list")


# --- alerts -----------------------------------------------------------------------------------------------------


ALERTS_PER_PAGE = 50


@blp.get("/secretariat/alerts")
def secretariat_alerts():
    """Every alert, newest first, with each receiving state's acknowledgement: GET /api/v1/alerts as a page
    (filter by receiving state, or keep those still open for some state)."""
    _admin()
    try:
        args = AlertQuery().load({k: v for k, v in request.args.items() if k in ("state", "unacknowledged", "page")
                                  and v != ""})
    except ValidationError as exc:
        args, errors = {"page": 1, "unacknowledged": False}, exc.messages
    else:
        errors = {}
        if args.get("state") is not None and not people.state_exists(args["state"]):
            args, errors = {"page": 1, "unacknowledged": False}, {"state": [f"no member state {args['state']}"]}
    items, total = alert_services.alerts_page(args.get("state"), unacknowledged=args["unacknowledged"],
                                              page=args["page"], page_size=ALERTS_PER_PAGE)
    pages = max(1, -(-total // ALERTS_PER_PAGE))
    return render("secretariat/alerts.html", status=422 if errors else 200, alerts=items, total=total,
                  page=args["page"], pages=pages, state=args.get("state") or "",
                  unacknowledged=args["unacknowledged"], errors=errors, **_reference())


# --- figures ----------------------------------------------------------------------------------------------------


@blp.get("/secretariat/figures")
def figures_page():
    _admin()
    shown = figures.all_figures(today())
    return render("secretariat/figures.html", figures=[(f, figures.bar_chart(f)) for f in shown])


@blp.get("/secretariat/figures/<name>.csv")
def figure_csv(name: str):
    _admin()
    figure = next((f for f in figures.all_figures(today()) if f.name == name), None)
    if figure is None:
        raise NotFound(f"no figure {name[:40]}")
    return Response(figures.as_csv(figure), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{figure.name}.csv"'})
