"""Issue 3's rows: the bulk import of completions against a raw driver executemany, and its peak memory.

The import is the real `curricula.importer.import_completions` (a commit, not a dry run) reading a generated
CSV file; the baseline is the same rows' column values inserted into the same table (completions) by the
driver's own `cursor.executemany` (sqlite3 or psycopg), committed. Both sides run in this process, in
interleaved rounds whose order alternates; the inserted rows are deleted between rounds.

Peak memory is measured in a fresh interpreter per measurement (python -m bench.imports --memory-child ...),
with resource.getrusage(RUSAGE_SELF).ru_maxrss read after the app is created and again after the import.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from bench.core import Context, Measurement, Skip, benchmark
from bench.data import BENCH_URL_ENV, ScratchRegistry, backend_name, scratch_url
from bench.server import PROJECT_ROOT, registry_env

ROWS = 10_000
LARGE_ROWS = 100_000
QUICK_ROWS = 2_000
QUICK_LARGE_ROWS = 20_000
CLINICIANS = 10_000
QUICK_CLINICIANS = 2_000
HUB = "IE-HUB-BENCH"
COURSE = "BENCH-BLS"
CPD_HOURS = 6.0
VALIDITY_MONTHS = 24
HEADER = "reference,registry_number,course,completed_on,outcome,score,credits"
INSERTED = ("clinician_id", "course_id", "offering_id", "reference", "completed_on", "outcome", "score", "credits",
            "valid_until", "hub_id", "recorded_at", "recorded_by_id")
MIB = 1024 * 1024


@dataclass
class ImportWorld:
    """A migrated, seeded registry with clinicians, one training hub accredited for one course."""

    backend: str
    url: str
    numbers: list[str]
    clinician_ids: dict[str, int] = field(default_factory=dict)
    hub_id: int = 0
    course_id: int = 0


def _setup_curriculum(world: ImportWorld) -> None:
    """The hub, the course and its accreditation, through the services (audited), as an operator would."""
    from flask import g

    from curricula import services as curricula
    from registry.app import create_app
    from registry.core.db import db
    from registry.people import services as people
    from registry.people.models import Clinician, OrganisationKind

    app = create_app({"SQLALCHEMY_DATABASE_URI": world.url, "ENV_NAME": "development"})
    with app.app_context():
        g.cli_actor = "bench:imports"
        hub = people.create_organisation(code=HUB, name="Bench training hub", kind=OrganisationKind.TRAINING_HUB,
                                         member_state_code="IE", language="en")
        course = curricula.create_course(
            code=COURSE, titles={"en": "Basic life support"}, fallback_language="en", description=None,
            competencies=[], cpd_hours=CPD_HOURS, validity_months=VALIDITY_MONTHS, professions=["2221"],
            owners=[{"hub": HUB}], actor=None)
        curricula.grant_accreditation(course, hub=hub, granted_by="IE", valid_from=date(2000, 1, 1),
                                      valid_until=None, actor=None)
        db.session.commit()
        world.hub_id, world.course_id = hub.id, course.id
        world.clinician_ids = dict(db.session.execute(sa.select(Clinician.registry_number, Clinician.id)).all())
        db.session.remove()
        db.engine.dispose()


@contextlib.contextmanager
def _url(backend: str, name: str) -> Iterator[str]:
    if backend == "sqlite":
        with tempfile.TemporaryDirectory(prefix="registry-bench-") as tmp:
            yield "sqlite:///" + str(Path(tmp) / f"{name}.db")
        return
    if backend_name() != "postgresql":
        raise Skip(f"{BENCH_URL_ENV} is not set to a PostgreSQL database")
    with scratch_url(name) as url:
        yield url


def import_world(ctx: Context, backend: str) -> ImportWorld:
    """The import registry on `backend` (sqlite or postgresql), built once per run."""
    if backend == "postgresql" and backend_name() != "postgresql":
        raise Skip(f"{BENCH_URL_ENV} is not set to a PostgreSQL database")
    clinicians = QUICK_CLINICIANS if ctx.quick else CLINICIANS

    @contextlib.contextmanager
    def build() -> Iterator[ImportWorld]:
        ctx.log(f"building the import registry on {backend} with {clinicians:,} clinicians")
        with _url(backend, "imports") as url:
            registry = ScratchRegistry(url)
            registry.migrate()
            registry.seed()
            registry.grow(clinicians)
            world = ImportWorld(backend, url, list(registry.numbers))
            _setup_curriculum(world)
            yield world

    return ctx.shared(f"imports:{backend}", build)


# --- the file and the same rows for the driver ---------------------------------------------------------------


def _records(world: ImportWorld, rows: int, seed: int = 3) -> list[tuple[str, str, date, str, float | None]]:
    """(reference, registry number, completed_on, outcome, score) per row; one clinician may repeat."""
    rng = random.Random(seed)  # noqa: S311 - synthetic data
    today = date.today()
    records = []
    for i in range(rows):
        passed = rng.random() < 0.9
        records.append((f"BENCH-{seed}-{i:07d}", world.numbers[i % len(world.numbers)],
                        today - timedelta(days=rng.randrange(1, 1000)), "passed" if passed else "failed",
                        float(rng.randrange(40, 101)) if rng.random() < 0.8 else None))
    return records


def _csv(records: list[tuple[str, str, date, str, float | None]]) -> bytes:
    lines = [HEADER]
    for reference, number, day, outcome, score in records:
        lines.append(f"{reference},{number},{COURSE},{day.isoformat()},{outcome},"
                     f"{'' if score is None else f'{score:g}'},")
    return ("\n".join(lines) + "\n").encode("utf-8")


def _add_months(day: date, months: int) -> date:
    from curricula.services import add_months

    return add_months(day, months)


def _driver_rows(world: ImportWorld, records: list[tuple[str, str, date, str, float | None]],
                 recorded_at: datetime) -> list[tuple[Any, ...]]:
    """The column values the import writes, as the driver takes them (SQLite stores dates as ISO text)."""
    sqlite = world.backend == "sqlite"

    def value(day: date | datetime | None) -> Any:
        if day is None or not sqlite:
            return day
        return day.isoformat(sep=" ") if isinstance(day, datetime) else day.isoformat()

    stamp = value(recorded_at.replace(tzinfo=None))
    rows = []
    for reference, number, day, outcome, score in records:
        passed = outcome == "passed"
        until = _add_months(day, VALIDITY_MONTHS) if passed else None
        rows.append((world.clinician_ids[number], world.course_id, None, reference, value(day), outcome, score,
                     CPD_HOURS if passed else 0.0, value(until), world.hub_id, stamp, None))
    return rows


class _Driver:
    """A raw DBAPI connection to the world's database with the app's own session settings."""

    def __init__(self, world: ImportWorld):
        self.world = world
        url = sa.engine.make_url(world.url)
        if world.backend == "sqlite":
            import sqlite3

            self.conn: Any = sqlite3.connect(url.database, isolation_level=None)
            for pragma in ("foreign_keys=ON", "journal_mode=WAL", "synchronous=NORMAL", "busy_timeout=10000"):
                self.conn.execute(f"PRAGMA {pragma}")
            placeholders = ", ".join("?" * len(INSERTED))
        else:
            import psycopg

            self.conn = psycopg.connect(url.set(drivername="postgresql").render_as_string(hide_password=False))
            placeholders = ", ".join(["%s"] * len(INSERTED))
        self.insert_sql = f"INSERT INTO completions ({', '.join(INSERTED)}) VALUES ({placeholders})"  # noqa: S608

    def insert(self, rows: list[tuple[Any, ...]]) -> None:
        cursor = self.conn.cursor()
        if self.world.backend == "sqlite":
            cursor.execute("BEGIN IMMEDIATE")
        cursor.executemany(self.insert_sql, rows)
        self.conn.commit() if self.world.backend != "sqlite" else cursor.execute("COMMIT")
        cursor.close()

    def clear(self) -> int:
        cursor = self.conn.cursor()
        cursor.execute("DELETE FROM completions")
        deleted = cursor.rowcount
        if self.world.backend != "sqlite":
            self.conn.commit()
        cursor.close()
        return deleted

    def count(self) -> int:
        cursor = self.conn.cursor()
        cursor.execute("SELECT count(*) FROM completions")
        (n,) = cursor.fetchone()
        if self.world.backend != "sqlite":
            self.conn.commit()
        cursor.close()
        return n

    def close(self) -> None:
        self.conn.close()


def _import_vs_executemany(ctx: Context, backend: str) -> Measurement:
    from flask import g

    from curricula.importer import import_completions
    from curricula.services import get_hub
    from registry.app import create_app
    from registry.core.db import db

    world = import_world(ctx, backend)
    rows = QUICK_ROWS if ctx.quick else ROWS
    rounds = 2 if ctx.quick else 5
    records = _records(world, rows)
    data = _csv(records)
    driver_rows = _driver_rows(world, records, datetime.now(UTC))
    driver = _Driver(world)
    app = create_app({"SQLALCHEMY_DATABASE_URI": world.url, "ENV_NAME": "development"})
    times: dict[str, list[float]] = {"import": [], "executemany": []}
    ratios: list[float] = []
    try:
        with app.app_context():
            g.cli_actor = "bench:imports"
            driver.clear()

            def run_import() -> float:
                hub = get_hub(HUB)
                began = time.perf_counter()
                report = import_completions(hub, io.BytesIO(data), "csv", dry_run=False, actor=None,
                                            today=date.today())
                db.session.commit()
                seconds = time.perf_counter() - began
                if report.created != rows:
                    raise RuntimeError(f"the import created {report.created} of {rows}: {report.summary}")
                return seconds

            def run_driver() -> float:
                began = time.perf_counter()
                driver.insert(driver_rows)
                seconds = time.perf_counter() - began
                if driver.count() != rows:
                    raise RuntimeError("the driver's executemany did not insert every row")
                return seconds

            # One untimed pass of each: both sides' pages and code paths are warm.
            for warm in (run_import, run_driver):
                db.session.remove()
                warm()
                driver.clear()
            for index in range(rounds):
                order = (("import", run_import), ("executemany", run_driver))
                if index % 2:
                    order = order[::-1]
                this_round = {}
                for name, run in order:
                    db.session.remove()
                    this_round[name] = run()
                    if driver.clear() != rows:
                        raise RuntimeError(f"{name}: expected {rows} rows to delete")
                for name, seconds in this_round.items():
                    times[name].append(seconds)
                # throughput ratio: import rows/s over executemany rows/s
                ratios.append(this_round["executemany"] / this_round["import"])
                ctx.log(f"  round {index + 1}/{rounds}: executemany {this_round['executemany'] * 1000:.0f} ms, "
                        f"import {this_round['import'] * 1000:.0f} ms, ratio {ratios[-1]:.3f}")
            db.session.remove()
            db.engine.dispose()
    finally:
        driver.close()
    import_s, raw_s = statistics.median(times["import"]), statistics.median(times["executemany"])
    return Measurement(statistics.median(ratios), {
        "backend": backend,
        "rows per file / rounds": f"{rows:,} / {rounds}",
        "file bytes": len(data),
        "import (commit) rows/s, median": rows / import_s,
        "executemany rows/s, median": rows / raw_s,
        "import ms / executemany ms, median": f"{import_s * 1000:.0f} / {raw_s * 1000:.0f}",
        "per-round ratios": ", ".join(f"{r:.3f}" for r in ratios),
    })


@benchmark("import_10k_vs_executemany_sqlite", goal=">= 0.25", unit="x")
def import_vs_executemany_sqlite(ctx: Context) -> Measurement:
    """10,000-row CSV import (commit) rows/s vs the driver's executemany of the same rows, SQLite."""
    return _import_vs_executemany(ctx, "sqlite")


