# Travesía — two commands for a new machine with only Python, pip and make:
#   make demo   the app on the embedded default (SQLite), with demo stations and accounts, on 127.0.0.1:8000
#   make test   the whole suite on SQLite and on a local PostgreSQL 18 (+pgvector) that it starts itself
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test test-fast test-sqlite test-postgres lint venv dev browser icu fonts java poppler lock messages clean serve screenshots

venv: $(VENV)/.runtime
dev: $(VENV)/.dev

$(VENV)/.runtime: requirements/runtime.txt pyproject.toml
	@$(MAKE) --no-print-directory icu
	@$(MAKE) --no-print-directory fonts
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements/runtime.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $@

$(VENV)/.dev: $(VENV)/.runtime requirements/dev.txt
	@$(MAKE) --no-print-directory java
	@$(MAKE) --no-print-directory poppler
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements/dev.txt
	touch $@

demo: venv
	$(BIN)/travesia db upgrade
	$(BIN)/travesia demo setup
	@echo "Open http://127.0.0.1:8000 and sign in with an account above (Ctrl-C stops the server)."
	$(BIN)/travesia serve

serve: venv
	$(BIN)/travesia serve

lint: dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

# PyICU (for nomenklatura's name matching) compiles against the system's ICU.
icu:
	@pkg-config --exists icu-uc 2>/dev/null && command -v g++ >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libicu-dev pkg-config g++ >/dev/null; \
	  else echo "PyICU needs ICU's headers: sudo apt-get install libicu-dev pkg-config g++" >&2; exit 1; fi; }

# The charts' PNG downloads draw their text with the system's fonts (resvg reads them): DejaVu, Debian's default.
fonts:
	@ls /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-dejavu-core >/dev/null; \
	  else echo "chart PNGs need a font: sudo apt-get install fonts-dejavu-core" >&2; fi; }

# Splink's Spark backend (pyspark 4) needs Java 17; the test runs it on local[2].
java:
	@command -v java >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-17-jre-headless >/dev/null; \
	  else echo "the Spark test needs Java 17: sudo apt-get install openjdk-17-jre-headless" >&2; exit 1; fi; }

# The PDF tests render passes and manifests to PNG with pdftoppm, then read the QR code back.
poppler:
	@command -v pdftoppm >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq poppler-utils >/dev/null; \
	  else echo "the PDF tests need pdftoppm: sudo apt-get install poppler-utils" >&2; exit 1; fi; }

# Browser tests drive Debian's chromium (never a browser downloaded by a test tool) and check every page they visit
# with axe-core from the npm registry, pinned by tests/web/axe/package-lock.json.
browser: tests/web/axe/node_modules/axe-core/axe.min.js
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "browser tests need Debian's chromium: sudo apt-get install chromium" >&2; fi; }

tests/web/axe/node_modules/axe-core/axe.min.js: tests/web/axe/package-lock.json
	@command -v npm >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null; \
	  else echo "the accessibility checks need npm: sudo apt-get install nodejs npm" >&2; exit 1; fi; }
	cd tests/web/axe && npm ci --no-audit --no-fund --silent
	touch $@

# Both cores (pytest-xdist; the browser tests share one demo server in one worker). The PostgreSQL lane runs the
# tests that touch the database; the others gave their answer in the SQLite lane (tests/conftest.py).
PYTEST := $(BIN)/pytest -q -n 2 --dist loadgroup

test: dev browser lint test-sqlite test-postgres

test-sqlite: dev
	$(PYTEST)

test-postgres: dev
	scripts/with-test-postgres.sh $(PYTEST)

# The inner loop: SQLite, without the tests that start processes, servers, browsers or Spark (marked slow).
test-fast: dev
	$(PYTEST) -m "not slow"

# The user guide's figures (docs/screenshots/), from the browser journeys on the demo data.
screenshots: dev browser
	$(BIN)/python scripts/screenshots.py

lock:
	$(BIN)/python -m pip install --quiet uv
	$(BIN)/uv pip compile pyproject.toml --python-version 3.11 --no-header -o requirements/runtime.txt
	$(BIN)/uv pip compile pyproject.toml --extra dev --python-version 3.11 --no-header -o requirements/dev.txt

messages: dev
	mkdir -p test-output
	$(BIN)/pybabel extract -F babel.cfg -k N_ -k _label -k _ --no-location --sort-output -o test-output/messages.pot .
	$(BIN)/pybabel update -i test-output/messages.pot -d travesia/locales --width 110 --no-fuzzy-matching --ignore-obsolete

clean:
	rm -rf $(VENV) test-output .pytest_cache .ruff_cache
