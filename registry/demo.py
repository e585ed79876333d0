"""Demo data for `make run`: four member states, their boards and hubs, ~50 clinicians, demo accounts.

Every record goes through the same services as the API, so the audit chain covers it.
Later capabilities add their own records here, so `make run` always shows the whole system.
"""

from __future__ import annotations

import random
from datetime import date, timedelta

import sqlalchemy as sa
from flask import current_app

from registry.accounts.services import create_account
from registry.core.auth import Role
from registry.core.db import db
from registry.licensing import services as licensing
from registry.licensing.models import LicenceAction
from registry.people import services as people
from registry.people.models import Organisation, OrganisationKind, Sex

DEMO_PASSWORD = "demo-password-2026"  # noqa: S105 - published in the README; refused in production

STATES = [
    ("IE", "Ireland", ["en", "ga"]),
    ("FR", "France", ["fr"]),
    ("PT", "Portugal", ["pt"]),
    ("BE", "Belgium", ["nl", "fr", "de"]),
]

ORGANISATIONS = [
    ("COMPACT-SEC", "Secretariat of the Regional Health Workforce Compact", OrganisationKind.SECRETARIAT, "BE", "en"),
    ("IE-HPB", "Health Professions Board of Ireland", OrganisationKind.LICENSING_BOARD, "IE", "en"),
    ("FR-CNPS", "Conseil national des professions de santé", OrganisationKind.LICENSING_BOARD, "FR", "fr"),
    ("PT-OPS", "Ordem dos Profissionais de Saúde", OrganisationKind.LICENSING_BOARD, "PT", "pt"),
    ("BE-CFPS", "Conseil fédéral des professions de santé", OrganisationKind.LICENSING_BOARD, "BE", "fr"),
    ("IE-DTH", "Dublin Trauma Training Hub", OrganisationKind.TRAINING_HUB, "IE", "en"),
    ("PT-CFTL", "Centro de Formação em Trauma de Lisboa", OrganisationKind.TRAINING_HUB, "PT", "pt"),
    ("FR-CSL", "Centre de simulation en santé de Lyon", OrganisationKind.TRAINING_HUB, "FR", "fr"),
]

BOARD_OF = {"IE": "IE-HPB", "FR": "FR-CNPS", "PT": "PT-OPS", "BE": "BE-CFPS"}

NAMES = {
    "IE": (["Murphy", "Kelly", "O'Sullivan", "Walsh", "Byrne", "Ryan", "O'Brien", "Doyle", "Nolan", "Keane"],
           ["Aoife", "Ciara", "Siobhán", "Niamh", "Seán", "Conor", "Cian", "Róisín", "Eoin", "Orla"]),
    "FR": (["Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy", "Moreau"],
           ["Camille", "Léa", "Manon", "Chloé", "Hugo", "Lucas", "Étienne", "Inès", "Théo", "Margaux"]),
    "PT": (["Silva", "Santos", "Ferreira", "Pereira", "Oliveira", "Costa", "Rodrigues", "Martins", "Sousa", "Gomes"],
           ["Maria", "João", "Ana", "Beatriz", "Tiago", "Inês", "Rui", "Mariana", "Gonçalo", "Leonor"]),
    "BE": (["Peeters", "Janssens", "Maes", "Jacobs", "Mertens", "Willems", "Claes", "Goossens", "Wouters", "Dupont"],
           ["Lotte", "Elise", "Noah", "Louise", "Arthur", "Julie", "Lucas", "Emma", "Wout", "Sarah"]),
}
LANGUAGE_OF = {"IE": "en", "FR": "fr", "PT": "pt", "BE": "nl"}
PROFESSIONS = ["2221", "2221", "2221", "2211", "2212", "2222", "2262", "2264", "3258"]

# The first clinician of each state gets a clinician account with this e-mail.
CLINICIAN_ACCOUNTS = {"IE": "aoife.murphy@demo.registry", "FR": "camille.martin@demo.registry",
                      "PT": "maria.silva@demo.registry", "BE": "lotte.peeters@demo.registry"}
OFFICER_ACCOUNTS = [
    ("admin@demo.registry", "Secretariat administrator", Role.SECRETARIAT_ADMIN, "COMPACT-SEC"),
    ("board.ie@demo.registry", "Officer, Health Professions Board of Ireland", Role.BOARD_OFFICER, "IE-HPB"),
    ("board.fr@demo.registry", "Agent, Conseil national des professions de santé", Role.BOARD_OFFICER, "FR-CNPS"),
    ("board.pt@demo.registry", "Técnico, Ordem dos Profissionais de Saúde", Role.BOARD_OFFICER, "PT-OPS"),
    ("board.be@demo.registry", "Officer, Conseil fédéral des professions de santé", Role.BOARD_OFFICER, "BE-CFPS"),
    ("hub.ie@demo.registry", "Coordinator, Dublin Trauma Training Hub", Role.HUB_OFFICER, "IE-DTH"),
    ("hub.pt@demo.registry", "Coordenadora, Centro de Formação em Trauma de Lisboa", Role.HUB_OFFICER, "PT-CFTL"),
    ("hub.fr@demo.registry", "Coordinatrice, Centre de simulation en santé de Lyon", Role.HUB_OFFICER, "FR-CSL"),
]


