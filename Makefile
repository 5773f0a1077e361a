# tongban: `make demo`, `make test`, `make lint`, `make bench`.
# Every target creates .venv from nothing when it is missing, and re-installs the package
# (editable, with the dev tools) whenever pyproject.toml is newer than the last install.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
PYTEST_ARGS ?=
# pytest-xdist workers for make test (one per core); each hands out ports from a block of its
# own (tests/integration/conftest.py); pyproject.toml's --dist loadgroup keeps the tests of one
# xdist_group on one worker (federations and served demos whose tests build on each other)
TEST_WORKERS ?= auto
# pytest-xdist workers for make faults: each scenario has its own copy of the federation, its
# own ports and processes (the PostgreSQL one its own server), so two run side by side
FAULT_WORKERS ?= 2
DEMO_ARGS ?=
BENCH_ARGS ?=
LINT_PATHS := node hub schemas deploy tests stubs

.DEFAULT_GOAL := help
.PHONY: help venv bytecode demo test lint bench faults

help:
	@echo "make demo   start a hub and the Beiliu city node on loopback (DEMO_ARGS=...; Ctrl-C stops)"
	@echo "make test   run the whole test suite on every core; prints the 15 slowest tests (PYTEST_ARGS='...', TEST_WORKERS=N)"
	@echo "make lint   ruff, mypy, the import contracts (lint-imports) and the message catalogs"
	@echo "make faults the fault suite (tests/faults: real processes killed, cut off, skewed; a few minutes)"
	@echo "make bench  every benchmark (tests/bench); last line one JSON document (BENCH_ARGS='--only NAME --args NAME=...')"

venv: $(STAMP)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -e '.[dev]'
	touch $(STAMP)

# the project's own modules compiled once: with PYTHONDONTWRITEBYTECODE set (as on these
# machines) no process writes its bytecode, and every tongban process the demo and the tests
# start compiled the whole package again (import node.app 1.44-1.53 s of CPU without the
# bytecode, 1.09-1.30 s with it; compileall writes it in 0.5 s whatever the variable says)
bytecode: $(STAMP)
	$(BIN)/python -m compileall -q node hub schemas deploy

demo: bytecode
	$(BIN)/tongban demo $(DEMO_ARGS)

test: bytecode
	@# the browser tests drive Debian's Chromium (never a downloaded browser); a CJK font makes
	@# the Chinese pages readable in their screenshots
	@# nginx runs the sample config's security headers (tests/integration/test_nginx_headers.py)
	@# and balances two hubs (tests/integration/test_nginx.py)
	@test -x /usr/bin/chromium -a -f /usr/share/fonts/truetype/wqy/wqy-microhei.ttc \
		-a -x /usr/sbin/nginx || \
		(apt-get update -qq && apt-get install -y -qq chromium fonts-wqy-microhei nginx)
	$(BIN)/pytest -n $(TEST_WORKERS) --durations=15 $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check $(LINT_PATHS)
	$(BIN)/mypy
	$(BIN)/lint-imports
	@# every message in the code and templates in both catalogs, the .mo files up to date
	$(BIN)/python -m deploy.messages check

faults: bytecode
	TONGBAN_FAULTS=1 $(BIN)/pytest -p no:cacheprovider -n $(FAULT_WORKERS) --durations=0 \
		tests/faults $(PYTEST_ARGS)

bench: $(STAMP)
	$(BIN)/python -m tests.bench $(BENCH_ARGS)
