# Two commands do all set-up on a fresh Debian/Ubuntu machine:
#   make run    virtualenv, install, database, demo campaign, serve on http://127.0.0.1:5000
#   make test   virtualenv, install with test extras, run the whole suite
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
export FLASK_APP := app

.PHONY: run test bench lint install install-test deps

deps:
	bash scripts/system-deps.sh $(DEPS_FLAGS)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

install: deps $(BIN)/python
	$(BIN)/pip install -q -e .

install-test: DEPS_FLAGS = --browser
install-test: deps $(BIN)/python
	$(BIN)/pip install -q -e '.[test]'

run: install
	$(BIN)/flask db upgrade
	$(BIN)/flask demo
	$(BIN)/flask run --host 127.0.0.1 --port 5000

test: install-test
	$(BIN)/pytest $(PYTEST_ARGS)

bench: install-test
	$(BIN)/pytest tests/bench -m bench -p no:randomly -s $(PYTEST_ARGS)

lint: install-test
	$(BIN)/ruff check campaign tests app.py
	$(BIN)/ruff format --check campaign tests app.py
