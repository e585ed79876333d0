"""The audit chain: every write is recorded; `registry audit verify` names tampering; writers keep one line."""

import threading
from datetime import date

import sqlalchemy as sa

from registry.core.audit import AuditEvent
from registry.core.db import db
from tests.conftest import audit_count


def clinician_body(n: int) -> dict:
    return {"family_name": f"Concurrent{n}", "given_names": "Pat", "date_of_birth": "1980-05-0" + str(1 + n % 9),
            "sex": "male", "nationality": "IE", "home_state_code": "IE"}


def events(app) -> list[AuditEvent]:
    with app.app_context():
        rows = db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.seq)).all()
        for row in rows:
            db.session.expunge(row)
        return rows


def test_write_records_actor_object_changes_and_request_id(client, world, app):
    before = audit_count(app)
    r = client.post(f"/api/v1/licences/{world.licence}/events", headers=world.h("board_ie") | {
        "X-Request-ID": "req-0123456789"}, json={"action": "suspend", "decided_on": date.today().isoformat(),
                                                 "reason": "inquiry"})
    assert r.status_code == 201
    assert r.headers["X-Request-ID"] == "req-0123456789"
    # The suspension and the alert it raises to the other member states, in one transaction.
    recorded = events(app)[before:]
    assert [e.action for e in recorded] == ["licence.suspend", "alert.raise"]
    last = recorded[0]
    assert recorded[1].request_id == "req-0123456789"
    assert last.object_type == "licence" and last.object_id == str(world.licence)
    assert last.actor_id == world.accounts["board_ie"].id
    assert last.request_id == "req-0123456789"
    assert last.changes["status"] == ["active", "suspended"] and last.changes["reason"] == "inquiry"


def test_verify_passes_then_names_edited_deleted_and_reordered_events(runner, world, app):
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output
    rows = events(app)
    assert f"audit chain intact: {len(rows)} events" in result.output
    original_action = rows[2].action

    with app.app_context():  # edit the content of event 3
        db.session.execute(sa.update(AuditEvent).where(AuditEvent.seq == 3).values(action="licence.tampered"))
        db.session.commit()
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert "event 3: content does not match its hash (edited)" in result.output

    with app.app_context():  # restore, then delete event 5
        db.session.execute(sa.update(AuditEvent).where(AuditEvent.seq == 3).values(action=original_action))
        db.session.commit()
    assert runner.invoke(args=["audit", "verify"]).exit_code == 0
    with app.app_context():
        db.session.execute(sa.delete(AuditEvent).where(AuditEvent.seq == 5))
        db.session.commit()
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert "event 6: events 5..5 are missing (deleted)" in result.output


def test_verify_detects_reordering(runner, world, app):
    rows = events(app)
    a, b = rows[1], rows[2]
    fields = ["occurred_at", "actor_id", "actor_label", "action", "object_type", "object_id", "changes",
              "request_id", "prev_hash", "hash"]
    with app.app_context():  # swap the contents of positions 2 and 3
        db.session.execute(sa.update(AuditEvent).where(AuditEvent.seq == a.seq)
                           .values(prev_hash="x" * 64, hash="y" * 64))
        db.session.execute(sa.update(AuditEvent).where(AuditEvent.seq == b.seq)
                           .values(**{f: getattr(a, f) for f in fields}))
        db.session.execute(sa.update(AuditEvent).where(AuditEvent.seq == a.seq)
                           .values(**{f: getattr(b, f) for f in fields}))
        db.session.commit()
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert f"event {a.seq}:" in result.output and "reordered" in result.output


def test_chain_stays_one_line_under_concurrent_writers(app, world):
    """Eight clients write at once; every write lands and the chain has no fork or gap."""
    before = audit_count(app)
    statuses: list[int] = []
    lock = threading.Lock()
    barrier = threading.Barrier(8)

    def writer(worker: int) -> None:
        client = app.test_client()
        barrier.wait()
        for i in range(5):
            r = client.post("/api/v1/clinicians", headers=world.h("board_ie"), json=clinician_body(worker * 10 + i))
            with lock:
                statuses.append(r.status_code)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert statuses == [201] * 40
    rows = events(app)
    assert len(rows) == before + 40
    assert [r.seq for r in rows] == list(range(1, len(rows) + 1))
    assert all(rows[i].prev_hash == rows[i - 1].hash for i in range(1, len(rows)))
    result = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output


def test_standing_read_is_logged_as_access_not_as_a_change(client, world, app):
    from tests.conftest import count

    before_audit, before_access = audit_count(app), count(app, "access_log")
    r = client.get(f"/api/v1/clinicians/{world.clinician.registry_number}/standing", headers=world.h("board_fr"))
    assert r.status_code == 200
    assert count(app, "access_log") == before_access + 1
    assert audit_count(app) == before_audit
