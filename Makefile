# The two commands of the README, and what they stand on.
#   make run    a local server on SQLite with the five example sites, on http://127.0.0.1:5000
#   make test   the whole test suite (set CMP_TEST_DATABASE_URL to also run it on PostgreSQL)

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
FLASK  := $(BIN)/flask --app consent

.PHONY: run test lint openapi bench clean

run: $(VENV)/.installed
	$(FLASK) db upgrade
	$(FLASK) cmp load examples/*.yaml
	$(FLASK) cmp serve

test: $(VENV)/.installed-dev
	$(BIN)/python -m pytest $(PYTEST_ARGS)

openapi: $(VENV)/.installed
	mkdir -p docs/api
	$(FLASK) cmp openapi -o docs/api/openapi.json

bench: $(VENV)/.installed-dev
	$(BIN)/python bench/banner.py

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@

clean:
	rm -rf $(VENV) instance .pytest_cache .hypothesis *.egg-info
