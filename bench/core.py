"""The benchmark registry, the shared-resource context, goals, the printed table and bench/results.json.

A benchmark is a function decorated with ``@benchmark(name, goal, unit)``. It receives a ``Context``
and returns a ``Measurement`` (or a bare float). Rows are ratios measured side by side in one run,
never absolute times. Later issues add rows by adding a module to ``BENCH_MODULES`` in bench/run.py.
"""

from __future__ import annotations

import contextlib
import json
import math
import re
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

RESULTS_PATH = Path(__file__).resolve().parent / "results.json"
_GOAL = re.compile(r"^(>=|<=|>|<)\s*([0-9]+(?:\.[0-9]+)?)$")


@dataclass(frozen=True)
class Goal:
    """A threshold a ratio must meet: ``>= 0.4``, ``<= 1.3``, or strictly ``< 10`` / ``> 2``."""

    op: str
    threshold: float

    @classmethod
    def parse(cls, text: str) -> Goal:
        match = _GOAL.match(text.strip())
        if not match:
            raise ValueError(f"a goal is written '>= 0.4', '<= 1.3', '< 10' or '> 2', not {text!r}")
        return cls(match.group(1), float(match.group(2)))

    def met_by(self, value: float) -> bool:
        if math.isnan(value):
            return False
        return {">=": value >= self.threshold, "<=": value <= self.threshold, ">": value > self.threshold,
                "<": value < self.threshold}[self.op]

    def __str__(self) -> str:
        return f"{self.op} {self.threshold:g}"


@dataclass(frozen=True)
class Benchmark:
    name: str
    goal: Goal
    unit: str
    func: Callable[[Context], Measurement | float]
    description: str = ""


@dataclass
class Measurement:
    """What a benchmark returns: the ratio, plus the raw figures behind it (printed, not written)."""

    value: float
    details: dict[str, Any] = field(default_factory=dict)


class Skip(Exception):  # noqa: N818 - raised by a row that cannot run here (e.g. no PostgreSQL given)
    """The row does not apply to this run; the reason is shown, nothing is written, the exit code is unchanged."""


@dataclass
class Result:
    benchmark: Benchmark
    value: float | None
    details: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    seconds: float = 0.0
    skipped: str | None = None

    @property
    def verdict(self) -> str:
        if self.skipped is not None:
            return "SKIP"
        if self.error is not None or self.value is None:
            return "ERROR"
        return "PASS" if self.benchmark.goal.met_by(self.value) else "MISS"


REGISTRY: dict[str, Benchmark] = {}


