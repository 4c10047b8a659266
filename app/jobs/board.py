"""The JobBoard (slots, FIFO queue, leases, cancel flags and the per-session job book) and `run_job`, the
one way a long job runs. The board's state lives in a `BoardStore` (app/jobs/store.py): a diskcache
directory on one host, or Redis when web processes and Celery workers run on several hosts."""

from __future__ import annotations

import logging
import os
import re
import signal
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from app.jobs.store import DAY, BoardStore, DiskStore

log = logging.getLogger("neon.jobs")

SESSION_RE = re.compile(r"^[A-Za-z0-9_-]{8,64}$")


def _host_id() -> str:
    """This machine's name for leases: the hostname plus the kernel's boot id, so that two machines that
    share a hostname (cloned VMs) never check each other's pids; containers have their own hostnames."""
    try:
        boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()[:8]
    except OSError:
        boot = ""
    return f"{socket.gethostname()}/{boot}" if boot else socket.gethostname()


HOST = _host_id()
"""Leases and Celery job markers record it: a pid is only checked on the host that wrote it."""


JOB_LOST = "The job stopped unexpectedly: its worker went away. Nothing was kept; run it again."


class JobRejected(ValueError):
    """The job cannot start (server busy, bad session); the message says what to do."""


class JobCancelled(Exception):
    """The user cancelled the job (raised inside the job; the slot is freed and nothing is kept)."""


@dataclass
class JobProgress:
    """What a progress bar shows: a fraction of the whole job, a short label and one line of detail."""

    fraction: float = 0.0
    label: str = ""
    detail: str = ""
    state: str = "running"
    """queued | running | done | failed | cancelled"""

    def percent(self) -> int:
        return int(round(100 * min(1.0, max(0.0, self.fraction))))


@dataclass
class JobStatus:
    """The job book's entry for a session's latest job of one kind."""

    token: str
    kind: str
    state: str = "queued"
    progress: dict = field(default_factory=dict)
    message: str = ""
    result_ref: Any = None
    request: dict = field(default_factory=dict)
    updated: float = field(default_factory=time.time)
    pid: int = 0
    """The process running the job (with `host`): a page can tell at once when it is gone."""
    host: str = ""

    @property
    def active(self) -> bool:
        return self.state in ("queued", "running")


def _pid_alive(pid: int) -> bool:
    import psutil

    try:
        return psutil.pid_exists(pid) and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


