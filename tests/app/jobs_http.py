"""Helpers of the job tests that go through real HTTP: start gunicorn (and wait for it), and drive the forecast
page's background callback like the browser does (POST /_dash-update-component, then poll with the signed
cacheKey/job it handed out)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stop(proc: subprocess.Popen, group: bool = False) -> None:
    """Terminate a process we started (its whole session when `group`), then kill it if it lingers."""
    try:
        os.killpg(proc.pid, 15) if group else proc.terminate()
        proc.wait(30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, 9) if group else proc.kill()
        proc.wait(10)
    except ProcessLookupError:
        pass


@contextmanager
def gunicorn(env: dict, log_path: Path, *, workers: int = 2, app: str = "tests.app.tiny_forecast_wsgi:server"):
    """gunicorn (the production config) on a free port with `env` added; yields its base URL."""
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT), **env}
    with open(log_path, "wb") as log:  # a file, not a pipe: an unread pipe fills and blocks workers
        proc = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--no-control-socket", "-c", str(ROOT / "deploy/gunicorn.conf.py"),
             "--workers", str(workers), "--threads", "8", "--bind", f"127.0.0.1:{port}", "--log-level", "warning",
             "--access-logfile", "/dev/null", app],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        base = f"http://127.0.0.1:{port}"
        deadline = time.time() + 60
        while True:
            try:
                urllib.request.urlopen(f"{base}/healthz", timeout=2)
                break
            except urllib.error.HTTPError:
                break  # it answers (a 503 says a health check failed: the test decides what that means)
            except OSError:
                if time.time() > deadline or proc.poll() is not None:
                    stop(proc, group=True)
                    pytest.fail(f"gunicorn did not start: {log_path.read_text()[-2000:]}")
                time.sleep(0.3)
        try:
            yield base
        finally:
            stop(proc, group=True)  # master and workers: nothing outlives the test


def body(session: str, seed: int, ticker: str = "AAPL", effort: str = "quick") -> dict:
    """The forecast callback's request body, as the renderer sends it for a click on Run."""
    state = [("session-id", "data", session), ("fc-ticker", "value", ticker), ("fc-upload-store", "data", None),
             ("fc-horizon", "value", 10), ("fc-effort", "value", effort), ("fc-seed", "value", seed)]
    return {
        "output": "..fc-result.data...fc-alert.children..",
        "outputs": [{"id": "fc-result", "property": "data"}, {"id": "fc-alert", "property": "children"}],
        "inputs": [{"id": "fc-run", "property": "n_clicks", "value": 1}],
        "changedPropIds": ["fc-run.n_clicks"],
        "state": [{"id": i, "property": p, "value": v} for i, p, v in state],
    }


def post(base: str, payload: dict, query: str = "") -> tuple[int, dict | None]:
    request = urllib.request.Request(f"{base}/_dash-update-component{query}", data=json.dumps(payload).encode(),
                                     headers={"Content-Type": "application/json"}, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            raw = response.read()
            return response.status, (json.loads(raw) if raw else None)
    except urllib.error.HTTPError as err:
        return err.code, None


def start(base: str, session: str, seed: int, effort: str = "quick") -> dict:
    status, handles = post(base, body(session, seed, effort=effort))
    assert status == 200 and "cacheKey" in handles and "job" in handles, (status, handles)
    return handles


def handle_query(handles: dict) -> str:
    return "?" + urllib.parse.urlencode({"cacheKey": handles["cacheKey"], "job": handles["job"]})


def result(base: str, session: str, seed: int, handles: dict, timeout: float = 150, effort: str = "quick",
           progress: list | None = None) -> dict:
    """Poll like the browser does until the job's response arrives; progress updates go to `progress`."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        status, payload = post(base, body(session, seed, effort=effort), handle_query(handles))
        assert status in (200, 204), status
        if payload and "progress" in payload and progress is not None:
            progress.append(payload["progress"])
        if payload and "response" in payload:
            return payload
        time.sleep(0.4)
    raise AssertionError("the job never delivered its result")


def wait_for_progress(base: str, session: str, seed: int, handles: dict, effort: str, needle: str,
                      timeout: float = 90) -> dict:
    """Poll until a progress update whose status line contains `needle` arrives; returns it."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        _status, payload = post(base, body(session, seed, effort=effort), handle_query(handles))
        assert not (payload and "response" in payload), f"the job ended early: {payload}"
        line = str(((payload or {}).get("progress") or {}).get("fc-status.children", ""))
        if needle in line:
            return payload["progress"]
        time.sleep(0.3)
    raise AssertionError(f"no progress with {needle!r} within {timeout} s")


def overlap(history) -> int:
    """Most jobs running at the same time according to a board's start/end log. The log's order is the order
    of the board's transactions (times taken by processes waiting for the board's lock can interleave)."""
    running = peak = 0
    for _token, _kind, what, _when in history:
        running += 1 if what == "start" else -1
        peak = max(peak, running)
    return peak
