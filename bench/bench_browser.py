"""First paint in a real browser: time to first chart per page, bytes on the wire, replay speed.

Starts the app under gunicorn (as `make run` does) and, in the same run, a minimal Dash page with one
Plotly graph (a 3,956-point line returned by one callback: the floor any Dash + Plotly page pays), then
loads every page in headless Chromium with a cold cache, several rounds interleaved, and prints medians:
- time to first chart: navigation start -> the page's first Plotly trace drawn (the journal: first grid
  row), recorded in the page by a MutationObserver installed before any script runs;
- compressed transfer per page load: the transferSize of the document and every resource and callback
  response (Resource Timing), i.e. what goes over the wire, gzip/brotli included;
- replay at its top speed: bars per second of wall time.
Targets (issue #8): /market and /arena within 1.5x the minimal page; < 2 MB per page load; replay
>= 30 bars/s. `python -m bench.bench_browser [--rounds 3]`. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

PAGES = [  # (label, path, selector whose appearance is "first chart")
    ("minimal Dash + Plotly", None, "#graph .cartesianlayer .trace"),
    ("/market", "/market", "#mkt-chart .cartesianlayer .trace"),
    ("/arena", "/arena", "#arn-candles .cartesianlayer .trace"),
    ("/replay", "/replay", "#rpl-fig .cartesianlayer .trace"),
    ("/journal (grid row)", "/journal", "#jrn-table .ag-row"),
    ("/risk", "/risk", ".js-plotly-plot .cartesianlayer .trace"),
    ("/forecast", "/forecast", ".js-plotly-plot .cartesianlayer .trace"),
]

OBSERVER_JS = """
window.__neonFirst = null;
(function () {
  function check() {
    if (window.__neonFirst !== null || !window.__neonSelector) { return; }
    if (document.querySelector(window.__neonSelector)) { window.__neonFirst = performance.now(); }
  }
  new MutationObserver(check).observe(document, {childList: true, subtree: true});
})();
"""


def minimal_app():
    """gunicorn factory: the floor page, one dcc.Graph filled by one callback (`bench.bench_browser:minimal_app()`)."""
    import plotly.graph_objects as go
    from dash import Dash, Input, Output, dcc, html

    from core.data import load_ohlcv

    frame, _ = load_ohlcv("AAPL", live=False, use_cache=False)
    app = Dash(__name__, compress=True, serve_locally=True)
    app.layout = html.Div([html.H1("minimal"), dcc.Graph(id="graph")])

    @app.callback(Output("graph", "figure"), Input("graph", "id"))
    def _figure(_id):
        return go.Figure(go.Scatter(x=frame["date"].dt.strftime("%Y-%m-%d"), y=frame["close"].round(2)))

    return app.server


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(target: str, port: int, log) -> subprocess.Popen:
    env = {**os.environ, "PORT": str(port), "NEON_LIVE_DATA": "0", "WEB_CONCURRENCY": "2",
           "NEON_JOB_CACHE_DIR": tempfile.mkdtemp(prefix="neon-bench-browser-")}
    proc = subprocess.Popen([str(Path(sys.executable).parent / "gunicorn"), "--no-control-socket", "-c",
                             "deploy/gunicorn.conf.py", target], cwd=ROOT, env=env, stdout=log, stderr=log)
    deadline = time.time() + 90
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1) as r:
                if r.status == 200:
                    return proc
        except OSError:
            time.sleep(0.2)
    proc.terminate()
    raise RuntimeError(f"gunicorn ({target}) did not start")


def _driver():
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options

    options = Options()
    for arg in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-extensions", "--window-size=1600,1000"):
        options.add_argument(arg)
    if shutil.which("chromium"):
        options.binary_location = shutil.which("chromium")
    driver = webdriver.Chrome(options=options)
    driver.execute_cdp_cmd("Network.enable", {})
    driver.execute_cdp_cmd("Network.setCacheDisabled", {"cacheDisabled": True})
    driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": OBSERVER_JS})
    return driver


def measure(driver, url: str, selector: str, timeout: float = 45) -> tuple[float | None, int]:
    """(ms from navigation start to `selector` in the DOM, bytes transferred for the whole load)."""
    driver.get("about:blank")
    driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument",
                           {"source": f"window.__neonSelector = {selector!r};"})
    driver.get(url)
    end = time.time() + timeout
    first = None
    while time.time() < end:
        first = driver.execute_script("return window.__neonFirst")
        if first is not None:
            break
        time.sleep(0.05)
    # let the page's remaining callbacks finish, then count every byte that came over the wire
    last, stable = -1, 0
    while time.time() < end and stable < 4:
        n = driver.execute_script("return performance.getEntriesByType('resource').length")
        stable = stable + 1 if n == last else 0
        last = n
        time.sleep(0.25)
    transfer = driver.execute_script(
        "var nav = performance.getEntriesByType('navigation')[0];"
        "return (nav ? nav.transferSize : 0) + performance.getEntriesByType('resource')"
        ".reduce(function (s, e) { return s + (e.transferSize || 0); }, 0);")
    return first, int(transfer)


def replay_speed(driver, base: str, seconds: float = 2.0) -> tuple[int, float]:
    from selenium.webdriver.common.by import By

    from layouts.replay import TOP_SPEED

    driver.get(f"{base}/replay")
    label = "var e = document.getElementById('rpl-bar-label'); return e ? e.innerText : '';"
    end = time.time() + 45
    while time.time() < end and "Bar 1 /" not in driver.execute_script(label):
        time.sleep(0.1)
    driver.find_element(By.ID, "rpl-speed").click()
    option = driver.find_element(By.XPATH, f"//*[contains(@class, 'dash-dropdown-option')]"
                                           f"[normalize-space(.)='{TOP_SPEED} bars/s']")
    driver.execute_script("arguments[0].scrollIntoView({block: 'nearest'})", option)
    option.click()
    end = time.time() + 10
    while time.time() < end and f"{TOP_SPEED} bars/s" not in driver.find_element(By.ID, "rpl-speed").text:
        time.sleep(0.05)
    time.sleep(0.3)

    def bar():
        return int(driver.execute_script(label).split()[1].replace(",", ""))

    driver.find_element(By.ID, "rpl-play").click()
    end = time.time() + 10
    while bar() <= 1 and time.time() < end:
        time.sleep(0.02)
    b0, t0 = bar(), time.perf_counter()
    time.sleep(seconds)
    b1, t1 = bar(), time.perf_counter()
    return TOP_SPEED, (b1 - b0) / (t1 - t0)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args, _unknown = parser.parse_known_args(argv if argv is not None else sys.argv[1:])
    if not (shutil.which("chromium") and shutil.which("chromedriver")):
        print("chromium and chromedriver are needed (make test installs them); skipped")
        return
    log = tempfile.NamedTemporaryFile(prefix="neon-browser-bench-", suffix=".log", delete=False)
    app_port, min_port = _free_port(), _free_port()
    procs = [_serve("wsgi:server", app_port, log), _serve("bench.bench_browser:minimal_app()", min_port, log)]
    driver = _driver()
    try:
        results: dict[str, list[tuple[float | None, int]]] = {label: [] for label, _p, _s in PAGES}
        # warm both servers (first-request set-up, both workers' figure caches, the brotli bundle cache), as
        # a running server would be
        for _warm in range(3):
            for _label, path, selector in PAGES:
                base = f"http://127.0.0.1:{min_port if path is None else app_port}"
                measure(driver, base + (path or "/"), selector, timeout=20)
        for _round in range(args.rounds):
            for label, path, selector in PAGES:
                base = f"http://127.0.0.1:{min_port if path is None else app_port}"
                results[label].append(measure(driver, base + (path or "/"), selector))
        speed, delivered = replay_speed(driver, f"http://127.0.0.1:{app_port}")
    finally:
        driver.quit()
        for proc in procs:
            proc.terminate()
            proc.wait(timeout=30)

    def med(values):
        values = [v for v in values if v is not None]
        return statistics.median(values) if values else None

    floor = med([r[0] for r in results[PAGES[0][0]]])
    print(f"headless Chromium, cold cache, gunicorn 2 gthread workers; median of {args.rounds} loads per page")
    print(f"{'page':24s} {'first chart':>12s} {'vs minimal':>11s} {'transfer':>10s}")
    for label, _path, _selector in PAGES:
        first = med([r[0] for r in results[label]])
        transfer = med([r[1] for r in results[label]])
        ratio = f"{first / floor:.2f}x" if first and floor else "n/a"
        shown = f"{first:8.0f} ms" if first is not None else "  no chart"
        print(f"{label:24s} {shown:>12s} {ratio:>11s} {transfer / 1e6:8.2f} MB")
    for label in ("/market", "/arena"):
        first = med([r[0] for r in results[label]])
        ok = first is not None and floor and first <= 1.5 * floor
        print(f"target {label}: first chart within 1.5x of the minimal page: {'OK' if ok else 'MISSED'}")
    worst = max(med([r[1] for r in results[label]]) for label, _p, _s in PAGES[1:])
    print(f"target: compressed transfer per page load < 2 MB (largest {worst / 1e6:.2f} MB): "
          f"{'OK' if worst < 2e6 else 'MISSED'}")
    print(f"replay at its top speed ({speed} bars/s requested): {delivered:.1f} bars/s delivered; "
          f"target >= 30: {'OK' if delivered >= 30 else 'MISSED'}")


if __name__ == "__main__":
    main()