class JobBoard:
    """Slots, queue, cancel flags and job book shared by every process that runs or shows jobs.

    The state lives in a `BoardStore`: a private diskcache directory on this host (the default), or Redis
    when Celery workers on other hosts run the jobs (`store=RedisStore(...)`, see job_board(settings)).

    :param directory: the shared private directory (created with mode 0700) for a diskcache board.
    :param store: instead of a directory, the store to keep the board in (e.g. a RedisStore).
    :param max_jobs: heavy jobs allowed to run at once across all workers.
    :param lease_seconds: a running or queued job that stops renewing its entry for this long is gone.
    :param queue_limit: jobs allowed to wait; one more is refused with a "busy, try again" message.
    """

    def __init__(self, directory: Path | str | None = None, *, store: BoardStore | None = None,
                 max_jobs: int = 2, lease_seconds: float = 20.0, queue_limit: int = 16) -> None:
        if max_jobs < 1:
            raise ValueError(f"max_jobs must be at least 1, got {max_jobs}")
        if lease_seconds <= 1:
            raise ValueError(f"lease_seconds must exceed 1 s (heartbeats come every second), got {lease_seconds}")
        if (directory is None) == (store is None):
            raise ValueError("JobBoard needs a directory or a store (exactly one)")
        self.store: BoardStore = store if store is not None else DiskStore(directory)
        self.directory = Path(directory) if directory is not None else None
        self.max_jobs = max_jobs
        self.lease_seconds = lease_seconds
        self.queue_limit = queue_limit

    # -- slots and queue -------------------------------------------------------------------------

    def _alive(self, entry: dict, now: float) -> bool:
        """A lease or queue place counts while it is renewed; on this host, only while its process lives
        (a killed job frees its slot at once). Entries of other hosts expire with their lease."""
        if entry["expires"] < now:
            return False
        return entry["host"] != HOST or _pid_alive(entry["pid"])

    def _entry(self, token: str, session: str, kind: str) -> dict:
        return {"token": token, "pid": os.getpid(), "host": HOST, "session": session, "kind": kind,
                "expires": time.time() + self.lease_seconds}

    def _live(self, now: float, *, log_dropped: bool = False) -> tuple[dict, list]:
        stored = self.store.get("leases", {})
        leases = {t: e for t, e in stored.items() if self._alive(e, now)}
        queue = [e for e in self.store.get("queue", []) if self._alive(e, now)]
        if log_dropped:  # a dead job's slot is taken back: its run ends here in the history
            for token in stored.keys() - leases.keys():
                self._log_event(token, stored[token]["kind"], "end", now)
        return leases, queue

    def _save(self, leases: dict, queue: list) -> None:
        self.store.set("leases", leases, expire=DAY)
        self.store.set("queue", queue, expire=DAY)

    def try_acquire(self, token: str, *, session: str = "", kind: str = "job") -> tuple[bool, int]:
        """(granted, queued jobs ahead of this one). First come, first served: the job at queue place i
        starts when i is below the number of free slots. A new job over `queue_limit` waiting jobs is
        refused with JobRejected."""
        with self.store.transaction():
            now = time.time()  # taken inside: history events are in the order of the transactions
            leases, queue = self._live(now, log_dropped=True)
            mine = next((i for i, e in enumerate(queue) if e["token"] == token), None)
            if token in leases:
                granted, ahead = True, 0
            elif mine is None and len(queue) >= self.queue_limit:
                granted, ahead = False, len(queue)
            else:
                if mine is None:
                    queue.append(self._entry(token, session, kind))
                    mine = len(queue) - 1
                else:
                    queue[mine]["expires"] = now + self.lease_seconds
                granted, ahead = mine < self.max_jobs - len(leases), mine
                if granted:
                    entry = queue.pop(mine)
                    entry["started"] = now
                    leases[token] = entry
                    self._log_event(token, kind, "start", now)
            self._save(leases, queue)
        if not granted and ahead >= self.queue_limit:
            raise JobRejected(f"The server is busy: {ahead} jobs are waiting. Try again in a minute.")
        return granted, ahead

    def renew(self, token: str) -> None:
        """Heartbeat: keep this job's lease (or queue place) from expiring."""
        with self.store.transaction():
            leases = self.store.get("leases", {})
            queue = self.store.get("queue", [])
            expires = time.time() + self.lease_seconds
            if token in leases:
                leases[token]["expires"] = expires
            for entry in queue:
                if entry["token"] == token:
                    entry["expires"] = expires
            self._save(leases, queue)

    def release(self, token: str) -> None:
        """Free the slot (or queue place) of a job; idempotent."""
        with self.store.transaction():
            leases = self.store.get("leases", {})
            entry = leases.pop(token, None)
            if entry is not None:
                self._log_event(token, entry["kind"], "end", time.time())
            self._save(leases, [e for e in self.store.get("queue", []) if e["token"] != token])

    def running(self) -> int:
        return len(self._live(time.time())[0])

    def waiting(self) -> int:
        return len(self._live(time.time())[1])

    def _log_event(self, token: str, kind: str, what: str, when: float) -> None:
        history = self.store.get("history", [])
        history.append((token, kind, what, when))
        self.store.set("history", history[-1000:], expire=7 * DAY)

    def history(self) -> list[tuple[str, str, str, float]]:
        """(token, kind, "start"|"end", time) events in the order the board granted and freed slots (the
        last 1000): lets a test prove the bound was never exceeded."""
        return [tuple(event) for event in self.store.get("history", [])]

    # -- cancel flags (for jobs a page re-attached to: Dash no longer holds their handle) ------------

    def request_cancel(self, token: str) -> None:
        self.store.set(f"cancel:{token}", True, expire=3600)

    def cancel_requested(self, token: str) -> bool:
        return bool(self.store.get(f"cancel:{token}", False))

    # -- the job book ------------------------------------------------------------------------------

    def _status_key(self, session: str, kind: str) -> str:
        return f"status:{session}:{kind}"

    def record(self, session: str, status: JobStatus) -> None:
        status.updated = time.time()
        self.store.set(self._status_key(session, status.kind), asdict(status), expire=DAY)

    def status(self, session: str | None, kind: str) -> JobStatus | None:
        """The session's latest job of this kind, or None. A job recorded as active whose process is gone
        (killed, crashed; on another host: no news for `lease_seconds`) reads as failed, or as cancelled when
        its cancel was requested (Dash's Cancel kills a diskcache job's process), so a page never waits for
        it forever."""
        if not session or not SESSION_RE.match(str(session)):
            return None
        raw = self.store.get(self._status_key(session, kind))
        if raw is None:
            return None
        status = JobStatus(**{k: v for k, v in raw.items() if k in JobStatus.__dataclass_fields__})
        if status.active:
            gone = (status.host == HOST and status.pid and not _pid_alive(status.pid)) or (
                time.time() - status.updated > self.lease_seconds)
            if gone and self.cancel_requested(status.token):
                status.state, status.message = "cancelled", "Cancelled: nothing was kept."
            elif gone:
                status.state, status.message = "failed", JOB_LOST
        return status


