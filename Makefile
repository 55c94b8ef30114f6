# Dunwell: the two commands a new user needs are `make demo` and `make test`.
# Everything is installed from the lock files in requirements/ into .venv.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
UV_VERSION := 0.13.9
DEMO_DB ?= demo.sqlite3
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: demo test lint typecheck importlint pytest pytest-pg bench lock clean serve

$(BIN)/uv:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(VENV)/.base-installed: requirements/base.lock pyproject.toml | $(BIN)/uv
	bash scripts/ensure-libgomp
	$(BIN)/uv pip install --quiet --compile-bytecode --python $(BIN)/python --require-hashes -r requirements/base.lock
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -e .
	touch $@

$(VENV)/.dev-installed: requirements/dev.lock pyproject.toml | $(BIN)/uv
	bash scripts/ensure-libgomp
	$(BIN)/uv pip install --quiet --compile-bytecode --python $(BIN)/python --require-hashes -r requirements/dev.lock
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -e .
	touch $@ $(VENV)/.base-installed

## make demo: build the demo company on SQLite, run the collections cycle, serve on 127.0.0.1:8000
demo: $(VENV)/.base-installed
	DATABASE_URL=sqlite:///$(DEMO_DB) $(BIN)/dunwell demo build --fresh
	DATABASE_URL=sqlite:///$(DEMO_DB) $(BIN)/dunwell demo serve --addr $(HOST):$(PORT)

## make test: install what the tests need, then lint, type-check, check layers, run every test
test: $(VENV)/.dev-installed lint typecheck importlint
	bash scripts/ensure-chromium
	$(BIN)/pytest -n 2 -q

lint: $(VENV)/.dev-installed
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/python scripts/check_conventions.py

typecheck: $(VENV)/.dev-installed
	$(BIN)/mypy src

importlint: $(VENV)/.dev-installed
	$(BIN)/lint-imports

## the same suite on a running PostgreSQL (DATABASE_URL must point at it); pure tests ran already
pytest-pg: $(VENV)/.dev-installed
	$(BIN)/pytest -n 2 -q -m "not pure and not browser"

## make bench: the performance targets at 10^6 invoices, on SQLite and on a throw-away PostgreSQL
# (both halves run even when the first misses a target; the exit status says whether all met)
bench: $(VENV)/.dev-installed
	$(BIN)/python -m benchmarks.run $(BENCH_ARGS); sqlite=$$?; \
	PYTHON=$(BIN)/python scripts/with-postgres \
		sh -c '$(BIN)/python -m benchmarks.run --database-url "$$DATABASE_URL" $(BENCH_ARGS)'; \
	postgresql=$$?; test $$sqlite -eq 0 && test $$postgresql -eq 0

lock: | $(BIN)/uv
	$(BIN)/uv pip compile pyproject.toml --python-version 3.11 --generate-hashes -q -o requirements/base.lock
	$(BIN)/uv pip compile pyproject.toml --extra dev --python-version 3.11 --generate-hashes -q -o requirements/dev.lock

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache $(DEMO_DB)*
