# Contra: `make run` starts everything on a fresh machine, `make test` runs the checks.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run test golden lint format lock demo clean

install: $(STAMP)

$(STAMP): requirements.lock
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
	@touch $(STAMP)

run: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py collectstatic --noinput --verbosity 0
	$(BIN)/python manage.py load_demo
	$(BIN)/python manage.py ensure_demo_superuser
	@echo ""
	@echo "  Contra admin:  http://127.0.0.1:$${PORT:-8000}/admin/"
	@echo "  Demo login:    $${CONTRA_DEMO_USER:-admin} / $${CONTRA_DEMO_PASSWORD:-admin}"
	@echo "  (web + Celery worker + Celery beat; Ctrl-C stops all of them)"
	@echo ""
	PATH=$(abspath $(BIN)):$$PATH $(BIN)/honcho -f Procfile start --port $${PORT:-8000}

test: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest

golden: install
	$(BIN)/python -m pytest -m golden tests/revenue/test_golden.py

lint: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

lock:
	rm -rf .lockenv && $(PYTHON) -m venv .lockenv
	.lockenv/bin/pip install --quiet -r requirements.in
	.lockenv/bin/pip freeze --exclude pip > requirements.lock
	rm -rf .lockenv

clean:
	rm -rf $(VENV) var .pytest_cache
