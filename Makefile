# PostLoan: `make run` starts the whole platform, `make test` runs every test.
# Both work on a fresh machine with Python 3.11+: uv is installed with pip when missing.
SHELL := /bin/bash
PYTHON ?= python3
UV := $(shell command -v uv 2>/dev/null || echo $(HOME)/.local/bin/uv)
PYTEST_ARGS ?=

.PHONY: run test test-fast lint fmt asyncapi bench sync uv chromium ts-client clean

run: sync  ## start PostgreSQL, NATS, the four services and the gateway; seed a demo portfolio on an empty platform (DEMO=0 skips)
	$(UV) run --frozen postloan-stack run

test: sync  ## every test, against real PostgreSQL and NATS started by the harness
	$(UV) run --frozen pytest $(PYTEST_ARGS)

test-fast: sync  ## skip the slow resilience and start-up tests
	$(UV) run --frozen pytest -m "not slow" $(PYTEST_ARGS)

lint: sync  ## ruff, mypy (strict) and the import contracts (docs/architecture.md)
	$(UV) run --frozen ruff check . && $(UV) run --frozen ruff format --check . && $(UV) run --frozen mypy
	$(UV) run --frozen lint-imports --no-logo

fmt: sync
	$(UV) run --frozen ruff format . && $(UV) run --frozen ruff check --fix .

asyncapi: sync  ## regenerate docs/asyncapi.yaml from shared/events.py
	$(UV) run --frozen python -m shared.asyncapi > docs/asyncapi.yaml

bench: sync  ## run the benchmarks in bench/ (minutes; prints figures; run on an idle machine)
	$(UV) run --frozen python -m bench

sync: uv
	$(UV) sync --frozen --all-packages

uv:
	@command -v $(UV) >/dev/null 2>&1 || $(PYTHON) -m pip install --user --quiet uv

chromium:  ## Debian's Chromium for the browser tests (tests/e2e/test_docs_page.py); never a downloaded browser
	@command -v chromium >/dev/null 2>&1 || \
	  (apt-get install -y -q chromium || (apt-get update -q && apt-get install -y -q chromium)) >/dev/null || \
	  { echo "make chromium: install Debian's chromium package (as root: apt-get install chromium)"; exit 1; }

ts-client:  ## the TypeScript client test's tools from the npm registry (tools/ts-client, needs Node.js)
	cd tools/ts-client && npm ci --no-audit --no-fund --loglevel=error

clean:
	rm -rf .postloan .pytest_cache .mypy_cache .ruff_cache
