"""The job framework's board: a global bound across processes, FIFO queue with positions, leases that
free a dead job's slot, cancel while queued, failures that free the slot, and the per-session job book."""

from __future__ import annotations

import multiprocessing
import os
import signal
import time

import pytest

from app.jobs import JobBoard, JobCancelled, JobProgress, JobRejected, queue_message, run_job

SESSION = "sess-0123456789abcdef"


def _overlap(history) -> int:
    """Most jobs running at the same time according to the board's start/end log."""
    running = peak = 0
    for _token, _kind, what, _when in sorted(history, key=lambda e: (e[3], e[2] == "start")):
        running += 1 if what == "start" else -1
        peak = max(peak, running)
    return peak


def _worker(directory, index, results):
    board = JobBoard(directory, max_jobs=2)
    seen = []

    def work(handle):
        time.sleep(0.4)
        return index

    state, value = run_job(board, session=f"sess-worker-{index:04d}", kind="test", request={"i": index},
                           set_progress=seen.append, work=work, poll_seconds=0.05)
    results.put((index, state, value, [p.state for p in seen]))


def test_ten_concurrent_jobs_never_exceed_the_bound(tmp_path):
    ctx = multiprocessing.get_context("fork")
    results = ctx.Queue()
    procs = [ctx.Process(target=_worker, args=(tmp_path, i, results)) for i in range(10)]
    for p in procs:
        p.start()
    outcomes = [results.get(timeout=60) for _ in procs]
    for p in procs:
        p.join(10)
    board = JobBoard(tmp_path, max_jobs=2)
    history = board.history()
    assert sorted(o[0] for o in outcomes) == list(range(10))
    assert all(o[1] == "done" and o[2] == o[0] for o in outcomes)
    assert len([e for e in history if e[2] == "start"]) == 10
    assert _overlap(history) == 2  # the bound was used, and never exceeded
    assert any("queued" in states for *_rest, states in outcomes)  # some waited and were told so
    assert board.running() == 0 and board.waiting() == 0


def test_queue_is_first_come_first_served_with_positions(tmp_path):
    board = JobBoard(tmp_path, max_jobs=1)
    assert board.try_acquire("a") == (True, 0)
    assert board.try_acquire("b") == (False, 0)
    assert board.try_acquire("c") == (False, 1)
    assert board.try_acquire("c") == (False, 1)  # asking again keeps the place
    board.release("a")
    assert board.try_acquire("c") == (False, 1)  # b is first in line, c must wait
    assert board.try_acquire("b") == (True, 0)
    assert "1 job ahead of yours" in queue_message(1, 2) and "next" in queue_message(0, 2)


def test_queue_limit_refuses_with_a_clear_message(tmp_path):
    board = JobBoard(tmp_path, max_jobs=1, queue_limit=2)
    board.try_acquire("run")
    board.try_acquire("q1")
    board.try_acquire("q2")
    with pytest.raises(JobRejected, match="busy: 2 jobs are waiting"):
        board.try_acquire("q3")


def _hold_slot(directory, ready):
    board = JobBoard(directory, max_jobs=1)
    board.try_acquire("holder")
    ready.set()
    time.sleep(60)


def test_a_killed_job_frees_its_slot_at_once(tmp_path):
    ctx = multiprocessing.get_context("fork")
    ready = ctx.Event()
    proc = ctx.Process(target=_hold_slot, args=(tmp_path, ready))
    proc.start()
    assert ready.wait(20)
    board = JobBoard(tmp_path, max_jobs=1)
    assert board.try_acquire("next") == (False, 0)
    os.kill(proc.pid, signal.SIGKILL)
    proc.join(5)
    assert board.try_acquire("next") == (True, 0)


def test_an_expired_lease_from_another_host_is_dropped(tmp_path):
    board = JobBoard(tmp_path, max_jobs=1, lease_seconds=2)
    board.try_acquire("remote")
    leases = board._cache.get("leases")
    leases["remote"].update(host="other-host", pid=1, expires=time.time() - 1)
    board._cache.set("leases", leases)
    assert board.try_acquire("local") == (True, 0)


def test_cancel_while_queued_and_failures_free_the_slot(tmp_path):
    board = JobBoard(tmp_path, max_jobs=1)
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

    def cancelled_inside(handle):
        raise JobCancelled()

    assert run_job(board, session=SESSION, kind="test", request={}, set_progress=lambda p: None,
                   work=cancelled_inside)[0] == "cancelled"
    assert board.running() == 0 and board.try_acquire("after") == (True, 0)


def test_the_job_book_keeps_each_sessions_latest_job(tmp_path):
    board = JobBoard(tmp_path, max_jobs=2)
    other = "sess-fedcba9876543210"
    run_job(board, session=SESSION, kind="forecast", request={"ticker": "AAPL"}, set_progress=lambda p: None,
            work=lambda h: {"answer": 42})
    mine = board.status(SESSION, "forecast")
    assert mine.state == "done" and mine.result_ref == {"answer": 42} and mine.request == {"ticker": "AAPL"}
    assert board.status(other, "forecast") is None  # another session sees nothing
    assert board.status("../../etc", "forecast") is None and board.status(None, "forecast") is None
    with pytest.raises(JobRejected, match="reload the page"):
        run_job(board, session="x", kind="forecast", request={}, set_progress=lambda p: None, work=lambda h: 1)


def test_a_stale_active_entry_reads_as_failed(tmp_path):
    board = JobBoard(tmp_path, max_jobs=1, lease_seconds=2)
    from app.jobs import JobStatus

    board.record(SESSION, JobStatus(token="t", kind="forecast", state="running"))
    raw = board._cache.get(f"status:{SESSION}:forecast")
    raw["updated"] = time.time() - 10
    board._cache.set(f"status:{SESSION}:forecast", raw)
    status = board.status(SESSION, "forecast")
    assert status.state == "failed" and "stopped unexpectedly" in status.message


def test_a_job_whose_process_is_gone_reads_cancelled_or_failed_at_once(tmp_path):
    from app.jobs import HOST, JobStatus

    board = JobBoard(tmp_path, max_jobs=1)
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
