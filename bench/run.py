"""`make bench`: run the registered ratio benchmarks side by side, print a table, write bench/results.json.

    python -m bench.run                 every row
    python -m bench.run --only NAME     some rows (repeatable); other rows in results.json are kept
    python -m bench.run --quick         a short smoke run with smaller data; results.json is not written
    python -m bench.run --list          the registered rows

A missed goal is reported (MISS) but the exit code stays 0; a row that fails to run exits 1.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import time

from bench import core

# One module per group of rows; importing it registers them. Later issues append here.
BENCH_MODULES = ["bench.standing", "bench.practise", "bench.imports", "bench.certificates", "bench.mobility"]


def load_benchmarks() -> dict[str, core.Benchmark]:
    for module in BENCH_MODULES:
        importlib.import_module(module)
    return core.REGISTRY


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.splitlines()[0])
    parser.add_argument("--only", action="append", metavar="NAME", help="run only this row (repeatable)")
    parser.add_argument("--quick", action="store_true", help="short smoke run; does not write results.json")
    parser.add_argument("--list", action="store_true", help="list the registered rows and exit")
    parser.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    args = parser.parse_args(argv)

    registry = load_benchmarks()
    if args.list:
        for bench in registry.values():
            print(f"{bench.name:40} {str(bench.goal):8} {bench.unit:4} {bench.description}")
        return 0
    selected = core.select(args.only)
    from bench.data import backend_name

    began = time.monotonic()
    with core.Context(quick=args.quick, verbose=not args.quiet) as ctx:
        ctx.log(f"{len(selected)} row(s) on {backend_name()}{' (quick)' if args.quick else ''}")
        results = [core.run_one(bench, ctx) for bench in selected]
    elapsed = time.monotonic() - began

    print()
    print(core.format_table(results))
    if args.quick:
        print("\n(quick run: smaller data, fewer rounds; bench/results.json left unchanged)")
    else:
        core.write_results(results, merge=bool(args.only))
        print(f"\nwrote {core.RESULTS_PATH.relative_to(core.RESULTS_PATH.parent.parent)}")
    print(f"backend: {backend_name()}; total {elapsed:.0f} s")
    return 1 if any(r.error for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
