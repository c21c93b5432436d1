# Clip Contest Portal. Quick start: `make run` (portal with demo data), `make test` (the whole suite) and
# `make lint` (the quality gates: ruff, mypy, import contracts, migrations, eslint/prettier).
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
PYTHON ?= python3
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# Each program the portal, its tests, gates or benches run, and the Debian package that provides it (wrk: the
# public-pages bench; stress-ng: the loaded-machine proof in docs/testing.md).
SYSTEM_PROGRAMS := ffmpeg:ffmpeg ffprobe:ffmpeg redis-server:redis-server \
	chromium-headless-shell:chromium-headless-shell node:nodejs npm:npm \
	unshare:util-linux runuser:util-linux pg_dump:postgresql-client pg_restore:postgresql-client zbarimg:zbar-tools \
	pdftotext:poppler-utils pdftoppm:poppler-utils nginx:nginx \
	wrk:wrk stress-ng:stress-ng
# nginx lives in /usr/sbin, which is not on an ordinary user's PATH on Debian.
export PATH := $(PATH):/usr/sbin
# PostgreSQL's server programs (initdb, pg_ctl: the fault tests start a private server) live outside PATH on Debian,
# under /usr/lib/postgresql/<version>/bin; the package is installed when neither place has them.
PG_SERVER_FOUND = command -v initdb >/dev/null || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1
FONT := /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf
# Shared libraries that WeasyPrint (certificates, minutes) loads, and the Debian 12 packages that provide them.
SYSTEM_LIBRARIES := libpango-1.0.so.0:libpango-1.0-0 libpangoft2-1.0.so.0:libpangoft2-1.0-0 \
	libharfbuzz-subset.so.0:libharfbuzz-subset0
