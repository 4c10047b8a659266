"""Background jobs: the manager every long job runs on, a global bound on heavy work, and a per-session
job book that lets a page find its job again after the user navigated away.

How a long job runs (forecasting now, training next):

1. A page registers a Dash background callback (`background=True`) with `progress=` outputs, a
   `cancel=` input, and the session id (a uuid in a `dcc.Store`, see callbacks/shell.py) as a State.
   The session id is one of the callback's arguments, so it is part of Dash's cache key: two users with
   identical inputs get two jobs and never share or steal a result (STACK.md pitfall 3). Dash 4.4 signs
   the job id and cache key it hands the browser, so a forged `oldJob`/`cacheKey` reaches nothing.
2. The callback body calls `run_job(...)`, which waits for a slot on the `JobBoard` (at most
   `NEON_MAX_JOBS` heavy jobs run at once across every gunicorn worker; others wait in a FIFO queue and
   the page says "queued: 1 job ahead of yours"), runs the work with progress and cancel hooks, and
   always frees its slot. A lease that is not renewed (the process died or was killed by Cancel) expires.
3. The job book (`JobBoard.status`) records each session's latest job of each kind: state, progress
   and a reference to its result. A page that is opened again polls it, so leaving and coming back shows
   the running job's progress or its result (Dash issues #2650, #2680: by default the result is lost).

Everything shared lives in ONE private directory (mode 0700: diskcache entries are pickles) that all
gunicorn workers use; with REDIS_URL the Dash jobs run on Celery workers and the board stays on the
shared directory of the host (see README for when to switch).
"""

from __future__ import annotations

import logging
import os
import re
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from app.settings import Settings

log = logging.getLogger("neon.jobs")

SESSION_RE = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
HOST = socket.gethostname()


def job_cache_dir(settings: Settings) -> Path:
    """Create the shared job directory private to the app user (mode 0700: entries are pickles)."""
    path = settings.job_cache_dir
    path.mkdir(parents=True, exist_ok=True)
    os.chmod(path, 0o700)
    return path


