# voucher-chain: build, checks and tests.  `make test` is what CI runs (.ci/run).
#
#   make venv            .venv with the project (editable) + dev tools; reinstalls when
#                        pyproject.toml (or a package's __init__.py) is newer than .venv/.installed
#   make contracts-deps  npm ci in contracts/ when node_modules is missing or older than the lock
#   make contracts       compile contracts/src -> contracts/build (commit the result)
#   make lint            ruff check + ruff format --check
#   make fmt             ruff format + ruff check --fix
#   make types           mypy (strict)
#   make slither         static analysis of the contracts (fails on medium/high findings)
#   make pytest          tests; extra arguments: make pytest PYTEST_ARGS='-k foo -x'
#   make pytest-node     the contract tests again, against the embedded node over HTTP
#   make anvil-deps      npm ci in tests/external/ (Anvil, an external EVM node) when stale
#   make pytest-anvil    the contract tests, the services scenarios, the API end-to-end test and
#                        the Besu tooling against Anvil (an external node nobody here wrote)
#   make chromium        Debian's chromium (and a CJK font) for the browser tests, when missing
#   make pytest-web      the web apps' browser tests alone (tests/web, headless Chromium)
#   make web-vendor      npm ci in web/ and copy ethers/Chart.js into api/web/vendor (commit it)
#   make test            venv, contracts-deps, ethers-deps, anvil-deps, chromium, lint, types,
#                        slither, pytest (tests/web included), pytest-node, pytest-anvil (in
#                        order, fail fast)
#   make run             voucher-chain up: the embedded dev node (var/node) and the API
#   make clean           remove venvs, node_modules and caches (keeps contracts/build and var/)

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := test
.DELETE_ON_ERROR:
.NOTPARALLEL:
MAKEFLAGS += --no-print-directory

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
VENV_STAMP := $(VENV)/.installed
NODE_MODULES_STAMP := contracts/node_modules/.installed
PYTEST_ARGS ?=

# pip on these machines warns about absent local index folders for every package: drop that.
PIP_QUIET := 2> >(grep -v 'is ignored: it is neither a file nor a directory' >&2)

# Python packages whose creation after the last install must trigger a reinstall (the
# editable install only maps packages that existed when it ran).
PACKAGE_INITS := $(wildcard voucher_chain/__init__.py api/__init__.py)

# mypy targets: those of these folders that hold Python files (mypy fails on a missing or
# Python-free folder, and the tree is filled in by several people).
MYPY_DIRS := voucher_chain api tests scripts
MYPY_TARGETS = $(foreach d,$(MYPY_DIRS),$(if $(shell find $(d) -name '*.py' -print -quit 2>/dev/null),$(d)))

.PHONY: venv contracts-deps ethers-deps anvil-deps chromium contracts lint fmt types slither \
	pytest pytest-node pytest-anvil pytest-web web-vendor test run clean

venv: $(VENV_STAMP)
	@:

$(VENV_STAMP): pyproject.toml $(PACKAGE_INITS)
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "pip install -e '.[dev]' into $(VENV)"
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]' $(PIP_QUIET)
	@touch $@

contracts-deps: $(NODE_MODULES_STAMP)
	@:

# ethers.js for the test that drives the embedded node from JavaScript (tests/node/test_ethers.py)
ETHERS_STAMP := tests/node/ethers/node_modules/.installed

ethers-deps: $(ETHERS_STAMP)
	@:

$(ETHERS_STAMP): tests/node/ethers/package-lock.json tests/node/ethers/package.json
	@echo "npm ci (tests/node/ethers/)"
	@cd tests/node/ethers && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

# Anvil (npm @foundry-rs/anvil, which ships its binary) for the anvil test backend and scripts/bench
ANVIL_STAMP := tests/external/node_modules/.installed

anvil-deps: $(ANVIL_STAMP)
	@:

$(ANVIL_STAMP): tests/external/package-lock.json tests/external/package.json
	@echo "npm ci (tests/external/)"
	@cd tests/external && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

$(NODE_MODULES_STAMP): contracts/package-lock.json contracts/package.json
	@echo "npm ci (contracts/)"
	@cd contracts && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

# The browser of the web apps' tests: Debian's chromium, driven by Playwright through its
# executable path (no `playwright install`, which downloads). The CJK font draws the Chinese UI.
CHROMIUM := /usr/lib/chromium/chromium
CJK_FONT := /usr/share/fonts/truetype/wqy/wqy-microhei.ttc

chromium:
	@if [[ -x $(CHROMIUM) && -f $(CJK_FONT) ]]; then exit 0; fi; \
	if [[ $$(id -u) -ne 0 ]]; then \
		echo "The browser tests need Debian's chromium and fonts-wqy-microhei; installing them" \
		     "needs root: sudo apt-get install -y chromium fonts-wqy-microhei" >&2; exit 1; fi; \
	echo "apt-get install chromium fonts-wqy-microhei"; \
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		chromium fonts-wqy-microhei >/dev/null

pytest-web: venv chromium
	@$(BIN)/pytest tests/web $(PYTEST_ARGS)

# Front-end packages: web/package.json + lock → api/web/vendor (committed; `make run` needs no npm)
web-vendor:
	@cd web && npm ci --no-audit --no-fund --loglevel=error && node vendor.mjs

contracts: contracts-deps
	@node contracts/build.js

lint: venv
	@$(BIN)/ruff check .
	@$(BIN)/ruff format --check .

fmt: venv
	@$(BIN)/ruff format .
	@$(BIN)/ruff check --fix .

types: venv
	@targets="$(MYPY_TARGETS)"; \
	if [[ -z "$$targets" ]]; then echo "mypy: no Python files yet"; \
	else $(BIN)/mypy $$targets; fi

slither: contracts-deps
	@scripts/slither

pytest: venv
	@$(BIN)/pytest $(PYTEST_ARGS)

# The contract suite once more, against the embedded node over HTTP JSON-RPC (one suite, two
# backends: see tests/conftest.py).
pytest-node: venv
	@VOUCHER_CHAIN_TEST_BACKEND=node $(BIN)/pytest tests/contracts $(PYTEST_ARGS)

# The same tests against Anvil, an external JSON-RPC node: the contract suite, the services
# scenarios, the API end to end over uvicorn, and the Besu tooling (tests/conftest.py,
# tests/external/anvil.py).
pytest-anvil: venv anvil-deps
	@VOUCHER_CHAIN_TEST_BACKEND=anvil $(BIN)/pytest tests/contracts tests/services \
		tests/api/test_end_to_end.py tests/besu tests/external $(PYTEST_ARGS)

test: venv contracts-deps ethers-deps anvil-deps chromium lint types slither pytest pytest-node \
	pytest-anvil

run: venv
	@$(BIN)/voucher-chain up --data-dir var

clean:
	rm -rf $(VENV) .venv-slither contracts/node_modules tests/external/node_modules \
		web/node_modules test-results test-screenshots .slither crytic-export \
		.mypy_cache .ruff_cache .pytest_cache .hypothesis *.egg-info
	find . -name __pycache__ -type d -not -path './.git/*' -prune -exec rm -rf {} +
