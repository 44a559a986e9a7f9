# One entry point for people and CI. `make test` is the gate; `make demo` runs the whole loop.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
SAM_VENV := .venv-sam
CHECKOV_VENV := .venv-checkov
PY := $(VENV)/bin/python
SAM := $(SAM_VENV)/bin/sam
UV_VERSION := 0.13.8
# sam build needs the Lambda runtime's Python (python3.13) on PATH; pyenv provides it on
# these machines. Only sam gets it: the tests run on the default python3.
SAM_PYENV := PYENV_VERSION=3.13.0:$(shell pyenv version-name 2>/dev/null || echo system)
# The builds' own Makefiles install wheels with python3.13 -m pip. Through pyenv's shim, each
# install ends in a `pyenv rehash`, and sam build --parallel runs several at once: they raced
# on pyenv's shims folder and failed a build. The interpreter itself needs no shim.
PYTHON313_BIN := $(shell PYENV_VERSION=3.13.0 pyenv which python3.13 2>/dev/null || command -v python3.13)
export SAM_CLI_TELEMETRY := 0

.PHONY: help venv node_modules catalogues compiled demo local test lint format typecheck validate check-catalogue build deploy unit integration e2e bench lock clean preview report-preview analytics

help:
	@echo "make demo   - run the whole survey loop on the local stack (no AWS account)"
	@echo "make test   - the gate: lint, types, template checks, sam build, all tests"
	@echo "make local  - start the local stack and keep it running"
	@echo "make deploy - check the catalogue, sam build, sam deploy --guided"
	@echo "make bench  - sam build, then every benchmark (cold starts, package sizes, costs against floors, report reads, transitions, USD, end-to-end, the data lake): a summary table and .bench/results.json"
	@echo "make preview - every survey email and SMS rendered to .preview/"
	@echo "make report-preview - a sample manager report (HTML, chart, .xlsx, screenshots) in .preview/report/"
	@echo "make analytics - the data lake's named queries on DuckDB, over a local stack fed through the real flow"

$(VENV)/.installed: requirements/dev.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	# Compiled at install: where PYTHONDONTWRITEBYTECODE is set (as on these machines), nothing writes
	# the .pyc files, and every test process and local stack would compile moto, botocore and
	# the rest again (a local stack started in 11 s instead of 6.5).
	$(VENV)/bin/uv pip install --quiet --compile-bytecode --python $(PY) -r requirements/dev.txt
	touch $@