@benchmark("import_10k_vs_executemany_postgresql", goal=">= 0.25", unit="x")
def import_vs_executemany_postgresql(ctx: Context) -> Measurement:
    """The same on PostgreSQL (runs when REGISTRY_BENCH_DATABASE_URL is set; skipped otherwise)."""
    return _import_vs_executemany(ctx, "postgresql")


# --- peak memory ---------------------------------------------------------------------------------------------


@dataclass
class MemoryFigures:
    rows: dict[str, int]
    baseline_mib: dict[str, list[float]]
    peak_mib: dict[str, list[float]]
    import_peak_mib: dict[str, list[float]]
    backend: str
    hwm_reset: bool = True

    def peak(self, size: str) -> float:
        return statistics.median(self.peak_mib[size])

    def growth(self, size: str) -> float:
        return statistics.median(p - b for p, b in zip(self.import_peak_mib[size], self.baseline_mib[size],
                                                       strict=True))

    def baseline(self, size: str) -> float:
        return statistics.median(self.baseline_mib[size])


def _measure_child(world: ImportWorld, path: Path) -> dict[str, Any]:
    command = [sys.executable, "-m", "bench.imports", "--memory-child", str(path)]
    done = subprocess.run(command, cwd=PROJECT_ROOT, env=registry_env(world.url), capture_output=True, text=True,
                          timeout=600, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"the memory child failed ({done.returncode}):\n{done.stdout}\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def memory_figures(ctx: Context) -> MemoryFigures:
    """Peak RSS of a fresh process importing 10,000 and 100,000 rows, measured once per run for both rows."""
    backend = backend_name()

    @contextlib.contextmanager
    def measure() -> Iterator[MemoryFigures]:
        world = import_world(ctx, backend)
        sizes = {"small": QUICK_ROWS if ctx.quick else ROWS, "large": QUICK_LARGE_ROWS if ctx.quick else LARGE_ROWS}
        rounds = 1 if ctx.quick else 2
        figures = MemoryFigures(sizes, {"small": [], "large": []}, {"small": [], "large": []},
                                {"small": [], "large": []}, backend)
        with tempfile.TemporaryDirectory(prefix="registry-bench-import-") as tmp:
            paths = {}
            for size, rows in sizes.items():
                paths[size] = Path(tmp) / f"{size}.csv"
                paths[size].write_bytes(_csv(_records(world, rows, seed=7)))
            for index in range(rounds):
                for size in (("small", "large") if index % 2 == 0 else ("large", "small")):
                    found = _measure_child(world, paths[size])
                    if found["created"] != sizes[size]:
                        raise RuntimeError(f"the {size} import created {found['created']} of {sizes[size]}")
                    figures.baseline_mib[size].append(found["baseline_kib"] / 1024)
                    figures.peak_mib[size].append(found["peak_kib"] / 1024)
                    figures.import_peak_mib[size].append(found["import_peak_kib"] / 1024)
                    figures.hwm_reset = figures.hwm_reset and found["hwm_reset"]
                    ctx.log(f"  {sizes[size]:,} rows: peak {found['peak_kib'] / 1024:.1f} MiB, baseline "
                            f"{found['baseline_kib'] / 1024:.1f} MiB, peak during the import "
                            f"{found['import_peak_kib'] / 1024:.1f} MiB, {found['seconds']:.1f} s")
        yield figures

    return ctx.shared("imports:memory", measure)


@benchmark("import_10k_peak_mib", goal="<= 200", unit="MiB")
def import_10k_peak_mib(ctx: Context) -> Measurement:
    """Peak RSS (MiB) of a fresh process running the 10,000-row import (commit), app and imports included."""
    figures = memory_figures(ctx)
    return Measurement(figures.peak("small"), {
        "backend": figures.backend,
        "value": "absolute peak RSS (ru_maxrss) of the whole process: interpreter, app, import",
        "rows": figures.rows["small"],
        "baseline MiB (RSS after app creation, before the import)": figures.baseline("small"),
        "growth MiB (peak RSS during the import - baseline)": figures.growth("small"),
        "per-process peaks MiB": ", ".join(f"{v:.1f}" for v in figures.peak_mib["small"]),
    })


@benchmark("import_100k_vs_10k_memory", goal="< 10", unit="x")
def import_100k_vs_10k_memory(ctx: Context) -> Measurement:
    """Memory the 100,000-row import needs over what the 10,000-row one needs (growth over baseline)."""
    figures = memory_figures(ctx)
    ratio = figures.growth("large") / max(figures.growth("small"), 1.0)
    return Measurement(ratio, {
        "backend": figures.backend,
        "value": ("growth of peak RSS during the import over the RSS before it, 100k / 10k (floored at 1 MiB)"
                  if figures.hwm_reset else "growth of ru_maxrss over the post-app-creation baseline, 100k / 10k"),
        "rows (small / large)": f"{figures.rows['small']:,} / {figures.rows['large']:,}",
        "growth MiB, small / large": f"{figures.growth('small'):.1f} / {figures.growth('large'):.1f}",
        "absolute peak MiB, small / large": f"{figures.peak('small'):.1f} / {figures.peak('large'):.1f}",
        "absolute peak ratio": figures.peak("large") / figures.peak("small"),
    })


def _memory_child(path: Path) -> None:
    """In a fresh interpreter: create the app, note ru_maxrss, import the file (commit), note it again."""
    import resource

    from flask import g

    from curricula.importer import import_completions
    from curricula.services import get_hub
    from registry.app import create_app
    from registry.core.db import db

    app = create_app()
    with app.app_context():
        g.cli_actor = "bench:imports"
        hub = get_hub(HUB)
        # ru_maxrss keeps the high-water mark of app creation, which can hide what the import adds; the
        # kernel's own high-water mark (VmHWM) is reset here, so growth = VmHWM after - VmRSS now.
        reset = _reset_peak()
        baseline = _status_kib("VmRSS") if reset else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        began = time.perf_counter()
        with path.open("rb") as fh:
            report = import_completions(hub, fh, "csv", dry_run=False, actor=None, today=date.today())
        db.session.commit()
        seconds = time.perf_counter() - began
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        import_peak = _status_kib("VmHWM") if reset else peak
        # Leave the registry as it was for the next measurement (not measured).
        db.session.execute(sa.text("DELETE FROM completions"))
        db.session.commit()
    print(json.dumps({"baseline_kib": baseline, "peak_kib": peak, "import_peak_kib": import_peak,
                      "created": report.created, "seconds": seconds, "hwm_reset": reset}))


def _reset_peak() -> bool:
    """Reset this process's peak RSS (Linux: write 5 to /proc/self/clear_refs); False where that is not possible."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return _status_kib("VmHWM") is not None


def _status_kib(field_name: str) -> int | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field_name + ":"):
                return int(line.split()[1])
    except (OSError, ValueError):
        return None
    return None


def _main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.imports")
    parser.add_argument("--memory-child", type=Path, required=True, metavar="CSV")
    args = parser.parse_args(argv)
    _memory_child(args.memory_child)
    return 0


if __name__ == "__main__":
    sys.exit(_main())

