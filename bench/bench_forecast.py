"""Forecast speed, memory and backtest figures (prints figures; not a test).

    python -m bench.bench_forecast [--tickers AAPL TSLA BTC-USD]

1. The DEFAULT ForecastConfig on each bundled ticker's full history (bundled snapshot, no cache): backtest
   fit + calibration + backtest + final refit + forecast, each run in a fresh spawned process. Wall time
   of the run and of its stages, and the process's peak RSS (ru_maxrss, which includes importing torch,
   pandas and sklearn). Targets on 2 cores: < 15 s for AAPL, < 1 GB.
2. Per ticker, the out-of-sample backtest as it comes out (not tuned on): MASE, directional accuracy,
   Diebold-Mariano p-value against the naive forecast for the LSTM and each other baseline, and the LSTM
   band's coverage at 80% and 95%, with the verdict.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import resource
import sys
import time

import numpy as np

from core.data import BUNDLED_TICKERS


def _child(ticker: str) -> dict:
    """One forecast run in this (fresh) process: timings, peak RSS and the result's JSON."""
    start = time.perf_counter()
    import torch  # noqa: F401  (timed apart from the run)

    import_s = time.perf_counter() - start
    from core.data import load_ohlcv
    from core.forecast import ForecastConfig, run_forecast

    frame, prov = load_ohlcv(ticker, live=False, use_cache=False)
    stages: dict[str, float] = {}
    last = {"t": time.perf_counter(), "stage": "prepare"}

    def progress(event) -> None:
        # every stage reports its start, so the time since the last report belongs to the last stage
        now = time.perf_counter()
        stages[last["stage"]] = stages.get(last["stage"], 0.0) + now - last["t"]
        last.update(t=now, stage=event.stage)

    t0, cpu0 = time.perf_counter(), time.process_time()
    result = run_forecast(frame, provenance=prov, config=ForecastConfig(), progress=progress)
    wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    return {
        "ticker": ticker,
        "rows": len(frame),
        "wall_s": wall,
        "cpu_s": cpu,
        "torch_import_s": import_s,
        "stages": stages,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
        "json": result.to_json(),
    }


def _dm_vs_naive(payload: dict, method: str) -> float:
    from core.forecast.scores import diebold_mariano

    origins = payload["backtest"]["origins"]
    actual = np.concatenate([o["actual"] for o in origins])
    errors = actual - np.concatenate([o[method] for o in origins])
    naive = actual - np.concatenate([o["naive"] for o in origins])
    return diebold_mariano(errors, naive, payload["config"]["horizon"])[1]


def _fmt(value, pattern: str) -> str:
    return "n/a" if value is None else format(value, pattern)


def report(run: dict) -> None:
    p = run["json"]
    bt, tr = p["training"]["backtest_model"], p["training"]
    stages = ", ".join(f"{k} {v:.1f} s" for k, v in run["stages"].items())
    print(f"\n{run['ticker']}: {run['rows']:,} bars, run {run['wall_s']:.1f} s wall / {run['cpu_s']:.1f} s CPU "
          f"(torch import {run['torch_import_s']:.1f} s before it), peak RSS {run['peak_rss_mb']:,.0f} MB")
    print(f"  stages: {stages}")
    print(f"  backtest fit: {bt['train_windows']:,} + {bt['val_windows']} val windows, {bt['epochs_run']} epochs run, "
          f"best epoch {bt['best_epoch']}; final refit {tr['final_epochs']} epochs on all bars")
    print(f"  backtest {p['backtest']['start']} to {p['backtest']['end']} ({p['config']['backtest_origins']} origins "
          f"x {p['config']['horizon']} bars, out-of-sample)")
    print(f"  {'method':<20} {'MASE':>7} {'dir.acc':>8} {'DM p vs naive':>14} {'cov80':>6} {'cov95':>6}")
    for row in p["metrics_table"]:
        method = row["method"]
        dm = "" if method == "naive" else _fmt(_dm_vs_naive(p, method), ".3f")
        print(f"  {row['label']:<20} {_fmt(row['mase'], '.3f'):>7} {_fmt(row['directional_accuracy'], '.1%'):>8} "
              f"{dm:>14} {_fmt(row['coverage_80'], '.1%'):>6} {_fmt(row['coverage_95'], '.1%'):>6}")
    print(f"  {p['verdict']}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickers", nargs="+", default=list(BUNDLED_TICKERS))
    args = parser.parse_args(argv if argv is not None else [])
    from core.forecast import ForecastConfig

    c = ForecastConfig()
    print(f"default config: window {c.window}, horizon {c.horizon}, LSTM {c.num_layers}x{c.hidden_size}, "
          f"batch {c.batch_size}, at most {c.epochs} epochs (patience {c.patience}), {c.backtest_origins} backtest "
          f"+ {c.calibration_origins} calibration origins; {os.cpu_count()} CPU cores, one torch thread")
    ctx = mp.get_context("spawn")
    for ticker in args.tickers:
        with ctx.Pool(1) as pool:  # a fresh process per ticker: its peak RSS is the run's own
            run = pool.apply(_child, (ticker,))
        report(run)
        if ticker == "AAPL":
            print(f"  AAPL wall time {run['wall_s']:.1f} s (target < 15 s; {run['cpu_s']:.1f} s CPU), peak RSS "
                  f"{run['peak_rss_mb']:,.0f} MB (target < 1,024 MB)")


if __name__ == "__main__":
    main(sys.argv[1:])
