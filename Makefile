# `make run` starts an auditor and an agent on this host; `make test` runs every test.
# Both create .venv and install what they need on a fresh machine.

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
DATA   ?= palisade-data
GRPC   ?= 127.0.0.1:50051
HTTP   ?= 127.0.0.1:8080
STAMP  := $(VENV)/.installed

.PHONY: run stop test test-fast lint fmt bench proto venv system-deps clean

$(STAMP): pyproject.toml setup.py
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[auditor,postgres,test]'
	@touch $@

venv: $(STAMP)

# Binaries the tests drive for real (ssh-keygen, sshd, nft, ip, chromium); installed when missing.
system-deps:
	@bash .ci/system-deps

run: $(STAMP)
	@$(VENV)/bin/palisade --data-dir $(DATA) up --grpc $(GRPC) --http $(HTTP)

stop: $(STAMP)
	@$(VENV)/bin/palisade --data-dir $(DATA) down

# Lint first (seconds), then every test; in CI (CI=true) no test may skip for a missing binary.
# PYTEST_WORKERS processes share the tests, a file to a process (its module fixtures built once);
# PYTEST_WORKERS=0 runs them in this process.
PYTEST_WORKERS ?= 2
test: $(STAMP) system-deps lint
	$(PY) -m pytest -q -n $(PYTEST_WORKERS) --dist loadfile --durations=15 tests

# The pure tests: no database server, no root, no browser, no real processes (about a minute).
test-fast: $(STAMP)
	$(PY) -m pytest -q -m "not integration and not needs_db and not needs_root and not browser" tests

# ruff (rules in pyproject.toml), the formatter's check, and mypy on model/, checks/, shared/.
lint: $(STAMP)
	$(VENV)/bin/ruff check agent auditor shared tests benchmarks
	$(VENV)/bin/ruff format --check agent auditor shared tests benchmarks
	MYPY=$(VENV)/bin/mypy bash .ci/typecheck

fmt: $(STAMP)
	$(VENV)/bin/ruff check --fix agent auditor shared tests benchmarks
	$(VENV)/bin/ruff format agent auditor shared tests benchmarks

bench: $(STAMP)
	$(PY) benchmarks/agent_footprint.py

proto: $(STAMP)
	$(PY) -m palisade.shared.protogen

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
