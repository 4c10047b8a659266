"""The Celery + Redis scale-out (REDIS_URL) end to end: a private redis-server, two real Celery workers (two
"hosts" sharing one board in Redis) and gunicorn with 2 workers, driven through real HTTP like the browser:
progress and the result arrive, the bound holds across workers, two sessions with identical inputs get two
jobs, Cancel (Dash's revoke and the board's flag) stops a job and frees its slot, a worker process that dies
mid-job ends as "failed" in the page and frees its slot; an unreachable Redis at start-up falls back to
diskcache and says so. Plus unit tests of the manager's lost-job rules."""

from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import redis
import yaml

from app import create_app, jobs
from app.jobs import JOB_LOST, JobBoard, RedisStore
from app.settings import Settings
from tests.app.jobs_http import (
    ROOT,
    free_port,
    gunicorn,
    handle_query,
    overlap,
    post,
    result,
    start,
    stop,
    wait_for_progress,
)

pytestmark = pytest.mark.slow
SESSION = "sess-celery-0000000"


@pytest.fixture(scope="module")
def celery_url(redis_url):
    """Database 1 of the test redis-server, emptied: the Celery tests' broker, results and board."""
    url = redis_url.rsplit("/", 1)[0] + "/1"
    redis.Redis.from_url(url).flushdb()
    return url


def _start_worker(name: str, url: str, folder: Path) -> tuple[subprocess.Popen, Path]:
    log = folder / f"{name}.log"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "REDIS_URL": url, "NEON_LIVE_DATA": "0", "NEON_MAX_JOBS": "2",
           "NEON_JOB_CACHE_DIR": str(folder / f"{name}-jobs"), "NEON_RUNS_DIR": str(folder / "runs")}
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "tests.app.tiny_celery_worker", "worker", "--pool=prefork",
             "--concurrency=2", "--loglevel=info", "-n", f"{name}@%h", "--without-mingle", "--without-gossip"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    return proc, log


@pytest.fixture(scope="module")
def folder(request):
    """Logs and job directories of this module's servers, kept when a test failed ($TMPDIR/neon-celery-test-*).
    Not under pytest's tmp_path: another pytest session on the machine may prune that while they run."""
    path = Path(tempfile.mkdtemp(prefix="neon-celery-test-"))
    failed_before = request.session.testsfailed
    yield path
    if request.session.testsfailed == failed_before:
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="module")
def workers(celery_url, folder):
    """Two Celery workers, 2 pool processes each: 4 processes that may take jobs, NEON_MAX_JOBS=2."""
    started = [_start_worker(name, celery_url, folder) for name in ("w1", "w2")]
    deadline = time.time() + 120
    for proc, log in started:
        while " ready." not in log.read_text(errors="replace"):
            if time.time() > deadline or proc.poll() is not None:
                for p, _ in started:
                    stop(p, group=True)
                pytest.fail(f"the Celery worker did not start: {log.read_text(errors='replace')[-3000:]}")
            time.sleep(0.3)
    yield folder
    for proc, _log in started:
        stop(proc, group=True)


@pytest.fixture(scope="module")
def web(celery_url, workers, folder):
    env = {"REDIS_URL": celery_url, "NEON_LIVE_DATA": "0", "NEON_MAX_JOBS": "2",
           "NEON_JOB_CACHE_DIR": str(folder / "web-jobs"), "NEON_RUNS_DIR": str(folder / "runs")}
    with gunicorn(env, folder / "gunicorn.log") as base:
        yield base


@pytest.fixture(scope="module")
def board(celery_url):
    """The board the web processes and workers share, read from here."""
    return JobBoard(store=RedisStore(celery_url, prefix=f"{jobs.KEY_PREFIX}board:"), max_jobs=2)


def _forecast(payload: dict) -> dict:
    return payload["response"]["fc-result"]["data"]


def _alert(payload: dict) -> str:
    return str(payload["response"]["fc-alert"]["children"]["props"]["children"])


def _wait(predicate, timeout: float = 15, what: str = "") -> None:
    deadline = time.time() + timeout
    while not predicate():
        if time.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


