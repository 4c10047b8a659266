"""Which machinery runs the background jobs, decided once per process from the settings.

- diskcache (REDIS_URL empty, the default): Dash's DiskcacheManager starts a process per job on this host;
  results, progress and the JobBoard live in ONE private directory shared by every gunicorn worker.
- Celery + Redis (REDIS_URL set and reachable): jobs run as Celery tasks on `make worker` processes on any
  number of hosts; results, progress and the JobBoard live in Redis (JSON only, never pickles).
- REDIS_URL set but Redis unreachable when the process starts: a logged warning, the diskcache mode, and a
  note that job pages show (`backend_note`). A Celery worker refuses to start instead (app/worker.py).
"""

from __future__ import annotations

import functools
import inspect
import json
import logging
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from app.jobs.board import HOST, JOB_LOST, JobBoard, _pid_alive
from app.jobs.store import DAY, RedisStore, redis_client, safe_url
from app.settings import Settings

log = logging.getLogger("neon.jobs")

KEY_PREFIX = "neon-arena:"
LEASE_SECONDS = 20.0
"""A Celery task that has not said "alive" for this long is gone (its worker's host died)."""
RESULT_SECONDS = 3600


def job_cache_dir(settings: Settings) -> Path:
    """Create the shared job directory private to the app user (mode 0700: entries are pickles)."""
    path = settings.job_cache_dir
    path.mkdir(parents=True, exist_ok=True)
    os.chmod(path, 0o700)
    return path


@dataclass(frozen=True)
class JobBackend:
    """How this process runs background jobs."""

    kind: str
    """"diskcache" or "celery"."""
    redis_url: str = ""
    note: str | None = None
    """Set when REDIS_URL could not be used: a sentence for the job pages."""

    @property
    def celery(self) -> bool:
        return self.kind == "celery"


_BACKENDS: dict[str, JobBackend] = {}
_BACKENDS_LOCK = threading.Lock()


def job_backend(settings: Settings) -> JobBackend:
    """The mode for these settings, probed once per process and REDIS_URL (the manager and the board of
    one app must agree even if Redis flaps between the two calls)."""
    url = settings.redis_url
    if not url:
        return JobBackend("diskcache")
    with _BACKENDS_LOCK:
        if url not in _BACKENDS:
            _BACKENDS[url] = _probe(url)
        return _BACKENDS[url]


def _probe(url: str) -> JobBackend:
    shown = safe_url(url)
    try:
        import celery  # noqa: F401  - pinned in requirements.txt; checked here so a broken install falls back

        client = redis_client(url)
        try:
            client.ping()
        finally:
            client.close()
    except Exception as exc:  # noqa: BLE001 - any failure means: not usable now
        log.warning("REDIS_URL is set but Redis at %s is unreachable (%s: %s): background jobs run on this "
                    "server (diskcache) until the app restarts with Redis up", shown, type(exc).__name__, exc)
        return JobBackend("diskcache", url, note=f"Redis at {shown} is unreachable: jobs run on this server "
                                                 "(diskcache).")
    log.info("background jobs run on Celery workers through Redis at %s", shown)
    return JobBackend("celery", url)


