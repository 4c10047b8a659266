"""The forecast job through real HTTP on gunicorn with 2 workers sharing one job directory: the global
bound holds for 10 concurrent jobs, two sessions with identical inputs get two jobs and two results, and
forged job ids / cache keys reach nothing (RELIABILITY #1, #2, #3, #5)."""

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
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from app.jobs import JobBoard

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    jobs = tmp_path_factory.mktemp("jobs")
    port = _free_port()
    env = {**os.environ, "NEON_LIVE_DATA": "0", "NEON_JOB_CACHE_DIR": str(jobs), "NEON_MAX_JOBS": "2",
           "PYTHONPATH": str(ROOT)}
    log = open(jobs.parent / "gunicorn.log", "wb")  # a file, not a pipe: an unread pipe fills and blocks workers
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--no-control-socket", "-c", str(ROOT / "deploy/gunicorn.conf.py"),
         "--workers", "2", "--threads", "8", "--bind", f"127.0.0.1:{port}", "--log-level", "warning",
         "tests.app.tiny_forecast_wsgi:server"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            urllib.request.urlopen(f"{base}/healthz", timeout=2)
            break
        except OSError:
            time.sleep(0.3)
    else:
        proc.kill()
        pytest.fail(f"gunicorn did not start: {(jobs.parent / 'gunicorn.log').read_text()[-2000:]}")
    yield base, jobs
    proc.terminate()
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


def _body(session: str, seed: int, ticker: str = "AAPL") -> dict:
    state = [("session-id", "data", session), ("fc-ticker", "value", ticker), ("fc-upload-store", "data", None),
             ("fc-horizon", "value", 10), ("fc-effort", "value", "quick"), ("fc-seed", "value", seed)]
    return {
        "output": "..fc-result.data...fc-alert.children..",
        "outputs": [{"id": "fc-result", "property": "data"}, {"id": "fc-alert", "property": "children"}],
        "inputs": [{"id": "fc-run", "property": "n_clicks", "value": 1}],
        "changedPropIds": ["fc-run.n_clicks"],
        "state": [{"id": i, "property": p, "value": v} for i, p, v in state],
    }


def _post(base: str, body: dict, query: str = "") -> tuple[int, dict | None]:
    request = urllib.request.Request(f"{base}/_dash-update-component{query}", data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"}, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            raw = response.read()
            return response.status, (json.loads(raw) if raw else None)
    except urllib.error.HTTPError as err:
        return err.code, None


def _start(base: str, session: str, seed: int) -> dict:
    status, handles = _post(base, _body(session, seed))
    assert status == 200 and "cacheKey" in handles and "job" in handles, (status, handles)
    return handles


def _result(base: str, session: str, seed: int, handles: dict, timeout: float = 150) -> dict:
    """Poll like the browser does until the job's result arrives."""
    query = "?" + urllib.parse.urlencode({"cacheKey": handles["cacheKey"], "job": handles["job"]})
    deadline = time.time() + timeout
    while time.time() < deadline:
        status, payload = _post(base, _body(session, seed), query)
        assert status in (200, 204), status
        if payload and "response" in payload:
            return payload["response"]
        time.sleep(0.4)
    raise AssertionError("the job never delivered its result")


def _overlap(history) -> int:
    running = peak = 0
    for _token, _kind, what, _when in sorted(history, key=lambda e: (e[3], e[2] == "start")):
        running += 1 if what == "start" else -1
        peak = max(peak, running)
    return peak


def test_ten_concurrent_jobs_across_two_workers_respect_the_bound(server):
    base, jobs = server
    sessions = [f"sess-bound-{i:08d}" for i in range(10)]
    with ThreadPoolExecutor(10) as pool:
        handles = list(pool.map(lambda i: _start(base, sessions[i], seed=100 + i), range(10)))
        results = list(pool.map(lambda i: _result(base, sessions[i], 100 + i, handles[i]), range(10)))
    tokens = set()
    for result in results:
        data = result["fc-result"]["data"]
        assert data["forecast"]["ticker"] == "AAPL" and len(data["forecast"]["dates"]) == 10
        tokens.add(data["token"])
    assert len(tokens) == 10  # ten distinct jobs, each with its own result
    history = JobBoard(jobs / "board", max_jobs=2).history()
    assert len([e for e in history if e[2] == "start"]) == 10
    assert _overlap(history) <= 2  # never more than NEON_MAX_JOBS at once, across both workers


def test_two_sessions_with_identical_inputs_get_their_own_jobs(server):
    base, _jobs = server
    a, b = "sess-same-aaaaaaaa", "sess-same-bbbbbbbb"
    handles_a, handles_b = _start(base, a, seed=7), _start(base, b, seed=7)
    assert handles_a["cacheKey"].split("~")[0] != handles_b["cacheKey"].split("~")[0]
    assert handles_a["job"].split("~")[0] != handles_b["job"].split("~")[0]
    result_a, result_b = _result(base, a, 7, handles_a), _result(base, b, 7, handles_b)
    assert result_a["fc-result"]["data"]["token"] != result_b["fc-result"]["data"]["token"]
    # the forecast numbers are the same (same data, same config, seeded), the jobs are not
    assert result_a["fc-result"]["data"]["forecast"]["forecast"] == result_b["fc-result"]["data"]["forecast"]["forecast"]


def test_forged_job_ids_and_cache_keys_reach_nothing(server):
    base, _jobs = server
    victim = "sess-victim-0000000"
    handles = _start(base, victim, seed=11)
    raw_key, raw_pid = handles["cacheKey"].split("~")[0], handles["job"].split("~")[0]
    attacker = _body("sess-attacker-00000", seed=11)
    # an unsigned (forged) cache key and pid: no result is read, no process is killed
    status, payload = _post(base, attacker, f"?cacheKey={raw_key}&job={raw_pid}")
    assert status in (200, 204) and not (payload and "response" in payload)
    _post(base, attacker, f"?oldJob={raw_pid}")
    # a signed handle with a tampered signature is refused too
    status, payload = _post(base, attacker, f"?cacheKey={raw_key}~{'0' * 64}&job={raw_pid}~{'0' * 64}")
    assert not (payload and "response" in payload)
    # and the victim's job was neither killed nor read: it still delivers its own result
    assert _result(base, victim, 11, handles)["fc-result"]["data"]["forecast"]["ticker"] == "AAPL"
