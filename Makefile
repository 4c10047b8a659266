# Two commands do all set-up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8050
NGINX_PORT ?= 8080
NEON_WORKER_CONCURRENCY ?= 2
RUN_STAMP  := $(VENV)/.run-deps
TEST_STAMP := $(VENV)/.test-deps
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run dev worker serve-nginx test lint bench load-test models browser-deps redis-deps nginx-deps clean

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

## serve-nginx: gunicorn on 127.0.0.1:$(PORT) behind Debian's nginx on http://127.0.0.1:$(NGINX_PORT), with the
## repository's deploy/nginx.conf (the file docker-compose mounts); private pid/log/temp folder; Ctrl-C stops both
serve-nginx: $(RUN_STAMP) nginx-deps
	PORT=$(PORT) NGINX_PORT=$(NGINX_PORT) $(BIN)/python -m deploy.nginx_local

## dev: Dash dev server with hot reload (never in production)
dev: $(RUN_STAMP)
	NEON_DEV=1 $(BIN)/python -m app --host $(HOST) --port $(PORT)

## worker: a Celery worker for background jobs (scale-out); needs the web app's REDIS_URL, e.g.
## REDIS_URL=redis://127.0.0.1:6379/0 make worker  (README: "Background jobs: one server or many")
worker: $(RUN_STAMP)
	@test -n "$$REDIS_URL" || { echo "make worker needs REDIS_URL, e.g. REDIS_URL=redis://127.0.0.1:6379/0 make worker" >&2; exit 2; }
	$(BIN)/celery -A app.worker worker --loglevel=info --concurrency=$(NEON_WORKER_CONCURRENCY)

## browser-deps: Debian's chromium + chromedriver for the browser tests (skipped when present)
browser-deps:
	@if command -v chromium >/dev/null && command -v chromedriver >/dev/null; then \
		echo "chromium and chromedriver present"; \
	else \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium chromium-driver; \
	fi

## nginx-deps: Debian's nginx for `make serve-nginx` and the nginx tests (skipped when present; the package's
## service is not needed: nginx runs as a normal process with a config generated from deploy/nginx.conf)
nginx-deps:
	@if command -v nginx >/dev/null || test -x /usr/sbin/nginx; then \
		echo "nginx present"; \
	else \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq nginx; \
	fi

## redis-deps: Debian's redis-server for the Redis/Celery job tests (skipped when present)
redis-deps:
	@if command -v redis-server >/dev/null; then \
		echo "redis-server present"; \
	else \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq redis-server; \
	fi

lint: $(TEST_STAMP)
	$(BIN)/ruff check .

## test: install test deps, chromium, redis-server and nginx, then ruff and the whole pytest suite (browser tests included)
JOB_PAGE_TESTS := tests/browser/test_forecast_page.py tests/browser/test_train_page.py

test: $(TEST_STAMP) browser-deps redis-deps nginx-deps
	$(BIN)/ruff check .
	$(BIN)/python -m pytest $(addprefix --ignore=,$(JOB_PAGE_TESTS))
	@# The job pages fork their jobs from the test's server process: run them in a fresh process that
	@# never loaded torch, as the production web process never does (STACK.md pitfall 2).
	$(BIN)/python -m pytest $(JOB_PAGE_TESTS)

## bench: print speed/memory figures against peers (not tests)
bench: $(TEST_STAMP)
	$(BIN)/python -m bench

## load-test: locust replays every page's real callbacks against gunicorn, direct and through nginx, then a
## saturation run (a few minutes; flags: `python -m bench.load_test --help`)
load-test: $(TEST_STAMP) browser-deps nginx-deps
	$(BIN)/python -m bench.load_test $(LOAD_ARGS)

## models: train the shipped agents (AAPL, TSLA, BTC-USD x 4 personalities x seeds 0-4) with the documented budget
models: $(RUN_STAMP)
	$(BIN)/python -m core train-shipped

clean:
	rm -rf .pytest_cache .ruff_cache data/cache .jobcache
