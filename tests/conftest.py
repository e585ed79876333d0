"""Fixtures: one app per database backend, schema built by the real migrations, tables emptied per test.

Every test runs on SQLite; when REGISTRY_TEST_DATABASE_URL names a PostgreSQL database it runs
there too (the test id says which). With REGISTRY_TEST_REQUIRE_POSTGRES=1 an unreachable
PostgreSQL fails the run instead of skipping it.
"""

from __future__ import annotations

import itertools
import os
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask_migrate import upgrade

from registry.app import create_app
from registry.core.auth import Account, Role, issue_access_token
from registry.core.db import db

PG_URL = os.environ.get("REGISTRY_TEST_DATABASE_URL", "")
REQUIRE_PG = os.environ.get("REGISTRY_TEST_REQUIRE_POSTGRES") == "1"
# Seeded by the migrations; kept between tests.
# trust_list_version: its one row is made by the migration and kept up by triggers, never by the code.
REFERENCE_TABLES = {"professions", "alembic_version", "trust_list_version"}


def _backends() -> list[str]:
    return ["sqlite", "postgresql"] if PG_URL else ["sqlite"]


def _reset_postgres(url: str) -> None:
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("DROP SCHEMA IF EXISTS public CASCADE"))
            conn.execute(sa.text("CREATE SCHEMA public"))
    except sa.exc.OperationalError as exc:
        if REQUIRE_PG:
            pytest.fail(f"PostgreSQL at {url} is unreachable and REGISTRY_TEST_REQUIRE_POSTGRES=1: {exc}")
        pytest.skip(f"PostgreSQL unreachable: {exc}")
    finally:
        engine.dispose()


def make_test_app(url: str, **settings: Any) -> Flask:
    return create_app(
        {
            "TESTING": True,
            "ENV_NAME": "test",
            "SQLALCHEMY_DATABASE_URI": url,
            "BASE_URL": "http://registry.test",
            **settings,
        }
    )


@pytest.fixture(scope="session", params=_backends())
def backend(request, tmp_path_factory) -> tuple[str, str]:
    """(name, url) of a database whose schema was built by `registry db upgrade`."""
    if request.param == "sqlite":
        url = "sqlite:///" + str(tmp_path_factory.mktemp("db") / "registry.db")
    else:
        url = PG_URL
        _reset_postgres(url)
    app = make_test_app(url)
    with app.app_context():
        upgrade()
        db.engine.dispose()
    return request.param, url


