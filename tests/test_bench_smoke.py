"""The benchmark registry and bench/results.json: shape only (no server, no timing)."""

from __future__ import annotations

import json

import pytest

from bench import core
from bench.run import load_benchmarks


def _result(name: str, value: float | None, error: str | None = None) -> core.Result:
    return core.Result(core.REGISTRY[name], value, {"raw": 1.0}, error=error)


def test_the_first_rows_are_registered_with_their_goals():
    registry = load_benchmarks()
    assert str(registry["standing_vs_ping"].goal) == ">= 0.4"
    assert str(registry["standing_latency_100k_vs_1k"].goal) == "<= 1.3"
    assert registry["standing_vs_ping"].unit == registry["standing_latency_100k_vs_1k"].unit == "x"


def test_results_json_has_exactly_value_goal_unit(tmp_path):
    load_benchmarks()
    path = tmp_path / "results.json"
    results = [_result("standing_vs_ping", 0.25), _result("standing_latency_100k_vs_1k", 1)]

    core.write_results(results, path)

    document = json.loads(path.read_text())
    assert document == {
        "standing_vs_ping": {"value": 0.25, "goal": ">= 0.4", "unit": "x"},
        "standing_latency_100k_vs_1k": {"value": 1.0, "goal": "<= 1.3", "unit": "x"},
    }
    for row in document.values():
        assert list(row) == ["value", "goal", "unit"]
        assert type(row["value"]) is float


def test_a_failed_row_is_not_written_and_only_merges_keep_other_rows(tmp_path):
    load_benchmarks()
    path = tmp_path / "results.json"
    core.write_results([_result("standing_vs_ping", 0.5), _result("standing_latency_100k_vs_1k", 0.9)], path)

    core.write_results([_result("standing_vs_ping", None, error="boom")], path, merge=True)
    assert json.loads(path.read_text())["standing_vs_ping"]["value"] == 0.5

    core.write_results([_result("standing_vs_ping", 0.7)], path, merge=True)
    assert set(json.loads(path.read_text())) == {"standing_vs_ping", "standing_latency_100k_vs_1k"}

    core.write_results([_result("standing_vs_ping", 0.7)], path)
    assert json.loads(path.read_text()) == {"standing_vs_ping": {"value": 0.7, "goal": ">= 0.4", "unit": "x"}}


@pytest.mark.parametrize(("goal", "value", "verdict"), [(">= 0.4", 0.4, "PASS"), (">= 0.4", 0.39, "MISS"),
                                                        ("<= 1.3", 1.3, "PASS"), ("<= 1.3", 1.31, "MISS")])
def test_pass_and_miss(goal, value, verdict):
    bench = core.Benchmark("row", core.Goal.parse(goal), "x", lambda ctx: value)
    assert core.Result(bench, value).verdict == verdict
    assert verdict in core.format_table([core.Result(bench, value)])


def test_goals_are_written_one_way():
    with pytest.raises(ValueError):
        core.Goal.parse("at least 0.4")
