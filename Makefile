# One command to run the platform on embedded defaults, one to test it. Python 3.11 or newer.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: install demo test lint bench clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e ".[test]"
	touch $@

install: $(BIN)/.installed

# Web server, Celery worker with beat, the CPO simulator registered with us; Ctrl-C stops all.
demo: install
	$(BIN)/python -m config.demo

# SQLite and an in-process broker unless DATABASE_URL / CELERY_BROKER_URL are set.
test: install
	$(BIN)/pytest

# The package audit warns and passes when its vulnerability database is out of reach.
lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/python .ci/audit.py $(BIN)/pip-audit

bench: install
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) var
