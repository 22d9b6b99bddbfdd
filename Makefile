# Everyday commands. `make run` and `make test` install what they need on first use.
PY ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
# Here the CPU build of torch lies on local disk; elsewhere add
#   TORCH_PIP_ARGS="--index-url https://download.pytorch.org/whl/cpu"
TORCH ?= torch==2.13.0
TORCH_PIP_ARGS ?=
PYTEST_ARGS ?=

.PHONY: install browser run test test-fast lint format eval bench load ingest check clean

$(BIN)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q "$(TORCH)" $(TORCH_PIP_ARGS)
	$(BIN)/python -m pip install -q -e ".[dev]"
	touch $@

install: $(BIN)/.installed

# Headless Chromium and a CJK font for the browser tests (Debian packages; needs root or sudo),
# and axe-core from npm.
browser:
	@if ! command -v chromium >/dev/null 2>&1 || ! fc-list 2>/dev/null | grep -qi "noto.*cjk" || ! fc-list 2>/dev/null | grep -qi "color emoji"; then \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium fonts-noto-cjk fonts-noto-color-emoji >/dev/null; \
	fi
	@# axe-core (npm) audits the pages' accessibility in the browser tests.
	@test -f node_modules/axe-core/axe.min.js || npm install --no-save --no-audit --no-fund axe-core@4.10.3 >/dev/null

run: install
	$(BIN)/python app.py

# The test command of the README and of .ci/run: unit, integration and browser tests, then the eval gate.
test: install browser
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)
	$(BIN)/python -m bot --data-dir .silverguard/ci eval --no-ablation

test-fast: install
	$(BIN)/python -m pytest -q -m "not slow and not browser"

lint: install
	$(BIN)/ruff check bot benchmarks tests app.py scripts
	$(BIN)/ruff format --check bot benchmarks tests app.py scripts
	$(BIN)/mypy

format: install
	$(BIN)/ruff format bot benchmarks tests app.py scripts
	$(BIN)/ruff check --fix bot benchmarks tests app.py scripts

check: install
	$(BIN)/python -m bot check

ingest: install
	$(BIN)/python -m bot ingest

eval: install
	$(BIN)/python -m bot eval --report reports/eval

bench: install
	$(BIN)/python -m bot bench

# Load test of an app that is ALREADY RUNNING (this starts nothing), loopback only:
#   BOT_RATE_LIMIT_PER_MINUTE=100000 make run      # all load comes from one IP
#   make load URL=http://127.0.0.1:7860 LOAD_ARGS="--sessions 50 --duration 60"
URL ?= http://127.0.0.1:7860
LOAD_ARGS ?=
load: install
	$(BIN)/python scripts/loadtest.py --url $(URL) $(LOAD_ARGS)

clean:
	rm -rf .silverguard reports artifacts
