"""Fixtures for the job tests: a private redis-server (Debian's package; `make test` installs it)."""

from __future__ import annotations

import shutil
import subprocess
import time

import pytest

from tests.app.jobs_http import free_port, stop


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory):
    """redis://127.0.0.1:<free port>/0 on a throw-away redis-server (no persistence), for the whole run."""
    exe = shutil.which("redis-server")
    if exe is None:
        pytest.fail("redis-server is required for the Redis and Celery job tests: run `make test`, which installs "
                    "Debian's redis-server")
    import redis

    folder = tmp_path_factory.mktemp("redis")
    port = free_port()
    log = open(folder / "redis.log", "wb")
    proc = subprocess.Popen([exe, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                             "--dir", str(folder)], stdout=log, stderr=subprocess.STDOUT)
    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url, socket_connect_timeout=1)
    deadline = time.time() + 20
    while True:
        try:
            client.ping()
            break
        except redis.ConnectionError:
            if time.time() > deadline or proc.poll() is not None:
                proc.kill()
                pytest.fail(f"redis-server did not start: {(folder / 'redis.log').read_text()[-1000:]}")
            time.sleep(0.1)
    client.close()
    yield url
    stop(proc)
    log.close()
