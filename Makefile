# rmdesk — two commands on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: setup demo test test-browser check lint messages clean

setup: $(VENV)/.installed node_modules/.installed

$(VENV)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "rmdesk needs Python 3.11 or newer"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev]'
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

rmdesk/locale/zh_Hans/LC_MESSAGES/django.mo: rmdesk/locale/zh_Hans/LC_MESSAGES/django.po | $(VENV)/.installed
	$(BIN)/rmdesk compilemessages --ignore .venv --ignore node_modules --ignore var -v 0

# Set up, migrate the SQLite database under ./var, load the demo bank if empty, serve on :8000.
demo: setup rmdesk/locale/zh_Hans/LC_MESSAGES/django.mo
	$(BIN)/rmdesk demo

# Set up and run the whole suite (lint, types, import layers, tests) on $$RMDESK_DATABASE_URL (SQLite by default).
# The browser tests (tests/browser) run in headless Chromium when /usr/bin/chromium exists and skip, saying so, when it
# does not; RMDESK_REQUIRE_BROWSER=1 (as .ci/run sets) fails them instead. Screenshots go to test-artifacts/browser/.
test: setup rmdesk/locale/zh_Hans/LC_MESSAGES/django.mo check
	RMDESK_DATA_DIR=$${RMDESK_DATA_DIR:-$(CURDIR)/var/test} $(BIN)/pytest

# Only the browser tests (Debian's chromium: `apt-get install chromium`; Playwright never downloads a browser).
test-browser: setup rmdesk/locale/zh_Hans/LC_MESSAGES/django.mo
	RMDESK_DATA_DIR=$${RMDESK_DATA_DIR:-$(CURDIR)/var/test} $(BIN)/pytest -m browser

check: setup
	$(BIN)/ruff check rmdesk tests bench
	$(BIN)/mypy rmdesk
	$(BIN)/lint-imports

# Re-extract the catalogue after changing user-facing strings (then translate the new entries).
messages: setup
	cd rmdesk && RMDESK_DATA_DIR=$(CURDIR)/var ../$(BIN)/rmdesk makemessages -l zh_Hans --no-obsolete --no-location

clean:
	rm -rf $(VENV) node_modules var test-artifacts
