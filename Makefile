# The README's two commands: `make run` and `make test`. Both create .venv/ with
# the project installed (editable, with test extras) on a fresh machine.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
BOOKS  ?= books
HOST   ?= 127.0.0.1
PORT   ?= 5000
# Parallel test workers (pytest-xdist); `make test JOBS=0` runs serially.
JOBS   ?= auto

.PHONY: run test bench venv clean

venv: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $(STAMP)

## make run: books in ./books (the demo books when missing: it prints the demo web accounts), checked,
## served through gunicorn on http://127.0.0.1:5000 (Fava at /fava/); WORKERS=N THREADS=N to change
## the default 2 worker processes x 4 threads
run: $(STAMP)
	@test -f $(BOOKS)/main.beancount || $(BIN)/isu-ledger demo $(BOOKS)
	$(BIN)/isu-ledger --ledger $(BOOKS) check
	$(BIN)/isu-ledger --ledger $(BOOKS) serve --host $(HOST) --port $(PORT) \
	    $(if $(WORKERS),--workers $(WORKERS)) $(if $(THREADS),--threads $(THREADS))

## make test: lint (ruff), the import layers (import-linter), then the whole test suite
test: $(STAMP)
	$(BIN)/ruff check --no-cache .
	$(BIN)/lint-imports
	$(BIN)/python -m pytest -q -p no:cacheprovider $(if $(filter 0,$(JOBS)),,-n $(JOBS))

## make bench: the speed figures (bench/perf.py, bench/parse_files.py; `make bench PERF="--venv before=OLD/.venv --venv after=.venv"`
## compares two versions side by side), then the long fault and fuzz profiles (not part of `make test`)
bench: $(STAMP)
	$(BIN)/python bench/perf.py $(PERF)
	$(BIN)/python bench/parse_files.py
	ISU_FULL=1 ISU_FAULT_TRIALS=200 ISU_FUZZ_EXAMPLES=1000 $(BIN)/python -m pytest -q -p no:cacheprovider tests/ledger/store/test_faults.py tests/importers/parse/test_fuzz.py

clean:
	rm -rf $(VENV) build *.egg-info