def test_progress_and_the_result_arrive_from_a_celery_worker(web, board, celery_url, workers):
    progress: list[dict] = []
    handles = start(web, SESSION, seed=1)
    payload = result(web, SESSION, 1, handles, progress=progress)
    data = _forecast(payload)
    assert data["forecast"]["ticker"] == "AAPL" and len(data["forecast"]["dates"]) == 10
    lines = [p["fc-status.children"] for p in progress]
    # Polls sample the progress (every ~0.4 s): on a fast worker the epoch lines can fall between two polls,
    # so require progress before the end, and the end itself.
    assert len(lines) >= 2 and lines[-1].startswith("Done in")
    assert [p["fc-progress.value"] for p in progress][-1] == 100
    # it ran on a Celery worker (not in a web process), and the board in Redis has it in the book
    job = handles["job"].split("~")[0]
    assert any(job in log.read_text() for log in workers.glob("w*.log"))
    status = board.status(SESSION, "forecast")
    assert status.state == "done" and status.token == data["token"] and board.running() == 0
    # nothing of the job is left in Redis but its small records: the result was handed out and cleared
    key = handles["cacheKey"].split("~")[0]
    assert redis.Redis.from_url(celery_url).get(key) is None


def _train(web, session: str, steps: int) -> tuple[dict, dict]:
    """Click Train for two personalities (two spawned trainer processes): (request body, job handles)."""
    from tests.app.test_train_jobs_http import train_body

    body = train_body(session, seed=0)
    values = {"tr-personalities": ["momentum", "conservative"], "tr-steps": steps}
    body["state"] = [{**s, "value": values.get(s["id"], s["value"])} for s in body["state"]]
    status, handles = post(web, body)
    assert status == 200 and "cacheKey" in handles, (status, handles)
    return body, handles


def _trainers() -> set[int]:
    """Spawned trainer processes (core.training) below this module's Celery workers."""
    import psutil

    found = set()
    for p in psutil.process_iter(["pid", "cmdline"]):
        cmd = " ".join(p.info["cmdline"] or [])
        if "spawn_main" not in cmd:
            continue
        try:
            parents = [" ".join(a.cmdline()) for a in p.parents()]
        except psutil.Error:
            continue
        if any("tests.app.tiny_celery_worker" in c for c in parents):
            found.add(p.info["pid"])
    return found


def test_training_runs_on_a_prefork_worker_and_the_run_is_listed_for_its_session(web, board, workers):
    # a prefork pool child is daemonic; the job spawns two trainer processes (app.worker._allow_children)
    from core.runs import list_runs

    session = "sess-celery-train-0001"
    body, handles = _train(web, session, 128)
    deadline, response = time.time() + 180, None
    while time.time() < deadline and response is None:
        status, payload = post(web, body, handle_query(handles))
        assert status in (200, 204), status
        response = (payload or {}).get("response")
        time.sleep(0.5)
    assert response and "tr-result" in response, response
    run = response["tr-result"]["data"]["run"]
    assert sorted(run["personalities"]) == ["conservative", "momentum"]
    job = handles["job"].split("~")[0]
    assert any(job in log.read_text() for log in workers.glob("w*.log"))  # it ran on a Celery worker
    assert [r.run_id for r in list_runs(workers / "runs", session)] == [run["run_id"]]
    assert board.status(session, "train").state == "done" and board.running() == 0


def test_cancelling_a_training_on_celery_stops_its_trainers_and_keeps_no_run(web, board, workers):
    from core.runs import list_runs

    session = "sess-celery-train-0002"
    before = _trainers()
    body, handles = _train(web, session, 150_000)
    _wait(lambda: len(_trainers() - before) >= 2, timeout=60, what="two trainer processes")
    cancel = {"output": "tr-cancel.id", "outputs": {"id": "tr-cancel", "property": "id"},
              "inputs": [{"id": "tr-cancel", "property": "n_clicks", "value": 1}],
              "changedPropIds": ["tr-cancel.n_clicks"], "state": []}
    status, _payload = post(web, cancel, "?" + urllib.parse.urlencode({"cancelJob": handles["job"]}))
    assert status in (200, 204)
    _wait(lambda: board.running() == 0, timeout=30, what="the slot to free")
    _wait(lambda: not (_trainers() - before), timeout=30, what="the trainers to stop")
    assert board.status(session, "train").state in ("cancelled", "failed")
    assert list_runs(workers / "runs", session) == []


def test_the_bound_holds_across_two_workers(web, board):
    sessions = [f"sess-cbound-{i:07d}" for i in range(6)]
    with ThreadPoolExecutor(6) as pool:
        handles = list(pool.map(lambda i: start(web, sessions[i], seed=200 + i), range(6)))
        progress: list[list] = [[] for _ in range(6)]
        payloads = list(pool.map(lambda i: result(web, sessions[i], 200 + i, handles[i], progress=progress[i]),
                                 range(6)))
    tokens = {_forecast(p)["token"] for p in payloads}
    assert len(tokens) == 6
    history = [e for e in board.history() if e[0] in tokens]
    assert len([e for e in history if e[2] == "start"]) == 6
    assert overlap(history) == 2  # four pool processes took jobs; never more than NEON_MAX_JOBS ran
    assert any("Queued" in p["fc-status.children"] for ps in progress for p in ps)  # and waiters were told
    assert board.running() == 0 and board.waiting() == 0


