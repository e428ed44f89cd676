# emgame: make demo | test | docs | bench | lint | clean (| distclean)
#
# Needs only python3 (3.11+) and make: the first target run creates .venv, upgrades pip and
# installs emgame editable with what that target needs (demo: the core only; test: every extra,
# the test tools and the docs tools; lint: the dev tools). The stamp files in .venv remember
# what was installed, so later runs reinstall only when pyproject.toml changes.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
CORE_STAMP  := $(VENV)/.installed-core
STAMP       := $(VENV)/.installed-test
DEV_STAMP   := $(VENV)/.installed-dev
BENCH_STAMP := $(VENV)/.installed-bench
PYTEST_WORKERS ?= 2

.DEFAULT_GOAL := help
.PHONY: help demo test docs bench lint clean distclean

help:
	@echo "make demo       set up .venv (core only), then solve examples/ai_solar_day.toml (Nash and competitive)"
	@echo "make test       set up .venv with every extra, then run the test suite (pytest -n $(PYTEST_WORKERS)), which builds the docs strictly"
	@echo "make docs       build the documentation and API reference into build/site (offline, strict)"
	@echo "make bench      install the bench extra, then run benchmarks/run.py"
	@echo "make lint       ruff check"
	@echo "make clean      remove out/, build/ and caches (distclean: also .venv)"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(CORE_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	@touch $@

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $@ $(CORE_STAMP)

$(DEV_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@ $(STAMP) $(CORE_STAMP)

$(BENCH_STAMP): pyproject.toml $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	@touch $@

demo: $(CORE_STAMP)
	$(BIN)/emgame solve examples/ai_solar_day.toml --concept both --out out/ai_solar_day.json

test: $(STAMP)
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS)

docs: $(STAMP)
	$(BIN)/mkdocs build --strict --site-dir build/site

bench: $(BENCH_STAMP)
	$(BIN)/python benchmarks/run.py

lint: $(DEV_STAMP)
	$(BIN)/ruff check .

clean:
	rm -rf out build dist site .pytest_cache .ruff_cache .mypy_cache .hypothesis htmlcov .coverage
	rm -rf src/*.egg-info
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV)
