"""Page latency while two training jobs run on Celery (issue #10; prints figures, not a test).

    python -m bench.bench_train_load [--timesteps 150000] [--requests 200] [--clients 4] [--pool prefork]

The scale-out deployment on this machine: a private redis-server, ONE Celery worker of the app (`celery -A
app.worker worker --concurrency=$NEON_WORKER_CONCURRENCY`, default 2, as `make worker`) and gunicorn with 2
workers (deploy/gunicorn.conf.py, wsgi:server), offline data, private job / runs / data-cache folders.
--pool picks the Celery pool: prefork (`make worker`'s; app.worker lets its pool processes start the
trainers, celery/celery#1709) or threads (jobs in threads of the worker's main process).

1. idle: the market page's figure callback (the body the renderer sends when the ticker changes, built from
   /_dash-dependencies), --requests requests from --clients concurrent clients: p50/p95/p99;
2. two sessions click Train (bundled AAPL, four personalities, --timesteps each) and poll like the page (every
   0.5 s); once both jobs report PPO steps from the Celery worker, the same measurement again. The default is
   the page's largest budget: at 50k the two jobs trained for only ~15 s here, less than the measurement takes;
3. both jobs polled to the end (cancelled if they outlast --finish-timeout), then idle once more: how much the
   shared machine drifted between the two idle measurements.
Target: market callback p95 while training within 2x of idle. Also printed: the jobs' wall times and the RSS of
each gunicorn worker and of the Celery worker's process tree (sampled every second).
`python -m bench` skips this one (minutes of training on 2 cores): run it by name.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bench.bench_web import TICKERS, _post
from core import PERSONALITIES
from tests.app.jobs_http import ROOT, free_port, handle_query, post, stop

MB = 1024 * 1024
STEPS_RE = re.compile(r"([\d,]+) (?:/ [\d,]+ )?steps")  # "1,024 / 50,000 steps ·" or "done · 50,000 steps"


# -- processes ---------------------------------------------------------------------------------------------


def _wait(ready, proc: subprocess.Popen, log: Path, what: str, timeout: float = 120) -> None:
    deadline = time.time() + timeout
    while not ready():
        if time.time() > deadline or proc.poll() is not None:
            raise RuntimeError(f"{what} did not start: {log.read_text(errors='replace')[-2000:]}")
        time.sleep(0.3)


def _spawn(started: list, cmd: list[str], env: dict, log: Path) -> subprocess.Popen:
    # A session of its own: stopping it (killpg) also stops whatever it started (pool processes, trainers).
    with open(log, "wb") as out:  # a file, not a pipe: an unread pipe fills and blocks the process
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
    started.append(proc)
    return proc


def start_stack(work: Path, started: list, pool: str) -> tuple[str, subprocess.Popen, subprocess.Popen, int]:
    """redis-server, one Celery worker, gunicorn (2 workers); returns (base URL, gunicorn, celery, concurrency)."""
    exe = shutil.which("redis-server")
    if exe is None:
        raise RuntimeError("redis-server is required (Debian's package: `make redis-deps`)")
    redis_port = free_port()
    url = f"redis://127.0.0.1:{redis_port}/0"
    redis = _spawn(started, [exe, "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "", "--appendonly",
                             "no", "--dir", str(work)], dict(os.environ), work / "redis.log")
    _wait(lambda: "Ready to accept connections" in (work / "redis.log").read_text(errors="replace"), redis,
          work / "redis.log", "redis-server", 20)

    env = {**os.environ, "PYTHONPATH": str(ROOT), "REDIS_URL": url, "NEON_LIVE_DATA": "0", "NEON_MAX_JOBS": "2",
           "NEON_JOB_CACHE_DIR": str(work / "jobs"), "NEON_RUNS_DIR": str(work / "runs"),
           "NEON_DATA_CACHE_DIR": str(work / "data-cache")}
    concurrency = int(os.environ.get("NEON_WORKER_CONCURRENCY", "2"))  # the Makefile's default
    celery = _spawn(started, [sys.executable, "-m", "celery", "-A", "app.worker", "worker", "--loglevel=info",
                              f"--concurrency={concurrency}", f"--pool={pool}"], env, work / "celery.log")
    _wait(lambda: " ready." in (work / "celery.log").read_text(errors="replace"), celery, work / "celery.log",
          "the Celery worker")

    port = free_port()
    # The production config as is (gthread, its default 4 threads per worker), only 2 workers and a free port.
    gunicorn = _spawn(started, [sys.executable, "-m", "gunicorn", "--no-control-socket", "-c",
                                str(ROOT / "deploy/gunicorn.conf.py"), "--workers", "2", "--bind",
                                f"127.0.0.1:{port}", "--log-level", "warning", "wsgi:server"],
                      env, work / "gunicorn.log")
    base = f"http://127.0.0.1:{port}"

    def answers() -> bool:
        try:
            urllib.request.urlopen(f"{base}/healthz", timeout=2)
        except urllib.error.HTTPError:
            return True  # it answers; the Redis check below says what is wrong
        except OSError:
            return False
        return True

    _wait(answers, gunicorn, work / "gunicorn.log", "gunicorn")
    try:
        health = json.loads(urllib.request.urlopen(f"{base}/healthz", timeout=5).read())
    except urllib.error.HTTPError as err:
        health = json.loads(err.read() or b"{}")
    if health.get("checks", {}).get("redis") != "ok":
        raise RuntimeError(f"/healthz does not say Redis is ok: {health}")
    return base, gunicorn, celery, concurrency


# -- requests the renderer sends ----------------------------------------------------------------------------


def dash_body(deps: list[dict], output: str, values: dict, changed: str) -> dict:
    """The body of the callback whose output string contains `output`, inputs and states filled from `values`
    ("id.property" -> value), as the renderer sends it when `changed` changed."""
    spec = next(d for d in deps if output in d["output"])
    outputs = [dict(zip(("id", "property"), o.split(".", 1), strict=True))
               for o in spec["output"].strip(".").split("...")]

    def fill(items):
        return [{**i, "value": values.get(f"{i['id']}.{i['property']}")} for i in items]

    return {"output": spec["output"], "outputs": outputs if len(outputs) > 1 else outputs[0],
            "inputs": fill(spec["inputs"]), "state": fill(spec["state"]), "changedPropIds": [changed]}


def market_bodies(deps: list[dict]) -> list[dict]:
    # A fresh session switching tickers (full-history data, the default 2-year window), as bench_web does.
    return [dash_body(deps, "mkt-chart.figure", {"mkt-ticker.value": t, "mkt-span.value": "2y",
                                                 "mkt-log.value": False}, "mkt-ticker.value") for t in TICKERS]


def train_body(deps: list[dict], session: str, steps: int, seed: int) -> dict:
    values = {"tr-run.n_clicks": 1, "session-id.data": session, "tr-source.value": "bundled",
              "tr-ticker.value": "AAPL", "tr-custom-ticker.value": "", "tr-steps.value": steps,
              "tr-seed.value": seed, "tr-personalities.value": list(PERSONALITIES)}
    # The Train callback itself, not the page's poll that also writes tr-result (its output string has hashes).
    return dash_body(deps, "..tr-result.data...tr-alert.children..", values, "tr-run.n_clicks")


# -- measurements -------------------------------------------------------------------------------------------


def latencies(base: str, bodies: list[dict], requests: int, clients: int) -> tuple[list[float], int]:
    """Seconds per market callback (request sent -> whole figure read), and the count of failed requests."""
    def one(i: int) -> float | None:
        start = time.perf_counter()
        try:
            status, _size = _post(f"{base}/_dash-update-component", bodies[i % len(bodies)])
        except OSError:
            return None
        return time.perf_counter() - start if status == 200 else None

    with ThreadPoolExecutor(clients) as pool:
        done = list(pool.map(one, range(requests)))
    ok = [s for s in done if s is not None]
    return ok, len(done) - len(ok)


def percentile(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


class TrainJob(threading.Thread):
    """One session's Train click, then the page's polling every 0.5 s until the response arrives."""

    def __init__(self, base: str, deps: list[dict], name: str, steps: int, seed: int) -> None:
        super().__init__(daemon=True, name=f"job-{name}")
        self.base, self.name_ = base, name
        self.session = f"bench-load-{name}-{uuid.uuid4().hex[:12]}"
        self.body = train_body(deps, self.session, steps, seed)
        self.handles: dict = {}
        self.steps: dict[str, int] = {}  # personality -> PPO steps last reported
        self.clicked = self.first_steps = self.ended = None
        self.response: dict | None = None
        self.poll_errors: list[str] = []
        self.started_handles = threading.Event()

    def run(self) -> None:
        self.clicked = time.perf_counter()
        status, self.handles = post(self.base, self.body)
        self.started_handles.set()
        if status != 200 or "job" not in (self.handles or {}):
            self.poll_errors.append(f"Train click answered {status}: {self.handles}")
            return
        while self.response is None:
            time.sleep(0.5)  # the callback's interval=500
            try:
                status, payload = post(self.base, self.body, handle_query(self.handles))
            except OSError as exc:
                self.poll_errors.append(repr(exc)[:100])
                continue
            if status not in (200, 204):
                self.poll_errors.append(f"HTTP {status}")
            for key, value in ((payload or {}).get("progress") or {}).items():
                found = STEPS_RE.search(str(value)) if key.startswith("tr-detail-") else None
                if found:
                    self.steps[key.split(".")[0].removeprefix("tr-detail-")] = int(found[1].replace(",", ""))
            if self.first_steps is None and any(self.steps.values()):
                self.first_steps = time.perf_counter()
            if payload and "response" in payload:
                self.ended, self.response = time.perf_counter(), payload["response"]

    @property
    def job_id(self) -> str:
        return str(self.handles.get("job", "")).split("~")[0]

    def outcome(self) -> str:
        if self.response is None:
            return "no response"
        if "tr-result" in self.response:
            return "done"
        return "ended: " + re.sub(r"\s+", " ", json.dumps(self.response.get("tr-alert"))[:160])

    def cancel(self, deps: list[dict]) -> None:
        """What a click on Cancel sends: Dash's cancel callback (revokes the task) and the page's (board flag)."""
        dash_cancel = {"output": "tr-cancel.id", "outputs": {"id": "tr-cancel", "property": "id"},
                       "inputs": [{"id": "tr-cancel", "property": "n_clicks", "value": 1}],
                       "changedPropIds": ["tr-cancel.n_clicks"], "state": []}
        post(self.base, dash_cancel, "?" + urllib.parse.urlencode({"cancelJob": self.handles["job"]}))
        spec = next(d for d in deps if [i["id"] for i in d["inputs"]] == ["tr-cancel"] and "tr-status" in d["output"])
        post(self.base, dash_body(deps, spec["output"], {"tr-cancel.n_clicks": 1, "session-id.data": self.session},
                                  "tr-cancel.n_clicks"))


class Memory(threading.Thread):
    """Peak RSS per phase, every second: each gunicorn worker, and the Celery worker's whole process tree
    (main process, pool processes and the trainers they spawn; summed RSS counts shared pages once per process)."""

    def __init__(self, gunicorn_pid: int, celery_pid: int) -> None:
        super().__init__(daemon=True, name="memory")
        import psutil

        self.gunicorn, self.celery = psutil.Process(gunicorn_pid), psutil.Process(celery_pid)
        self.phase, self.peaks = "idle", {}
        self.halt = threading.Event()

    def _peak(self, key: str, value: float) -> None:
        self.peaks[(self.phase, key)] = max(self.peaks.get((self.phase, key), 0.0), value)

    def run(self) -> None:
        import psutil

        while True:
            try:
                workers, tree = self.gunicorn.children(), [self.celery, *self.celery.children(recursive=True)]
            except psutil.Error:
                workers, tree = [], []
            total = 0.0
            for proc in workers + tree:
                try:
                    rss = proc.memory_info().rss
                except psutil.Error:
                    continue
                if proc in workers:
                    self._peak(f"gunicorn worker pid {proc.pid}", rss)
                else:
                    total += rss
                    self._peak("celery largest process", rss)
            self._peak("celery tree", total)
            self._peak("celery processes", len(tree))
            if self.halt.wait(1.0):
                return


# -- the run ------------------------------------------------------------------------------------------------


def leftovers(started: list[subprocess.Popen]) -> list[str]:
    """Processes still in the process groups this bench started (each Popen leads its own), after giving them
    10 s to exit (a killed Celery worker's trainers and resource tracker go a moment after it); then killed."""
    import psutil

    groups = {p.pid for p in started}

    def members() -> list[psutil.Process]:
        found = []
        for proc in psutil.process_iter():
            try:
                if os.getpgid(proc.pid) in groups:
                    found.append(proc)
            except (ProcessLookupError, psutil.Error):
                continue
        return found

    deadline = time.time() + 10
    while (left := members()) and time.time() < deadline:
        time.sleep(0.5)
    for proc in left:
        try:
            proc.kill()
        except psutil.Error:
            pass
    return [str(p.pid) for p in left]


def main(argv: list[str] | None = None) -> None:
    from layouts.train import TIMESTEP_CHOICES

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timesteps", type=int, default=150_000, help=f"per personality, one of {TIMESTEP_CHOICES}")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--finish-timeout", type=float, default=900, help="seconds; then both jobs are cancelled")
    parser.add_argument("--pool", choices=("prefork", "threads"), default="prefork", help="the Celery pool")
    args = parser.parse_args(argv if argv is not None else [])
    if args.timesteps not in TIMESTEP_CHOICES:
        raise SystemExit(f"--timesteps must be one the page offers: {TIMESTEP_CHOICES}")

    in_main = threading.current_thread() is threading.main_thread()  # signal handlers only from there
    previous = signal.signal(signal.SIGTERM, lambda *_: sys.exit(143)) if in_main else None  # cleans up as Ctrl-C
    work = Path(tempfile.mkdtemp(prefix="bench-train-load-"))
    started: list[subprocess.Popen] = []
    ok = False
    try:
        t0 = time.perf_counter()
        base, gunicorn, celery, concurrency = start_stack(work, started, args.pool)
        print(f"stack up in {time.perf_counter() - t0:.1f} s: redis-server, 1 Celery worker ({args.pool} pool, "
              f"concurrency {concurrency}), gunicorn 2 workers; /healthz says Redis ok", flush=True)
        deps = json.loads(urllib.request.urlopen(f"{base}/_dash-dependencies", timeout=30).read())
        bodies = market_bodies(deps)
        latencies(base, bodies, 4 * args.clients * len(bodies), args.clients)  # warm both workers' caches
        memory = Memory(gunicorn.pid, celery.pid)
        memory.start()
        rows = {}

        def measure(phase: str) -> None:
            start = time.perf_counter()
            lat, errors = latencies(base, bodies, args.requests, args.clients)
            rows[phase] = (lat, errors, os.getloadavg()[0], time.perf_counter() - start)
            print(f"measured {phase}: {len(lat)} ok, {errors} errors", flush=True)

        measure("idle (before)")

        memory.phase = "training"
        jobs = [TrainJob(base, deps, name, args.timesteps, seed) for name, seed in (("a", 1), ("b", 2))]
        for job in jobs:
            job.start()
            job.started_handles.wait(60)
        deadline = time.time() + 600
        while not all(j.first_steps for j in jobs):  # both trainers past torch import and the first rollout
            if time.time() > deadline or any(j.response is not None or not j.is_alive() for j in jobs):
                print_latencies(args, rows)
                raise RuntimeError(f"the training jobs did not both report steps on the Celery worker ({args.pool} "
                                   f"pool): {[j.outcome() for j in jobs]}; its log's last error: "
                                   f"{last_error(work / 'celery.log')}")
            time.sleep(0.5)
        celery_log = (work / "celery.log").read_text(errors="replace")
        on_celery = all(j.job_id and j.job_id in celery_log for j in jobs)
        print(f"both jobs report steps ({', '.join(f'{j.name_}: {sum(j.steps.values()):,}' for j in jobs)}); "
              f"job ids in the Celery worker's log: {'yes' if on_celery else 'NO'}", flush=True)
        both_training = time.perf_counter()
        measure("two trainings running")
        overlapped = all(j.response is None for j in jobs)
        steps_at_end = {j.name_: sum(j.steps.values()) for j in jobs}

        for job in jobs:
            job.join(max(1.0, args.finish_timeout - (time.perf_counter() - job.clicked)))
        cancelled = [j for j in jobs if j.is_alive()]
        for job in cancelled:
            job.cancel(deps)
        for job in cancelled:
            job.join(60)
        memory.phase = "idle (after)"
        time.sleep(2)  # let the trainers' processes exit
        measure("idle (after the jobs)")
        memory.halt.set()
        memory.join()

        window = min(j.ended or time.perf_counter() for j in jobs) - both_training
        print(f"both jobs trained together for {window:.1f} s after both reported steps; the measurement took "
              f"{rows['two trainings running'][3]:.1f} s of it")
        report(args, rows, jobs, cancelled, memory, overlapped, steps_at_end, on_celery, concurrency, work)
        ok = True
    finally:
        for proc in reversed(started):  # gunicorn, then the Celery worker (and its trainers), then Redis
            stop(proc, group=True)
        left = leftovers(started)
        if left:
            print(f"still running 10 s after the stop, killed: pids {left}")
        if not ok:
            for name in ("celery.log", "gunicorn.log"):
                path = work / name
                if path.exists():  # without the access log's lines: they would bury the errors
                    lines = [x for x in path.read_text(errors="replace").splitlines() if '" 200 ' not in x]
                    print(f"--- tail of {name} ---\n" + "\n".join(lines[-30:]))
        shutil.rmtree(work, ignore_errors=True)
        if in_main:
            signal.signal(signal.SIGTERM, previous)


