# Two commands a newcomer needs: `make run` and `make test`. Everything else is a step of those.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000

# The test suite runs on PostgreSQL and Redis on this machine; override to run several suites at once.
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/portal
TEST_REDIS_URL ?= redis://127.0.0.1:6379/9
PYTEST_ARGS ?=

.PHONY: run test install system-deps services lint typecheck translations bench bench-dam clean messages

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

translations: $(STAMP)
	$(PY) manage.py compiletranslations

run: $(STAMP) translations
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo
	$(PY) manage.py runserver $(HOST):$(PORT)

system-deps:
	bash scripts/system-deps.sh

services:
	bash scripts/services.sh

# ruff, then the import contracts of pyproject.toml ([tool.importlinter]: apps depend one way,
# private modules stay private).
lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

typecheck: $(STAMP)
	$(VENV)/bin/mypy .

tests/browser/node_modules/axe-core/axe.min.js: tests/browser/package.json tests/browser/package-lock.json
	npm ci --prefix tests/browser --no-audit --no-fund --loglevel=error

test: $(STAMP) system-deps services translations tests/browser/node_modules/axe-core/axe.min.js lint typecheck
	PORTAL_ENV=test DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) \
	CELERY_BROKER_URL=$(TEST_REDIS_URL) CELERY_TASK_ALWAYS_EAGER=true \
	$(VENV)/bin/pytest $(PYTEST_ARGS)

# Builds a fresh 1M-participant database (portal_bench) and writes bench/results.md; smaller with
# BENCH_PARTICIPANTS=50000 (see bench/run.py for the other BENCH_* variables).
bench: $(STAMP) services
	PORTAL_ENV=test DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal_bench \
	$(PY) bench/run.py

# Dam delivery to the loopback dam, against a bare loop; recreates portal_bench_dam. Figures in the
# "Dam delivery" section of bench/results.md (BENCH_PARTICIPANTS, default 1,000,000 subjects).
bench-dam: $(STAMP) services
	PORTAL_ENV=test DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal_bench_dam \
	CELERY_TASK_ALWAYS_EAGER=true $(PY) bench/dam_bench.py

clean:
	rm -rf $(VENV) var tests/browser/node_modules

# Refresh the ko/en catalogues from the code; then fill in every empty Korean msgstr.
messages: $(STAMP)
	$(PY) manage.py makemessages --no-location
