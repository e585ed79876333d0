"""Issue 6's row: the mobility flows report over 100,000 secondments against one hand-written SQL aggregate.

A scratch registry (bench/data.py) gets clinicians with their licences, then secondments bulk-inserted with Core
executemany. Both sides run in this process on the same session: the report service function
(`registry.reports.mobility.flows`) and a single GROUP BY over a UNION ALL of each secondment's arrival and
departure. They must give the same figures; they are timed in interleaved rounds whose order alternates, and
the row is the median of the per-round ratios (report / SQL).
"""

from __future__ import annotations

import random
import statistics
import time
from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa

from bench.core import Context, Measurement, benchmark
from bench.data import BATCH, BOARDS, scratch_registry

SECONDMENTS = 100_000
QUICK_SECONDMENTS = 10_000
CLINICIANS = 20_000
QUICK_CLINICIANS = 2_000
STATUSES = ["approved"] * 6 + ["suspended", "terminated", "proposed", "cancelled"]

HAND_WRITTEN = sa.text("""
    SELECT state, SUM(inflow) AS inflow, SUM(outflow) AS outflow, SUM(inflow) - SUM(outflow) AS net
    FROM (
        SELECT host_state_code AS state, 1 AS inflow, 0 AS outflow FROM secondments
        WHERE status IN ('approved', 'suspended', 'terminated')
        UNION ALL
        SELECT home_state_code AS state, 0 AS inflow, 1 AS outflow FROM secondments
        WHERE status IN ('approved', 'suspended', 'terminated')
    ) AS moves
    GROUP BY state
    ORDER BY state
""")


def _insert_secondments(url: str, total: int, seed: int = 6) -> float:
    """Bulk-insert `total` secondments resting on the scratch registry's licences; returns the seconds taken."""
    from registry.mobility.models import Secondment

    rng = random.Random(seed)  # noqa: S311 - synthetic data
    table = Secondment.__table__
    states = list(BOARDS)
    now = datetime.now(UTC)
    engine = sa.create_engine(url)
    began = time.perf_counter()
    try:
        with engine.connect() as conn:
            licences = conn.execute(sa.text(
                "SELECT l.id, l.clinician_id, l.profession_code, o.member_state_code FROM licences l "
                "JOIN organisations o ON o.id = l.board_id")).all()
        for offset in range(0, total, BATCH):
            rows = []
            for _ in range(min(BATCH, total - offset)):
                licence_id, clinician_id, profession, home = rng.choice(licences)
                start = date(2023, 1, 1) + timedelta(days=rng.randrange(0, 3 * 365))
                rows.append({
                    "clinician_id": clinician_id, "profession_code": profession, "home_state_code": home,
                    "host_state_code": rng.choice([s for s in states if s != home]),
                    "host_institution": "Bench hospital", "supervisor": "Bench supervisor", "programme_id": None,
                    "starts_on": start, "ends_on": start + timedelta(days=rng.randrange(30, 365)),
                    "home_licence_id": licence_id, "recognition_id": None, "status": rng.choice(STATUSES),
                    "proposed_by_id": None, "created_at": now,
                })
            with engine.begin() as conn:
                conn.execute(table.insert(), rows)
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text("ANALYZE"))
    finally:
        engine.dispose()
    return time.perf_counter() - began


@benchmark("mobility_flows_100k_vs_sql", goal="<= 2", unit="x")
def mobility_flows_vs_sql(ctx: Context) -> Measurement:
    """GET mobility flows (the report service) over 100,000 secondments vs one hand-written SQL GROUP BY, in-process."""
    from registry.app import create_app
    from registry.core.db import db
    from registry.reports.mobility import Filters, flows

    secondments = QUICK_SECONDMENTS if ctx.quick else SECONDMENTS
    clinicians = QUICK_CLINICIANS if ctx.quick else CLINICIANS
    rounds, repeats = (3, 3) if ctx.quick else (9, 5)
    with scratch_registry("mobility", clinicians) as registry:
        ctx.log(f"inserting {secondments:,} secondments")
        insert_seconds = _insert_secondments(registry.url, secondments)
        app = create_app({"SQLALCHEMY_DATABASE_URI": registry.url, "ENV_NAME": "development"})
        with app.app_context():
            report = [(r["state"], r["inflow"], r["outflow"], r["net"]) for r in flows(Filters()) if
                      r["inflow"] or r["outflow"]]
            hand = [tuple(row) for row in db.session.execute(HAND_WRITTEN)]
            if report != hand:
                raise AssertionError(f"the report and the SQL disagree: {report} vs {hand}")

            def time_report() -> float:
                began = time.perf_counter()
                for _ in range(repeats):
                    flows(Filters())
                return (time.perf_counter() - began) / repeats

            def time_sql() -> float:
                began = time.perf_counter()
                for _ in range(repeats):
                    db.session.execute(HAND_WRITTEN).all()
                return (time.perf_counter() - began) / repeats

            time_report(), time_sql()  # warm caches and the statement cache
            report_times, sql_times, ratios = [], [], []
            for i in range(rounds):
                if i % 2 == 0:
                    r, s = time_report(), time_sql()
                else:
                    s, r = time_sql(), time_report()
                report_times.append(r)
                sql_times.append(s)
                ratios.append(r / s)
            db.session.remove()
            db.engine.dispose()
    return Measurement(
        statistics.median(ratios),
        {
            "secondments (counted: approved, suspended, terminated)": f"{secondments:,} "
                                                                       f"({sum(r[1] for r in report):,})",
            "rounds x repeats": f"{rounds} x {repeats}",
            "report ms (median)": statistics.median(report_times) * 1000,
            "hand-written SQL ms (median)": statistics.median(sql_times) * 1000,
            "per-round ratios": ", ".join(f"{r:.3f}" for r in ratios),
            "bulk insert seconds": insert_seconds,
        },
    )
