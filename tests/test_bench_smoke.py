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


def test_issue_3_and_5_rows_are_registered_with_well_formed_goals():
    registry = load_benchmarks()
    expected = {
        "import_10k_vs_executemany_sqlite": (">= 0.25", "x"),
        "import_10k_vs_executemany_postgresql": (">= 0.25", "x"),
        "import_10k_peak_mib": ("<= 200", "MiB"),
        "import_100k_vs_10k_memory": ("< 10", "x"),
        "harfbuzz_subset_loaded": (">= 1", "bool"),
        "verify_vs_ping": (">= 0.6", "x"),
        "offline_verify_vs_cryptography": (">= 0.5", "x"),
        "pdf_render_vs_weasyprint": ("<= 1.25", "x"),
        "cohort_2_workers_speedup": (">= 1.7", "x"),
        "second_download_speedup": (">= 50", "x"),
        "pdf_worker_peak_mib": ("<= 150", "MiB"),
    }
    for name, (goal, unit) in expected.items():
        assert (str(registry[name].goal), registry[name].unit) == (goal, unit)
    for bench in registry.values():
        assert core.Goal.parse(str(bench.goal)) == bench.goal
        assert bench.description


def test_strict_goals_and_skipped_rows():
    assert core.Goal.parse("< 10").met_by(9.99) and not core.Goal.parse("< 10").met_by(10)
    bench = core.Benchmark("row", core.Goal.parse(">= 1"), "x", lambda ctx: 1.0)
    skipped = core.Result(bench, None, skipped="no PostgreSQL")
    assert skipped.verdict == "SKIP"
    assert core.results_document([skipped]) == {}
    assert "SKIP no PostgreSQL" in core.format_table([skipped])
