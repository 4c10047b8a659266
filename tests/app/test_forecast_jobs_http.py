"""The forecast job through real HTTP on gunicorn with 2 workers sharing one job directory: the global
bound holds for 10 concurrent jobs, two sessions with identical inputs get two jobs and two results, and
forged job ids / cache keys reach nothing (RELIABILITY #1, #2, #3, #5)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from app.jobs import JobBoard
from tests.app.jobs_http import body as _body
from tests.app.jobs_http import gunicorn, overlap
from tests.app.jobs_http import post as _post
from tests.app.jobs_http import result as _http_result
from tests.app.jobs_http import start as _start

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    jobs = tmp_path_factory.mktemp("jobs")
    env = {"NEON_LIVE_DATA": "0", "NEON_JOB_CACHE_DIR": str(jobs), "NEON_MAX_JOBS": "2", "REDIS_URL": ""}
    with gunicorn(env, jobs.parent / "gunicorn.log") as base:
        yield base, jobs


def _result(base: str, session: str, seed: int, handles: dict, timeout: float = 150) -> dict:
    return _http_result(base, session, seed, handles, timeout)["response"]


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
    assert overlap(history) <= 2  # never more than NEON_MAX_JOBS at once, across both workers


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