def last_error(log: Path) -> str:
    errors = re.findall(r"^\w*(?:Error|Exception)\b.*$", log.read_text(errors="replace"), re.MULTILINE)
    return errors[-1] if errors else "none"


def print_latencies(args, rows: dict) -> None:
    print(f"\nmarket figure callback, {args.requests} requests from {args.clients} clients "
          f"(gunicorn 2 gthread workers x 4 threads), ms:")
    print(f"  {'phase':24s} {'ok':>5s} {'errors':>6s} {'p50':>8s} {'p95':>8s} {'p99':>8s} {'took':>7s}  load avg 1 min")
    for phase, (lat, errors, load, took) in rows.items():
        p50, p95, p99 = (percentile(lat, q) * 1e3 for q in (50, 95, 99))
        print(f"  {phase:24s} {len(lat):5d} {errors:6d} {p50:8.1f} {p95:8.1f} {p99:8.1f} {took:6.1f}s  {load:.1f}")


def report(args, rows, jobs, cancelled, memory, overlapped, steps_at_end, on_celery, concurrency, work) -> None:
    print_latencies(args, rows)
    idle, loaded, after = (percentile(rows[p][0], 95) for p in ("idle (before)", "two trainings running",
                                                                 "idle (after the jobs)"))
    ratio = loaded / idle
    print(f"  p95 ratio, training / idle (before): {ratio:.2f}x  -> target <= 2x: {'OK' if ratio <= 2 else 'MISSED'}")
    print(f"  p95 ratio, training / idle (after) : {loaded / after:.2f}x  (idle after / before: {after / idle:.2f}x)")
    print(f"  both jobs still training when the measurement ended: {'yes' if overlapped else 'NO'} "
          f"(steps reported by then: {steps_at_end})")

    print(f"\ntraining jobs: bundled AAPL, {len(PERSONALITIES)} personalities x {args.timesteps:,} PPO steps, "
          f"2 trainer processes per job, on 1 Celery worker ({args.pool} pool, concurrency {concurrency}); ran on the "
          f"Celery worker (job ids in its log): {'yes' if on_celery else 'NO'}")
    print(f"  {'job':4s} {'click->steps':>12s} {'click->end':>11s} {'run wall time':>14s} {'PPO steps':>10s}  outcome")
    for job in jobs:
        run = ((job.response or {}).get("tr-result") or {}).get("data", {}).get("run", {})
        first = f"{job.first_steps - job.clicked:.1f} s"
        end = f"{job.ended - job.clicked:.1f} s" if job.ended else "-"
        wall = f"{run['wall_time_s']:.1f} s" if "wall_time_s" in run else "-"
        trained = f"{sum(a['timesteps'] for a in run['agents'].values()):,}" if run.get("agents") else "-"
        how = "cancelled after the measurement, " if job in cancelled else ""
        errors = f"; poll errors: {len(job.poll_errors)} {job.poll_errors[:2]}" if job.poll_errors else ""
        print(f"  {job.name_:4s} {first:>12s} {end:>11s} {wall:>14s} {trained:>10s}  {how}{job.outcome()}{errors}")

    print("\nRSS, MB (peak of 1 s samples; a tree's sum counts shared pages once per process):")
    print(f"  {'process':34s} {'idle':>8s} {'training':>9s} {'after':>8s}")
    keys = sorted({k for _phase, k in memory.peaks})
    for key in keys:
        cells = [memory.peaks.get((phase, key)) for phase in ("idle", "training", "idle (after)")]
        unit = 1 if key == "celery processes" else MB
        text = [f"{c / unit:,.0f}" if c is not None else "-" for c in cells]
        print(f"  {key:34s} {text[0]:>8s} {text[1]:>9s} {text[2]:>8s}")
    replaced = sum(k.startswith("gunicorn worker") for k in keys) - 2
    if replaced > 0:  # a fresh worker's first figures are slower: its p99 is not the machine's alone
        print(f"  {replaced} gunicorn workers were replaced during the run (the config's max_requests recycling)")
    lines = (work / "gunicorn.log").read_text(errors="replace").splitlines()
    server_errors = sum(1 for line in lines if '" 50' in line)  # the access log's status field
    print(f"\ngunicorn log: {sum('WORKER TIMEOUT' in line for line in lines)} worker timeouts, "
          f"{server_errors} HTTP 5xx")


if __name__ == "__main__":
    main(sys.argv[1:])
