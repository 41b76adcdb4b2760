# make demo   set up (if needed) and run the demo on the built-in defaults
# make test   set up (if needed) and run the whole test suite
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin

.PHONY: demo test lint clean

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

lint: $(BIN)/.installed
	$(BIN)/ruff check listener classifiers alerts tests

clean:
	rm -rf $(VENV) var *.egg-info
