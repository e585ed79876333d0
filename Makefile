# The two commands a newcomer needs: `make run` and `make test`. See README.md.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
WORKERS ?= 2

.PHONY: run test bench lint check-system clean

$(BIN)/registry: pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@

check-system: $(BIN)/registry
	@$(BIN)/python -m registry.syscheck

## make run: migrate the SQLite database in instance/, load the demo data once, serve on 127.0.0.1:$(PORT)
run: $(BIN)/registry check-system
	$(BIN)/registry db upgrade
	$(BIN)/registry demo
	@echo "Serving on http://127.0.0.1:$(PORT)  (API docs: http://127.0.0.1:$(PORT)/api/v1/docs)"
	$(BIN)/gunicorn --workers $(WORKERS) --bind 127.0.0.1:$(PORT) --access-logfile - 'registry.app:create_app()'

## make test: the whole suite on SQLite, and on PostgreSQL too when REGISTRY_TEST_DATABASE_URL is set
test: $(BIN)/registry check-system
	$(BIN)/pytest

## make bench: ratio benchmarks; prints a table and writes bench/results.json
bench: $(BIN)/registry check-system
	$(BIN)/python -m bench.run

lint: $(BIN)/registry
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache *.egg-info