def test_two_sessions_with_identical_inputs_get_their_own_jobs(web):
    a, b = "sess-csame-aaaaaaa", "sess-csame-bbbbbbb"
    handles_a, handles_b = start(web, a, seed=7), start(web, b, seed=7)
    assert handles_a["cacheKey"].split("~")[0] != handles_b["cacheKey"].split("~")[0]
    assert handles_a["job"].split("~")[0] != handles_b["job"].split("~")[0]
    data_a, data_b = _forecast(result(web, a, 7, handles_a)), _forecast(result(web, b, 7, handles_b))
    assert data_a["token"] != data_b["token"] and data_a["forecast"]["forecast"] == data_b["forecast"]["forecast"]


def _long_job(web, session: str, seed: int) -> dict:
    handles = start(web, session, seed, effort="thorough")
    wait_for_progress(web, session, seed, handles, "thorough", "epoch")
    return handles


def test_dash_cancel_revokes_the_task_and_frees_its_slot(web, board):
    handles = _long_job(web, "sess-ccancel-000001", 31)
    assert board.running() == 1 and board.status("sess-ccancel-000001", "forecast").state == "running"
    # what the renderer sends for a click on Cancel: Dash's cancel callback with the signed job handle
    cancel = {"output": "fc-cancel.id", "outputs": {"id": "fc-cancel", "property": "id"},
              "inputs": [{"id": "fc-cancel", "property": "n_clicks", "value": 1}],
              "changedPropIds": ["fc-cancel.n_clicks"], "state": []}
    status, _payload = post(web, cancel, "?" + urllib.parse.urlencode({"cancelJob": handles["job"]}))
    assert status in (200, 204)
    _wait(lambda: board.running() == 0, what="the slot to free")
    assert board.status("sess-ccancel-000001", "forecast").state == "cancelled"


def _page_cancel_body(base: str, session: str) -> dict:
    """The request the renderer sends for the forecast page's own Cancel callback (its outputs carry
    allow_duplicate hashes, so they are read from the app's dependency list)."""
    with urllib.request.urlopen(f"{base}/_dash-dependencies", timeout=10) as response:
        deps = json.loads(response.read())
    output = next(d["output"] for d in deps if [i["id"] for i in d["inputs"]] == ["fc-cancel"]
                  and "fc-status.children" in d["output"])
    outputs = [dict(zip(("id", "property"), o.split(".", 1), strict=True)) for o in output.strip(".").split("...")]
    return {"output": output, "outputs": outputs if len(outputs) > 1 else outputs[0],
            "inputs": [{"id": "fc-cancel", "property": "n_clicks", "value": 1}],
            "changedPropIds": ["fc-cancel.n_clicks"],
            "state": [{"id": "session-id", "property": "data", "value": session}]}


def test_the_boards_cancel_flag_stops_a_job_the_page_reattached_to(web, board):
    session = "sess-cflag-0000001"
    handles = _long_job(web, session, 32)
    # the page's own Cancel callback (used after navigating away and back) sets the board's flag
    status, payload = post(web, _page_cancel_body(web, session))
    assert status == 200 and payload["response"]["fc-status"]["children"] == "Cancelling..."
    ended = result(web, session, 32, handles, effort="thorough", timeout=30)
    assert "Cancelled: nothing was kept." in _alert(ended) and "fc-result" not in ended["response"]
    assert board.running() == 0 and board.status(session, "forecast").state == "cancelled"


def test_a_worker_that_dies_mid_job_fails_in_the_page_and_frees_its_slot(web, board, celery_url, workers):
    session = "sess-cdies-0000001"
    handles = _long_job(web, session, 33)
    token = board.status(session, "forecast").token
    pid = board.store.get("leases")[token]["pid"]  # the pool process running the job
    os.kill(pid, signal.SIGKILL)
    ended = result(web, session, 33, handles, effort="thorough", timeout=30)
    assert _alert(ended) == JOB_LOST and ended["sideUpdate"]["fc-status"]["children"] == JOB_LOST
    assert "fc-result" not in ended["response"]
    assert board.running() == 0
    status = board.status(session, "forecast")
    assert status.state == "failed" and "worker went away" in status.message
    # nothing half-written stays: no Dash result for the job, no temporary forecast files on the workers
    assert redis.Redis.from_url(celery_url).get(handles["cacheKey"].split("~")[0]) is None
    assert not list(workers.glob("w*-jobs/forecasts/.tmp-*"))
    # and the worker replaced its pool process: the next job runs
    assert _forecast(result(web, session, 34, start(web, session, seed=34)))["forecast"]["ticker"] == "AAPL"


