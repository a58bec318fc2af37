# The README's two set-up commands are `make demo` and `make test`; both work on a fresh machine.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
NPM_STAMP := frontend_snippets/node_modules/.installed-stamp
export SHISHO_TEST_POSTGRES_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test
export SHISHO_CHROMIUM ?= /usr/bin/chromium

.PHONY: install browser demo test lint typecheck typegen-check test-python test-frontend \
        test-e2e bench clean react-host react-host-preview

install: $(STAMP)

$(STAMP): pyproject.toml examples/library_host/pyproject.toml tests/plugin_pkg/pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev]' -e examples/library_host \
		-e tests/plugin_pkg
	touch $@

# Playwright cannot download its own browser here: use the system's Chromium.
browser:
	@test -x $(SHISHO_CHROMIUM) || { apt-get update -qq && apt-get install -y -qq chromium; }

$(NPM_STAMP): frontend_snippets/package.json frontend_snippets/package-lock.json
	cd frontend_snippets && npm ci --no-audit --no-fund --loglevel=error
	touch $@

demo: $(STAMP)
	$(BIN)/python -m library_host.demo

lint: $(STAMP)
	$(BIN)/ruff check src tests e2e bench examples
	$(BIN)/ruff format --check src tests e2e bench examples

typecheck: $(STAMP)
	$(BIN)/mypy

typegen-check: $(STAMP)
	$(BIN)/shisho-jobs typegen --check

test-python: $(STAMP) browser
	$(BIN)/pytest tests

test-frontend: $(NPM_STAMP)
	cd frontend_snippets && npm run --silent check

# e2e/test_react_host.py builds the demo React host (frontend_snippets/demo) with the snippets' packages.
test-e2e: $(STAMP) browser $(NPM_STAMP)
	$(BIN)/pytest e2e

# The demo React host, built as a fresh Vite app builds (`tsc -b && vite build`); `make react-host-preview`
# serves it in front of a reference host on SHISHO_HOST_URL (default http://127.0.0.1:8000).
react-host: $(NPM_STAMP)
	cd frontend_snippets && npm run --silent demo:build

react-host-preview: react-host
	cd frontend_snippets && npm run --silent demo:preview

test: lint typecheck typegen-check test-python test-frontend test-e2e

bench: $(STAMP)
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev,bench]'
	@for script in bench/*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache frontend_snippets/node_modules
