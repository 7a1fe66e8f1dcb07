# mediaedge — two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
STAMP   = $(VENV)/.installed
NPM_CI  = npm ci --no-audit --no-fund --loglevel=error
PYTEST_ARGS ?=
LOADTEST_ARGS ?=

.PHONY: install run test lint loadtest bench clean

install: $(STAMP)

# Python packages into .venv; hls.js for the embed page, tus-js-client, uPlot and Swagger UI for the
# dashboard and /docs, and the JS test clients (tus-js-client, @tus/server, playwright-core) from npm.
$(STAMP): pyproject.toml origin/embed/package-lock.json origin/dashboard/package-lock.json tests/e2e/package-lock.json tests/js/package-lock.json
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	$(NPM_CI) --prefix origin/embed
	$(NPM_CI) --prefix origin/dashboard
	$(NPM_CI) --prefix tests/e2e
	$(NPM_CI) --prefix tests/js
	touch $(STAMP)

run: install
	$(BIN)/mediaedge up

test: install
	$(BIN)/python -m pytest -n auto $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check mediaedge edge origin plugins tests loadtests
	$(BIN)/ruff format --check mediaedge edge origin plugins tests loadtests
	$(BIN)/mypy
	$(BIN)/lint-imports

# Headless locust against a local stack with a seeded stream; prints the summary.
loadtest: install
	$(BIN)/python -m loadtests.run $(LOADTEST_ARGS)

# Edge vs nginx on this machine (needs nginx and wrk: apt-get install nginx-light wrk), one edge worker vs two,
# then HTTP/3 beside HTTPS/1.1.
bench: install
	$(BIN)/python -m loadtests.bench_edge
	$(BIN)/python -m loadtests.bench_edge_workers
	$(BIN)/python -m loadtests.bench_http3

clean:
	rm -rf $(VENV) var .pytest_cache origin/embed/node_modules origin/dashboard/node_modules tests/e2e/node_modules tests/js/node_modules
