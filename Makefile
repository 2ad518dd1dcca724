# Two commands after cloning: `make serve` (the local stack) and `make test` (lint + tests).
# Both bootstrap .venv on a fresh machine (Python >= 3.11 as python3, or set PYTHON=...).
# `make serve` installs only what serving needs (the package with its `local` extra);
# `make test` installs everything (`dev`, which includes `local`). One stamp file per extra, so
# either command works after the other, and both reinstall when pyproject.toml changes.

PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
LOCAL_STAMP = $(VENV)/.stamp-local
DEV_STAMP   = $(VENV)/.stamp-dev
# checkov pins packages (packaging<24) that clash with pytest: it gets its own virtualenv.
CHECKOV_STAMP = .venv-checkov/.installed-stamp
ARGS   ?=

.PHONY: serve test test-fast bench package clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "wsrelay needs Python >= 3.11 (set PYTHON=...)")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(LOCAL_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[local]'
	@touch $(LOCAL_STAMP)

# dev includes local, so it satisfies both stamps.
$(DEV_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(LOCAL_STAMP) $(DEV_STAMP)

$(CHECKOV_STAMP):
	$(PYTHON) -m venv .venv-checkov
	.venv-checkov/bin/python -m pip install --quiet --upgrade pip
	.venv-checkov/bin/python -m pip install --quiet checkov
	@touch $(CHECKOV_STAMP)

serve: $(LOCAL_STAMP)  ## run the local stack: WebSocket + Management API on ws://127.0.0.1:3001/local
	@$(BIN)/wsrelay serve $(ARGS)

test: $(DEV_STAMP) $(CHECKOV_STAMP)  ## ruff + mypy + import layers + the whole test suite (Terraform checks included)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy src
	$(BIN)/lint-imports
	$(BIN)/pytest --durations=15 $(ARGS)

# The tests that start no process, run no terraform, benchmark or long simulation (markers in
# pyproject.toml, applied in tests/): under 30 s, for the edit-test loop. `make test` runs them all.
test-fast: $(DEV_STAMP)  ## ruff + the tests marked neither processes, terraform, bench nor slow
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/pytest -m "not processes and not terraform and not bench and not slow" $(ARGS)

# handler_cpu.py writes its figures to .wsrelay/ here; run it with its default --output to
# refresh the cost model's src/wsrelay/tools/measured.json. benchmarks/soak.py (10 min) is run
# by hand (docs/benchmarks.md).
bench: $(DEV_STAMP)  ## print every benchmark's figures
	$(BIN)/python benchmarks/round_trips.py
	$(BIN)/python benchmarks/fanout.py
	$(BIN)/python benchmarks/init_cost.py
	$(BIN)/python benchmarks/local_stack.py --dashboard
	@mkdir -p .wsrelay
	$(BIN)/python benchmarks/handler_cpu.py --output .wsrelay/handler_cpu.json
	$(BIN)/python benchmarks/simulate_runtime.py
	$(BIN)/python benchmarks/loadgen_capacity.py
	$(BIN)/python benchmarks/churn_recovery.py

package: $(LOCAL_STAMP)  ## build dist/wsrelay-lambda.zip
	$(BIN)/python -m wsrelay.package

clean:  ## remove the virtualenvs, build output, caches and src/wsrelay.egg-info
	rm -rf $(VENV) .venv-checkov dist .wsrelay .pytest_cache .ruff_cache .mypy_cache .hypothesis src/wsrelay.egg-info
