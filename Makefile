# The Makefile is the project's documentation of how things are done: read the targets.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# jsii (CDK's Python bridge) needs a supported Node; package.json brings Node 22 along.
export JSII_NODE := $(CURDIR)/node_modules/.bin/node
export PATH := $(CURDIR)/node_modules/.bin:$(PATH)

.PHONY: setup demo test unit integration infra-tests lint format build bench sample-export emulator clean

setup: $(VENV)/.installed node_modules/.installed  ## create .venv and node_modules from nothing

$(VENV)/.installed: requirements.txt requirements-dev.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt -e .
	touch $@

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

lint: setup  ## ruff + mypy, as CI would
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: setup
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

build: setup  ## Lambda code + dependencies for arm64 in .build/lambda (no Docker)
	$(BIN)/python scripts/build_lambda.py

bench: setup  ## speed and memory figures (printed, never asserted)
	$(BIN)/python bench/hash_bench.py
	$(BIN)/python bench/export_bench.py

demo: $(VENV)/.installed  ## both pipelines end to end on this machine: moto server as AWS, the emulator as Amazon, DuckDB as Athena (needs no Node)
	$(BIN)/adsbridge demo

sample-export: setup  ## adsbridge export of the bundled sample file against the local Ads API emulator
	$(BIN)/python scripts/sample_export.py

emulator: setup  ## run the Ads API emulator as a sandbox on 127.0.0.1:8787
	$(BIN)/adsbridge emulator

clean:
	rm -rf $(VENV) node_modules cdk.out .build .pytest_cache .mypy_cache .ruff_cache
