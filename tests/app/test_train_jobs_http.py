"""Training jobs through real HTTP on gunicorn with 2 workers sharing one job directory and one runs
directory: twenty concurrent Train requests never run more jobs than NEON_MAX_JOBS (the others queue or are
told the server is busy), every session sees only its own runs, and a forged or foreign run id loads
nothing (RELIABILITY #2, #3, #5)."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from app.jobs import JobBoard
from core.runs import RunNotFound, list_runs, load_run_agents
from tests.app.jobs_http import gunicorn, handle_query, overlap, post

pytestmark = pytest.mark.slow
JOBS = 20


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    jobs = tmp_path_factory.mktemp("jobs")
    env = {"NEON_LIVE_DATA": "0", "NEON_JOB_CACHE_DIR": str(jobs), "NEON_MAX_JOBS": "2", "REDIS_URL": "",
           "NEON_RUNS_DIR": str(jobs / "runs")}
    with gunicorn(env, jobs.parent / "gunicorn.log", app="tests.app.tiny_train_wsgi:server") as base:
        yield base, jobs


def train_body(session: str, seed: int) -> dict:
    """The Train button's request body, as the renderer sends it (128 steps of Momentum on bundled AAPL)."""
    state = [("session-id", "data", session), ("tr-source", "value", "bundled"), ("tr-ticker", "value", "AAPL"),
             ("tr-custom-ticker", "value", ""), ("tr-upload-store", "data", None), ("tr-steps", "value", 128),
             ("tr-seed", "value", seed), ("tr-personalities", "value", ["momentum"])]
    return {
        "output": "..tr-result.data...tr-alert.children..",
        "outputs": [{"id": "tr-result", "property": "data"}, {"id": "tr-alert", "property": "children"}],
        "inputs": [{"id": "tr-run", "property": "n_clicks", "value": 1}],
        "changedPropIds": ["tr-run.n_clicks"],
        "state": [{"id": i, "property": p, "value": v} for i, p, v in state],
    }


def train(base: str, session: str, seed: int, timeout: float = 240) -> dict:
    """Click Train, then poll like the browser until the response arrives; returns it."""
    status, handles = post(base, train_body(session, seed))
    assert status == 200 and "cacheKey" in handles, (status, handles)
    deadline = time.time() + timeout
    while time.time() < deadline:
        status, payload = post(base, train_body(session, seed), handle_query(handles))
        assert status in (200, 204), status
        if payload and "response" in payload:
            return payload["response"]
        time.sleep(0.5)
    raise AssertionError("the training job never delivered its result")


def show_run(base: str, session: str, run_id: str) -> dict:
    """The page's run picker asking for `run_id` (as a forged request would)."""
    outputs = [("tr-run-info", "children"), ("tr-metrics", "rowData"), ("tr-battle-link", "href"),
               ("tr-battle-link", "className")]
    payload = {
        "output": "...".join(f"{i}.{p}" for i, p in outputs).join(("..", "..")),
        "outputs": [{"id": i, "property": p} for i, p in outputs],
        "inputs": [{"id": "tr-run-pick", "property": "value", "value": run_id}],
        "changedPropIds": ["tr-run-pick.value"],
        "state": [{"id": "session-id", "property": "data", "value": session}],
    }
    status, response = post(base, payload)
    assert status == 200, status
    return response["response"]


def test_twenty_concurrent_train_requests_respect_the_bound_and_keep_runs_private(server):
    base, jobs = server
    sessions = [f"sess-train-{i:08d}" for i in range(JOBS)]
    with ThreadPoolExecutor(JOBS) as pool:
        responses = list(pool.map(lambda i: train(base, sessions[i], seed=i), range(JOBS)))
    runs, busy = {}, 0
    for session, response in zip(sessions, responses, strict=True):
        if "tr-result" in response:
            runs[session] = response["tr-result"]["data"]["run"]["run_id"]
        else:
            assert "The server is busy" in str(response["tr-alert"]), response
            busy += 1
    history = JobBoard(jobs / "board", max_jobs=2).history()
    starts = [e for e in history if e[2] == "start"]
    assert len(starts) == len(runs) == JOBS - busy and busy <= JOBS - 2
    assert overlap(history) <= 2  # never more than NEON_MAX_JOBS training at once, across both workers
    root = jobs / "runs"
    for session, run_id in runs.items():
        assert [r.run_id for r in list_runs(root, session)] == [run_id]  # each session sees only its own
    (a, run_a), (b, run_b) = list(runs.items())[:2]
    assert run_a != run_b
    with pytest.raises(RunNotFound):
        load_run_agents(root, run_b, a)
    assert load_run_agents(root, run_a, a).names == ("momentum",)
    # through the page: another session's id and a forged one show a message, not a run
    for run_id in (run_b, "0123456789abcdef", "../../models"):
        shown = show_run(base, a, run_id)
        assert "run" in str(shown["tr-run-info"]["children"]).lower() and shown["tr-metrics"]["rowData"] == []
        assert "disabled" in shown["tr-battle-link"]["className"]
    mine = show_run(base, a, run_a)
    assert mine["tr-battle-link"]["href"] == f"/arena?ticker=AAPL&agents={run_a}"
    assert len(mine["tr-metrics"]["rowData"]) == 2  # momentum, in- and out-of-sample
