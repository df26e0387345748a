# The two commands of the README, and what they stand on.
#   make run    a local server on SQLite with the five example sites, on http://127.0.0.1:5000
#   make test   the whole test suite (set CMP_TEST_DATABASE_URL to also run it on PostgreSQL)

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
FLASK  := $(BIN)/flask --app consent

.PHONY: run test lint openapi bench bench-snippet clean

run: $(VENV)/.installed
	$(FLASK) db upgrade
	$(FLASK) cmp load examples/*.yaml
	$(FLASK) cmp serve

test: $(VENV)/.installed-dev
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

openapi: $(VENV)/.installed
	mkdir -p docs/api
	$(FLASK) cmp openapi -o docs/api/openapi.json

# Each prints its figures next to a baseline measured in the same run; flags in bench/README.md.
bench: $(VENV)/.installed
	$(BIN)/python bench/banner.py
	$(BIN)/python bench/decisions.py
	$(BIN)/python bench/verify.py
	$(BIN)/python bench/export.py
	$(BIN)/python bench/load.py

# The snippet's bytes and banner-visible time in headless Chromium, next to its peers (bench/README.md).
bench-snippet: $(VENV)/.installed-dev
	$(BIN)/python bench/snippet.py

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
