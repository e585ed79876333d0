"""Ratio benchmarks for the registry: `make bench` (python -m bench.run). See bench/core.py to add a row."""
