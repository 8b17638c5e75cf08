# musiclib: spectrogram-domain music generation, a helper package and a numbered notebook series.
#
#   make demo     create .venv, fetch both corpora, run the notebooks (demo mode: nexuiz-music) into build/
#   make test     create .venv, fetch the small corpus (sonic-pi-samples), run the whole test suite
#   make test-fast  the tests not marked slow (no Keras, no notebook runs, no browser): under a minute
#
# Variables: CORPUS=full (`make data`/`make test` also fetch nexuiz-music, whose card tests then run),
# MODE=demo|small|full (notebooks' MODE for `make demo`), PYTEST_ARGS="-k data -x" (passed to pytest),
# PYTHON=/path/to/python3.12 (the interpreter .venv is created with).

SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV        ?= .venv
PY          := $(VENV)/bin/python
STAMP       := $(VENV)/.installed
CORPUS      ?= default
MODE        ?= demo
PYTEST_ARGS ?=

ifeq ($(CORPUS),full)
FETCH_WHAT := all
else
FETCH_WHAT := sonic-pi-samples
endif

.PHONY: help venv data browser test test-fast test-gallery demo lab bench clean

help:
	@echo "make demo    create $(VENV) (Python 3.12, pinned deps), fetch both corpora, run the notebooks into build/"
	@echo "make test    same set-up, then run the whole test suite (PYTEST_ARGS=... passed to pytest)"
	@echo "make test-fast   the tests not marked slow (Keras, notebook runs and the browser are slow)"
	@echo "make test-gallery  the report gallery in headless Chromium (part of make test)"
	@echo "make venv    create $(VENV) and install requirements.txt and musiclib (-e .)"
	@echo "make data    fetch sonic-pi-samples into data/ (CORPUS=full: also nexuiz-music)"
	@echo "make lab     JupyterLab on notebooks/"
	@echo "make bench   run benchmarks/*.py"
	@echo "make clean   remove build outputs (never data/ or .venv)"

venv: $(STAMP)

# Rebuilt when requirements.txt or pyproject.toml is newer than the stamp; a rerun is a no-op.
$(STAMP): requirements.txt pyproject.toml
	@if [ ! -x "$(PY)" ]; then \
		python="$$(scripts/find_python.sh)" || exit 1; \
		echo "creating $(VENV) with $$python"; \
		"$$python" -m venv "$(VENV)" || exit 1; \
	fi
	@$(PY) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 12))' || { \
		echo "$(VENV) is not Python 3.12 ($$($(PY) --version 2>&1)): remove it (rm -rf $(VENV)) and re-run" >&2; exit 1; }
	$(PY) -m pip install --disable-pip-version-check -q -r requirements.txt
	$(PY) -m pip install --disable-pip-version-check -q -e .
	@touch $(STAMP)

data: venv
	$(PY) -m musiclib fetch $(FETCH_WHAT)

# Headless Chromium for the gallery test (installed with apt when root; the test skips otherwise).
browser:
	@sh scripts/install_chromium.sh

test: venv data browser
	$(PY) -m pytest $(PYTEST_ARGS)

test-fast: venv data
	$(PY) -m pytest -m "not slow" $(PYTEST_ARGS)

test-gallery: venv data browser
	$(PY) -m pytest tests/test_gallery.py $(PYTEST_ARGS)

# The notebooks, executed with papermill into build/notebooks/ with an HTML report in build/report/.
# Demo and full modes run on real songs (nexuiz-music), so the demo fetches both corpora.
demo: venv
	$(PY) -m musiclib fetch all
	$(PY) scripts/run_notebooks.py --mode $(MODE) --out build

lab: venv
	$(VENV)/bin/jupyter lab notebooks/

# The benchmark entry points (generate.py also runs the Keras rows of benchmarks/generate_keras.py).
BENCHMARKS := benchmarks/phase.py benchmarks/generate.py benchmarks/cache.py benchmarks/stretch.py benchmarks/long_rollout.py

bench: venv data
	@for f in $(BENCHMARKS); do echo "== $$f"; $(PY) "$$f" || exit 1; done

# Build outputs only: never data/, outputs/ (generated clips), notebooks or .venv.
clean:
	rm -rf build/ .pytest_cache/ .hypothesis/ *.egg-info/
	find musiclib tests scripts benchmarks -name __pycache__ -type d -prune -exec rm -rf {} + 2>/dev/null || true
