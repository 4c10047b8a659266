"""The job framework's board: a global bound across processes, FIFO queue with positions, leases that
free a dead job's slot, cancel while queued, failures that free the slot, and the per-session job book.

Every board test runs on both stores: diskcache (one host) and Redis (a private redis-server, the Celery
scale-out mode), against the same contract."""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import threading
import time
import uuid

import pytest

from app.jobs import (
    JobBoard,
    JobCancelled,
    JobProgress,
    JobRejected,
    JobStatus,
    RedisStore,
    queue_message,
    run_job,
)
from tests.app.jobs_http import overlap

SESSION = "sess-0123456789abcdef"


def _board(spec, **kwargs) -> JobBoard:
    """A board on the store `spec` names: ("diskcache", directory) or ("redis", (url, key prefix))."""
    kind, where = spec
    if kind == "diskcache":
        return JobBoard(where, **kwargs)
    url, prefix = where
    return JobBoard(store=RedisStore(url, prefix=prefix), **kwargs)


@pytest.fixture(params=["diskcache", "redis"])
def spec(request, tmp_path):
    if request.param == "diskcache":
        return ("diskcache", str(tmp_path))
    return ("redis", (request.getfixturevalue("redis_url"), f"test-{uuid.uuid4().hex}:"))


def _worker(spec, index, results):
    board = _board(spec, max_jobs=2)
    seen = []

    def work(handle):
        time.sleep(0.4)
        return index

    state, value = run_job(board, session=f"sess-worker-{index:04d}", kind="test", request={"i": index},
                           set_progress=seen.append, work=work, poll_seconds=0.05)
    results.put((index, state, value, [p.state for p in seen]))


def test_ten_concurrent_jobs_never_exceed_the_bound(spec):
    ctx = multiprocessing.get_context("fork")
    results = ctx.Queue()
    procs = [ctx.Process(target=_worker, args=(spec, i, results)) for i in range(10)]
    for p in procs:
        p.start()
    outcomes = [results.get(timeout=60) for _ in procs]
    for p in procs:
        p.join(10)
    board = _board(spec, max_jobs=2)
    history = board.history()
    assert sorted(o[0] for o in outcomes) == list(range(10))
    assert all(o[1] == "done" and o[2] == o[0] for o in outcomes)
    assert len([e for e in history if e[2] == "start"]) == 10
    assert overlap(history) == 2  # the bound was used, and never exceeded
    assert any("queued" in states for *_rest, states in outcomes)  # some waited and were told so
    assert board.running() == 0 and board.waiting() == 0


def test_queue_is_first_come_first_served_with_positions(spec):
    board = _board(spec, max_jobs=1)
    assert board.try_acquire("a") == (True, 0)
    assert board.try_acquire("b") == (False, 0)
    assert board.try_acquire("c") == (False, 1)
    assert board.try_acquire("c") == (False, 1)  # asking again keeps the place
    board.release("a")
    assert board.try_acquire("c") == (False, 1)  # b is first in line, c must wait
    assert board.try_acquire("b") == (True, 0)
    assert "1 job ahead of yours" in queue_message(1, 2) and "next" in queue_message(0, 2)


def test_queue_limit_refuses_with_a_clear_message(spec):
    board = _board(spec, max_jobs=1, queue_limit=2)
    board.try_acquire("run")
    board.try_acquire("q1")
    board.try_acquire("q2")
    with pytest.raises(JobRejected, match="busy: 2 jobs are waiting"):
        board.try_acquire("q3")
    assert board.waiting() == 2  # the refused job took no place


def _hold_slot(spec, ready):
    board = _board(spec, max_jobs=1)
    board.try_acquire("holder")
    ready.set()
    time.sleep(60)


def test_a_killed_job_frees_its_slot_at_once(spec):
    ctx = multiprocessing.get_context("fork")
    ready = ctx.Event()
    proc = ctx.Process(target=_hold_slot, args=(spec, ready))
    proc.start()
    assert ready.wait(20)
    board = _board(spec, max_jobs=1)
    assert board.try_acquire("next") == (False, 0)
    os.kill(proc.pid, signal.SIGKILL)
    proc.join(5)
    assert board.try_acquire("next") == (True, 0)