def check_session(session: Any) -> str:
    """The session id a job is filed under; refuses anything that is not a plain random id."""
    if not isinstance(session, str) or not SESSION_RE.match(session):
        raise JobRejected("Your browser session has no id yet; reload the page and try again.")
    return session


class _Heartbeat(threading.Thread):
    def __init__(self, board: JobBoard, token: str, beat: Callable[[], None]) -> None:
        super().__init__(daemon=True, name=f"job-heartbeat-{token[:8]}")
        self.board, self.token, self.beat = board, token, beat
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(1.0):
            try:
                self.board.renew(self.token)
                self.beat()
            except Exception:  # noqa: BLE001 - a heartbeat must never kill the job
                log.warning("job %s: heartbeat failed", self.token, exc_info=True)


@dataclass
class JobHandle:
    """What the work function of a job receives: report progress, ask whether to stop."""

    board: JobBoard
    session: str
    status: JobStatus
    set_progress: Callable[[JobProgress], None]
    _last_sent: float = 0.0

    def report(self, progress: JobProgress, *, force: bool = False) -> None:
        """Publish progress to the page and the job book (at most ~5 per second unless forced)."""
        self.status.progress = asdict(progress)
        now = time.monotonic()
        if force or now - self._last_sent >= 0.2:
            self._last_sent = now
            self.set_progress(progress)
            self.board.record(self.session, self.status)

    terminated: bool = False
    """SIGTERM arrived (Celery's revoke-with-terminate, i.e. Dash's Cancel on a Celery worker)."""

    def should_cancel(self) -> bool:
        return self.terminated or self.board.cancel_requested(self.status.token)


@contextmanager
def _sigterm_cancels(handle: JobHandle) -> Iterator[Callable[[bool], None]]:
    """While a job runs in its own process (a Celery prefork child, Dash's diskcache job process), SIGTERM
    stops it like a cancel: JobCancelled is raised inside `work` (or the queue wait ends), so the slot is
    freed and the book says "cancelled" at once, instead of the process dying with its lease held.

    Yields `working(flag)`: the exception is raised only while `work` runs; at other moments the signal
    just marks the handle (run_job's own bookkeeping is never interrupted). Threads other than the main
    one (gunicorn request threads, tests) cannot take signals: there this does nothing.
    """
    state = {"working": False}

    def on_sigterm(_signum, _frame) -> None:
        handle.terminated = True
        if state["working"]:
            state["working"] = False
            raise JobCancelled()

    def working(flag: bool) -> None:
        state["working"] = flag

    if threading.current_thread() is not threading.main_thread():
        yield working
        return
    previous = signal.signal(signal.SIGTERM, on_sigterm)
    try:
        yield working
    finally:
        signal.signal(signal.SIGTERM, previous)


