"""Prepared reads return exactly what SQLAlchemy returns, and read-only requests log through their own connection."""

from __future__ import annotations

import sqlite3
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from certificates import services as certificate_services
from registry.core.audit import AccessLog
from registry.core.auth import Account
from registry.core.db import db, utcnow
from registry.core.prepared import fetch_all, fetch_first
from registry.people import services as people_services
from registry.people.models import Clinician
from registry.recognition import practise
from registry.standing import read

HOT_STATEMENTS = {
    "standing clinician": read._CLINICIAN,
    "standing licences": read._LICENCES,
    "standing recognitions": read._RECOGNITIONS,
    "standing alerts": read._ALERTS,
    "standing completions": read._COMPLETIONS,
    "standing certificates": read._CERTIFICATES,
    "standing secondments": read._SECONDMENTS,
    "practise licences": practise._LICENCE_EVENTS,
    "practise recognitions": practise._RECOGNITION_EVENTS,
    "practise alerts": practise._OPEN_ALERTS,
    "clinician ref": people_services._CLINICIAN_REF,
    "trust list version": certificate_services._TRUST_VERSION,
    "certificate ref": certificate_services._CERTIFICATE_REF,
    "certificate pdf": certificate_services._PDF,
}


@pytest.fixture
def demo(app):
    """The demo data (every kind of record: recognitions, alerts, completions, certificates, secondments)."""
    from registry.demo import load_demo

    with app.app_context():
        assert load_demo(clinicians_per_state=9)  # 9 gives licences suspended, restricted, reinstated
        db.session.commit()
    yield app


def _params_for(number: str, clinician_id: int, credential_id: str | None, certificate_id: int) -> list[dict]:
    today = date.today()
    return [
        {"number": number, "clinician_id": clinician_id, "day": day, "state": state, "profession": profession,
         "credential_id": credential_id or "urn:uuid:none", "certificate_id": certificate_id}
        for day in (today, today - timedelta(days=400), today + timedelta(days=200))
        for state, profession in (("PT", "2221"), ("IE", "2221"), ("FR", "2222"))
    ]


def test_every_hot_statement_matches_sqlalchemy_on_every_clinician(demo):
    """Each prepared statement gives the same rows, values and types as session.execute (the processors run)."""
    compared = {name: 0 for name in HOT_STATEMENTS}
    with demo.app_context():
        clinicians = db.session.execute(sa.select(Clinician.id, Clinician.registry_number)).all()
        credentials = dict(db.session.execute(sa.text("SELECT clinician_id, credential_id FROM certificates")).all())
        certificate_ids = dict(db.session.execute(sa.text("SELECT clinician_id, id FROM certificates")).all())
        assert len(clinicians) >= 12 and credentials, "the demo should hold clinicians and certificates"
        binds = {name: set(statement.compile().binds) for name, statement in HOT_STATEMENTS.items()}
        for clinician_id, number in clinicians:
            for params in _params_for(number, clinician_id, credentials.get(clinician_id),
                                      certificate_ids.get(clinician_id, 0)):
                for name, statement in HOT_STATEMENTS.items():
                    needed = {k: v for k, v in params.items() if k in binds[name]}
                    expected = [tuple(row) for row in db.session.execute(statement, needed)]
                    got = fetch_all(statement, needed)
                    assert [tuple(row) for row in got] == expected, name
                    assert [type(v) for row in got for v in row] == [type(v) for row in expected for v in row], name
                    if expected:
                        assert got[0]._mapping == dict(db.session.execute(statement, needed).first()._mapping)
                        compared[name] += len(expected)
                    first = fetch_first(statement, needed)
                    assert (tuple(first) if first else None) == (expected[0] if expected else None)
    # Every statement was compared on real rows, not only on empty results.
    assert all(compared.values()), {name: n for name, n in compared.items() if not n}


def _idle(app) -> list:
    return app.extensions["registry_idle_reads"].idle


def _in_transaction(raw) -> bool:
    """Whether a DBAPI connection (sqlite3 or psycopg) is inside a transaction."""
    if isinstance(raw, sqlite3.Connection):
        return raw.in_transaction
    from psycopg import pq

    return raw.info.transaction_status != pq.TransactionStatus.IDLE