@pytest.fixture(scope="session")
def app(backend):
    app = make_test_app(backend[1])
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture(autouse=True)
def _clean_tables(request):
    """Empty every table after each test that used the database."""
    yield
    if "app" not in request.fixturenames:
        return
    app = request.getfixturevalue("app")
    from certificates.services import forget_cached_lists

    forget_cached_lists()  # ids are reused once the tables are emptied
    with app.app_context():
        db.session.remove()
        tables = [t for t in db.metadata.sorted_tables if t.name not in REFERENCE_TABLES]
        with db.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                names = ", ".join(t.name for t in tables)
                conn.execute(sa.text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
            else:
                for table in reversed(tables):
                    conn.execute(table.delete())


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def ctx(app):
    """An application context for calling services and reading the database directly."""
    with app.app_context():
        yield
        db.session.remove()


def auth(account: Account) -> dict[str, str]:
    token, _ = issue_access_token(account)
    return {"Authorization": f"Bearer {token}"}


_seq = itertools.count(1)


@dataclass
class World:
    """A small compact: three states, boards, hubs, the secretariat, one account per role, one licensed clinician."""

    app: Flask
    orgs: dict[str, Any] = field(default_factory=dict)
    accounts: dict[str, Account] = field(default_factory=dict)
    headers: dict[str, dict[str, str]] = field(default_factory=dict)
    clinician: Any = None
    other_clinician: Any = None
    licence: Any = None
    today: date = field(default_factory=date.today)

    def h(self, who: str) -> dict[str, str]:
        return self.headers.get(who, {})

    def make_clinician(self, home: str = "IE", **overrides: Any):
        from registry.people import services as people

        n = next(_seq)
        data = {
            "family_name": f"Tester{n}",
            "given_names": "Alex",
            "native_name": None,
            "date_of_birth": date(1985, 1, 1) + timedelta(days=n),
            "sex": "female",
            "nationality": home,
            "home_state_code": home,
            "languages": [{"language": "en", "level": "C1"}],
            "email": None,
        }
        data.update(overrides)
        from registry.people.models import Sex

        data["sex"] = Sex(data["sex"])
        with self.app.app_context():
            clinician = people.create_clinician(today=self.today, **data)
            db.session.commit()
            db.session.refresh(clinician)
            db.session.expunge(clinician)
        return clinician

    def make_licence(self, clinician, board: str = "IE-B", *, profession: str = "2221",
                     issued: date | None = None, valid_until: date | None = None, number: str | None = None):
        from registry.licensing import services as licensing
        from registry.people import services as people

        issued = issued or self.today - timedelta(days=365)
        with self.app.app_context():
            licence = licensing.issue_licence(
                board=people.get_organisation(board),
                clinician=people.get_clinician(clinician.registry_number),
                profession_code=profession,
                number=number or f"L{next(_seq):06d}",
                decided_on=issued,
                valid_from=issued,
                valid_until=valid_until,
                actor=None,
                today=self.today,
            )
            db.session.commit()
            licence_id = licence.id
        return licence_id


@pytest.fixture
def world(app) -> World:
    from registry.people import services as people
    from registry.people.models import OrganisationKind

    w = World(app=app)
    with app.app_context():
        for code, name, langs in [("IE", "Ireland", ["en", "ga"]), ("FR", "France", ["fr"]),
                                  ("PT", "Portugal", ["pt"])]:
            people.create_state(code=code, name=name, official_languages=langs, joined_on=date(2020, 1, 1))
        for code, kind, state in [
            ("SEC", OrganisationKind.SECRETARIAT, "IE"),
            ("IE-B", OrganisationKind.LICENSING_BOARD, "IE"),
            ("IE-B2", OrganisationKind.LICENSING_BOARD, "IE"),
            ("FR-B", OrganisationKind.LICENSING_BOARD, "FR"),
            ("PT-B", OrganisationKind.LICENSING_BOARD, "PT"),
            ("IE-HUB", OrganisationKind.TRAINING_HUB, "IE"),
            ("PT-HUB", OrganisationKind.TRAINING_HUB, "PT"),
        ]:
            w.orgs[code] = people.create_organisation(code=code, name=f"{code} organisation", kind=kind,
                                                      member_state_code=state, language="en")
        roles = {
            "secretariat": (Role.SECRETARIAT_ADMIN, "SEC"),
            "board_ie": (Role.BOARD_OFFICER, "IE-B"),
            "board_ie2": (Role.BOARD_OFFICER, "IE-B2"),
            "board_fr": (Role.BOARD_OFFICER, "FR-B"),
            "board_pt": (Role.BOARD_OFFICER, "PT-B"),
            "hub_ie": (Role.HUB_OFFICER, "IE-HUB"),
            "hub_pt": (Role.HUB_OFFICER, "PT-HUB"),
        }
        for key, (role, org) in roles.items():
            account = Account(email=f"{key}@test.example", display_name=key, role=role, organisation=w.orgs[org])
            db.session.add(account)
            w.accounts[key] = account
        db.session.commit()
        account_ids = {key: account.id for key, account in w.accounts.items()}
        for org in w.orgs.values():  # loaded now, readable after this session closes
            db.session.refresh(org)
    w.clinician = w.make_clinician("IE", family_name="Byrne", given_names="Siobhán")
    w.other_clinician = w.make_clinician("IE", family_name="Walsh", given_names="Conor")
    w.licence = w.make_licence(w.clinician, "IE-B", number="IE-2221-0001")
    with app.app_context():
        for key, clinician in [("clinician", w.clinician), ("other_clinician", w.other_clinician)]:
            account = Account(email=f"{key}@test.example", display_name=key, role=Role.CLINICIAN,
                              clinician_id=clinician.id)
            db.session.add(account)
            db.session.flush()
            account_ids[key] = account.id
        db.session.commit()
    with app.app_context():
        for key, account_id in account_ids.items():
            account = db.session.get(Account, account_id)
            w.headers[key] = auth(account)
            w.accounts[key] = account
            db.session.expunge(account)
    w.headers["anonymous"] = {}
    return w


def count(app: Flask, table: str) -> int:
    """Rows in a table, read outside any request: what was or was not written."""
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(db.metadata.tables[table]))


def audit_count(app: Flask) -> int:
    return count(app, "audit_events")


def problem(response) -> dict[str, Any]:
    """Assert an RFC 9457 body and return it."""
    assert response.mimetype == "application/problem+json", response.get_data(as_text=True)
    body = response.get_json()
    assert body["status"] == response.status_code
    assert body["type"].startswith("https://") and body["title"]
    return body