def benchmark(name: str, goal: str, unit: str = "x") -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register a benchmark row. Rows run in registration order."""
    parsed = Goal.parse(goal)
    if not re.fullmatch(r"[a-z0-9_.]+", name):
        raise ValueError(f"benchmark names are lower_snake_case: {name!r}")

    def register(func: Callable[..., Any]) -> Callable[..., Any]:
        if name in REGISTRY:
            raise ValueError(f"benchmark {name!r} is registered twice")
        doc = (func.__doc__ or "").strip().splitlines()
        REGISTRY[name] = Benchmark(name=name, goal=parsed, unit=unit, func=func, description=doc[0] if doc else "")
        return func

    return register


class Context:
    """Run-wide settings and shared resources (a scratch database, a server) built once, torn down at the end."""

    def __init__(self, *, quick: bool = False, verbose: bool = True):
        self.quick = quick
        self.verbose = verbose
        self._stack = contextlib.ExitStack()
        self._shared: dict[str, Any] = {}
        self._started = time.monotonic()

    def shared(self, key: str, factory: Callable[[], contextlib.AbstractContextManager[Any]]) -> Any:
        """The resource under `key`, entering `factory()` the first time; exited when the run ends."""
        if key not in self._shared:
            self._shared[key] = self._stack.enter_context(factory())
        return self._shared[key]

    def has(self, key: str) -> bool:
        return key in self._shared

    def log(self, message: str) -> None:
        if self.verbose:
            print(f"[bench {time.monotonic() - self._started:6.1f}s] {message}", file=sys.stderr, flush=True)

    def close(self) -> None:
        self._shared.clear()
        self._stack.close()

    def __enter__(self) -> Context:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def select(only: list[str] | None) -> list[Benchmark]:
    """The registered rows, or those named (unknown names are an error listing the known ones)."""
    if not only:
        return list(REGISTRY.values())
    unknown = [name for name in only if name not in REGISTRY]
    if unknown:
        raise SystemExit(f"unknown benchmark(s): {', '.join(unknown)}; known: {', '.join(REGISTRY)}")
    return [bench for name, bench in REGISTRY.items() if name in only]


def run_one(bench: Benchmark, ctx: Context) -> Result:
    started = time.monotonic()
    ctx.log(f"running {bench.name}")
    try:
        outcome = bench.func(ctx)
    except Skip as skip:
        ctx.log(f"{bench.name} skipped: {skip}")
        return Result(bench, None, skipped=str(skip) or "skipped", seconds=time.monotonic() - started)
    except Exception as exc:  # noqa: BLE001 - one broken row must not hide the others
        ctx.log(f"{bench.name} failed: {type(exc).__name__}: {exc}")
        return Result(bench, None, error=f"{type(exc).__name__}: {exc}", seconds=time.monotonic() - started)
    measurement = outcome if isinstance(outcome, Measurement) else Measurement(float(outcome))
    return Result(bench, float(measurement.value), dict(measurement.details), seconds=time.monotonic() - started)


@contextlib.contextmanager
def timer() -> Iterator[Callable[[], float]]:
    started = time.perf_counter()
    yield lambda: time.perf_counter() - started


def results_document(results: list[Result]) -> dict[str, dict[str, Any]]:
    """{name: {"value": float, "goal": ">= 0.4", "unit": "x"}} for every row that produced a value."""
    document: dict[str, dict[str, Any]] = {}
    for result in results:
        if result.value is None:
            continue
        document[result.benchmark.name] = {
            "value": round(float(result.value), 4),
            "goal": str(result.benchmark.goal),
            "unit": result.benchmark.unit,
        }
    return document


def write_results(results: list[Result], path: Path = RESULTS_PATH, *, merge: bool = False) -> dict[str, Any]:
    """Write the rows to `path`; with `merge`, keep rows of registered benchmarks not run this time."""
    document: dict[str, Any] = {}
    if merge and path.exists():
        try:
            previous = json.loads(path.read_text())
        except (OSError, ValueError):
            previous = {}
        if isinstance(previous, dict):
            document = {name: row for name, row in previous.items() if name in REGISTRY}
    document.update(results_document(results))
    ordered = {name: document[name] for name in [*REGISTRY, *document] if name in document}
    path.write_text(json.dumps(ordered, indent=2) + "\n")
    return ordered


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.3f}" if abs(value) < 10 else f"{value:,.1f}" if abs(value) < 1000 else f"{value:,.0f}"
    return str(value)


def format_table(results: list[Result]) -> str:
    """The report: one line per row, then the raw figures behind each ratio."""
    header = ("benchmark", "value", "goal", "unit", "result")
    rows = [
        (r.benchmark.name, "-" if r.value is None else f"{r.value:.3f}", str(r.benchmark.goal), r.benchmark.unit,
         r.verdict)
        for r in results
    ]
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(str(cell).ljust(width) for cell, width in zip(header, widths, strict=True))]
    lines.append("  ".join("-" * width for width in widths))
    for row in rows:
        lines.append("  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
    for result in results:
        if result.skipped is not None:
            lines.append(f"\n{result.benchmark.name}: SKIP {result.skipped}")
            continue
        if result.error:
            lines.append(f"\n{result.benchmark.name}: ERROR {result.error}")
            continue
        if result.details or result.benchmark.description:
            lines.append(f"\n{result.benchmark.name} ({result.seconds:.0f}s): {result.benchmark.description}")
            for key, value in result.details.items():
                lines.append(f"    {key}: {_fmt(value)}")
    missed = [r.benchmark.name for r in results if r.verdict == "MISS"]
    if missed:
        lines.append(f"\n*** MISS: {', '.join(missed)} did not meet its goal ***")
    return "\n".join(lines)
