"""gunicorn settings for Neon Arena (`gunicorn -c deploy/gunicorn.conf.py wsgi:server`).

gthread workers: sync workers stall ~1 s handing out a background result started by another worker
(STACK.md pitfall 4). Every worker shares ONE background-job directory, or polls that land on the other
worker are lost (STACK.md, RELIABILITY #5). The control socket is off so several instances can run.
"""

import multiprocessing
import os
import tempfile

host = os.environ.get("HOST", "127.0.0.1")
port = os.environ.get("PORT", "8050")
bind = os.environ.get("BIND", f"{host}:{port}")
worker_class = "gthread"
# Measured on 2 cores with bench/load_test.py (users without pauses replaying every page, 3 rounds rotated so
# background load hits every setting alike; table in its docstring): 3 workers x 4 threads served the most
# (median ~175-280 req/s at 8 users vs ~130-160 for 2 x 4, 2 x 8 and 4 x 2). One worker per core is not
# enough: a worker is one GIL, and the keep-alive connections pile up unevenly on the workers.
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() + 1))
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
timeout = 60
graceful_timeout = 20
keepalive = 5
# A recycled worker starts with empty in-process caches but reads the shared cache (app/shared_cache.py);
# 2,000 vs 20,000 made no difference the load test could separate from its noise.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "2000"))
max_requests_jitter = max_requests // 10
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info")
control_socket_disable = True  # same as --no-control-socket

# One shared job-cache directory for all workers, decided before the workers fork.
os.environ.setdefault("NEON_JOB_CACHE_DIR", os.path.join(tempfile.gettempdir(), "neon-arena-jobs"))
raw_env = [f"NEON_JOB_CACHE_DIR={os.environ['NEON_JOB_CACHE_DIR']}"]


def when_ready(server):
    server.log.info("Neon Arena ready on http://%s (job cache %s)", bind, os.environ["NEON_JOB_CACHE_DIR"])
