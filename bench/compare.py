"""Side-by-side comparisons: two request streams measured interleaved in one run, reported as a ratio.

Interleaving is what makes the ratio trustworthy on a shared machine: a burst of load from elsewhere
falls on both sides alike, so it shifts both figures and leaves their ratio nearly unchanged.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from dataclasses import dataclass, field

from bench.load import Client, PathChooser, latencies, median, throughput


@dataclass
class Side:
    """One request stream: a server port, a path chooser and the headers to send (and a JSON body to POST)."""

    name: str
    port: int
    choose: PathChooser
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None


@dataclass
class ThroughputComparison:
    numerator: str
    denominator: str
    ratios: list[float]
    rates: dict[str, list[float]]

    @property
    def ratio(self) -> float:
        return statistics.median(self.ratios)

    def rate(self, side: str) -> float:
        return statistics.median(self.rates[side])


def compare_throughput(numerator: Side, denominator: Side, *, rounds: int, seconds: float, threads: int,
                       log: Callable[[str], None] = lambda _: None) -> ThroughputComparison:
    """req/s of numerator / req/s of denominator, the median over `rounds` rounds of `seconds` per side.

    Each round runs A for half its time, B for all of its time, then A for the other half (A-B-A), so a
    drift of machine load within the round cancels; A and B swap from round to round.
    """
    if rounds < 1:
        raise ValueError("at least one round")
    ratios: list[float] = []
    rates: dict[str, list[float]] = {numerator.name: [], denominator.name: []}
    for index in range(rounds):
        first, second = (denominator, numerator) if index % 2 == 0 else (numerator, denominator)
        ok = {numerator.name: 0, denominator.name: 0}
        elapsed = {numerator.name: 0.0, denominator.name: 0.0}
        for side, share in ((first, 0.5), (second, 1.0), (first, 0.5)):
            result = throughput(side.port, side.choose, seconds=seconds * share, threads=threads,
                                headers=side.headers, body=side.body)
            if result.errors:
                raise RuntimeError(f"{side.name}: {result.errors} failed requests; first: {result.first_error}")
            ok[side.name] += result.ok
            elapsed[side.name] += result.seconds
        round_rates = {name: ok[name] / elapsed[name] for name in ok}
        for name, rate in round_rates.items():
            rates[name].append(rate)
        ratios.append(round_rates[numerator.name] / round_rates[denominator.name])
        log(f"  round {index + 1}/{rounds}: {denominator.name} {round_rates[denominator.name]:.0f} req/s, "
            f"{numerator.name} {round_rates[numerator.name]:.0f} req/s, ratio {ratios[-1]:.3f}")
    return ThroughputComparison(numerator.name, denominator.name, ratios, rates)


@dataclass
class LatencyComparison:
    numerator: str
    denominator: str
    samples: dict[str, list[float]]
    round_ratios: list[float]

    @property
    def ratio(self) -> float:
        return self.median_ms(self.numerator) / self.median_ms(self.denominator)

    def median_ms(self, side: str) -> float:
        return median(self.samples[side]) * 1000

    def p90_ms(self, side: str) -> float:
        values = self.samples[side]
        return statistics.quantiles(values, n=10)[-1] * 1000 if len(values) >= 2 else float("nan")


def compare_latency(numerator: Side, denominator: Side, *, count: int, rounds: int,
                    log: Callable[[str], None] = lambda _: None) -> LatencyComparison:
    """Median latency of numerator / that of denominator, one sequential client per side.

    Requests alternate one by one in A-B-B-A order, so both sides see the same moments of machine load;
    `rounds` only groups them for the per-round ratios shown alongside.
    """
    if count < rounds or rounds < 1:
        raise ValueError("at least one request per round")
    sides = {numerator.name: numerator, denominator.name: denominator}
    clients = {side.name: Client("127.0.0.1", side.port, side.headers) for side in sides.values()}
    samples: dict[str, list[float]] = {name: [] for name in sides}
    round_ratios: list[float] = []
    per_round = count // rounds
    try:
        for index in range(rounds):
            this_round: dict[str, list[float]] = {name: [] for name in sides}
            for i in range(per_round):
                order = (numerator, denominator) if (index * per_round + i) % 4 in (0, 3) else (denominator, numerator)
                for side in order:
                    this_round[side.name] += latencies(side.port, side.choose, count=1, client=clients[side.name],
                                                       body=side.body)
            for name in sides:
                samples[name] += this_round[name]
            round_ratios.append(median(this_round[numerator.name]) / median(this_round[denominator.name]))
            log(f"  round {index + 1}/{rounds}: median {denominator.name} "
                f"{median(this_round[denominator.name]) * 1000:.2f} ms, {numerator.name} "
                f"{median(this_round[numerator.name]) * 1000:.2f} ms, ratio {round_ratios[-1]:.3f}")
    finally:
        for client in clients.values():
            client.close()
    return LatencyComparison(numerator.name, denominator.name, samples, round_ratios)