def _closed(raw) -> bool:
    if isinstance(raw, sqlite3.Connection):
        try:
            raw.execute("SELECT 1")
        except sqlite3.ProgrammingError:
            return True
        return False
    return raw.closed


def test_read_only_requests_log_one_row_each_and_share_one_idle_connection(app, world):
    """Three standing reads: three log rows; one connection served them all, and between requests it waits
    outside any transaction (no lock, no snapshot held); nothing else stays checked out of the pool."""
    officer = world.accounts["board_ie"]
    number, clinician_id = world.clinician.registry_number, world.clinician.id
    with app.app_context():
        pool = db.engine.pool
    served = []
    for _ in range(3):
        r = app.test_client().get(f"/api/v1/clinicians/{number}/standing", headers=world.h("board_ie"))
        assert r.status_code == 200, r.get_data(as_text=True)
        assert r.json["clinician"]["registry_number"] == number
        served.append(_idle(app)[-1][0].driver_connection)
    assert served[0] is served[1] is served[2]
    assert not any(_in_transaction(pooled.driver_connection) for pooled, _since, _generation in _idle(app))
    with app.app_context():
        rows = db.session.execute(sa.select(AccessLog.actor_id, AccessLog.organisation_id, AccessLog.what)
                                  .where(AccessLog.clinician_id == clinician_id)).all()
        organisation_id = db.session.get(Account, officer.id).organisation_id
        assert rows == [(officer.id, organisation_id, "standing")] * 3
        db.session.remove()
    assert pool.checkedout() == len(_idle(app))


def test_disposing_of_the_engine_closes_the_idle_read_connections(app, world):
    """As after restoring a database: the idle connections are closed, and the next read opens a new one."""
    path = f"/api/v1/clinicians/{world.clinician.registry_number}/standing"
    assert app.test_client().get(path, headers=world.h("board_ie")).status_code == 200
    idle = [pooled.driver_connection for pooled, _since, _generation in _idle(app)]
    assert idle
    with app.app_context():
        db.engine.dispose()
    assert _idle(app) == [] and all(_closed(raw) for raw in idle)
    assert app.test_client().get(path, headers=world.h("board_ie")).status_code == 200
    assert len(_idle(app)) == 1 and _idle(app)[0][0].driver_connection not in idle


def test_a_connection_taken_before_the_engine_was_disposed_of_is_closed_when_it_comes_back(app):
    """A request reading while the engine is disposed of (a restored database) gives back a connection of the old
    pool: it is closed, not kept for the next request."""
    with app.app_context():
        reads, engine = app.extensions["registry_idle_reads"], db.engine
        ticket = reads.take(engine)
        raw = ticket[0].driver_connection
        engine.dispose()
        reads.give_back(*ticket)
        assert reads.idle == [] and _closed(raw)
        fresh = reads.take(engine)
        assert fresh[0].driver_connection is not raw and not _closed(fresh[0].driver_connection)
        reads.give_back(*fresh)
        assert len(reads.idle) == 1


def test_a_read_connection_that_cannot_end_its_transaction_is_discarded(app, caplog):
    with app.app_context():
        reads, pool = app.extensions["registry_idle_reads"], db.engine.pool
        pooled, since, generation = reads.take(db.engine)
        kept = list(reads.idle)
        checked_out = pool.checkedout()
        pooled.driver_connection.close()  # its rollback now fails, as a dropped link's would
        reads.give_back(pooled, since, generation)
        assert reads.idle == kept and pool.checkedout() == checked_out - 1
        assert "discarded" in caplog.text


@pytest.mark.parametrize("independent", [False, True])
def test_a_read_connection_that_fails_at_its_first_use_still_goes_back(app, world, independent, caplog):
    """A connection dropped while it waited idle fails when the next request starts its read (SQLite's BEGIN,
    PostgreSQL's switch to autocommit, or the read itself): that request fails, and at its end the connection is
    discarded, not left checked out of the pool."""
    from registry.core.db import expect_writes
    from registry.core.prepared import independent_reads, release_read_connection

    with app.app_context():
        reads, pool = app.extensions["registry_idle_reads"], db.engine.pool
        pooled, since, generation = reads.take(db.engine)
        pooled.driver_connection.close()  # as a dropped link would leave it
        reads.idle.append((pooled, since, generation))
        checked_out = pool.checkedout()
    with app.test_request_context("/", method="GET"):
        expect_writes(False)
        if independent:
            independent_reads()
        with pytest.raises(Exception):  # noqa: B017 - the driver's own error for a closed connection
            fetch_first(people_services._CLINICIAN_REF, {"number": world.clinician.registry_number})
        release_read_connection()
    assert pooled not in [entry[0] for entry in reads.idle]
    assert pool.checkedout() == checked_out - 1
    assert "discarded" in caplog.text


