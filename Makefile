# Two commands set everything up on a fresh machine with Python 3.11+ and make:
#   make demo   example site with demo data on http://127.0.0.1:8000
#   make test   the whole test suite (SQLite; PostgreSQL too when DATABASE_URL is set)

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
MANAGE := $(PY) example_site/manage.py
DEMO_CONTACTS ?= 2000
PYTEST_ARGS ?=

.PHONY: demo test test-sqlite test-postgres lint migrations-check benchmark clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

$(VENV)/.installed-demo: $(PY) setup.cfg pyproject.toml
	$(PIP) install --quiet -e ".[example]"
	touch $@

# DJANGO_SPEC (e.g. "Django>=6.0,<6.2") installs another Django into the environment.
DJANGO_SPEC ?=

$(VENV)/.installed-test: $(PY) setup.cfg pyproject.toml
	$(PIP) install --quiet -e ".[test,example,postgres]"
	if [ -n '$(DJANGO_SPEC)' ]; then $(PIP) install --quiet --upgrade '$(DJANGO_SPEC)'; fi
	touch $@

demo: $(VENV)/.installed-demo
	$(MANAGE) migrate --noinput
	$(MANAGE) crm_demo_data --contacts $(DEMO_CONTACTS) --if-empty
	$(MANAGE) demo_admin
	$(MANAGE) runserver 127.0.0.1:8000

test: $(VENV)/.installed-test
	env -u DATABASE_URL $(PY) -m pytest $(PYTEST_ARGS)
	@if [ -n "$$DATABASE_URL" ]; then \
		echo "== PostgreSQL: $$DATABASE_URL"; \
		$(PY) -m pytest $(PYTEST_ARGS); \
	fi

test-sqlite: $(VENV)/.installed-test
	env -u DATABASE_URL $(PY) -m pytest $(PYTEST_ARGS)

test-postgres: $(VENV)/.installed-test
	@test -n "$$DATABASE_URL" || { echo "Set DATABASE_URL=postgres://..."; exit 2; }
	$(PY) -m pytest $(PYTEST_ARGS)

lint: $(VENV)/.installed-test
	$(PY) -m ruff check .

migrations-check: $(VENV)/.installed-test
	env -u DATABASE_URL $(MANAGE) makemigrations --check --dry-run

benchmark: $(VENV)/.installed-test
	$(PY) benchmarks/listing.py --contacts 100000

clean:
	rm -rf $(VENV) example_site/db.sqlite3 tests/test.sqlite3 *.egg-info
