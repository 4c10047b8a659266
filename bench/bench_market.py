"""Market page figures: app boot time, callback latency p50/p95 on the full AAPL history, figure size.

Targets (issue #2): boot < 5 s after install; market callback p95 < 150 ms with caching; figure JSON
for the full history < 1.5 MB. `python -m bench.bench_market [--serve]`; --serve also measures the
time from starting gunicorn (as `make run` does) to the first page served.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def boot_time() -> float:
    """Fresh interpreter: import the stack and build the app (what a gunicorn worker does)."""
    code = ("import time; t=time.perf_counter(); from app import create_app; from app.settings import Settings; "
            "create_app(Settings(live_data=False)); print(time.perf_counter()-t)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True,
                         env={**os.environ, "PYTHONPATH": str(ROOT)})
    return float(out.stdout.strip().splitlines()[-1])


def callback_latency(repeats: int = 40) -> dict:
    from plotly.io.json import to_json_plotly

    from app.settings import Settings
    from callbacks import market
    from layouts import ids

    settings = Settings(live_data=False)
    options = [{"label": t, "value": t} for t in ("AAPL", "TSLA", "BTC-USD")]
    cold_start = time.perf_counter()
    first = market.update_market(None, "AAPL", None, None, None, None, None, None, options, settings)
    cold = time.perf_counter() - cold_start
    samples = []
    for i in range(repeats):
        ticker = ("AAPL", "TSLA", "BTC-USD")[i % 3]
        t = time.perf_counter()
        result = market.update_market(ids.MKT_TICKER, ticker, None, None, None, None, None, None, options, settings)
        to_json_plotly(result[0])  # the response is serialised too, with the encoder Dash uses
        samples.append(time.perf_counter() - t)
    fig_bytes = len(to_json_plotly(first[0]))
    return {"cold_ms": cold * 1e3, "p50_ms": statistics.median(samples) * 1e3, "p95_ms": _pct(samples, 0.95) * 1e3,
            "figure_mb": fig_bytes / 1e6}


def serve_time(port: int = 8765) -> float:
    """Start gunicorn like `make run` and time until the first page answers 200."""
    env = {**os.environ, "PORT": str(port), "NEON_LIVE_DATA": "0",
           "NEON_JOB_CACHE_DIR": tempfile.mkdtemp(prefix="neon-bench-")}
    start = time.perf_counter()
    proc = subprocess.Popen([str(Path(sys.executable).parent / "gunicorn"), "--no-control-socket", "-c",
                             "deploy/gunicorn.conf.py", "wsgi:server"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while time.perf_counter() - start < 60:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/market", timeout=1) as r:
                    if r.status == 200:
                        return time.perf_counter() - start
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("gunicorn did not serve a page within 60 s")
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    boot = boot_time()
    print(f"app boot (fresh interpreter, imports + create_app): {boot:.2f} s   target < 5 s   "
          f"{'OK' if boot < 5 else 'MISSED'}")
    lat = callback_latency()
    print(f"market callback, full history: cold {lat['cold_ms']:.0f} ms; cached p50 {lat['p50_ms']:.1f} ms, "
          f"p95 {lat['p95_ms']:.1f} ms   target p95 < 150 ms   {'OK' if lat['p95_ms'] < 150 else 'MISSED'}")
    print(f"figure JSON, full AAPL history: {lat['figure_mb']:.2f} MB   target < 1.5 MB   "
          f"{'OK' if lat['figure_mb'] < 1.5 else 'MISSED'}")
    if "--serve" in argv or os.environ.get("BENCH_SERVE"):
        print(f"gunicorn start to first page served: {serve_time():.2f} s")


if __name__ == "__main__":
    main()
