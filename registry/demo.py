"""Demo data for `make run`: four member states, their boards and hubs, ~50 clinicians, demo accounts.

Every record goes through the same services as the API, so the audit chain covers it.
Later capabilities add their own records here, so `make run` always shows the whole system.
"""

from __future__ import annotations

import random
from datetime import date, timedelta

import sqlalchemy as sa
from flask import current_app

from curricula import services as curricula
from curricula.models import Outcome
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
    _curricula(orgs, today)
    _recognition(orgs, today)
    _certificates(orgs, today)
    _mobility(orgs, today)
    db.session.commit()
    return True


def _certificates(orgs: dict, today: date) -> None:
    """Signing keys for every board and hub and the registry key; a few issued certificates, among them a
    completion and a good-standing certificate for maria.silva@demo.registry (downloadable, QR verifies VALID)."""
    from certificates import services as certificates
    from curricula.models import Course
    from registry.core.auth import Account
    from registry.licensing.models import Licence
    from registry.recognition.models import Recognition, RecognitionStatus

    for org in orgs.values():
        certificates.ensure_key(org)
    from registry.people.models import Clinician

    account = db.session.scalar(sa.select(Account).where(Account.email == CLINICIAN_ACCOUNTS["PT"]))
    maria = db.session.get(Clinician, account.clinician_id)
    hub = orgs["PT-CFTL"]
    course = db.session.scalar(sa.select(Course).where(Course.code == "TRAUMA-ITLS"))
    completion, _ = curricula.record_completion(
        hub, clinician=maria, course=course, offering=None, completed_on=today - timedelta(days=20),
        outcome=Outcome.PASSED, score=94.0, credits=None, reference="PT-CFTL-DEMO-0001", actor=None, today=today)
    certificates.issue(certificates.completion_draft(completion), actor=None)
    licence = db.session.scalar(sa.select(Licence).where(Licence.clinician_id == maria.id).order_by(Licence.id))
    if licensing.state_on(licence, today).status.value == "active":
        certificates.issue(certificates.good_standing_draft(licence, today), actor=None)
    granted = db.session.scalar(sa.select(Recognition).where(Recognition.status == RecognitionStatus.GRANTED)
                                .order_by(Recognition.id).limit(1))
    if granted is not None:
        board = db.session.scalar(sa.select(Organisation).where(
            Organisation.member_state_code == granted.host_state_code,
            Organisation.kind == OrganisationKind.LICENSING_BOARD).order_by(Organisation.id).limit(1))
        certificates.issue(certificates.recognition_draft(granted, board, today), actor=None)


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


COURSES = [
    ("TRAUMA-ITLS", {"en": "Joint trauma life support", "fr": "Prise en charge conjointe du traumatisé",
                     "pt": "Suporte de vida conjunto em trauma"},
     "Primary and secondary survey, haemorrhage control and packaging of the injured patient.",
     ["airway with cervical spine control", "haemorrhage control", "trauma team handover"], 16, 24,
     ["2211", "2212", "2221", "3258"], [{"hub": "IE-DTH"}, {"hub": "PT-CFTL"}]),
    ("TRIAGE-MCI", {"en": "Mass-casualty triage", "fr": "Triage en afflux massif de victimes",
                    "pt": "Triagem em incidentes com múltiplas vítimas"},
     "START and SALT triage, casualty clearing and communication at a mass-casualty incident.",
     ["triage categories", "casualty clearing station", "incident communication"], 8, 36,
     ["2211", "2221", "2222", "3258"], [{"hub": "FR-CSL"}, {"member_state": "BE"}]),
    ("EMLOG", {"en": "Emergency logistics", "fr": "Logistique des urgences", "pt": "Logística de emergência"},
     "Supply chains, medicines and equipment for deployments across member states.",
     ["cold chain", "deployment kits", "cross-border transport of medicines"], 6, None,
     ["2221", "2262", "3258"], [{"hub": "PT-CFTL"}, {"member_state": "PT"}]),
]
HUB_ACCOUNTS = {"IE-DTH": "hub.ie@demo.registry", "PT-CFTL": "hub.pt@demo.registry", "FR-CSL": "hub.fr@demo.registry"}


