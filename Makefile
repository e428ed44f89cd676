# emgame: make demo | test | bench | lint | clean (| distclean)
#
# Needs only python3 (3.11+) and make: the first target run creates .venv, upgrades pip and
# installs emgame editable with its `test` extra. The stamp files in .venv remember what was
# installed, so later runs reinstall only when pyproject.toml changes.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-test
BENCH_STAMP := $(VENV)/.installed-bench
PYTEST_WORKERS ?= 2

.DEFAULT_GOAL := help
.PHONY: help demo test bench lint clean distclean

help:
	@echo "make demo       set up .venv, then solve examples/ai_solar_day.toml (Nash and competitive)"
	@echo "make test       set up .venv, then run the test suite (pytest -n $(PYTEST_WORKERS))"
	@echo "make bench      install the bench extra, then run benchmarks/run.py"
	@echo "make lint       ruff check"
	@echo "make clean      remove out/ and caches (distclean: also .venv)"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $@

$(BENCH_STAMP): pyproject.toml $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	@touch $@

demo: $(STAMP)
	$(BIN)/emgame solve examples/ai_solar_day.toml --concept both --out out/ai_solar_day.json

test: $(STAMP)
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS)

bench: $(BENCH_STAMP)
	$(BIN)/python benchmarks/run.py

lint: $(STAMP)
	$(BIN)/ruff check .

clean:
	rm -rf out build dist .pytest_cache .ruff_cache .mypy_cache .hypothesis htmlcov .coverage
	rm -rf src/*.egg-info
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV)