# PostgreSQL for the migration check (a private schema in it, dropped afterwards); skipped when none answers.
PG_URL := $(or $(TEST_DATABASE_URL),postgresql://postgres@127.0.0.1:5432/test)
# The migration check (helper script: one Alembic head, models match the migrations, down to base and up again).
CHECK_MIGRATIONS := $(if $(wildcard devtools/check_migrations.sh),bash devtools/check_migrations.sh,$(if \
	$(wildcard devtools/check_migrations.py),$(PY) -m devtools.check_migrations))

.PHONY: setup system-deps venv translations frontend-deps run test test-pg test-fast bench clean \
	load-rush load-judging load-results \
	lint lint-ruff lint-mypy lint-imports lint-migrations lint-js

setup: system-deps venv translations

system-deps:
	@missing=""; \
	for entry in $(SYSTEM_PROGRAMS); do \
	  command -v "$${entry%%:*}" >/dev/null || missing="$$missing $${entry#*:}"; \
	done; \
	[ -f $(FONT) ] || missing="$$missing fonts-dejavu-core"; \
	$(PG_SERVER_FOUND) || missing="$$missing postgresql"; \
	for entry in $(SYSTEM_LIBRARIES); do \
	  /sbin/ldconfig -p | grep -q "$${entry%%:*}" || missing="$$missing $${entry#*:}"; \
	done; \
	missing=$$(tr ' ' '\n' <<<"$$missing" | sort -u | xargs); \
	if [ -n "$$missing" ]; then \
	  echo "installing system packages: $$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing >/dev/null; \
	fi; \
	for entry in $(SYSTEM_PROGRAMS); do \
	  command -v "$${entry%%:*}" >/dev/null || { echo "system-deps: $${entry%%:*} is still missing" >&2; exit 1; }; \
	done; \
	$(PG_SERVER_FOUND) || { echo "system-deps: initdb (package postgresql) is still missing" >&2; exit 1; }; \
	node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 20 || (a === 20 && b >= 19) ? 0 : 1)' \
	  || echo "system-deps: warning: Node.js $$(node --version) is older than 20.19, which eslint 10 (make lint) needs" >&2; \
	command -v pg_isready >/dev/null || echo "system-deps: pg_isready not found (optional: PostgreSQL passes are skipped)"

$(VENV)/.installed: requirements.txt requirements-dev.txt constraints.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements-dev.txt -c constraints.txt
	@touch $@

venv: $(VENV)/.installed

translations: venv
	@$(VENV)/bin/pybabel compile -d app/translations 2>&1 | { grep -v "^compiling" || true; }; test $${PIPESTATUS[0]} -eq 0

# Front-end tools (eslint, prettier, the Uppy bundler) from frontend/package-lock.json; again whenever it changes.
frontend/node_modules/.installed: frontend/package.json frontend/package-lock.json
	cd frontend && npm ci --no-audit --no-fund
	@touch $@

frontend-deps: frontend/node_modules/.installed

# Every gate; `make -k lint` runs them all even when one fails (CI does).
lint: lint-ruff lint-mypy lint-imports lint-migrations lint-js

lint-ruff: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# Files and per-module strictness come from pyproject.toml; every media_worker/pipeline*.py must be in the strict list.
lint-mypy: venv
	@for f in media_worker/pipeline*.py; do \
	  m=media_worker.$$(basename $$f .py); \
	  grep -q "\"$$m\"" pyproject.toml || { echo "pyproject.toml: $$m is missing from the mypy --strict modules" >&2; exit 1; }; \
	done
	$(VENV)/bin/mypy

lint-imports: venv
	@if [ -f .importlinter ]; then $(VENV)/bin/lint-imports; else echo "lint-imports: no .importlinter yet, skipped"; fi

lint-migrations: venv
ifeq ($(CHECK_MIGRATIONS),)
	@echo "lint-migrations: no devtools/check_migrations script yet, skipped"
else
	@scratch=$$(mktemp -d) && trap 'rm -rf "$$scratch"' EXIT && \
	  echo "migrations on SQLite" && $(CHECK_MIGRATIONS) "sqlite:///$$scratch/check.sqlite3"
	@if command -v pg_isready >/dev/null && pg_isready -q -h 127.0.0.1 -p 5432; then \
	  echo "migrations on PostgreSQL" && $(CHECK_MIGRATIONS) "$(PG_URL)"; \
	else \
	  echo "lint-migrations: PostgreSQL is not running on 127.0.0.1:5432; skipping its pass"; \
	fi
endif

lint-js: system-deps frontend-deps
	cd frontend && npm run --silent lint

run: setup
	$(PY) -m devtools.run

# Tests run on TEST_WORKERS pytest-xdist workers (default: one more than the cores, at most 3: many tests wait on the
# processes they started, and the extra worker fills those waits), each with its own Redis, S3 server, bucket, queue
# and database; see docs/testing.md.
TEST_WORKERS ?= $(shell n=$$(nproc 2>/dev/null || echo 1); echo $$(( n + 1 > 3 ? 3 : n + 1 )))
PYTEST_XDIST := -n $(TEST_WORKERS) --dist loadgroup
# Compiled bytecode (and pytest's rewritten test modules) kept under var/pycache, never beside the sources: every
# process a test starts (gunicorn, `flask worker`, `flask db upgrade`) then skips compiling the portal again, even where
# the environment sets PYTHONDONTWRITEBYTECODE to keep __pycache__ out of the tree.
PYTEST_ENV := PYTHONDONTWRITEBYTECODE= PYTHONPYCACHEPREFIX=$(CURDIR)/var/pycache

# The whole suite, browser tests included, on SQLite.
test: setup
	$(PYTEST_ENV) $(PY) -m pytest $(PYTEST_XDIST)

# The suite against PostgreSQL (127.0.0.1:5432, database test, unless TEST_DATABASE_URL says otherwise); each worker
# uses its own database beside it (test_gw0, test_gw1, …), created when missing.
test-pg: setup
	TEST_DATABASE_URL=$${TEST_DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/test} $(PYTEST_ENV) $(PY) -m pytest $(PYTEST_XDIST) -m "not e2e"

# The quick loop while editing: no browser tests, none marked slow (under a minute).
test-fast: setup
	$(PYTEST_ENV) $(PY) -m pytest $(PYTEST_XDIST) -m "not slow and not e2e"

bench: setup
	$(PY) bench/judging.py
	$(PY) bench/transcode.py
	$(PY) bench/certificates.py

# Load scenarios (bench/load/, docs/performance.md "Load scenarios"): gunicorn as deployed on PostgreSQL
# (LOAD_DATABASE_URL, default the database test_load on 127.0.0.1:5432, recreated), private Redis and S3; locust
# headless at city scale. LOAD_ARGS passes options, e.g. LOAD_ARGS="--worker" or "--scale 2" or "--users 30".
load-rush load-judging load-results: setup
	$(PY) bench/load/run.py $(@:load-%=%) $(LOAD_ARGS)

clean:
	rm -rf var .pytest_cache .mypy_cache .ruff_cache .import_linter_cache
