# Two commands after cloning: `make serve` (the local stack) and `make test` (lint + tests).
# Both bootstrap .venv on a fresh machine (Python >= 3.11 as python3, or set PYTHON=...).

PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
STAMP   = $(VENV)/.installed-stamp
# checkov pins packages (packaging<24) that clash with pytest: it gets its own virtualenv.
CHECKOV_STAMP = .venv-checkov/.installed-stamp
ARGS   ?=

.PHONY: serve test lint bench package clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "wsrelay needs Python >= 3.11 (set PYTHON=...)")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

$(CHECKOV_STAMP):
	$(PYTHON) -m venv .venv-checkov
	.venv-checkov/bin/python -m pip install --quiet --upgrade pip
	.venv-checkov/bin/python -m pip install --quiet checkov
	@touch $(CHECKOV_STAMP)

serve: $(STAMP)  ## run the local stack: WebSocket + Management API on ws://127.0.0.1:3001/local
	@$(BIN)/wsrelay serve $(ARGS)

test: $(STAMP) $(CHECKOV_STAMP)  ## ruff + the whole test suite (Terraform checks included)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy src
	$(BIN)/pytest $(ARGS)

bench: $(STAMP)  ## print every benchmark's figures
	$(BIN)/python benchmarks/round_trips.py
	$(BIN)/python benchmarks/fanout.py
	$(BIN)/python benchmarks/init_cost.py
	$(BIN)/python benchmarks/local_stack.py

package: $(STAMP)  ## build dist/wsrelay-lambda.zip
	$(BIN)/python -m wsrelay.package

clean:
	rm -rf $(VENV) .venv-checkov dist .wsrelay .pytest_cache .ruff_cache .hypothesis
