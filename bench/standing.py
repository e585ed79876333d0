"""Rows for a clinician's standing lookup: throughput against a bare endpoint, and latency against table size."""

from __future__ import annotations

import random

from bench.compare import Side, compare_latency, compare_throughput
from bench.core import Context, Measurement, benchmark
from bench.fixtures import ServedRegistry, served_registry
from bench.load import latencies

SMALL = 1_000
LARGE = 100_000
QUICK_LARGE = 10_000
PING = "/api/v1/ping"
THREADS = 4


def _large(ctx: Context) -> int:
    return QUICK_LARGE if ctx.quick else LARGE


def _standing(served: ServedRegistry, name: str, seed: int) -> Side:
    rng = random.Random(seed)  # noqa: S311 - picks clinicians, not secrets
    return Side(name, served.port, lambda: served.random_standing_path(rng), served.headers)


def _warm(*sides: Side, count: int = 60) -> None:
    """Both workers of each server have imported their code, opened connections and touched the tables."""
    for side in sides:
        latencies(side.port, side.choose, count=count, headers=side.headers)


@benchmark("standing_vs_ping", goal=">= 0.4", unit="x")
def standing_vs_ping(ctx: Context) -> Measurement:
    """GET /clinicians/<n>/standing (board officer token) vs GET /ping on one server, req/s, 4 client threads."""
    served = served_registry(ctx, "large", _large(ctx))
    rounds, seconds = (2, 1.0) if ctx.quick else (5, 3.0)
    standing = _standing(served, "standing", seed=1)
    # The same headers on both sides: only the work behind the URL differs.
    ping = Side("ping", served.port, lambda: PING, served.headers)
    with served.diagnosed():
        _warm(standing, ping)
        result = compare_throughput(standing, ping, rounds=rounds, seconds=seconds, threads=THREADS, log=ctx.log)
    return Measurement(
        result.ratio,
        {
            "clinicians": served.registry.clinicians,
            "rounds x seconds per side x client threads": f"{rounds} x {seconds:g} s x {THREADS}",
            "ping req/s (median of rounds)": result.rate("ping"),
            "standing req/s (median of rounds)": result.rate("standing"),
            "per-round ratios": ", ".join(f"{r:.3f}" for r in result.ratios),
        },
    )


@benchmark("standing_latency_100k_vs_1k", goal="<= 1.3", unit="x")
def standing_latency_large_vs_small(ctx: Context) -> Measurement:
    """Median standing-lookup latency, 100,000 clinicians vs 1,000: two servers, one sequential client, interleaved."""
    small = served_registry(ctx, "small", SMALL)
    large = served_registry(ctx, "large", _large(ctx))
    count, rounds = (60, 2) if ctx.quick else (300, 6)
    with small.diagnosed(), large.diagnosed():
        small_side, large_side = _standing(small, "small", seed=2), _standing(large, "large", seed=3)
        _warm(small_side, large_side)
        result = compare_latency(large_side, small_side, count=count, rounds=rounds, log=ctx.log)
    return Measurement(
        result.ratio,
        {
            "clinicians (small / large)": f"{small.registry.clinicians:,} / {large.registry.clinicians:,}",
            "requests per side": len(result.samples["small"]),
            "median ms, small": result.median_ms("small"),
            "median ms, large": result.median_ms("large"),
            "p90 ms, small / large": f"{result.p90_ms('small'):.2f} / {result.p90_ms('large'):.2f}",
            "per-round ratios": ", ".join(f"{r:.3f}" for r in result.round_ratios),
            "bulk build seconds (small / large)": f"{small.build_seconds:.1f} / {large.build_seconds:.1f}",
        },
    )