def _curricula(orgs: dict, today: date) -> None:
    """Three joint courses accredited at the three hubs, two cohorts, and ~60 completions (some expired)."""
    from registry.core.auth import Account
    from registry.people.models import Clinician

    rng = random.Random(2027)  # noqa: S311 - demo data
    courses = {}
    for code, titles, description, competencies, hours, validity, professions, owners in COURSES:
        courses[code] = curricula.create_course(
            code=code, titles=titles, fallback_language="en", description=description, competencies=competencies,
            cpd_hours=hours, validity_months=validity, professions=professions, owners=owners, actor=None)
    since = today - timedelta(days=4 * 365)
    ended = today - timedelta(days=200)  # FR-CSL no longer delivers EMLOG
    for hub_code in HUB_ACCOUNTS:
        for code, course in courses.items():
            until = ended if (hub_code, code) == ("FR-CSL", "EMLOG") else None
            curricula.grant_accreditation(course, hub=orgs[hub_code], granted_by=orgs[hub_code].member_state_code,
                                          valid_from=since, valid_until=until, actor=None)
    hub_accounts = {code: db.session.scalar(sa.select(Account).where(Account.email == email))
                    for code, email in HUB_ACCOUNTS.items()}
    clinicians = list(db.session.scalars(sa.select(Clinician).order_by(Clinician.id)))
    cohort = curricula.create_offering(
        orgs["IE-DTH"], course=courses["TRAUMA-ITLS"], starts_on=today + timedelta(days=30),
        ends_on=today + timedelta(days=32), language="en", place="Dublin, simulation suite 2", capacity=16,
        actor=hub_accounts["IE-DTH"])
    curricula.create_offering(
        orgs["PT-CFTL"], course=courses["EMLOG"], starts_on=today + timedelta(days=60),
        ends_on=today + timedelta(days=61), language="pt", place="Lisboa, Centro de Formação", capacity=20,
        actor=hub_accounts["PT-CFTL"])
    for clinician in clinicians[::8]:
        curricula.enrol(cohort, clinician, actor=hub_accounts["IE-DTH"], today=today)

    serial = 0
    recorded = []
    for k in range(60):
        clinician = clinicians[(k * 7) % len(clinicians)]
        hub_code = list(HUB_ACCOUNTS)[k % 3]
        code = rng.choice(list(courses))
        # Spread over four years: a 24-month course taken more than two years ago has expired.
        completed_on = today - timedelta(days=rng.randrange(5, 4 * 365 - 5))
        if (hub_code, code) == ("FR-CSL", "EMLOG") and completed_on > ended:
            completed_on = ended - timedelta(days=rng.randrange(1, 300))
        passed = rng.random() < 0.85
        serial += 1
        completion, _ = curricula.record_completion(
            orgs[hub_code], clinician=clinician, course=courses[code], offering=None, completed_on=completed_on,
            outcome=Outcome.PASSED if passed else Outcome.FAILED,
            score=float(rng.randrange(70, 100) if passed else rng.randrange(30, 69)), credits=None,
            reference=f"{hub_code}-{completed_on.year}-{serial:04d}", actor=hub_accounts[hub_code], today=today)
        recorded.append(completion)
    curricula.withdraw_completion(recorded[3], reason="recorded for the wrong clinician; re-entered",
                                  actor=hub_accounts[recorded[3].hub.code])


