# Quick start: `make run` (set up, run the main job on embedded defaults), `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: run test bench fixtures clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(VENV)/bin/xxgk extract-all tests/fixtures/samples --output output/extract

test: $(STAMP)
	$(PY) -m pytest -q

bench: $(STAMP)
	$(PY) bench/extract_speed.py

fixtures: $(STAMP)
	$(PY) tests/fixtures/generate.py

clean:
	rm -rf output .pytest_cache .hypothesis
