# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run dev worker test lint unit bench clean

# --no-deps: the lock is complete, and unstructured-inference declares torch (6.8 GB) that
# the document parser never imports; `pip check` lists it and its kin as missing.
$(STAMP): pyproject.toml requirements.lock requirements-dev.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/pip install -q --no-deps -r requirements-dev.lock
	$(BIN)/pip install -q --no-deps -e .
	touch $(STAMP)

install: $(STAMP)

run: install  ## the service on its embedded defaults at http://localhost:8000
	$(BIN)/chatconnect serve

dev: install  ## like run, restarting whenever the code changes
	$(BIN)/chatconnect serve --reload

worker: install  ## a standalone document worker (needs DATABASE_URL and QDRANT_URL)
	$(BIN)/chatconnect worker

lint: install
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/mypy

test: lint  ## lint, types, layers, then every test
	$(BIN)/pytest

unit: install
	$(BIN)/pytest tests/unit

bench: install
	$(BIN)/python bench/chat_latency.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