def _recognition(orgs: dict, today: date) -> None:
    """Two agreements, recognitions in every state of the queue (granted, pending, overdue, refused)."""
    from curricula.models import Course
    from registry.core.auth import Account
    from registry.licensing.models import Licence
    from registry.people.models import Clinician
    from registry.recognition import services as recognition

    recognition.create_agreement(
        code="COMPACT-NURSING-2024", title="Compact agreement on the recognition of nurses and midwives",
        states=["IE", "FR", "PT", "BE"], professions=["2221", "2222"], in_force_from=date(2024, 1, 1),
        in_force_until=None, required_courses=["TRAUMA-ITLS"], language_level="B2", adaptation_months=3,
        validity_months=36, decision_deadline_days=60, silence_is_approval=False)
    recognition.create_agreement(
        code="IE-PT-MEDICAL-2025", title="Ireland–Portugal agreement on medical practitioners",
        states=["IE", "PT"], professions=["2211", "2212"], in_force_from=date(2025, 1, 1), in_force_until=None,
        required_courses=[], language_level="B1", adaptation_months=0, validity_months=24,
        decision_deadline_days=30, silence_is_approval=True)
    boards = {code: db.session.scalar(sa.select(Account).where(Account.organisation_id == orgs[code].id))
              for code in BOARD_OF.values()}
    trauma = db.session.scalar(sa.select(Course).where(Course.code == "TRAUMA-ITLS"))
    # The first nurse of each state: a current trauma course and B2+ English, French or Portuguese.
    applicants: list[Licence] = []
    for state_code in ("PT", "FR", "IE", "BE"):
        email = CLINICIAN_ACCOUNTS[state_code]
        account = db.session.scalar(sa.select(Account).where(Account.email == email))
        clinician = db.session.get(Clinician, account.clinician_id)
        people.update_clinician(clinician, languages=[*clinician.languages,
                                                      *({"language": lang, "level": "C1"} for lang in ("en", "fr", "pt")
                                                        if lang != LANGUAGE_OF[state_code])])
        curricula.record_completion(
            orgs["IE-DTH"], clinician=clinician, course=trauma, offering=None,
            completed_on=today - timedelta(days=120), outcome=Outcome.PASSED, score=91.0, credits=None,
            reference=f"IE-DTH-RECOG-{state_code}", actor=None, today=today)
        licence = db.session.scalar(sa.select(Licence).where(Licence.clinician_id == clinician.id))
        applicants.append(licence)
    pt_licence, fr_licence, ie_licence, be_licence = applicants
    # Maria Silva (PT) recognised in Ireland; Camille Martin (FR) waiting in Portugal, overdue;
    # Aoife Murphy (IE) refused in France; Lotte Peeters (BE) just applied in Ireland.
    granted = recognition.apply(pt_licence, "IE", actor=None, today=today - timedelta(days=90))
    recognition.grant(granted, decided_on=today - timedelta(days=70), conditions=None, actor=boards["IE-HPB"])
    recognition.apply(fr_licence, "PT", actor=None, today=today - timedelta(days=75))
    refused = recognition.apply(ie_licence, "FR", actor=None, today=today - timedelta(days=40))
    recognition.refuse(refused, decided_on=today - timedelta(days=12),
                       reason="proof of B2 French not supplied", actor=boards["FR-CNPS"])
    recognition.apply(be_licence, "IE", actor=None, today=today - timedelta(days=3))


