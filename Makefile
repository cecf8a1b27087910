# docex: everything is set up from this file on a fresh machine.
# `make run` starts the node on its embedded defaults; `make test` sets up and runs the tests.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
# Python keeps compiled modules (__pycache__, ignored by git) for everything started from
# here. Some shells and CI images set PYTHONDONTWRITEBYTECODE=1: then every docex process
# a test starts compiles the project's modules again (0.3-0.4 s of CPU each, hundreds of
# processes in `make test`), and pytest rewrites every test module's asserts in each worker.
unexport PYTHONDONTWRITEBYTECODE
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
NPM ?= npm

VENV_STAMP := $(VENV)/.stamp-installed
NODE_STAMP := node_modules/.stamp-installed
CONTRACTS_NODE_STAMP := contracts/node_modules/.stamp-installed
BENCH_NODE_STAMP := bench/node_modules/.stamp-installed
# What the standards tests compare with: OpenAttestation, Digital Bazaar status lists
STANDARDS_NODE_STAMP := tests/reference/standards/node_modules/.stamp-installed
# Debian packages, installed only when missing (we run as root), once per Makefile change.
# The node needs the fonts printable certificates embed (DejaVu Sans for Latin and
# Vietnamese, Nanum Gothic for Korean); the tests also need chromium (the browser test of
# the web pages) and pdftoppm + zbarimg (the test that scans a certificate's QR code).
APT_PACKAGES := fonts-dejavu-core fonts-nanum
APT_TEST_PACKAGES := chromium poppler-utils zbar-tools
APT_STAMP := $(VENV)/.stamp-apt
APT_TEST_STAMP := $(VENV)/.stamp-apt-test

.PHONY: help setup run test test-fast lint bench contracts clean slither soak engines

help:
	@echo "make run     set up and start the node (embedded chain, store and database)"
	@echo "make test    set up and run lint + the whole test suite"
	@echo "make bench   run the benchmarks side by side with the peers; JSON in bench/results/"
	@echo "make soak    reliability scenarios (load, kill -9, chain reset, hostile peer, disk full)"
	@echo "             + the long security runs; SOAK_ARGS=--quick for a short run"
	@echo "make lint    ruff + mypy strict on certificates, ledger, adapters, node"
	@echo "make slither static analysis of the contracts (Slither); new findings fail"
	@echo "make contracts  rebuild contracts/build/ from the Solidity sources"
	@echo "make engines  build the pinned geth and Kubo into bin/ (once per go.sum; needs Go)"

# certificates/_speedups.c is built by the editable install: a change to it reinstalls
$(VENV_STAMP): pyproject.toml certificates/_speedups.c
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -e '.[dev]'
	touch $@

# npm: `npm ci` when a lockfile is checked in (reproducible), never a global install.
$(NODE_STAMP): package.json package-lock.json
	$(NPM) ci --no-audit --no-fund --loglevel=error
	touch $@

$(CONTRACTS_NODE_STAMP): contracts/package.json contracts/package-lock.json
	cd contracts && $(NPM) ci --no-audit --no-fund --loglevel=error
	touch $@

$(BENCH_NODE_STAMP): bench/package.json bench/package-lock.json
	cd bench && $(NPM) ci --no-audit --no-fund --loglevel=error
	touch $@

$(STANDARDS_NODE_STAMP): tests/reference/standards/package.json tests/reference/standards/package-lock.json
	cd tests/reference/standards && $(NPM) ci --no-audit --no-fund --loglevel=error
	touch $@

$(APT_STAMP): APT_WANTED = $(APT_PACKAGES)
$(APT_TEST_STAMP): APT_WANTED = $(APT_TEST_PACKAGES)
$(APT_STAMP) $(APT_TEST_STAMP): Makefile
	@missing=""; for package in $(APT_WANTED); do \
	  dpkg-query -W -f='$${Status}' "$$package" 2>/dev/null | grep -q 'install ok installed' \
	    || missing="$$missing $$package"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
	    apt-get install -y -qq --no-install-recommends $$missing; \
	fi
	mkdir -p $(@D)
	touch $@

# PostgreSQL for the tests that run on it too (marker `postgres`: the fixtures start a
# private server, node/testing/postgres_server.py) and `make bench`'s PostgreSQL run:
# Debian's package when no initdb is found, on PATH or in /usr/lib/postgresql/*/bin
# (where Debian puts it), without the cluster Debian would otherwise create and start.
POSTGRES_STAMP := $(VENV)/.stamp-postgresql
$(POSTGRES_STAMP): Makefile
	@if ! command -v initdb >/dev/null && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then \
	  echo "installing Debian's postgresql"; \
	  mkdir -p /etc/postgresql-common/createcluster.d; \
	  echo 'create_main_cluster = false' > /etc/postgresql-common/createcluster.d/docex.conf; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
	    apt-get install -y -qq --no-install-recommends postgresql; \
	fi
	mkdir -p $(@D)
	touch $@

setup: $(VENV_STAMP) $(NODE_STAMP) $(CONTRACTS_NODE_STAMP) $(APT_STAMP)

lint: $(VENV_STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

# independent tests on three workers for the two cores (pytest-xdist: two left the cores
# a fifth idle while tests wait for chains and processes); the tests of a module that share a
# costly fixture stay on one worker (tests/conftest.py). TEST_WORKERS=0 runs in one process.
TEST_WORKERS ?= 3
test: setup $(APT_TEST_STAMP) $(POSTGRES_STAMP) $(STANDARDS_NODE_STAMP) lint engines
	$(VENV)/bin/pytest -n $(TEST_WORKERS) --dist loadgroup --durations=30

run: setup
	$(VENV)/bin/docex run

bench: setup $(BENCH_NODE_STAMP)
	$(PY) -m bench

# minutes of real processes (bench/soak/), results merged into
# bench/results/reliability.json and docs/reliability.md, then the slow security tests;
# `make test` runs every scenario once at its smallest size (tests/e2e/soak/)
SOAK_ARGS ?=
soak: setup
	status=0; \
	$(PY) -m bench.soak $(SOAK_ARGS) || status=1; \
	$(VENV)/bin/pytest tests -m soak -p no:cacheprovider || status=1; \
	exit $$status

# geth v1.13.15 (Clique) and Kubo v0.43.1 built from the Go modules in tools/engines/
# into bin/ (docs/adr/0050-pinned-go-engines.md); each is rebuilt only when its
# go.mod + go.sum change (the hash is kept in bin/.<engine>.stamp).
engines:
	tools/engines/build.sh geth
	tools/engines/build.sh kubo

contracts: $(CONTRACTS_NODE_STAMP)
	cd contracts && node scripts/build.mjs

# Slither (static analysis of contracts/src) in a venv of its own: it pins web3 7, docex
# uses web3 8. The pinned solc-js stands in for solc (scripts/slither-solc.mjs); every
# finding must be accepted, with its reason, in scripts/slither-accepted.json.
SLITHER_STAMP := $(VENV)/slither/.stamp-installed
$(SLITHER_STAMP):
	test -x $(VENV)/slither/bin/python || $(PYTHON) -m venv $(VENV)/slither
	$(VENV)/slither/bin/pip install --quiet 'slither-analyzer==0.11.6'
	touch $@

slither: $(CONTRACTS_NODE_STAMP) $(SLITHER_STAMP)
	scripts/slither.sh $(VENV)/slither/bin/slither

clean:
	rm -rf $(VENV) node_modules contracts/node_modules bench/node_modules tests/reference/standards/node_modules .mypy_cache .ruff_cache .pytest_cache