def wait_for_redis(url: str, seconds: float = 30.0) -> None:
    """Block until Redis answers (a worker that starts next to Redis in docker compose), or exit with one
    clear line."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            client = redis_client(url)
            try:
                client.ping()
                return
            finally:
                client.close()
        except Exception as exc:  # noqa: BLE001
            if time.monotonic() > deadline:
                raise SystemExit(f"Redis at {safe_url(url)} is unreachable ({type(exc).__name__}: {exc}); "
                                 "a Celery worker needs it: start redis-server or fix REDIS_URL.") from None
            time.sleep(1.0)


def backend_note(settings: Settings | None = None) -> str | None:
    """The sentence job pages show when REDIS_URL is set but jobs run on this server (None otherwise).
    Without `settings`, those of the Flask app serving the current request."""
    if settings is None:
        from flask import current_app, has_app_context

        settings = current_app.config.get("NEON_SETTINGS") if has_app_context() else None
    return job_backend(settings).note if settings is not None else None


def queue_unreachable(exc: BaseException) -> bool:
    """Whether an error means Redis (the job queue) could not be reached."""
    try:
        from kombu.exceptions import OperationalError
        from redis.exceptions import ConnectionError as RedisConnectionError
        from redis.exceptions import TimeoutError as RedisTimeoutError
    except ImportError:
        return False
    return isinstance(exc, (OperationalError, RedisConnectionError, RedisTimeoutError))


def make_celery(url: str):
    """The Celery app of both sides (web processes send, workers run): JSON only, one job per worker
    process at a time, no re-run of a job whose worker died (the page says it failed instead)."""
    from celery import Celery

    app = Celery("neon_arena", broker=url, backend=url)
    app.conf.update(
        task_serializer="json", result_serializer="json", accept_content=["json"],
        result_expires=DAY,
        worker_prefetch_multiplier=1,
        task_acks_late=False,
        task_track_started=False,
        worker_send_task_events=False,
        broker_connection_retry_on_startup=True,
        broker_transport_options={"socket_connect_timeout": 2, "socket_timeout": 10},
        redis_socket_connect_timeout=2,
        redis_socket_timeout=10,
        task_publish_retry_policy={"max_retries": 2, "interval_start": 0, "interval_step": 0.5,
                                   "interval_max": 1},
    )
    return app


@functools.cache
def celery_manager_class():
    """NeonCeleryManager (a class made on first use: celery and Dash's CeleryManager are imported only then)."""
    from dash import CeleryManager

    class NeonCeleryManager(CeleryManager):
        """Dash's CeleryManager, plus what a job page needs when a worker dies or a job is cancelled:

        - every job is marked "running" in Redis (with its host and pid) and says "alive" (a key with a TTL,
          renewed each second) while its callback runs, so a job whose worker process or host died is
          recognised (`job_lost`) and its page gets an error instead of polling forever;
        - a job whose callback has returned is never sent SIGTERM (Dash asks to terminate on every result
          it hands out, which would kill the pool process that is just finishing);
        - the handle-signing secret is kept without expiry (Dash would keep it with result_expires, and
          web workers started a day later would sign with another secret).
        """

        def __init__(self, celery_app, client, *, expire: int | None = None) -> None:
            self.client = client
            super().__init__(celery_app, expire=expire)

        def _key(self, job: str, suffix: str = "") -> str:
            return f"{KEY_PREFIX}task:{job}{suffix}"

        # -- in the worker: say "alive" while the callback runs --------------------------------------

        def make_job_fn(self, fn, progress, key=None):
            return super().make_job_fn(self._tracked(fn), progress, key)

        def _tracked(self, fn):
            if inspect.iscoroutinefunction(fn):
                return fn

            @functools.wraps(fn)
            def tracked(*args, **kwargs):
                from celery import current_task

                job = getattr(getattr(current_task, "request", None), "id", None)
                if not job:
                    return fn(*args, **kwargs)
                beat = _TaskBeat(self.client, self._key(job), self._key(job, ":alive"))
                beat.begin()
                try:
                    return fn(*args, **kwargs)
                finally:
                    beat.end()

            return tracked

        # -- in the web process ----------------------------------------------------------------------

        def job_lost(self, job) -> bool:
            """Whether the job's callback stopped without returning: the task failed outside it (FAILURE,
            e.g. WorkerLostError), or it was marked running and its process is gone: on this host its pid
            is dead (killed by a signal, OOM), elsewhere its "alive" key expired (the host went away).
            A finished job, one still queued in the broker, and one finishing after a Cancel's SIGTERM
            (run_job catches it and returns) are not lost."""
            if not job:
                return False
            state = self.get_task(job).state
            if state in ("FAILURE", "SUCCESS"):
                return state == "FAILURE"
            marker = self._marker(job)
            if marker.get("state") != "running":
                return False
            if marker.get("host") == HOST and not _pid_alive(int(marker.get("pid", 0))):
                return True
            return not self.client.exists(self._key(job, ":alive"))

        def _marker(self, job) -> dict:
            raw = self.client.get(self._key(job))
            return json.loads(raw) if raw else {}

        def job_running(self, job):
            return bool(super().job_running(job)) and not self.job_lost(job)

        def get_result(self, key, job):
            raw = self.handle.backend.get(key)
            if raw is None:
                if self.job_lost(job):
                    self.clear_cache_entry(self._make_progress_key(key))
                    log.warning("background job %s stopped without a result (its worker went away)", job)
                    return {"background_callback_error": {"msg": JOB_LOST, "tb": ""}}
                return self.UNDEFINED
            result = json.loads(raw)
            if self.cache_by is None:
                self.clear_cache_entry(key)
            elif self.expire:
                self.handle.backend.expire(key, self.expire)
            self.clear_cache_entry(self._make_progress_key(key))
            return result  # the callback has returned: nothing to terminate

        def terminate_job(self, job):
            if job is None or self._marker(job).get("state") == "ended":
                return
            super().terminate_job(job)

        def get_or_create_signing_secret(self, generate):
            key = f"{KEY_PREFIX}dash-signing-secret"
            self.client.set(key, generate(), nx=True)
            return self.client.get(key)

    return NeonCeleryManager


class _TaskBeat(threading.Thread):
    """Marks a Celery task "running" (with this host and pid) and keeps its "alive" key from expiring until
    `end()` marks it "ended"."""

    def __init__(self, client, key: str, alive_key: str) -> None:
        super().__init__(daemon=True, name="job-alive")
        self.client, self.key, self.alive_key = client, key, alive_key
        self.stopped = threading.Event()

    def _beat(self) -> None:
        self.client.set(self.alive_key, b"1", px=int(LEASE_SECONDS * 1000))

    def _mark(self, state: str, alive: bool) -> None:
        # Both keys at once (MULTI/EXEC): a page polling between them must not read a lost job.
        marker = json.dumps({"state": state, "host": HOST, "pid": os.getpid()})
        with self.client.pipeline(transaction=True) as pipe:
            if alive:
                pipe.set(self.alive_key, b"1", px=int(LEASE_SECONDS * 1000))
            else:
                pipe.delete(self.alive_key)
            pipe.set(self.key, marker, ex=int(DAY))
            pipe.execute()

    def begin(self) -> None:
        self._mark("running", alive=True)
        self.start()

    def run(self) -> None:
        while not self.stopped.wait(1.0):
            try:
                self._beat()
            except Exception:  # noqa: BLE001 - a heartbeat must never kill the job
                log.debug("task heartbeat failed", exc_info=True)

    def end(self) -> None:
        self.stopped.set()
        self.join(5)
        try:
            self._mark("ended", alive=False)
        except Exception:  # noqa: BLE001 - the result is written anyway; the marker is a courtesy
            log.warning("could not mark task %s ended", self.key, exc_info=True)


def background_manager(settings: Settings):
    """The Dash background-callback manager for these settings (see the module docstring)."""
    backend = job_backend(settings)
    if backend.celery:
        manager_class = celery_manager_class()
        return manager_class(make_celery(backend.redis_url), redis_client(backend.redis_url),
                             expire=RESULT_SECONDS)
    import diskcache
    from dash import DiskcacheManager

    cache = diskcache.Cache(str(job_cache_dir(settings) / "dash"))
    return DiskcacheManager(cache, expire=RESULT_SECONDS)


_BOARDS: dict[tuple, JobBoard] = {}


def job_board(settings: Settings) -> JobBoard:
    """The process's JobBoard for these settings: on the job directory, or in Redis in the Celery mode
    (shared by web processes and workers on every host)."""
    backend = job_backend(settings)
    key = (str(settings.job_cache_dir), settings.max_jobs, backend.kind, backend.redis_url)
    if key not in _BOARDS:
        if backend.celery:
            store = RedisStore(redis_client(backend.redis_url), prefix=f"{KEY_PREFIX}board:")
            _BOARDS[key] = JobBoard(store=store, max_jobs=settings.max_jobs, lease_seconds=LEASE_SECONDS)
        else:
            _BOARDS[key] = JobBoard(job_cache_dir(settings) / "board", max_jobs=settings.max_jobs,
                                    lease_seconds=LEASE_SECONDS)
    return _BOARDS[key]
