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
workers = int(os.environ.get("WEB_CONCURRENCY", min(4, max(2, multiprocessing.cpu_count()))))
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
timeout = 60
graceful_timeout = 20
keepalive = 5
max_requests = 2000
max_requests_jitter = 200
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info")
control_socket_disable = True  # same as --no-control-socket

# One shared job-cache directory for all workers, decided before the workers fork.
os.environ.setdefault("NEON_JOB_CACHE_DIR", os.path.join(tempfile.gettempdir(), "neon-arena-jobs"))
raw_env = [f"NEON_JOB_CACHE_DIR={os.environ['NEON_JOB_CACHE_DIR']}"]


def when_ready(server):
    server.log.info("Neon Arena ready on http://%s (job cache %s)", bind, os.environ["NEON_JOB_CACHE_DIR"])
