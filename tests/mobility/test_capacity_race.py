"""The last places of a programme under concurrent approvals from several connections (PostgreSQL)."""

from __future__ import annotations

import threading

import pytest

from registry.core.db import db
from tests.conftest import count
from tests.mobility.conftest import PROGRAMME, approve, proposed

APPROVERS = 10
CAPACITY = 3


def test_concurrent_approvals_never_exceed_capacity(client, exchange, app, backend):
    if backend[0] != "postgresql":
        pytest.skip("SQLite has one writer at a time (every write transaction begins IMMEDIATE): approvals "
                    "cannot race there; the race is proven on PostgreSQL")
    world = exchange
    r = client.patch(f"/api/v1/programmes/{PROGRAMME}", headers=world.h("secretariat"),
                     json={"capacity": CAPACITY, "capacity_by_host": {}})
    assert r.status_code == 200, r.get_json()
    with app.app_context():
        from registry.mobility.models import ExchangeProgramme

        programme = db.session.query(ExchangeProgramme).filter_by(code=PROGRAMME).one()
        programme.required_courses = []
        programme.recognition_required = False
        db.session.commit()
    # Ten nurses, half going to Portugal and half to France: two host boards compete for three places.
    jobs = []
    for n in range(APPROVERS):
        clinician = world.make_clinician("IE")
        world.make_licence(clinician, "IE-B")
        host, board = ("PT", "board_pt") if n % 2 == 0 else ("FR", "board_fr")
        jobs.append((proposed(client, world, who="board_ie", clinician=clinician, host_state=host), board))

    barrier = threading.Barrier(APPROVERS)
    results: list[int | BaseException] = [0] * APPROVERS

    def run(i: int) -> None:
        own_client = app.test_client()  # its own requests, app contexts, sessions and connections
        secondment_id, board = jobs[i]
        barrier.wait()
        try:
            results[i] = approve(own_client, world, secondment_id, who=board).status_code
        except BaseException as exc:  # noqa: BLE001 - reported below
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(APPROVERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(map(str, results)) == sorted(["200"] * CAPACITY + ["422"] * (APPROVERS - CAPACITY)), results
    with app.app_context():
        from registry.mobility.services import placed_count

        assert placed_count(db.session.query(ExchangeProgramme).filter_by(code=PROGRAMME).one().id) == CAPACITY
    assert count(app, "secondment_events") == APPROVERS + CAPACITY  # the proposals and the approvals only
