"""Training from the web (prints figures; not a test).

    python -m bench.bench_train_job [--timesteps 10000] [--runs 1]

Against gunicorn with 2 workers (as `make run` serves), in headless chromium, on the bundled AAPL snapshot:
1. click "Train" -> first progress update on screen (target < 2 s), and -> first per-personality step count;
2. the same four-personality training job through the web (click -> "Done in") and through the CLI
   (`python -m core train --ticker AAPL --offline`, same budget, seed, data and 2 processes), wall times and
   the web's extra (target < 10%);
3. peak memory of a training job: the job's whole process tree (the Dash job process, the multiprocessing
   manager, the spawned trainers), sampled every 0.25 s: peak of the summed USS (memory unique to the tree's
   processes) and the largest single RSS.
The budget must be one the page offers (layouts.train.TIMESTEP_CHOICES). Runs alternate web / CLI.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from bench.bench_jobs import ROOT, _driver, _serve
from layouts.train import TIMESTEP_CHOICES


class TreeMemory(threading.Thread):
    """Samples the memory of every process below `root_pid` (and of the root itself with `include_root`) that
    is not in `exclude` (e.g. the idle web workers)."""

    def __init__(self, root_pid: int, exclude: set[int] = frozenset(), include_root: bool = False) -> None:
        super().__init__(daemon=True)
        self.root_pid, self.exclude, self.include_root = root_pid, set(exclude), include_root
        self.stop = threading.Event()
        self.peak_uss = self.peak_rss = 0.0
        self.peak_procs = 0

    def run(self) -> None:
        import psutil

        root = psutil.Process(self.root_pid)
        while not self.stop.wait(0.25):
            uss = 0.0
            try:
                procs = [p for p in root.children(recursive=True) if p.pid not in self.exclude]
                procs += [root] if self.include_root else []
            except psutil.Error:
                continue
            for p in procs:
                try:
                    info = p.memory_full_info()
                except psutil.Error:
                    continue
                uss += info.uss
                self.peak_rss = max(self.peak_rss, info.rss)
            self.peak_uss = max(self.peak_uss, uss)
            self.peak_procs = max(self.peak_procs, len(procs))


def web_run(driver, url: str, steps: int, seed: int, master_pid: int) -> dict:
    """Click Train on a fresh page; seconds to the first status change, first step count, and Done."""
    import psutil
    from selenium.webdriver.common.by import By

    def text(selector: str) -> str:
        return driver.find_element(By.CSS_SELECTOR, selector).text

    driver.get(f"{url}/train")
    deadline = time.time() + 60
    while time.time() < deadline and not driver.find_elements(By.CSS_SELECTOR, "#tr-run"):
        time.sleep(0.1)
    time.sleep(1.5)  # let the page's initial callbacks settle
    driver.find_element(By.CSS_SELECTOR, f"#tr-steps input[value='{steps}']").click()
    box = driver.find_element(By.CSS_SELECTOR, "#tr-seed")
    box.clear()
    box.send_keys(str(seed))  # a new seed: a new run, never the finished twin
    time.sleep(0.5)
    workers = {p.pid for p in psutil.Process(master_pid).children(recursive=True)}
    memory = TreeMemory(master_pid, workers)
    before = text("#tr-status")
    memory.start()
    driver.find_element(By.CSS_SELECTOR, "#tr-run").click()
    start = time.perf_counter()
    first = steps_seen = None
    while time.perf_counter() - start < 3600:
        now = time.perf_counter() - start
        status = text("#tr-status")
        if first is None and status != before:
            first = now
        if steps_seen is None and any(" steps ·" in text(f"#tr-detail-{n}") and "/" in text(f"#tr-detail-{n}")
                                      for n in ("conservative", "aggressive")):
            steps_seen = now
        if "Done in" in status:
            break
        if "failed" in status.lower() or "Cancelled" in status:
            raise RuntimeError(f"the web job ended with: {status}")
        time.sleep(0.05)
    total = time.perf_counter() - start
    memory.stop.set()
    memory.join()
    return {"first": first, "steps": steps_seen, "total": total, "uss": memory.peak_uss, "rss": memory.peak_rss,
            "procs": memory.peak_procs}


def cli_run(steps: int, seed: int, env: dict) -> dict:
    with tempfile.TemporaryDirectory(prefix="bench-train-cli-") as out:
        start = time.perf_counter()
        proc = subprocess.Popen(
            [sys.executable, "-m", "core", "train", "--ticker", "AAPL", "--offline", "--timesteps", str(steps),
             "--seed", str(seed), "--processes", "2", "--out", out, "--json", str(Path(out) / "summary.json")],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        memory = TreeMemory(proc.pid, include_root=True)
        memory.start()
        code = proc.wait()
        total = time.perf_counter() - start
        memory.stop.set()
        memory.join()
    if code:
        raise RuntimeError(f"python -m core train exited with {code}")
    return {"total": total, "uss": memory.peak_uss, "rss": memory.peak_rss, "procs": memory.peak_procs}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timesteps", type=int, default=10_000, help="per personality; one the page offers")
    parser.add_argument("--runs", type=int, default=1)
    args = parser.parse_args(argv if argv is not None else [])
    if args.timesteps not in TIMESTEP_CHOICES:
        raise SystemExit(f"--timesteps must be one of {TIMESTEP_CHOICES}")

    work = Path(tempfile.mkdtemp(prefix="bench-train-"))
    env = {**os.environ, "NEON_LIVE_DATA": "0", "NEON_DATA_CACHE_DIR": str(work / "data-cache"),
           "NEON_JOB_CACHE_DIR": str(work / "jobs"), "NEON_RUNS_DIR": str(work / "runs"), "PYTHONPATH": str(ROOT)}
    server, url = _serve("wsgi:server", {k: env[k] for k in ("NEON_LIVE_DATA", "NEON_DATA_CACHE_DIR",
                                                             "NEON_JOB_CACHE_DIR", "NEON_RUNS_DIR")},
                         ROOT, work / "gunicorn.log")
    driver = _driver()
    webs, clis = [], []
    try:
        for run in range(args.runs):
            webs.append(web_run(driver, url, args.timesteps, 100 + run, server.pid))
            clis.append(cli_run(args.timesteps, 100 + run, env))
    finally:
        driver.quit()
        server.terminate()
        server.wait(30)

    def med(rows, key):
        return statistics.median(r[key] for r in rows)

    def runs(rows, key, unit=" s", scale=1.0):
        return ", ".join(f"{r[key] / scale:.1f}{unit}" for r in rows)

    n = f"4 personalities x {args.timesteps:,} steps, 2 processes"
    print(f"click -> first progress update on screen   : median {med(webs, 'first'):.2f} s  "
          f"(runs: {runs(webs, 'first')}; target < 2 s)")
    print(f"click -> first per-personality step count  : median {med(webs, 'steps'):.1f} s  "
          f"(runs: {runs(webs, 'steps')}; spawning the trainers and importing torch)")
    web, cli = med(webs, "total"), med(clis, "total")
    print(f"{n}, web (click -> Done)  : median {web:.1f} s  (runs: {runs(webs, 'total')})")
    print(f"{n}, CLI (python -m core train): median {cli:.1f} s  (runs: {runs(clis, 'total')})")
    print(f"web extra over the CLI                     : {100 * (web / cli - 1):+.1f}%  (target < +10%)")
    mb = 1024 * 1024
    print(f"peak memory, web job tree                  : {med(webs, 'uss') / mb:,.0f} MB USS summed over up to "
          f"{max(r['procs'] for r in webs)} processes; largest process RSS {med(webs, 'rss') / mb:,.0f} MB")
    print(f"peak memory, CLI tree                      : {med(clis, 'uss') / mb:,.0f} MB USS summed over up to "
          f"{max(r['procs'] for r in clis)} processes; largest process RSS {med(clis, 'rss') / mb:,.0f} MB")


if __name__ == "__main__":
    main(sys.argv[1:])
