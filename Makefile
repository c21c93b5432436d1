# Clip Contest Portal. Quick start: `make run` (portal with demo data) and `make test` (the whole suite).
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
PYTHON ?= python3
APT_PACKAGES := ffmpeg redis-server chromium fonts-dejavu-core
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: setup system-deps venv translations run test test-pg test-fast bench clean

setup: system-deps venv translations

system-deps:
	@missing=""; \
	command -v ffmpeg >/dev/null || missing="$$missing ffmpeg"; \
	command -v redis-server >/dev/null || missing="$$missing redis-server"; \
	command -v chromium >/dev/null || missing="$$missing chromium"; \
	if [ -n "$$missing" ]; then \
	  echo "installing system packages:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $(APT_PACKAGES) >/dev/null; \
	fi

$(VENV)/.installed: requirements.txt requirements-dev.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements-dev.txt
	@touch $@

venv: $(VENV)/.installed

translations: venv
	@$(VENV)/bin/pybabel compile -d app/translations 2>&1 | { grep -v "^compiling" || true; }; test $${PIPESTATUS[0]} -eq 0

run: setup
	$(PY) -m devtools.run

# Tests run on TEST_WORKERS pytest-xdist workers (default: the cores, at most 2), each with its own Redis, S3 server,
# bucket, queue and database; see docs/testing.md.
TEST_WORKERS ?= $(shell n=$$(nproc 2>/dev/null || echo 1); echo $$(( n > 2 ? 2 : n )))
PYTEST_XDIST := -n $(TEST_WORKERS) --dist loadgroup

# The whole suite, browser tests included, on SQLite.
test: setup
	$(PY) -m pytest $(PYTEST_XDIST)

# The suite against PostgreSQL (127.0.0.1:5432, database test, unless TEST_DATABASE_URL says otherwise); each worker
# uses its own database beside it (test_gw0, test_gw1, …), created when missing.
test-pg: setup
	TEST_DATABASE_URL=$${TEST_DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/test} $(PY) -m pytest $(PYTEST_XDIST) -m "not e2e"

# The quick loop while editing: no browser tests, none marked slow (under a minute).
test-fast: setup
	$(PY) -m pytest $(PYTEST_XDIST) -m "not slow and not e2e"

bench: setup
	$(PY) bench/judging.py
	$(PY) bench/transcode.py

clean:
	rm -rf var .pytest_cache