def queue_message(ahead: int, max_jobs: int) -> str:
    noun = "job" if ahead == 1 else "jobs"
    line = f"Queued: {ahead} {noun} ahead of yours" if ahead else "Queued: yours is next"
    return f"{line}; {max_jobs} run at once on this server. You can cancel while waiting."


OUT_OF_MEMORY = ("The job ran out of memory and stopped; nothing was kept. Ask for less (fewer timesteps or "
                 "personalities, a shorter history or a quicker effort) or try again when the server is quieter.")


def run_job(board: JobBoard, *, session: str, kind: str, request: dict,
            set_progress: Callable[[JobProgress], None], work: Callable[[JobHandle], Any],
            poll_seconds: float = 0.5) -> tuple[str, Any]:
    """Run `work` as a bounded, session-filed job; returns (state, result or message).

    state is "done" (result = what `work` returned), "failed" (a message fit for the page: a ValueError's
    own text, or a reference for bugs, logged with their trace), or "cancelled". The slot is always freed.
    """
    session = check_session(session)
    status = JobStatus(token=uuid.uuid4().hex, kind=kind, request=request, pid=os.getpid(), host=HOST)
    handle = JobHandle(board, session, status, set_progress)
    board.record(session, status)
    heartbeat = _Heartbeat(board, status.token, lambda: board.record(session, status))
    heartbeat.start()
    with _sigterm_cancels(handle) as working:
        try:
            while True:
                granted, ahead = board.try_acquire(status.token, session=session, kind=kind)
                if granted:
                    break
                if handle.should_cancel():
                    raise JobCancelled()
                handle.report(JobProgress(0.0, "queued", queue_message(ahead, board.max_jobs), state="queued"),
                              force=True)
                time.sleep(poll_seconds)
            if handle.should_cancel():  # cancelled while the slot was being granted
                raise JobCancelled()
            status.state = "running"
            started = time.monotonic()
            handle.report(JobProgress(0.0, "starting", "Starting..."), force=True)
            working(True)
            try:
                result = work(handle)
            finally:
                working(False)
            status.state, status.result_ref, status.message = "done", result, ""
            handle.report(JobProgress(1.0, "done", f"Done in {time.monotonic() - started:.1f} s.", state="done"),
                          force=True)
            return "done", result
        except JobCancelled:
            status.state, status.message = "cancelled", "Cancelled: nothing was kept."
            return "cancelled", status.message
        except ValueError as exc:  # bad input or a refusal from core: its message is written for users
            status.state, status.message = "failed", str(exc)
            return "failed", status.message
        except MemoryError:  # the job's own process ran out: the server lives on, the user can ask for less
            log.warning("job %s (%s) ran out of memory", status.token, kind)
            status.state, status.message = "failed", OUT_OF_MEMORY
            return "failed", status.message
        except Exception as exc:  # noqa: BLE001 - a bug: logged with its trace, the page shows a reference
            ref = uuid.uuid4().hex[:8]
            log.exception("job %s (%s) failed (ref %s)", status.token, kind, ref, exc_info=exc)
            status.state = "failed"
            status.message = f"The job failed unexpectedly; nothing was kept. Reference: {ref}."
            return "failed", status.message
        finally:
            heartbeat.stopped.set()
            heartbeat.join(5)  # a beat in flight must not write "running" over the final state
            status.progress = {**status.progress, "state": status.state}
            board.record(session, status)  # the final state first, then the slot: never "running" without one
            board.release(status.token)