def demo_present() -> bool:
    return db.session.scalar(sa.select(Organisation.id).where(Organisation.code == "COMPACT-SEC")) is not None


def load_demo(today: date | None = None, clinicians_per_state: int = 12) -> bool:
    """Create the demo records unless they exist; returns whether anything was created."""
    if current_app.config.get("ENV_NAME") == "production":
        raise SystemExit("refusing to load demo data (public passwords) in production mode")
    if demo_present():
        return False
    today = today or date.today()
    rng = random.Random(2026)  # noqa: S311 - demo names, not secrets
    for code, name, languages in STATES:
        people.create_state(code=code, name=name, official_languages=languages, joined_on=date(2024, 1, 1))
    orgs = {}
    for code, name, kind, state, language in ORGANISATIONS:
        orgs[code] = people.create_organisation(code=code, name=name, kind=kind, member_state_code=state,
                                                language=language)
    board_accounts = {}
    for email, display, role, org in OFFICER_ACCOUNTS:
        account = create_account(email=email, display_name=display, role=role, password=DEMO_PASSWORD,
                                 organisation=orgs[org])
        if role is Role.BOARD_OFFICER:
            board_accounts[org] = account

    serial = 1000
    for state_code, _, _ in STATES:
        families, givens = NAMES[state_code]
        board = orgs[BOARD_OF[state_code]]
        for i in range(clinicians_per_state):
            family, given = (families[i % 10], givens[i % 10]) if i < 10 else (rng.choice(families), rng.choice(givens))
            clinician = people.create_clinician(
                today=today,
                family_name=family,
                given_names=given,
                native_name=None,
                date_of_birth=date(1965, 1, 1) + timedelta(days=rng.randrange(0, 12000)),
                sex=Sex.FEMALE if rng.random() < 0.62 else Sex.MALE,
                nationality=state_code,
                home_state_code=state_code,
                languages=[{"language": LANGUAGE_OF[state_code], "level": "native"},
                           {"language": "en", "level": rng.choice(["B1", "B2", "C1"])}]
                if state_code != "IE" else [{"language": "en", "level": "native"}],
                email=None,
            )
            if i == 0:
                create_account(email=CLINICIAN_ACCOUNTS[state_code], display_name=clinician.full_name,
                               role=Role.CLINICIAN, password=DEMO_PASSWORD, clinician=clinician)
            serial += 1
            # The licences given a history below (5 to 8) are recent enough not to have lapsed.
            issued = today - timedelta(days=rng.randrange(400, 1500 if 5 <= i <= 8 else 4000))
            profession = "2221" if i == 0 else rng.choice(PROFESSIONS)
            licence = licensing.issue_licence(
                board=board, clinician=clinician, profession_code=profession,
                number=f"{state_code}-{profession}-{serial}", decided_on=issued, valid_from=issued,
                valid_until=issued + timedelta(days=5 * 365), actor=board_accounts[board.code], today=today,
            )
            _history(licence, i, issued, today, board_accounts[board.code])
    db.session.commit()
    return True


def _history(licence, i: int, issued: date, today: date, actor) -> None:
    """A few licences with real histories: renewed, restricted, suspended, reinstated, revoked."""
    state = licensing.state_on(licence, today)
    if state.valid_until and state.valid_until < today + timedelta(days=30) and i % 4 != 3:
        # Renewed before the later decisions below, so history stays in order.
        renewed = max(issued + timedelta(days=1), min(state.valid_until - timedelta(days=30),
                                                      today - timedelta(days=250)))
        licensing.record_event(licence, action=LicenceAction.RENEW, decided_on=renewed, effective_on=renewed,
                               reason="periodic renewal", scope=None,
                               valid_until=today + timedelta(days=5 * 365), actor=actor, today=today)
    if i == 5:
        licensing.record_event(licence, action=LicenceAction.SUSPEND, decided_on=today - timedelta(days=40),
                               effective_on=today - timedelta(days=40),
                               reason="fitness-to-practise inquiry opened", scope=None, valid_until=None,
                               actor=actor, today=today)
    elif i == 6:
        licensing.record_event(licence, action=LicenceAction.RESTRICT, decided_on=today - timedelta(days=90),
                               effective_on=today - timedelta(days=90), reason="supervision ordered after review",
                               scope="no unsupervised night shifts", valid_until=None, actor=actor, today=today)
    elif i == 7:
        licensing.record_event(licence, action=LicenceAction.SUSPEND, decided_on=today - timedelta(days=200),
                               effective_on=today - timedelta(days=200), reason="unpaid registration fee",
                               scope=None, valid_until=None, actor=actor, today=today)
        licensing.record_event(licence, action=LicenceAction.REINSTATE, decided_on=today - timedelta(days=150),
                               effective_on=today - timedelta(days=150), reason="fee paid", scope=None,
                               valid_until=None, actor=actor, today=today)
    elif i == 8 and licensing.state_on(licence, today - timedelta(days=10)).status.value == "active":
        licensing.record_event(licence, action=LicenceAction.REVOKE, decided_on=today - timedelta(days=10),
                               effective_on=today - timedelta(days=10), reason="struck off after hearing",
                               scope=None, valid_until=None, actor=actor, today=today)
