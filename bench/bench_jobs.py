"""Background jobs in a real browser: from clicking "Run forecast" to the first progress update on screen,
against gunicorn (2 workers, as `make run` serves), next to a minimal Dash app whose background callback
reports progress at once (the floor Dash itself sets), measured in the same run.

`python -m bench.bench_jobs [--runs 3]`. Target: under 2 s to the first progress update. Not a test.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

PEER_APP = '''
import time, tempfile, diskcache
from dash import Dash, DiskcacheManager, Input, Output, html
app = Dash(__name__, background_callback_manager=DiskcacheManager(diskcache.Cache(tempfile.mkdtemp())))
app.layout = html.Div([html.Button("Run", id="run"), html.Div("idle", id="status"), html.Div(id="out")])
@app.callback(Output("out", "children"), Input("run", "n_clicks"), background=True,
              progress=[Output("status", "children")], prevent_initial_call=True, interval=500)
def job(set_progress, n):
    set_progress("working 0%")
    time.sleep(3)
    return "done"
server = app.server
'''


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(app_ref: str, env: dict, cwd: Path, log: Path) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--no-control-socket", "-c", str(ROOT / "deploy/gunicorn.conf.py"),
         "--workers", "2", "--bind", f"127.0.0.1:{port}", "--log-level", "warning", app_ref],
        cwd=cwd, env={**os.environ, **env}, stdout=open(log, "wb"), stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            urllib.request.urlopen(base + "/", timeout=2)
            return proc, base
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError(f"{app_ref} did not start: {log.read_text()[-1500:]}")


def _driver():
    from selenium import webdriver

    options = webdriver.ChromeOptions()
    for arg in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--window-size=1400,1000"):
        options.add_argument(arg)
    return webdriver.Chrome(options=options)


def _click_to_change(driver, url: str, button: str, status: str, prepare=None) -> float:
    """Seconds from the click to the first change of the status element's text."""
    from selenium.webdriver.common.by import By

    driver.get(url)
    deadline = time.time() + 60
    while time.time() < deadline and not driver.find_elements(By.CSS_SELECTOR, button):
        time.sleep(0.1)
    time.sleep(1.0)  # let the page's initial callbacks settle
    if prepare:
        prepare(driver)
    before = driver.find_element(By.CSS_SELECTOR, status).text
    driver.find_element(By.CSS_SELECTOR, button).click()
    start = time.perf_counter()
    while time.perf_counter() - start < 60:
        if driver.find_element(By.CSS_SELECTOR, status).text != before:
            return time.perf_counter() - start
        time.sleep(0.02)
    return float("nan")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    from selenium.webdriver.common.by import By

    work = Path(tempfile.mkdtemp(prefix="bench-jobs-"))
    (work / "peer_app.py").write_text(PEER_APP)
    ours, ours_url = _serve("wsgi:server", {"NEON_LIVE_DATA": "0", "NEON_JOB_CACHE_DIR": str(work / "jobs")}, ROOT,
                            work / "ours.log")
    peer, peer_url = _serve("peer_app:server", {}, work, work / "peer.log")
    driver = _driver()
    try:
        ours_s, peer_s = [], []
        for run in range(args.runs):
            def seed(d, run=run):
                box = d.find_element(By.CSS_SELECTOR, "#fc-seed")
                box.clear()
                box.send_keys(str(1000 + run))  # a new seed: no cached result, a real job every time

            ours_s.append(_click_to_change(driver, f"{ours_url}/forecast", "#fc-run", "#fc-status", seed))
            peer_s.append(_click_to_change(driver, peer_url, "#run", "#status"))
            time.sleep(25)  # let the forecast finish before the next run
        med_ours, med_peer = statistics.median(ours_s), statistics.median(peer_s)
        print(f"click -> first progress update, forecast page : median {med_ours:.2f} s  "
              f"(runs: {', '.join(f'{s:.2f}' for s in ours_s)}; target < 2 s)")
        print(f"click -> first progress update, minimal Dash  : median {med_peer:.2f} s  "
              f"(runs: {', '.join(f'{s:.2f}' for s in peer_s)})")
        print(f"ratio ours / minimal Dash background callback: {med_ours / med_peer:.2f}x")
    finally:
        driver.quit()
        for proc in (ours, peer):
            proc.terminate()
            proc.wait(30)


if __name__ == "__main__":
    main()
