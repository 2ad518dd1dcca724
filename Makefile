# Two commands after cloning: `make serve` (the local stack) and `make test` (lint + tests).
# Both bootstrap .venv on a fresh machine (Python >= 3.11 as python3, or set PYTHON=...).

PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
STAMP   = $(VENV)/.installed-stamp
ARGS   ?=

.PHONY: serve test lint bench package clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "wsrelay needs Python >= 3.11 (set PYTHON=...)")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

serve: $(STAMP)  ## run the local stack: WebSocket + Management API on ws://127.0.0.1:3001/local
	$(BIN)/wsrelay serve $(ARGS)

test: $(STAMP)  ## ruff + the whole test suite
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/pytest $(ARGS)

bench: $(STAMP)  ## print every benchmark's figures
	$(BIN)/python benchmarks/round_trips.py
	$(BIN)/python benchmarks/fanout.py
	$(BIN)/python benchmarks/init_cost.py

package: $(STAMP)  ## build dist/wsrelay-lambda.zip
	$(BIN)/python -m wsrelay.package

clean:
	rm -rf $(VENV) dist .wsrelay .pytest_cache .ruff_cache .hypothesis