$(SAM_VENV)/.installed: requirements/sam.txt
	$(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	$(SAM_VENV)/bin/uv pip install --quiet --python $(SAM_VENV)/bin/python -r requirements/sam.txt
	touch $@

$(CHECKOV_VENV)/.installed: requirements/checkov.txt
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	$(CHECKOV_VENV)/bin/uv pip install --quiet --python $(CHECKOV_VENV)/bin/python -r requirements/checkov.txt
	touch $@

venv: $(VENV)/.installed

# axe-core for the browser tests (tools/surfaces.py), pinned in package-lock.json.
node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
	touch $@

node_modules: node_modules/.installed

# The message catalogues (messages/locale/*/LC_MESSAGES/surveys.po) compiled to .mo beside
# them, for everything that runs from the work tree; the layer's build compiles its own copy.
# Only a .po newer than its .mo is compiled again.
catalogues: venv
	cd layers/survey_core && ../../$(PY) -m survey_core.messages.compile

demo: catalogues
	$(PY) -m infra.local.demo

local: catalogues
	$(PY) -m infra.local.stack

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: venv
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

typecheck: venv
	$(VENV)/bin/mypy layers/survey_core/survey_core layers/survey_core/build_layer.py functions infra bench tools

# checkov: every skipped check carries its reason next to the resource in template.yaml.
# --skip-download keeps it offline (no guideline lookups).
validate: venv $(SAM_VENV)/.installed $(CHECKOV_VENV)/.installed
	$(VENV)/bin/cfn-lint template.yaml
	$(SAM_PYENV) $(SAM) validate --lint --region eu-north-1
	$(CHECKOV_VENV)/bin/checkov --file template.yaml --framework cloudformation --compact --quiet --skip-download

# The survey catalogue ships in the layer: an invalid one stops the tests and the deploy, with
# every problem named as file: path: problem. A catalogue that passes gets its stamp
# (catalogue.checked), so that the functions need not check it again at every cold start.
# The message catalogues too: every text in fi, sv and en with the same placeholders, a display
# name for every report scope (docs/localization.md); compiled to .mo when they pass.
check-catalogue: venv
	cd layers/survey_core && ../../$(PY) -m survey_core.catalogue --stamp
	cd layers/survey_core && ../../$(PY) -m survey_core.report.config
	cd layers/survey_core && ../../$(PY) -m survey_core.messages.compile --check
	$(PY) -m tools.check_escalation_rule

build: check-catalogue $(SAM_VENV)/.installed
	$(SAM_PYENV) PYTHON313=$(PYTHON313_BIN) $(SAM) build --parallel --cached

deploy: build
	$(SAM_PYENV) $(SAM) deploy --guided

# Our own sources compiled before the tests: where PYTHONDONTWRITEBYTECODE is set (as on these
# machines) nothing writes their .pyc, and every function loaded afresh (each integration test,
# each local stack: a copy of survey_core of its own) compiled them again. sam build and the
# layer leave __pycache__ out.
compiled: venv
	$(PY) -m compileall -q layers/survey_core functions infra tests tools bench

unit: catalogues compiled
	$(PY) -m pytest -m unit -q

integration: catalogues compiled
	$(PY) -m pytest -m integration -q

e2e: catalogues node_modules compiled
	$(PY) -m pytest -m e2e -q

# Two workers (pytest-xdist), a test file each: a file's local stack stays on one worker. The
# files go out in collection order, slowest kind first (tests/conftest.py), not xdist's own.
# About 9.5 min of tests take 5 on this 2-core machine (README: the suite's time).
test: lint typecheck validate build node_modules compiled
	$(PY) -m pytest -q -n 2 --dist loadfile --no-loadscope-reorder

lock: venv
	$(VENV)/bin/uv pip compile -q requirements/dev.in -o requirements/dev.txt --python-version 3.11 --no-header
	$(VENV)/bin/uv pip compile -q requirements/sam.in -o requirements/sam.txt --python-version 3.11 --no-header
	$(VENV)/bin/uv pip compile -q requirements/checkov.in -o requirements/checkov.txt --python-version 3.11 --no-header
	$(VENV)/bin/uv pip compile -q layers/survey_core/requirements.in -o layers/survey_core/requirements.txt --python-version 3.13 --python-platform aarch64-manylinux_2_34 --no-header
	$(VENV)/bin/uv pip compile -q functions/report/requirements.in -o functions/report/requirements.txt --python-version 3.13 --python-platform aarch64-manylinux_2_34 --no-header
	$(VENV)/bin/uv pip compile -q functions/results/requirements.in -o functions/results/requirements.txt --python-version 3.13 --python-platform aarch64-manylinux_2_34 --no-header

clean:
	rm -rf $(VENV) $(SAM_VENV) $(CHECKOV_VENV) node_modules .aws-sam .local-stack .preview .pytest_cache .mypy_cache .ruff_cache

# sam build first: package sizes and cold starts are measured on the built artifacts.
bench: venv build
	$(PY) -m bench

# Every email and SMS of every survey x language x metric, to files (index.html lists them),
# and a Chromium screenshot of every page and email at 320, 390 and 1280 px with what
# axe-core and the layout checks found (.preview/surfaces/index.html).
preview: catalogues node_modules
	$(PY) -m tools.preview_messages --out .preview
	$(PY) -m tools.surfaces --out .preview/surfaces

# A manager report from sample data: HTML, text, chart, .xlsx and Chromium screenshots.
report-preview: catalogues
	$(PY) -m tools.preview_report --out .preview/report

# The data lake: a local stack, surveys through the real flow, then the named queries (the
# template's Athena SQL, translated by sqlglot) on DuckDB over the stack's lake bucket.
# On a running stack (make local): .venv/bin/python -m tools.lake query
analytics: venv
	$(PY) -m tools.lake demo
