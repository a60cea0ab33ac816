# DL Grader: `make run` starts everything on one machine, `make test` runs the whole suite.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 5000

.PHONY: run test selfcheck lint format image venv clean machine machine-test

$(VENV)/.installed: requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt -r requirements-dev.txt
	touch $@

venv: $(VENV)/.installed

# The Docker engine and Redis (and for the tests Chromium and docker-compose): installed and
# started when missing, as root on Debian; elsewhere the exact commands are printed.
machine:
	bash scripts/machine.sh

machine-test:
	bash scripts/machine.sh --test

image: venv machine
	bash grader/images/build_local.sh

run: venv machine
	PORT=$(PORT) bash scripts/run.sh

test: venv machine-test image
	$(PY) -m pytest $(PYTEST_ARGS)

# Every built-in assignment's self-check on SEEDS fresh seeds (default 5; minutes, not in `make
# test`, which checks one seed): reference full, starter 0, every mutant killed on every seed.
SEEDS ?= 5
selfcheck: venv image
	DLGRADER_SELFCHECK_SEEDS=$(SEEDS) $(PY) -m pytest -s -q tests/assignments/test_selfcheck.py

lint: venv
	$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check .

format: venv
	$(VENV)/bin/ruff format . && $(VENV)/bin/ruff check --fix .

clean:
	rm -rf $(VENV) instance .pytest_cache