def test_a_lease_from_another_host_counts_until_it_expires(spec):
    board = _board(spec, max_jobs=1, lease_seconds=2)
    board.try_acquire("remote")
    leases = board.store.get("leases")
    leases["remote"].update(host="other-host", pid=1)  # pid 1 lives here, but that says nothing about there
    board.store.set("leases", leases)
    assert board.try_acquire("local") == (False, 0)
    leases["remote"]["expires"] = time.time() - 1  # its worker stopped renewing: that host is gone
    board.store.set("leases", leases)
    assert board.try_acquire("local") == (True, 0)


def test_cancel_while_queued_and_failures_free_the_slot(spec):
    board = _board(spec, max_jobs=1)
    board.try_acquire("busy")
    progress: list[JobProgress] = []

    def cancel_soon(p):
        progress.append(p)
        board.request_cancel(board.status(SESSION, "test").token)

    state, message = run_job(board, session=SESSION, kind="test", request={}, set_progress=cancel_soon,
                             work=lambda h: pytest.fail("a cancelled job must not run"), poll_seconds=0.01)
    assert (state, progress[0].state) == ("cancelled", "queued") and "nothing was kept" in message
    assert board.waiting() == 0
    board.release("busy")

    def bad_input(handle):
        raise ValueError("212 rows are too few")

    assert run_job(board, session=SESSION, kind="test", request={}, set_progress=lambda p: None,
                   work=bad_input) == ("failed", "212 rows are too few")

    def bug(handle):
        raise ZeroDivisionError("boom")

    state, message = run_job(board, session=SESSION, kind="test", request={}, set_progress=lambda p: None,
                             work=bug)
    assert state == "failed" and "Reference:" in message and "boom" not in message

    def too_big(handle):
        raise MemoryError()

    state, message = run_job(board, session=SESSION, kind="test", request={}, set_progress=lambda p: None,
                             work=too_big)
    assert state == "failed" and "ran out of memory" in message and "Ask for less" in message

    def cancelled_inside(handle):
        raise JobCancelled()

    assert run_job(board, session=SESSION, kind="test", request={}, set_progress=lambda p: None,
                   work=cancelled_inside)[0] == "cancelled"
    assert board.running() == 0 and board.try_acquire("after") == (True, 0)


def test_the_job_book_keeps_each_sessions_latest_job(spec):
    board = _board(spec, max_jobs=2)
    other = "sess-fedcba9876543210"
    run_job(board, session=SESSION, kind="forecast", request={"ticker": "AAPL"}, set_progress=lambda p: None,
            work=lambda h: {"answer": 42})
    mine = board.status(SESSION, "forecast")
    assert mine.state == "done" and mine.result_ref == {"answer": 42} and mine.request == {"ticker": "AAPL"}
    assert board.status(other, "forecast") is None  # another session sees nothing
    assert board.status("../../etc", "forecast") is None and board.status(None, "forecast") is None
    with pytest.raises(JobRejected, match="reload the page"):
        run_job(board, session="x", kind="forecast", request={}, set_progress=lambda p: None, work=lambda h: 1)


def test_a_stale_active_entry_reads_as_failed(spec):
    board = _board(spec, max_jobs=1, lease_seconds=2)
    board.record(SESSION, JobStatus(token="t", kind="forecast", state="queued"))
    raw = board.store.get(f"status:{SESSION}:forecast")
    raw["updated"] = time.time() - 10
    board.store.set(f"status:{SESSION}:forecast", raw)
    status = board.status(SESSION, "forecast")
    assert status.state == "failed" and "stopped unexpectedly" in status.message


def _run_then_die(spec, ready):
    board = _board(spec, max_jobs=1)

    def work(handle):
        ready.set()
        time.sleep(60)

    run_job(board, session=SESSION, kind="forecast", request={}, set_progress=lambda p: None, work=work)


def test_a_running_job_whose_process_died_reads_as_failed_at_once(spec):
    """A worker that dies mid-job: the book says failed, the slot is free, no wait for the lease."""
    ctx = multiprocessing.get_context("fork")
    ready = ctx.Event()
    proc = ctx.Process(target=_run_then_die, args=(spec, ready))
    proc.start()
    assert ready.wait(20)
    board = _board(spec, max_jobs=1)
    assert board.status(SESSION, "forecast").state == "running" and board.running() == 1
    os.kill(proc.pid, signal.SIGKILL)
    proc.join(5)
    status = board.status(SESSION, "forecast")
    assert status.state == "failed" and "worker went away" in status.message
    assert board.running() == 0 and board.try_acquire("next") == (True, 0)


