# Harbour developer commands.  `make run` and `make test` are the README's Quick start.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: run install axe test test-fast test-browser lint i18n-extract i18n-update clean

run: install
	$(BIN)/harbour db upgrade
	$(BIN)/harbour demo
	$(BIN)/harbour serve

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# axe-core (npm, pinned by tests/browser/package-lock.json) for the real-browser accessibility tests.
AXE_JS := tests/browser/node_modules/axe-core/axe.min.js
axe: $(AXE_JS)

$(AXE_JS): tests/browser/package.json tests/browser/package-lock.json
	npm ci --prefix tests/browser --no-audit --no-fund --loglevel error
	touch $(AXE_JS)

# The whole suite, on SQLite and PostgreSQL (PostgreSQL half skipped, with the reason, if no server),
# and the real-browser tests (Debian's chromium; one xdist worker runs them all against one live server).
test: install axe
	$(BIN)/python -m pytest -n 2 --dist loadgroup -q

test-fast: install
	$(BIN)/python -m pytest -q -m "not slow" -x

# Only the real-browser tests; screenshots go to test-artifacts/screenshots/.
test-browser: install axe
	$(BIN)/python -m pytest tests/browser -q

lint: install
	$(BIN)/ruff check src tests

i18n-extract: install
	$(BIN)/pybabel extract -F babel.cfg -k N_ -k NP_:1c,2 --sort-by-file --omit-header -o src/harbour/locale/messages.pot src

i18n-update: i18n-extract
	$(BIN)/pybabel update -i src/harbour/locale/messages.pot -d src/harbour/locale -l fr --no-fuzzy-matching --ignore-obsolete

clean:
	rm -rf $(VENV) var .pytest_cache test-artifacts tests/browser/node_modules
