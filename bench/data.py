"""Scratch registries for benchmarks: schema from the real migrations, reference rows and an officer through the
services, then clinicians bulk-inserted with SQLAlchemy Core (one licence and one issue event each).

SQLite by default (a file in a temporary directory). With REGISTRY_BENCH_DATABASE_URL set to a PostgreSQL
database, its schema `public` is dropped and recreated at the first use, and each scratch registry lives in its
own schema of that database (`bench_<name>`, reached through search_path), dropped again at the end.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

from bench.load import LOCALHOST, Client
from bench.server import BIN, PROJECT_ROOT, registry_env

BENCH_URL_ENV = "REGISTRY_BENCH_DATABASE_URL"
OFFICER_EMAIL = "officer.ie@bench.registry"
OFFICER_PASSWORD = "bench-password-2026"
BATCH = 5_000

STATES = [("IE", "Ireland", ["en", "ga"]), ("FR", "France", ["fr"]), ("PT", "Portugal", ["pt"]),
          ("BE", "Belgium", ["nl", "fr", "de"])]
BOARDS = {"IE": "IE-HPB", "FR": "FR-CNPS", "PT": "PT-OPS", "BE": "BE-CFPS"}
LANGUAGE_OF = {"IE": "en", "FR": "fr", "PT": "pt", "BE": "nl"}
FAMILY = ["Murphy", "Kelly", "Walsh", "Martin", "Bernard", "Dubois", "Silva", "Santos", "Costa", "Peeters",
          "Janssens", "Maes", "O'Brien", "Leroy", "Gomes", "Wouters"]
GIVEN = ["Aoife", "Ciara", "Seán", "Camille", "Léa", "Hugo", "Maria", "João", "Inês", "Lotte", "Noah", "Emma",
         "Conor", "Théo", "Rui", "Julie"]
PROFESSIONS = ["2211", "2212", "2221", "2221", "2221", "2222", "2262", "2264", "3258"]


def backend_url() -> str | None:
    return os.environ.get(BENCH_URL_ENV) or None


def backend_name() -> str:
    url = backend_url()
    return sa.engine.make_url(url).get_backend_name() if url else "sqlite"


@dataclass
class ScratchRegistry:
    """A migrated registry database with reference rows, one board officer and `len(numbers)` clinicians."""

    url: str
    numbers: list[str] = field(default_factory=list)
    officer_email: str = OFFICER_EMAIL
    officer_password: str = OFFICER_PASSWORD

    @property
    def clinicians(self) -> int:
        return len(self.numbers)

    def migrate(self) -> None:
        """`registry db upgrade`, exactly as an operator runs it."""
        done = subprocess.run([str(BIN / "registry"), "db", "upgrade"], cwd=PROJECT_ROOT,
                              env=registry_env(self.url), capture_output=True, text=True, timeout=300, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"registry db upgrade failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")

    def seed(self) -> None:
        """Member states, boards, the secretariat and one board officer, through the services (audited)."""
        from flask import g

        from registry.accounts.services import create_account
        from registry.app import create_app
        from registry.core.auth import Role
        from registry.core.db import db
        from registry.people import services as people
        from registry.people.models import OrganisationKind

        app = create_app({"SQLALCHEMY_DATABASE_URI": self.url, "ENV_NAME": "development"})
        with app.app_context():
            g.cli_actor = "bench:seed"
            for code, name, languages in STATES:
                people.create_state(code=code, name=name, official_languages=languages, joined_on=date(2024, 1, 1))
            people.create_organisation(code="COMPACT-SEC", name="Compact secretariat",
                                       kind=OrganisationKind.SECRETARIAT, member_state_code="BE", language="en")
            boards = {}
            for state, code in BOARDS.items():
                boards[state] = people.create_organisation(code=code, name=f"Licensing board {state}",
                                                           kind=OrganisationKind.LICENSING_BOARD,
                                                           member_state_code=state, language=LANGUAGE_OF[state])
            create_account(email=self.officer_email, display_name="Bench officer", role=Role.BOARD_OFFICER,
                           password=self.officer_password, organisation=boards["IE"])
            db.session.commit()
            db.session.remove()
            db.engine.dispose()

    def grow(self, total: int, *, seed: int = 2026) -> float:
        """Bulk-insert clinicians (each with one licence and its issue event) until there are `total`.

        Returns the seconds the inserts took.
        """
        from registry.licensing.models import Licence, LicenceAction, LicenceEvent
        from registry.people.models import Clinician, Sex, name_key
        from registry.people.numbers import new_registry_number

        if total <= self.clinicians:
            return 0.0
        rng = random.Random(seed + self.clinicians)  # noqa: S311 - synthetic names, not secrets
        today = date.today()
        now = datetime.now(UTC)
        engine = sa.create_engine(self.url)
        clinicians_t, licences_t, events_t = Clinician.__table__, Licence.__table__, LicenceEvent.__table__
        keys: dict[tuple[str, str], str] = {}
        states = list(BOARDS)
        began = datetime.now(UTC)
        try:
            with engine.connect() as conn:
                boards = dict(conn.execute(sa.text("SELECT member_state_code, id FROM organisations "
                                                   "WHERE kind = 'licensing_board'")).all())
                officer_id = conn.execute(sa.text("SELECT id FROM accounts WHERE email = :e"),
                                          {"e": self.officer_email}).scalar_one()
                taken = set(conn.execute(sa.select(clinicians_t.c.registry_number)).scalars())
                next_ids = [conn.execute(sa.select(sa.func.coalesce(sa.func.max(t.c.id), 0))).scalar_one() + 1
                            for t in (clinicians_t, licences_t, events_t)]
            clinician_id, licence_id, event_id = next_ids
            while self.clinicians < total:
                clinicians, licences, events = [], [], []
                for _ in range(min(BATCH, total - self.clinicians - len(clinicians))):
                    number = new_registry_number()
                    while number in taken:
                        number = new_registry_number()
                    taken.add(number)
                    state = rng.choice(states)
                    family, given = rng.choice(FAMILY), rng.choice(GIVEN)
                    if (family, given) not in keys:
                        keys[family, given] = name_key(family, given)
                    clinicians.append({
                        "id": clinician_id, "registry_number": number, "family_name": family, "given_names": given,
                        "native_name": None, "name_key": keys[family, given],
                        "date_of_birth": date(1960, 1, 1) + timedelta(days=rng.randrange(0, 14000)),
                        "sex": rng.choice([Sex.FEMALE, Sex.MALE]), "nationality": state, "home_state_code": state,
                        "languages": [{"language": LANGUAGE_OF[state], "level": "native"}], "email": None,
                        "created_at": now,
                    })
                    profession = rng.choice(PROFESSIONS)
                    issued = today - timedelta(days=rng.randrange(30, 1500))
                    licences.append({"id": licence_id, "number": f"{state}-{profession}-{licence_id:07d}",
                                     "board_id": boards[state], "clinician_id": clinician_id,
                                     "profession_code": profession, "created_at": now})
                    events.append({"id": event_id, "licence_id": licence_id, "action": LicenceAction.ISSUE,
                                   "decided_on": issued, "effective_on": issued,
                                   "valid_until": issued + timedelta(days=5 * 365), "scope": None, "reason": None,
                                   "actor_id": officer_id, "recorded_at": now})
                    clinician_id, licence_id, event_id = clinician_id + 1, licence_id + 1, event_id + 1
                with engine.begin() as conn:
                    conn.execute(clinicians_t.insert(), clinicians)
                    conn.execute(licences_t.insert(), licences)
                    conn.execute(events_t.insert(), events)
                self.numbers.extend(row["registry_number"] for row in clinicians)
            seconds = (datetime.now(UTC) - began).total_seconds()
            with engine.begin() as conn:
                if engine.dialect.name == "postgresql":
                    # Explicit ids leave the sequences behind; later inserts through the ORM must not collide.
                    for table in ("clinicians", "licences", "licence_events"):
                        conn.execute(sa.text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
                                             f"(SELECT max(id) FROM {table}))"))
            # Planner statistics, as a database that has lived with its data would have them.
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(sa.text("ANALYZE"))
        finally:
            engine.dispose()
        return seconds

    def count(self) -> int:
        engine = sa.create_engine(self.url)
        try:
            with engine.connect() as conn:
                return conn.execute(sa.text("SELECT count(*) FROM clinicians")).scalar_one()
        finally:
            engine.dispose()


_reset_done: set[str] = set()


def _postgres_admin(url: str, statements: list[str]) -> None:
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            for statement in statements:
                conn.execute(sa.text(statement))
    finally:
        engine.dispose()


@contextlib.contextmanager
def scratch_url(name: str) -> Iterator[str]:
    """A database URL nobody else uses, empty; removed afterwards."""
    if not name.isidentifier() or not name.islower():
        raise ValueError(f"scratch names are lower-case identifiers: {name!r}")
    base = backend_url()
    if base is None:
        with tempfile.TemporaryDirectory(prefix="registry-bench-") as tmp:
            yield "sqlite:///" + str(Path(tmp) / f"{name}.db")
        return
    url = sa.engine.make_url(base)
    if url.get_backend_name() != "postgresql":
        raise SystemExit(f"{BENCH_URL_ENV} must name a PostgreSQL database (or be unset for SQLite)")
    if base not in _reset_done:
        _postgres_admin(base, ["DROP SCHEMA IF EXISTS public CASCADE", "CREATE SCHEMA public"])
        _reset_done.add(base)
    schema = f"bench_{name}"
    _postgres_admin(base, [f"DROP SCHEMA IF EXISTS {schema} CASCADE", f"CREATE SCHEMA {schema}"])
    scoped = url.update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield scoped.render_as_string(hide_password=False)
    finally:
        _postgres_admin(base, [f"DROP SCHEMA IF EXISTS {schema} CASCADE"])


@contextlib.contextmanager
def scratch_registry(name: str, clinicians: int) -> Iterator[ScratchRegistry]:
    """A migrated, seeded registry with `clinicians` clinicians."""
    with scratch_url(name) as url:
        registry = ScratchRegistry(url)
        registry.migrate()
        registry.seed()
        registry.grow(clinicians)
        yield registry


def bearer_token(port: int, email: str, password: str) -> str:
    """POST /api/v1/auth/token on the server under test."""
    client = Client(LOCALHOST, port)
    try:
        body = json.dumps({"email": email, "password": password})
        client.conn.request("POST", "/api/v1/auth/token", body=body, headers={"Content-Type": "application/json"})
        response = client.conn.getresponse()
        payload = response.read()
    finally:
        client.close()
    if response.status != 200:
        raise RuntimeError(f"sign-in failed: {response.status} {payload[:300]!r}")
    return json.loads(payload)["access_token"]