def background_manager(settings: Settings):
    if settings.redis_url:
        from celery import Celery  # optional scale-out dependency, see docker-compose.yml
        from dash import CeleryManager

        celery_app = Celery(__name__, broker=settings.redis_url, backend=settings.redis_url)
        return CeleryManager(celery_app, expire=3600)
    import diskcache
    from dash import DiskcacheManager

    cache = diskcache.Cache(str(job_cache_dir(settings) / "dash"))
    return DiskcacheManager(cache, expire=3600)


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
    """Slots, queue and job book shared by every worker process through one diskcache directory.

    :param directory: the shared private directory (created with mode 0700).
    :param max_jobs: heavy jobs allowed to run at once across all workers.
    :param lease_seconds: a running or queued job that stops renewing its entry for this long is gone.
    :param queue_limit: jobs allowed to wait; one more is refused with a "busy, try again" message.
    """

    def __init__(self, directory: Path | str, *, max_jobs: int = 2, lease_seconds: float = 20.0,
                 queue_limit: int = 16) -> None:
        import diskcache

        if max_jobs < 1:
            raise ValueError(f"max_jobs must be at least 1, got {max_jobs}")
        if lease_seconds <= 1:
            raise ValueError(f"lease_seconds must exceed 1 s (heartbeats come every second), got {lease_seconds}")
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        os.chmod(self.directory, 0o700)
        self.max_jobs = max_jobs
        self.lease_seconds = lease_seconds
        self.queue_limit = queue_limit
        self._cache = diskcache.Cache(str(self.directory))

    # -- slots and queue -------------------------------------------------------------------------

    def _alive(self, entry: dict, now: float) -> bool:
        if entry["expires"] < now:
            return False
        return entry["host"] != HOST or _pid_alive(entry["pid"])

    def _entry(self, token: str, session: str, kind: str) -> dict:
        return {"token": token, "pid": os.getpid(), "host": HOST, "session": session, "kind": kind,
                "expires": time.time() + self.lease_seconds}

    def try_acquire(self, token: str, *, session: str = "", kind: str = "job") -> tuple[bool, int]:
        """(granted, queued jobs ahead of this one). First come, first served: the job at queue place i
        starts when i is below the number of free slots. A new job over `queue_limit` waiting jobs is
        refused with JobRejected."""
        now = time.time()
        with self._cache.transact():
            leases = {t: e for t, e in self._cache.get("leases", {}).items() if self._alive(e, now)}
            queue = [e for e in self._cache.get("queue", []) if self._alive(e, now)]
            mine = next((i for i, e in enumerate(queue) if e["token"] == token), None)
            if token in leases:
                granted, ahead = True, 0
            elif mine is None and len(queue) >= self.queue_limit:
                self._cache.set("leases", leases)
                self._cache.set("queue", queue)
                raise JobRejected(f"The server is busy: {len(queue)} jobs are waiting. Try again in a minute.")
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
            self._cache.set("leases", leases)
            self._cache.set("queue", queue)
        return granted, ahead

    def renew(self, token: str) -> None:
        """Heartbeat: keep this job's lease (or queue place) from expiring."""
        with self._cache.transact():
            leases = self._cache.get("leases", {})
            if token in leases:
                leases[token]["expires"] = time.time() + self.lease_seconds
                self._cache.set("leases", leases)
                return
            queue = self._cache.get("queue", [])
            for entry in queue:
                if entry["token"] == token:
                    entry["expires"] = time.time() + self.lease_seconds
            self._cache.set("queue", queue)

    def release(self, token: str) -> None:
        """Free the slot (or queue place) of a job; idempotent."""
        with self._cache.transact():
            leases = self._cache.get("leases", {})
            entry = leases.pop(token, None)
            if entry is not None:
                self._log_event(token, entry["kind"], "end", time.time())
            self._cache.set("leases", leases)
            self._cache.set("queue", [e for e in self._cache.get("queue", []) if e["token"] != token])

    def running(self) -> int:
        now = time.time()
        return sum(1 for e in self._cache.get("leases", {}).values() if self._alive(e, now))

    def waiting(self) -> int:
        now = time.time()
        return sum(1 for e in self._cache.get("queue", []) if self._alive(e, now))

    def _log_event(self, token: str, kind: str, what: str, when: float) -> None:
        history = self._cache.get("history", [])
        history.append((token, kind, what, when))
        self._cache.set("history", history[-1000:])

    def history(self) -> list[tuple[str, str, str, float]]:
        """(token, kind, "start"|"end", time) events: lets a test prove the bound was never exceeded."""
        return list(self._cache.get("history", []))

    # -- cancel flags (for jobs a page re-attached to: Dash no longer holds their handle) ------------

    def request_cancel(self, token: str) -> None:
        self._cache.set(f"cancel:{token}", True, expire=3600)

    def cancel_requested(self, token: str) -> bool:
        return bool(self._cache.get(f"cancel:{token}", False))

    # -- the job book ------------------------------------------------------------------------------

    def _status_key(self, session: str, kind: str) -> str:
        return f"status:{session}:{kind}"

    def record(self, session: str, status: JobStatus) -> None:
        status.updated = time.time()
        self._cache.set(self._status_key(session, status.kind), asdict(status), expire=24 * 3600)

    def status(self, session: str | None, kind: str) -> JobStatus | None:
        """The session's latest job of this kind, or None. A job recorded as active whose process is
        gone (killed, crashed) is reported as failed, so a page never waits for it forever."""
        if not session or not SESSION_RE.match(str(session)):
            return None
        raw = self._cache.get(self._status_key(session, kind))
        if raw is None:
            return None
        status = JobStatus(**{k: v for k, v in raw.items() if k in JobStatus.__dataclass_fields__})
        if status.active:
            gone = (status.host == HOST and status.pid and not _pid_alive(status.pid)) or (
                time.time() - status.updated > self.lease_seconds)
            if gone and self.cancel_requested(status.token):  # killed by Cancel (Dash terminates the process)
                status.state, status.message = "cancelled", "Cancelled: nothing was kept."
            elif gone:
                status.state, status.message = "failed", "The job stopped unexpectedly (its worker went away)."
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
                log.debug("heartbeat failed", exc_info=True)


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

    def should_cancel(self) -> bool:
        return self.board.cancel_requested(self.status.token)


def queue_message(ahead: int, max_jobs: int) -> str:
    noun = "job" if ahead == 1 else "jobs"
    line = f"Queued: {ahead} {noun} ahead of yours" if ahead else "Queued: yours is next"
    return f"{line}; {max_jobs} run at once on this server. You can cancel while waiting."


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
        status.state = "running"
        started = time.monotonic()
        handle.report(JobProgress(0.0, "starting", "Starting..."), force=True)
        result = work(handle)
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
    except Exception as exc:  # noqa: BLE001 - a bug: logged with its trace, the page shows a reference
        ref = uuid.uuid4().hex[:8]
        log.exception("job %s (%s) failed (ref %s)", status.token, kind, ref, exc_info=exc)
        status.state = "failed"
        status.message = f"The job failed unexpectedly; nothing was kept. Reference: {ref}."
        return "failed", status.message
    finally:
        heartbeat.stopped.set()
        board.release(status.token)
        status.progress = {**status.progress, "state": status.state}
        board.record(session, status)


_BOARDS: dict[tuple, JobBoard] = {}


def job_board(settings: Settings) -> JobBoard:
    """The process's JobBoard for these settings (one per job directory)."""
    key = (str(settings.job_cache_dir), settings.max_jobs)
    if key not in _BOARDS:
        _BOARDS[key] = JobBoard(job_cache_dir(settings) / "board", max_jobs=settings.max_jobs)
    return _BOARDS[key]
