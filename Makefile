# Quick start: `make run` (set up, run the main job on embedded defaults), `make test`, `make lint`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: run test lint bench fixtures clean system-packages image

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# Embedded defaults: a local folder is the bucket, outputs go to xxgk-output/out, Prefect keeps its
# database in xxgk-output/prefect (so `xxgk server` later shows these runs in its UI).
RUN_ENV := PREFECT_HOME=$(CURDIR)/xxgk-output/prefect PREFECT_SERVER_ANALYTICS_ENABLED=false \
	PREFECT_LOGGING_LEVEL=INFO GX_ANALYTICS_ENABLED=false

run: $(STAMP)
	$(RUN_ENV) $(VENV)/bin/xxgk run

# the Debian packages the tests need (LibreOffice, poppler, fonts, PostgreSQL, …): .ci/system-packages.txt
system-packages:
	bash .ci/system-packages

test: system-packages $(STAMP)
	$(PY) -m pytest -q

# ruff over the tree and mypy over tasks/ and flows/ (their settings: pyproject.toml)
lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

# the worker image without Docker Hub, on a local stand-in for Prefect's base, and its checks (as root;
# infra/build-image-local says what it builds and checks)
image:
	bash .ci/system-packages image-packages.txt
	infra/build-image-local

bench: $(STAMP)
	$(PY) bench/extract_speed.py

fixtures: $(STAMP)
	$(PY) tests/fixtures/generate.py

clean:
	rm -rf output xxgk-output .pytest_cache .hypothesis .ruff_cache .mypy_cache
