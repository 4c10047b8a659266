"""Background jobs: the manager every long job runs on, a global bound on heavy work, and a per-session
job book that lets a page find its job again after the user navigated away.

How a long job runs (forecasting now, training next):

1. A page registers a Dash background callback (`background=True`) with `progress=` outputs, a
   `cancel=` input, and the session id (a uuid in a `dcc.Store`, see callbacks/shell.py) as a State.
   The session id is one of the callback's arguments, so it is part of Dash's cache key: two users with
   identical inputs get two jobs and never share or steal a result (STACK.md pitfall 3). Dash 4.4 signs
   the job id and cache key it hands the browser, so a forged `oldJob`/`cacheKey` reaches nothing.
2. The callback body calls `run_job(...)`, which waits for a slot on the `JobBoard` (at most
   `NEON_MAX_JOBS` heavy jobs run at once across every gunicorn worker, or every Celery worker on every
   host; others wait in a FIFO queue and the page says "queued: 1 job ahead of yours"), runs the work with
   progress and cancel hooks, and always frees its slot (a Cancel's SIGTERM becomes a cancel). A lease that
   is not renewed (the process died) expires.
3. The job book (`JobBoard.status`) records each session's latest job of each kind: state, progress
   and a reference to its result. A page that is opened again polls it, so leaving and coming back shows
   the running job's progress or its result (Dash issues #2650, #2680: by default the result is lost).
4. Give the background callback `on_error=callbacks.jobs.job_error_handler(...)`: a job whose worker died
   (Celery mode), or a job queue that cannot be reached, then ends with a message in the page.

Two modes (README "Background jobs: one server or many"; app/jobs/backend.py decides once per process):
diskcache (default) keeps Dash's results and the board in ONE private directory (mode 0700: Dash's
diskcache entries are pickles) shared by every gunicorn worker of one host; with REDIS_URL, jobs run on
Celery workers (`make worker`, app/worker.py) and results, progress and the board live in Redis, shared by
web processes and workers on every host. If Redis is unreachable at start-up the web process falls back to
diskcache, logs a warning and job pages say so (`backend_note`).

Modules: board.py (JobBoard, run_job and friends), store.py (the board's storage: DiskStore, RedisStore),
backend.py (mode, Dash manager, job_board(settings)).
"""

from app.jobs.backend import (
    KEY_PREFIX,
    LEASE_SECONDS,
    JobBackend,
    backend_note,
    background_manager,
    celery_manager_class,
    job_backend,
    job_board,
    job_cache_dir,
    make_celery,
    queue_unreachable,
    wait_for_redis,
)
from app.jobs.board import (
    HOST,
    JOB_LOST,
    SESSION_RE,
    JobBoard,
    JobCancelled,
    JobHandle,
    JobProgress,
    JobRejected,
    JobStatus,
    check_session,
    queue_message,
    run_job,
)
from app.jobs.store import BoardStore, DiskStore, RedisStore, StoreBusy, redis_client, safe_url

__all__ = [
    "HOST", "JOB_LOST", "KEY_PREFIX", "LEASE_SECONDS", "SESSION_RE", "BoardStore", "DiskStore", "JobBackend",
    "JobBoard", "JobCancelled", "JobHandle", "JobProgress", "JobRejected", "JobStatus", "RedisStore",
    "StoreBusy", "backend_note", "background_manager", "celery_manager_class", "check_session", "job_backend",
    "job_board", "job_cache_dir", "make_celery", "queue_message", "queue_unreachable", "redis_client",
    "run_job", "safe_url", "wait_for_redis",
]
