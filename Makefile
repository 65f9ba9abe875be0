# Everything a fresh machine needs: `make demo` and `make test` create the
# virtual environment when it is missing and install the project into it.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
OUT ?= out
CHROMIUM ?= /usr/bin/chromium

.PHONY: demo test test-fast lab bench lint format browser services clean-out

$(STAMP): pyproject.toml constraints.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt -e '.[dev,spark]'
	$(PY) -m ipykernel install --sys-prefix --name python3 > /dev/null
	@touch $(STAMP)

## demo: run the whole pipeline on the sample data and say where the report is
demo: $(STAMP)
	$(VENV)/bin/workbench pipeline --strategy data/strategy.yaml --data data/sample --out $(OUT)

## browser: Debian's chromium for the browser tests (installed with apt-get when missing)
browser:
	@test -x $(CHROMIUM) || { \
	  if command -v apt-get > /dev/null; then \
	    SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	    $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium > /dev/null; \
	  else echo "install Chromium and set CHROMIUM=/path/to/chromium" >&2; exit 1; fi; }

## services: Java for the Spark tests and PostgreSQL for the database tests (apt-get when missing)
services:
	@{ command -v java > /dev/null && ls /usr/lib/postgresql/*/bin/initdb > /dev/null 2>&1; } || { \
	  if command -v apt-get > /dev/null; then \
	    SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	    $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq default-jre-headless postgresql > /dev/null; \
	  else echo "install Java 17+ and PostgreSQL's server for the Spark and database tests" >&2; exit 1; fi; }

## test: the whole test suite (unit, property-based, notebooks, browser, Spark local mode, PostgreSQL)
test: $(STAMP) browser services
	CHROMIUM=$(CHROMIUM) $(PY) -m pytest -n 2 -q

## test-fast: everything but notebooks and the browser
test-fast: $(STAMP)
	$(PY) -m pytest -q -m "not slow"

## lab: JupyterLab at the repository root (the notebooks and the run folders under out/ in reach)
lab: $(STAMP)
	$(VENV)/bin/jupyter lab --notebook-dir=. $$( [ "$$(id -u)" = 0 ] && echo --allow-root )

## bench: speed and memory against the peers named in the issues
bench: $(STAMP)
	$(PY) -m benchmarks

## lint: ruff (rules and format), the import contracts of the layers (import-linter) and mypy (strict)
lint: $(STAMP)
	$(VENV)/bin/ruff check workbench tests benchmarks
	$(VENV)/bin/ruff format --check workbench tests benchmarks
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy workbench

format: $(STAMP)
	$(VENV)/bin/ruff format workbench tests benchmarks
	$(VENV)/bin/ruff check --fix workbench tests benchmarks
