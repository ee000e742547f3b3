# Two commands for a fresh clone (Python 3.11+):
#   make run   - install into .venv, run the bundled example, build results/report.html
#   make test  - install into .venv with the test extras, run the whole test suite
# plus `make lint` and `make clean`.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.sigrestore-installed
CORES ?= all

.PHONY: run test lint clean

# Re-install when the pinned dependencies change.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

run: $(STAMP)
	$(BIN)/snakemake --cores $(CORES)
	$(BIN)/snakemake --report results/report.html

test: $(STAMP)
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks workflow/scripts
	$(BIN)/snakefmt --check .
	$(BIN)/snakemake --lint

clean:
	rm -rf results logs resources/example .snakemake
