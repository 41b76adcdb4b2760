# make demo         set up (if needed) and run the demo on the built-in defaults
# make test         set up (if needed) and run the whole test suite (what CI runs)
# make check        the fast lane: ruff, then the tests that need no PostgreSQL, no browser,
#                   no model and no daemon subprocess, on both cores (pytest-xdist); it prints
#                   what it left out, by marker and file (the markers: pyproject.toml; set in
#                   tests/conftest.py and by hand)
# make screenshots  retake the README's docs/queue.png, incident.png and dashboard.png
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin

.PHONY: demo test check screenshots lint clean

LEFT_OUT_OF_CHECK = postgresql or browser or model or daemon
LINTED = listener classifiers alerts tests scripts

$(BIN)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	# torch is pinned to the CPU build first, so nothing pulls a multi-GB CUDA build
	$(BIN)/pip install --disable-pip-version-check -q torch==2.13.0
	$(BIN)/pip install --disable-pip-version-check -q -e '.[test]'
	touch $@

demo: $(BIN)/.installed
	$(BIN)/listener --config config.yaml demo

test: $(BIN)/.installed
	bash scripts/ensure-services
	$(BIN)/python -m pytest -q

check: $(BIN)/.installed
	$(BIN)/ruff check $(LINTED)
	$(BIN)/python -m pytest -q -n 2 -m "not ($(LEFT_OUT_OF_CHECK))"

# the browser tests alone, writing their screenshots into docs/ (fails, not skips, without Chromium)
screenshots: $(BIN)/.installed
	bash scripts/ensure-services
	$(BIN)/python -m pytest -q tests/web/test_web_browser.py --screenshots docs

lint: $(BIN)/.installed
	$(BIN)/ruff check $(LINTED)

clean:
	rm -rf $(VENV) var *.egg-info
