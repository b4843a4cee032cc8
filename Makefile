# Two commands: `make demo` and `make test`. Everything else is a helper for them.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   ?= .venv
BIN    := $(VENV)/bin
RUNTIME := $(VENV)/.hygeia-runtime
STAMP  := $(VENV)/.hygeia-installed

.PHONY: demo test lint typecheck unit bench clean

# The platform alone (what `make demo` needs); the test and training tools (torch, playwright, ...) on top.
$(RUNTIME): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	touch $(RUNTIME)

$(STAMP): $(RUNTIME)
	$(BIN)/python -m pip install --quiet -e '.[dev,train]'
	touch $(STAMP)

demo: $(RUNTIME)
	$(BIN)/hygeia demo

lint: $(STAMP)
	$(BIN)/ruff check src tests acceptance benchmarks

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/pytest -n 2 tests

test: lint typecheck
	$(BIN)/pytest -n 2 --dist loadfile tests acceptance

bench: $(STAMP)
	@for b in benchmarks/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) build dist src/*.egg-info .pytest_cache .mypy_cache .ruff_cache
