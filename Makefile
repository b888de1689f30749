# The README's two commands: `make run` and `make test`. Both set up .venv from scratch on a
# fresh machine (Python 3.11+), installing exactly the versions in constraints.txt.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DB ?= data/reactions.duckdb
PORT ?= 8501

.PHONY: run test test-year-ahead lint bench bench-scale demo clean help

help:
	@echo "make run    set up, build the demo database if missing, serve http://localhost:$(PORT)"
	@echo "make test   set up and run the whole test suite"
	@echo "make test-year-ahead  the suite again with the wall clock a year ahead (CI runs it)"
	@echo "make lint   ruff + mypy + import-linter (the layers)"
	@echo "make bench  performance table (generation, load, queries vs naive pandas)"
	@echo "make bench-scale  one machine at 100M reactions, and 10M with their views (about an hour)"

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ is required"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

$(DB): | $(STAMP)
	$(BIN)/reactions demo --db $(DB)

run: $(STAMP) $(DB)
	$(BIN)/reactions serve --db $(DB) --port $(PORT)

test: $(STAMP)
	$(BIN)/python -m pytest

# The suite pins the product's clock (tests/conftest.py); moving the wall clock a year ahead
# for every process proves no test or product code reads the calendar (tests/test_clock.py
# checks that the move took effect).
test-year-ahead: $(STAMP)
	$(BIN)/python -m tools.wall_clock_ahead 365d $(BIN)/python -m pytest -p no:cacheprovider

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

# The bench drives real servers with Debian's wrk, behind nginx, and on PostgreSQL (.ci/run
# installs all three).
bench: $(STAMP)
	@command -v wrk >/dev/null && command -v nginx >/dev/null || { \
	  echo "make bench needs Debian's wrk, nginx and postgresql: apt-get install wrk nginx postgresql"; \
	  exit 1; }
	$(BIN)/python -m bench.run

# Newsroom scale (bench/scale.py): 100M reactions, and 10M reactions with their ~440M views,
# each built, measured and deleted. About an hour; needs ~60 GB of disk in BENCH_DIR.
bench-scale: $(STAMP)
	$(BIN)/python -m bench.scale

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