def test_sigterm_stops_a_job_like_a_cancel(spec):
    """Celery's revoke(terminate=True) -- Dash's Cancel on a worker -- sends SIGTERM to the job's process:
    the job ends as "cancelled", frees its slot and keeps nothing, instead of dying with its lease."""
    ctx = multiprocessing.get_context("fork")
    ready, results = ctx.Event(), ctx.Queue()

    def target():
        board = _board(spec, max_jobs=1)

        def work(handle):
            ready.set()
            time.sleep(60)
            return "never"

        results.put(run_job(board, session=SESSION, kind="forecast", request={}, set_progress=lambda p: None,
                            work=work))

    proc = ctx.Process(target=target)
    proc.start()
    assert ready.wait(20)
    os.kill(proc.pid, signal.SIGTERM)
    assert results.get(timeout=10) == ("cancelled", "Cancelled: nothing was kept.")
    proc.join(5)
    board = _board(spec, max_jobs=1)
    assert board.status(SESSION, "forecast").state == "cancelled" and board.running() == 0


def test_redis_store_keeps_json_with_ttls(redis_url):
    import redis

    prefix = f"test-{uuid.uuid4().hex}:"
    board = JobBoard(store=RedisStore(redis_url, prefix=prefix), max_jobs=1)
    run_job(board, session=SESSION, kind="forecast", request={"ticker": "AAPL"}, set_progress=lambda p: None,
            work=lambda h: {"answer": 42})
    board.request_cancel("some-token")
    client = redis.Redis.from_url(redis_url)
    keys = sorted(k.decode() for k in client.keys(prefix + "*"))
    assert keys == sorted(prefix + k for k in ("leases", "queue", "history", f"status:{SESSION}:forecast",
                                               "cancel:some-token"))
    for key in keys:
        json.loads(client.get(key))  # JSON, never a pickle
        assert 0 < client.ttl(key) <= 7 * 24 * 3600  # nothing stays forever


def test_redis_store_transactions_are_exclusive_and_all_or_nothing(redis_url):
    store = RedisStore(redis_url, prefix=f"test-{uuid.uuid4().hex}:")

    def bump(times):
        for _ in range(times):
            with store.transaction():
                store.set("n", store.get("n", 0) + 1)
                store.set("m", store.get("m", 0) + 1)

    threads = [threading.Thread(target=bump, args=(25,)) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert store.get("n") == store.get("m") == 100  # no lost update
    with pytest.raises(RuntimeError):
        with store.transaction():
            store.set("n", -1)
            assert store.get("n") == -1  # reads its own write
            raise RuntimeError("boom")
    assert store.get("n") == 100  # nothing of a failed transaction was written


def test_a_job_whose_process_is_gone_reads_cancelled_or_failed_at_once(spec):
    from app.jobs import HOST

    board = _board(spec, max_jobs=1)
    ctx = multiprocessing.get_context("fork")
    proc = ctx.Process(target=time.sleep, args=(0,))
    proc.start()
    proc.join()  # a pid that no longer runs
    board.record(SESSION, JobStatus(token="killed", kind="forecast", state="running", pid=proc.pid, host=HOST))
    board.request_cancel("killed")  # the user pressed Cancel; Dash killed the process
    assert board.status(SESSION, "forecast").state == "cancelled"
    board.record(SESSION, JobStatus(token="crashed", kind="forecast", state="running", pid=proc.pid, host=HOST))
    status = board.status(SESSION, "forecast")
    assert status.state == "failed" and "stopped unexpectedly" in status.message
    board.record(SESSION, JobStatus(token="alive", kind="forecast", state="running", pid=os.getpid(), host=HOST))
    assert board.status(SESSION, "forecast").state == "running"
    # a job on another host: its pid says nothing here; it is gone when its entry stops being renewed
    board.record(SESSION, JobStatus(token="remote", kind="forecast", state="running", pid=proc.pid,
                                    host="other-host"))
    assert board.status(SESSION, "forecast").state == "running"
