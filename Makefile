# mediaedge — two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
STAMP   = $(VENV)/.installed
PYTEST_ARGS ?=

.PHONY: install run test lint typecheck bench clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

run: install
	$(BIN)/mediaedge up

test: install
	$(BIN)/python -m pytest -n auto $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check mediaedge edge origin plugins tests loadtests
	$(BIN)/mypy

clean:
	rm -rf $(VENV) var .pytest_cache
