# Chengguan — two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PG_URL ?= postgres://postgres@127.0.0.1:5432/chengguan
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: run serve worker install install-dev assets migrate demo test test-serial test-sqlite test-postgres lint bench chromium clean

run: install assets migrate demo serve

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Stamps make a second `make run` skip what is already installed.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml $(VENV)/.installed
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

assets: node_modules/.package-lock.json

migrate: install
	@mkdir -p var
	$(BIN)/chengguan migrate --no-input -v 0

# The demo district, then two years of simulated history (20,000 cases, seed 1) so the queue,
# dashboard and assessment have something to show; both steps change nothing the second time.
demo: install
	$(BIN)/chengguan demo
	$(BIN)/chengguan simulate --cases 20000 --years 2 --seed 1

serve: install assets
	@echo
	@echo "  Chengguan is starting on http://$(HOST):$(PORT)/  (admin: http://$(HOST):$(PORT)/admin/)"
	@echo
	@echo "  The background worker (overdue checks, notifications) runs beside it; Ctrl-C stops both."
	@echo
	$(BIN)/chengguan serve $(HOST):$(PORT)

# The background worker alone (production runs it as its own service next to the web servers).
worker: install
	$(BIN)/chengguan run_huey

# Debian's chromium drives the browser tests; Playwright never downloads its own browser.
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "Installing Debian's chromium for the browser tests…"; \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium >/dev/null; \
	  else sudo apt-get update -qq && sudo apt-get install -y -qq chromium >/dev/null; fi; }

# The two passes are single-threaded, so they run side by side on two cores: the PostgreSQL
# pass prints as it goes, the SQLite pass's output (var/test-sqlite.log) follows it. Either
# failing fails the target. `make test-serial` runs them one after the other.
test: install-dev assets chromium
	@mkdir -p var
	@echo "== SQLite pass running beside the PostgreSQL pass (its output: var/test-sqlite.log) =="
	@$(MAKE) --no-print-directory test-sqlite > var/test-sqlite.log 2>&1 & lite=$$!; \
	  $(MAKE) --no-print-directory test-postgres; pg=$$?; \
	  wait $$lite; lite_rc=$$?; cat var/test-sqlite.log; \
	  echo "== SQLite pass: $$( [ $$lite_rc -eq 0 ] && echo passed || echo FAILED ); PostgreSQL pass: $$( [ $$pg -eq 0 ] && echo passed || echo FAILED ) =="; \
	  [ $$lite_rc -eq 0 ] && [ $$pg -eq 0 ]

test-serial: install-dev assets chromium
	$(MAKE) --no-print-directory test-sqlite
	$(MAKE) --no-print-directory test-postgres

test-sqlite:
	@echo "== test suite on SQLite =="
	env -u DATABASE_URL $(BIN)/pytest -q

test-postgres:
	@echo "== test suite on PostgreSQL ($(PG_URL)) =="
	DATABASE_URL=$(PG_URL) $(BIN)/pytest -q

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/mypy chengguan

clean:
	rm -rf var/static .pytest_cache .mypy_cache .ruff_cache