def _mobility(orgs: dict, today: date) -> None:
    """An open nursing exchange and a handful of secondments: Maria Silva (PT) active in Ireland under the
    programme after a completed one, a French nurse who also holds an Irish licence approved for next month
    (and a return stay awaiting approval), and Aoife Murphy (IE) proposed for France, whose approval is refused
    (she has no recognition there)."""
    from registry.core.auth import Account
    from registry.licensing.models import Licence
    from registry.mobility import services as mobility
    from registry.mobility.models import ProgrammeStatus
    from registry.people.models import Clinician
    from registry.recognition.services import ConditionsUnmet

    boards = {code: db.session.scalar(sa.select(Account).where(Account.organisation_id == orgs[code].id))
              for code in BOARD_OF.values()}
    programme = mobility.create_programme(
        code="COMPACT-NURSE-EXCHANGE", name="Compact nursing exchange", coordinating_state="IE",
        states=["IE", "FR", "PT", "BE"], professions=["2221", "2222"], starts_on=today - timedelta(days=120),
        ends_on=today + timedelta(days=545), capacity=6, capacity_by_host={"IE": 3, "PT": 2},
        required_courses=["TRAUMA-ITLS"], recognition_required=True, status=ProgrammeStatus.OPEN)

    def clinician_of(state: str) -> Clinician:
        account = db.session.scalar(sa.select(Account).where(Account.email == CLINICIAN_ACCOUNTS[state]))
        return db.session.get(Clinician, account.clinician_id)

    def active_until(licence: Licence) -> date:
        state = licensing.state_on(licence, today)
        return state.valid_until or today + timedelta(days=5 * 365)

    maria = clinician_of("PT")
    licence = mobility.home_licence_for(maria, "2221", today)
    last_day = min(today + timedelta(days=120), active_until(licence))
    if licensing.state_on(licence, today).status.value == "active" and last_day > today:
        earlier = mobility.propose(
            clinician=maria, profession_code="2221", host_state_code="IE", host_institution="St James's Hospital",
            supervisor="Ms Niamh Kelly, clinical nurse manager", starts_on=today - timedelta(days=69),
            ends_on=today - timedelta(days=40), programme=None, actor=None, today=today - timedelta(days=69))
        mobility.approve(earlier, decided_on=today - timedelta(days=69), actor=boards["IE-HPB"])
        current = mobility.propose(
            clinician=maria, profession_code="2221", host_state_code="IE",
            host_institution="Mater Misericordiae University Hospital", supervisor="Dr Ciara Byrne",
            starts_on=today - timedelta(days=30), ends_on=last_day, programme=programme, actor=None,
            today=today - timedelta(days=38))
        mobility.approve(current, decided_on=today - timedelta(days=35), actor=boards["IE-HPB"])

    # A French nurse who also holds an Irish licence: no recognition needed for a secondment without programme.
    for clinician in db.session.scalars(sa.select(Clinician).where(Clinician.home_state_code == "FR")
                                        .order_by(Clinician.id)):
        home = db.session.scalar(sa.select(Licence).where(Licence.clinician_id == clinician.id))
        if licensing.state_on(home, today).status.value != "active" or active_until(home) < today + timedelta(
                days=220):
            continue
        licensing.issue_licence(
            board=orgs["IE-HPB"], clinician=clinician, profession_code=home.profession_code,
            number=f"IE-{home.profession_code}-7001", decided_on=today - timedelta(days=30),
            valid_from=today - timedelta(days=30), valid_until=today + timedelta(days=3 * 365),
            actor=boards["IE-HPB"], today=today)
        approved = mobility.propose(
            clinician=clinician, profession_code=home.profession_code, host_state_code="IE",
            host_institution="Cork University Hospital", supervisor="Mr Seán Walsh", programme=None,
            starts_on=today + timedelta(days=30), ends_on=today + timedelta(days=210), actor=None, today=today)
        mobility.approve(approved, decided_on=today, actor=boards["IE-HPB"])
        # A return stay, proposed and awaiting the Irish board: every condition holds, so it can be approved.
        mobility.propose(
            clinician=clinician, profession_code=home.profession_code, host_state_code="IE",
            host_institution="Cork University Hospital", supervisor="Mr Seán Walsh", programme=None,
            starts_on=today + timedelta(days=212), ends_on=min(today + timedelta(days=240), active_until(home)),
            actor=None, today=today)
        break

    aoife = clinician_of("IE")
    proposal = mobility.propose(
        clinician=aoife, profession_code="2221", host_state_code="FR", host_institution="Hospices Civils de Lyon",
        supervisor="Mme Camille Bernard", starts_on=today + timedelta(days=60), ends_on=today + timedelta(days=150),
        programme=programme, actor=None, today=today)
    try:
        mobility.approve(proposal, decided_on=today, actor=boards["FR-CNPS"])
    except ConditionsUnmet:
        pass  # refused: nothing is recorded, the proposal waits in the French board's queue
