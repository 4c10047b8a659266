"""Risk report speed over a whole-history AAPL battle, and the vectorised VaR backtest against a per-day loop.

    python -m bench.bench_risk [--repeats N]

1. core.risk_report.battle_risk (cache off) on a battle over the whole AAPL history after the indicator
   warm-up (custom window; 8 contestants with the shipped agents): VaR/CVaR by 3 methods at 95% and 99%,
   the rolling one-day-ahead backtest at both levels, distributions, histograms, drawdowns, monthly tables
   and the correlation matrix. Target < 100 ms. Also: to_json_dict and the bundled asset correlation.
2. The backtest forecasts alone (every contestant, both levels): core.risk.var_backtests (one sort of
   all 250-day windows) against a naive loop with one np.quantile per day, in the same process; ratio and
   the equal-results check.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

from bench.bench_battle import _median_seconds  # warm-up, then the median of `repeats` timed runs


def _whole_history_battle():
    from core.data import load_ohlcv
    from core.indicators import WARMUP_BARS, add_indicators
    from core.service import BattleSpec, run_arena

    frame = add_indicators(load_ohlcv("AAPL", live=False)[0])
    start = frame["date"].iloc[WARMUP_BARS].date().isoformat()
    view = run_arena(BattleSpec(ticker="AAPL", window="custom", start=start))
    agents = "shipped models (models/AAPL)" if view.agents_ready else f"benchmarks only ({view.agents_message})"
    return view.result, agents


def _naive_forecasts(returns: np.ndarray, level: float, window: int) -> np.ndarray:
    out = np.full(returns.size, np.nan)
    for t in range(window, returns.size):
        out[t] = -np.quantile(returns[t - window : t], 1 - level)
    return out


def bench_report(result, agents: str, repeats: int) -> None:
    from core.risk_report import asset_correlation, battle_risk

    n = len(result.dates)
    print(f"battle: AAPL {result.test_start} to {result.test_end} ({result.sample}, {n} bars, "
          f"{len(result.contestants)} contestants; agents: {agents})")
    seconds, report = _median_seconds(lambda: battle_risk(result, use_cache=False), repeats)
    backtests = sum(len(c.backtests) for c in report.contestants)
    status = "OK" if seconds < 0.1 else "SLOWER THAN TARGET"
    print(f"battle_risk: median {seconds * 1e3:.1f} ms over {repeats} runs ({len(report.var_table)} VaR/CVaR "
          f"rows, {backtests} backtests of {n - 1 - 250:,} forecast days each); target < 100 ms: {status}")
    json_s, payload = _median_seconds(report.to_json_dict, repeats)
    size = len(json.dumps(payload, allow_nan=False))
    print(f"to_json_dict: median {json_s * 1e3:.1f} ms, {size / 1e6:.2f} MB of JSON")
    start = time.perf_counter()
    corr = asset_correlation()
    cold = time.perf_counter() - start
    start = time.perf_counter()
    asset_correlation()
    print(f"asset_correlation ({', '.join(corr.tickers)}, {corr.n_common:,} common days): first call "
          f"{cold * 1e3:.1f} ms, cached {(time.perf_counter() - start) * 1e6:.0f} us")


def bench_backtest(result, repeats: int) -> None:
    from core.risk import var_backtests

    levels, window = (0.99, 0.95), 250
    series = [c.returns for c in result.contestants]

    def ours():
        return [var_backtests(r, levels=levels, window=window) for r in series]

    def naive():
        return [{lv: _naive_forecasts(r, lv, window) for lv in levels} for r in series]

    ours_s, fast = _median_seconds(ours, repeats)
    naive_s, slow = _median_seconds(naive, max(1, repeats // 3))
    worst = max(float(np.nanmax(np.abs(f[lv].var - s[lv]))) for f, s in zip(fast, slow, strict=True)
                for lv in levels)
    print(f"backtest forecasts, {len(series)} contestants x {len(levels)} levels x {series[0].size - window:,} "
          f"days: vectorised median {ours_s * 1e3:.1f} ms, naive per-day np.quantile loop median "
          f"{naive_s * 1e3:.0f} ms -> {naive_s / ours_s:.0f}x faster; largest forecast difference {worst:.1e}")


def bench_page_callback(repeats: int) -> None:
    """The Risk page's view callback (callbacks.risk.view_outputs) with the battle and report cached, for
    the default battle (out-of-sample AAPL) and the whole history, next to the arena page's battle callback
    on the same cached battle (a peer in the same process)."""
    from callbacks.arena import arena_outputs
    from callbacks.risk import view_outputs

    specs = {"out-of-sample AAPL": {"ticker": "AAPL", "window": "out-of-sample", "commission_bps": 10.0,
                                    "slippage_bps": 5.0},
             "whole AAPL history": {"ticker": "AAPL", "window": "in-sample", "commission_bps": 10.0,
                                    "slippage_bps": 5.0}}
    names = ["buy_and_hold", "conservative", "aggressive", "momentum", "mean_reversion"]
    for label, spec in specs.items():
        view_outputs(spec, names, "buy_and_hold", 0.99)  # warm: battle + report cached
        times = []
        for i in range(max(repeats, 20)):
            focus = names[i % len(names)]
            start = time.perf_counter()
            view_outputs(spec, names, focus, 0.99 if i % 2 else 0.95)
            times.append(time.perf_counter() - start)
        p50, p95 = np.percentile(times, 50) * 1e3, np.percentile(times, 95) * 1e3
        arena = []
        for _ in range(max(repeats, 20)):
            start = time.perf_counter()
            arena_outputs(spec["ticker"], spec["window"], None, None, 10.0, 5.0)
            arena.append(time.perf_counter() - start)
        print(f"risk page callback, {label}, battle cached: p50 {p50:.0f} ms, p95 {p95:.0f} ms (target p95 < 150 ms); "
              f"arena callback on the same cached battle: p50 {np.percentile(arena, 50) * 1e3:.0f} ms")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7, help="timed runs per figure (median reported)")
    args = parser.parse_args(argv if argv is not None else [])
    result, agents = _whole_history_battle()
    bench_report(result, agents, args.repeats)
    bench_backtest(result, args.repeats)
    bench_page_callback(args.repeats)


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