# -- without workers: the manager's rules, start-up without Redis, the compose file -----------------------------


def test_the_manager_tells_a_lost_job_from_a_finished_queued_or_running_one(celery_url):
    manager = jobs.celery_manager_class()(jobs.make_celery(celery_url), jobs.redis_client(celery_url))
    backend, client = manager.handle.backend, manager.client
    gone = subprocess.Popen(["true"])
    gone.wait()  # a pid that no longer runs

    def job(state: str | None = None, marker: str | None = None, alive: bool = False, host: str = jobs.HOST,
            pid: int = os.getpid()) -> str:
        task = uuid.uuid4().hex
        if state:
            backend.store_result(task, None, state)
        if marker:
            client.set(f"{jobs.KEY_PREFIX}task:{task}", json.dumps({"state": marker, "host": host, "pid": pid}))
        if alive:
            client.set(f"{jobs.KEY_PREFIX}task:{task}:alive", b"1")
        return task

    assert not manager.job_lost(job())  # still queued in the broker
    assert not manager.job_lost(job(marker="running", alive=True))  # running, its worker says alive
    assert manager.job_lost(job(marker="running", host="elsewhere", pid=1))  # its host stopped saying alive
    assert manager.job_lost(job(marker="running", alive=True, pid=gone.pid))  # its process here was killed
    assert manager.job_lost(job("FAILURE"))  # e.g. WorkerLostError
    assert not manager.job_lost(job("REVOKED", "running", alive=True))  # a Cancel's SIGTERM, finishing
    assert not manager.job_lost(job("REVOKED", "ended"))
    assert not manager.job_lost(job("SUCCESS", "ended"))
    lost = job(marker="running", host="elsewhere", pid=1)
    assert manager.get_result("no-such-key", lost) == {"background_callback_error": {"msg": JOB_LOST, "tb": ""}}
    assert not manager.job_running(lost)
    assert manager.get_result("no-such-key", job(marker="running", alive=True)) is manager.UNDEFINED


def test_unreachable_redis_at_start_up_falls_back_to_diskcache_and_says_so(tmp_path, caplog):
    from dash import DiskcacheManager

    from layouts import forecast

    url = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    settings = Settings(live_data=False, job_cache_dir=tmp_path / "jobs", redis_url=url)
    with caplog.at_level(logging.WARNING, logger="neon.jobs"):
        app = create_app(settings)
    assert any(f"Redis at {url} is unreachable" in r.getMessage() and "diskcache" in r.getMessage()
               for r in caplog.records)
    assert isinstance(app._background_manager, DiskcacheManager)
    assert jobs.job_board(settings).store.describe().startswith("diskcache")
    with app.server.test_request_context("/forecast"):
        page = str(forecast.layout())
    assert f"Redis at {url} is unreachable: jobs run on this server (diskcache)." in page
    assert app.server.test_client().get("/forecast").status_code == 200
    # without REDIS_URL there is no note at all
    plain = create_app(Settings(live_data=False, job_cache_dir=tmp_path / "jobs2"))
    with plain.server.test_request_context("/forecast"):
        assert "unreachable" not in str(forecast.layout())


def test_a_worker_without_redis_url_refuses_to_start_with_one_line():
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    proc = subprocess.run([sys.executable, "-m", "celery", "-A", "app.worker", "worker"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode != 0
    assert proc.stderr.strip().splitlines()[-1].startswith("app.worker: REDIS_URL is not set")


def test_compose_scale_profile_runs_redis_and_a_worker_of_the_makefiles_module():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert services["redis"]["image"].startswith("redis:7") and services["redis"]["profiles"] == ["scale"]
    worker = services["worker"]
    assert worker["profiles"] == ["scale"] and worker["build"] == services["web"]["build"]
    command = worker["command"] if isinstance(worker["command"], str) else " ".join(worker["command"])
    makefile = (ROOT / "Makefile").read_text()
    module = command.split("-A", 1)[1].split()[0]
    assert module == "app.worker" and f"celery -A {module} worker" in makefile
    assert "REDIS_URL" in str(worker["environment"]) and "redis" in str(worker.get("depends_on"))
    assert "ports" not in services["redis"] and "ports" not in worker  # Redis is never published
    assert services["nginx"]["ports"] == ["8080:80"]
    assert "redis://redis:6379" in str(worker["environment"])
    assert worker["healthcheck"] == {"disable": True}  # the image's HEALTHCHECK asks the web server
    # web keeps working without the profile: its REDIS_URL comes from the environment, empty by default
    assert "${REDIS_URL:-}" in str(services["web"]["environment"])
