"""Issue 4's row: the right-to-practise answer against the bare endpoint on the same server."""

from __future__ import annotations

import random

from bench.compare import Side, compare_throughput
from bench.core import Context, Measurement, benchmark
from bench.fixtures import served_registry
from bench.standing import LARGE, PING, QUICK_LARGE, THREADS, _warm


@benchmark("right_to_practise_vs_ping", goal=">= 0.4", unit="x")
def right_to_practise_vs_ping(ctx: Context) -> Measurement:
    """GET /right-to-practise?clinician=&state=PT&profession=2221 (board officer) vs GET /ping, req/s."""
    served = served_registry(ctx, "large", QUICK_LARGE if ctx.quick else LARGE)
    rng = random.Random(4)  # noqa: S311 - picks clinicians, not secrets

    def path() -> str:
        return (f"/api/v1/right-to-practise?clinician={rng.choice(served.registry.numbers)}"
                "&state=PT&profession=2221")

    rounds, seconds = (2, 1.0) if ctx.quick else (5, 3.0)
    practise = Side("right-to-practise", served.port, path, served.headers)
    ping = Side("ping", served.port, lambda: PING, served.headers)
    with served.diagnosed():
        _warm(practise, ping)
        result = compare_throughput(practise, ping, rounds=rounds, seconds=seconds, threads=THREADS, log=ctx.log)
    return Measurement(
        result.ratio,
        {
            "ping req/s (median of rounds)": result.rate("ping"),
            "right-to-practise req/s (median of rounds)": result.rate("right-to-practise"),
            "per-round ratios": ", ".join(f"{r:.3f}" for r in result.ratios),
        },
    )