def test_at_most_a_few_connections_wait_and_each_goes_back_to_the_pool_in_time(app, monkeypatch):
    from registry.core import prepared

    with app.app_context():
        reads, engine = app.extensions["registry_idle_reads"], db.engine
        taken = [reads.take(engine) for _ in range(prepared._IDLE_MAX + 2)]
        for ticket in taken:
            reads.give_back(*ticket)
        assert len(reads.idle) == prepared._IDLE_MAX
        assert engine.pool.checkedout() == prepared._IDLE_MAX

        checkins: list[int] = []

        def count(*_args):
            checkins.append(1)

        sa.event.listen(engine.pool, "checkin", count)
        try:
            reads.give_back(*reads.take(engine))  # recent: no checkin
            assert checkins == []
            monkeypatch.setattr(prepared, "_IDLE_SECONDS", 0.0)
            ticket = reads.take(engine)  # every idle one is now too old: each goes back first
            assert len(checkins) == prepared._IDLE_MAX and reads.idle == []
            reads.give_back(*ticket)
        finally:
            sa.event.remove(engine.pool, "checkin", count)


def test_independent_reads_run_without_a_transaction(app, world):
    """A verification reads once: its statement runs on its own, with no BEGIN and COMMIT around it (on
    PostgreSQL in autocommit, which ends with the request). Other read-only requests read in one transaction (one
    snapshot for all their reads)."""
    from flask import g

    from registry.core.db import expect_writes
    from registry.core.prepared import independent_reads, release_read_connection

    params = {"number": world.clinician.registry_number}
    for independent in (True, False, True):
        with app.test_request_context("/", method="GET"):
            expect_writes(False)
            if independent:
                independent_reads()
            assert fetch_first(people_services._CLINICIAN_REF, params).id == world.clinician.id
            raw = g._prepared_read_connection[2]
            assert _in_transaction(raw) is not independent
            release_read_connection()
            assert not _in_transaction(raw)
            if not isinstance(raw, sqlite3.Connection):
                assert raw.autocommit is False  # what the next request and the pool expect


def test_a_log_row_after_independent_reads_is_committed(app, world):
    """After an independent read the log row commits as it goes in: another connection sees it before the
    request ends, and the connection keeps no transaction open."""
    from flask import g

    from registry.core.db import expect_writes
    from registry.core.prepared import commit_log_row, independent_reads, release_read_connection

    with app.test_request_context("/", method="GET"):
        expect_writes(False)
        independent_reads()
        fetch_first(people_services._CLINICIAN_REF, {"number": world.clinician.registry_number})
        commit_log_row(AccessLog.__table__, {"occurred_at": utcnow(), "actor_id": None, "actor_label": "test",
                                              "organisation_id": None, "clinician_id": world.clinician.id,
                                              "what": "standing", "request_id": None})
        raw = g._prepared_read_connection[2]
        assert not _in_transaction(raw)
        with db.engine.connect() as other:
            assert other.scalar(sa.select(sa.func.count()).select_from(AccessLog)) == 1
        release_read_connection()


def test_a_refused_read_writes_no_log_row(app, world):
    """A clinician asking for another clinician's standing gets 403 and no access is recorded."""
    r = app.test_client().get(f"/api/v1/clinicians/{world.clinician.registry_number}/standing",
                              headers=world.h("other_clinician"))
    assert r.status_code == 403
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AccessLog)) == 0


def test_a_write_after_reads_in_one_request_sees_the_new_row(app, world):
    """A request that writes reads through its session, so a prepared read sees what it has just flushed."""
    with app.test_request_context("/", method="POST"):
        from registry.core.db import expect_writes

        expect_writes(True)
        clinician = db.session.get(Clinician, world.clinician.id)
        clinician.family_name = "Renamed"
        db.session.flush()
        row = fetch_first(people_services._CLINICIAN_REF, {"number": world.clinician.registry_number})
        assert row.full_name.endswith("Renamed")
        db.session.rollback()
