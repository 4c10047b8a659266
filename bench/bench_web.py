"""The app under concurrent users: gunicorn (as `make run` starts it) hit by many clients at once.

Each simulated user alternates a page load (GET /market) and the market page's real callback (POST
/_dash-update-component, switching between the bundled tickers: full-history figures), plus the arena's
battle callback. Prints throughput, latency percentiles and errors, and whether any worker timed out.
`python -m bench.bench_web [--users 16] [--seconds 15]`. Not a test: figures only.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TICKERS = ("AAPL", "TSLA", "BTC-USD")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def callback_payload(app, output_fragment: str, values: dict[str, object], changed: str) -> dict:
    """The JSON body the browser sends for the callback whose output key contains `output_fragment`."""
    key = next(k for k in app.callback_map if output_fragment in k)
    spec = app.callback_map[key]

    def fill(items):
        return [{"id": i["id"], "property": i["property"], "value": values.get(f"{i['id']}.{i['property']}")}
                for i in items]

    outputs = [{"id": part.split(".")[0], "property": part.split(".")[1]}
               for part in key.strip(".").split("...")]
    return {"output": key, "outputs": outputs, "inputs": fill(spec["inputs"]), "state": fill(spec["state"]),
            "changedPropIds": [changed]}


def _post(url: str, body: dict, timeout: float = 60) -> tuple[int, int]:
    data = json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return r.status, len(r.read())


def _get(url: str, timeout: float = 30) -> tuple[int, int]:
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.status, len(r.read())


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=15.0)
    args, _unknown = parser.parse_known_args(argv if argv is not None else sys.argv[1:])

    from app import create_app
    from app.settings import Settings

    app = create_app(Settings(live_data=False, job_cache_dir=Path(tempfile.mkdtemp())))
    market = [callback_payload(app, "mkt-chart.figure", {"mkt-ticker.value": t}, "mkt-ticker.value")
              for t in TICKERS]
    arena = [callback_payload(app, "arn-candles.figure", {
        "arn-ticker.value": t, "arn-window.value": "out-of-sample", "arn-commission.value": 10,
        "arn-slippage.value": 5, "arn-shared.value": False}, "arn-ticker.value") for t in TICKERS]

    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    log = tempfile.NamedTemporaryFile(prefix="neon-web-bench-", suffix=".log", delete=False)
    env = {**os.environ, "PORT": str(port), "NEON_LIVE_DATA": "0", "WEB_CONCURRENCY": "2",
           "NEON_JOB_CACHE_DIR": tempfile.mkdtemp(prefix="neon-web-")}
    proc = subprocess.Popen([str(Path(sys.executable).parent / "gunicorn"), "--no-control-socket", "-c",
                             "deploy/gunicorn.conf.py", "wsgi:server"], cwd=ROOT, env=env, stdout=log, stderr=log)
    try:
        deadline = time.time() + 60
        while True:
            try:
                _get(f"{base}/healthz", timeout=1)
                break
            except OSError:
                if time.time() > deadline:
                    raise RuntimeError("gunicorn did not start") from None
                time.sleep(0.2)
        for body in market + arena:  # warm every worker's caches a little, as real traffic would
            _post(f"{base}/_dash-update-component", body)

        results: dict[str, list[float]] = {"page": [], "market": [], "arena": []}
        errors: list[str] = []
        lock = threading.Lock()
        stop = time.time() + args.seconds

        def user(n: int) -> None:
            i = n
            while time.time() < stop:
                calls = (("page", f"{base}/market", None), ("market", f"{base}/_dash-update-component", market[i % 3]),
                         ("arena", f"{base}/_dash-update-component", arena[i % 3]))
                for kind, url, body in calls:
                    t = time.perf_counter()
                    try:
                        status, _size = _get(url) if body is None else _post(url, body)
                        ok = status == 200
                    except Exception as exc:  # noqa: BLE001 - counted and reported
                        ok, status = False, repr(exc)[:80]
                    with lock:
                        (results[kind].append(time.perf_counter() - t) if ok else errors.append(f"{kind}: {status}"))
                i += 1

        threads = [threading.Thread(target=user, args=(n,)) for n in range(args.users)]
        start = time.perf_counter()
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        elapsed = time.perf_counter() - start
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    total = sum(len(v) for v in results.values())
    print(f"gunicorn: 2 gthread workers x 4 threads; {args.users} concurrent users for {elapsed:.1f} s")
    print(f"requests ok: {total:,}  ({total / elapsed:,.1f} req/s)   errors: {len(errors)}")
    for kind, lat in results.items():
        if lat:
            ordered = sorted(lat)
            p95 = ordered[int(0.95 * (len(ordered) - 1))]
            p99 = ordered[int(0.99 * (len(ordered) - 1))]
            print(f"  {kind:6s}: {len(lat):5d} ok  p50 {statistics.median(lat) * 1e3:7.1f} ms  "
                  f"p95 {p95 * 1e3:7.1f} ms  p99 {p99 * 1e3:7.1f} ms")
    text = Path(log.name).read_text(errors="replace")
    server_errors = sum(1 for line in text.splitlines() if '" 50' in line and "HTTP/1.1" in line)
    print(f"worker timeouts in the gunicorn log: {text.count('WORKER TIMEOUT')}; HTTP 5xx in the access log: "
          f"{server_errors}")
    for e in errors[:5]:
        print("  error:", e)


if __name__ == "__main__":
    main()
