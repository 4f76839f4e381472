# The Makefile is the project's documentation of how things are done: read the targets.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# jsii (CDK's Python bridge) needs a supported Node; package.json brings Node 22 along.
export JSII_NODE := $(CURDIR)/node_modules/.bin/node
export PATH := $(CURDIR)/node_modules/.bin:$(PATH)

# Python dependencies are locked by uv (uv.lock, with hashes): the venv is synced from the lock, never resolved anew.
UV := $(BIN)/uv
export UV_PROJECT_ENVIRONMENT := $(CURDIR)/$(VENV)
export UV_PYTHON_DOWNLOADS := never

.PHONY: setup lock demo test unit integration infra-tests lint format build bench sample-export emulator clean

setup: $(VENV)/.installed node_modules/.installed  ## create .venv and node_modules from nothing, from the lock files

# uv itself comes hash-checked from requirements-bootstrap.txt; it installs everything else from uv.lock
# (--locked: fails instead of re-resolving when uv.lock is out of date with pyproject.toml).
$(UV): requirements-bootstrap.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check --require-hashes --no-deps -r requirements-bootstrap.txt
	touch $@

$(VENV)/.installed: $(UV) uv.lock pyproject.toml
	$(UV) sync --locked --quiet --python $(BIN)/python
	touch $@

lock: $(UV)  ## re-resolve uv.lock after editing pyproject.toml (UPGRADE=1: newest allowed versions), re-export requirements.txt
	$(UV) lock $(if $(UPGRADE),--upgrade)
	$(UV) export --frozen --no-dev --no-emit-project --format requirements-txt --quiet -o requirements.txt
	$(UV) sync --locked --quiet --python $(BIN)/python
	touch $(VENV)/.installed

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

test: lint  ## lint, then the whole suite: unit, integration, infra
	$(BIN)/pytest

unit: setup
	$(BIN)/pytest tests/unit

integration: setup
	$(BIN)/pytest tests/integration

infra-tests: setup
	$(BIN)/pytest tests/infra

lint: setup  ## ruff + mypy + the complexity gate (no function above cyclomatic complexity 20), as CI would
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/xenon --max-absolute C functions infra bench scripts

format: setup
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

build: setup  ## Lambda code + dependencies for arm64 (no Docker): .build/lambda, and .build/lambda-pyarrow for the one function that needs pyarrow
	$(BIN)/python scripts/build_lambda.py

bench: setup  ## speed and memory figures (printed, never asserted)
	$(BIN)/python bench/hash_bench.py
	$(BIN)/python bench/export_bench.py
	$(BIN)/python bench/stream_bench.py

demo: $(VENV)/.installed  ## both pipelines end to end on this machine: moto server as AWS, the emulator as Amazon, DuckDB as Athena (needs no Node)
	$(BIN)/adsbridge demo

sample-export: setup  ## adsbridge export of the bundled sample file against the local Ads API emulator
	$(BIN)/python scripts/sample_export.py

emulator: setup  ## run the Ads API emulator as a sandbox on 127.0.0.1:8787
	$(BIN)/adsbridge emulator

clean:
	rm -rf $(VENV) node_modules cdk.out .build .pytest_cache .mypy_cache .ruff_cache
