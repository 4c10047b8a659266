# Two commands do all set-up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8050
RUN_STAMP  := $(VENV)/.run-deps
TEST_STAMP := $(VENV)/.test-deps
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run dev test lint bench models browser-deps clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(RUN_STAMP): requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(TEST_STAMP): requirements-test.txt $(RUN_STAMP)
	$(BIN)/pip install --quiet -r requirements.txt -r requirements-test.txt
	touch $@

## run: create the venv, install pinned deps, serve the app with gunicorn on http://$(HOST):$(PORT)
run: $(RUN_STAMP)
	HOST=$(HOST) PORT=$(PORT) $(BIN)/gunicorn --no-control-socket -c deploy/gunicorn.conf.py wsgi:server

## dev: Dash dev server with hot reload (never in production)
dev: $(RUN_STAMP)
	NEON_DEV=1 $(BIN)/python -m app --host $(HOST) --port $(PORT)

## browser-deps: Debian's chromium + chromedriver for the browser tests (skipped when present)
browser-deps:
	@if command -v chromium >/dev/null && command -v chromedriver >/dev/null; then \
		echo "chromium and chromedriver present"; \
	else \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium chromium-driver; \
	fi

lint: $(TEST_STAMP)
	$(BIN)/ruff check .

## test: install test deps and chromium, then ruff and the whole pytest suite (browser tests included)
test: $(TEST_STAMP) browser-deps
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

## bench: print speed/memory figures against peers (not tests)
bench: $(TEST_STAMP)
	$(BIN)/python -m bench

## models: train the shipped agents (AAPL, TSLA, BTC-USD) with the documented budget
models: $(RUN_STAMP)
	$(BIN)/python -m core train-shipped

clean:
	rm -rf .pytest_cache .ruff_cache data/cache .jobcache
