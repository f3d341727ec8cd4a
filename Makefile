# Customer Lookup: the two commands (make run, make test) and a few helpers.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
SANDBOX_PORT ?= 8001
HOST ?= 127.0.0.1
export LOOKUP_SANDBOX_URL ?= http://127.0.0.1:$(SANDBOX_PORT)

.PHONY: run serve test install lint format bench soak clean

$(BIN)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

# axe-core, for the browser tests' accessibility scan (package.json, locked in package-lock.json).
node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error

install: $(BIN)/.installed node_modules/.package-lock.json

run: $(BIN)/.installed
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py demo_setup --sandbox-url $(LOOKUP_SANDBOX_URL)
	@bash scripts/run.sh $(HOST) $(PORT) $(SANDBOX_PORT)

# Production serving: gunicorn, settings from the environment (see "Deployment" in README.md).
serve: install
	HOST=$(HOST) PORT=$(PORT) bash scripts/serve.sh

test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: install
	$(BIN)/python -m bench $(BENCH_ARGS)

# Two serve instances under hundreds of agents while the sandbox fails (default 5 minutes).
soak: install
	$(BIN)/python -m bench.soak $(SOAK_ARGS)

clean:
	rm -rf $(VENV) staticfiles .pytest_cache node_modules
