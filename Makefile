# Concord: `make run` sets everything up and serves 127.0.0.1:8000; `make test` runs the suite;
# `make test-busy` runs it with two CPU-bound processes beside it (BURNERS=3 for three), as on a busy CI machine.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# A development machine: DEBUG on unless set (with DEBUG off Concord needs a real SECRET_KEY).
DEV := DEBUG=$(or $(DEBUG),true)

.PHONY: run test test-busy venv migrate demo lint worker clean axe

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

venv: $(STAMP)

# axe-core (accessibility rules) from the npm registry, injected into pages by tests/browser/test_accessibility.py
AXE := node_modules/axe-core/axe.min.js
$(AXE): package.json
	npm install --no-audit --no-fund --silent
	touch $(AXE)

axe: $(AXE)

migrate: venv
	$(DEV) $(PY) manage.py migrate --noinput

demo: migrate
	$(DEV) $(PY) manage.py load_demo

run: demo
	$(DEV) $(PY) manage.py collectstatic --noinput -v0
	$(DEV) $(PY) manage.py runserver 127.0.0.1:8000

worker: venv
	$(DEV) $(VENV)/bin/celery -A concord worker --loglevel=info

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports

test: venv axe
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports
	$(DEV) $(PY) manage.py makemigrations --check --dry-run
	$(VENV)/bin/pytest $(PYTEST_ARGS)
	# the labelling loop once more with its prepared SQL off (the ORM equivalents, as behind PgBouncer)
	CONCORD_PREPARED_SQL=false $(VENV)/bin/pytest -q -p no:cacheprovider tests/labelling/test_services_core.py tests/labelling/test_api.py tests/labelling/test_concurrency.py tests/labelling/test_escalation_and_merge_rules.py

BURNERS ?= 2
test-busy: venv
	BURNERS=$(BURNERS) .ci/busy $(MAKE) test PYTEST_ARGS="--durations=25 $(PYTEST_ARGS)"

clean:
	rm -rf $(VENV) var staticfiles
