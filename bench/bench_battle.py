"""Battle speed, and our SMA crossover backtest against backtesting.py on the same data (prints figures).

    python -m bench.bench_battle [--repeats N]

1. run_battle of 4 agents + 4 benchmarks on AAPL (bundled data), cache off: over the test window and
   over the whole history after the warm-up. Agents: every seed of the shipped models under models/AAPL
   (5 per personality: every seed battles, with the significance figures) and, for comparison, one seed
   alone; else the rule-based stand-ins (core.strategies.RuleAgentSet), and the output says which.
   Target < 1 s for 5 seeds per personality over the test window.
2. The SMA 20/50 crossover, long-only, cash 100,000, commission 0.1%, whole units: ours
   (sma_crossover_targets + core.sim.simulate) vs backtesting.py 0.6.6 in the same process; medians over
   repeats, the speed ratio (target >= 20x) and the equal-results check (same fills, final equity).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import statistics
import time
import warnings

import numpy as np


def _median_seconds(fn, repeats: int) -> tuple[float, object]:
    fn()  # warm-up (imports, caches)
    times, out = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), out


def _agents():
    """[(label, agents)]: every shipped seed and one seed alone, or the rule-based stand-ins."""
    from core.agents import load_agent_seeds

    try:
        seeds = load_agent_seeds("AAPL")
    except ValueError as exc:
        from core.strategies import RuleAgentSet

        return [(f"rule-based stand-ins (no shipped models: {exc})", RuleAgentSet())]
    first = seeds[seeds.seeds[0]]
    return [(f"shipped models, {len(seeds)} seeds per personality", seeds),
            (f"shipped models, seed {first.seed} alone", first)]


def bench_battle(repeats: int) -> None:
    from core.arena import run_battle
    from core.data import load_ohlcv
    from core.indicators import WARMUP_BARS, add_indicators
    from core.sim import Costs

    ohlcv, provenance = load_ohlcv("AAPL", live=False)
    frame = add_indicators(ohlcv)
    print(f"data: AAPL {provenance.label}, {len(frame)} bars")
    whole_start = frame["date"].iloc[WARMUP_BARS].date().isoformat()
    for (source, agents), (label, kwargs) in (
        (a, w) for a in _agents() for w in (("test window", {}), ("whole history", {"test_start": whole_start}))
    ):
        seconds, result = _median_seconds(
            lambda kw=kwargs, a=agents: run_battle(frame, ticker="AAPL", agents=a, use_cache=False, **kw), repeats
        )
        n = result.end - result.start
        rollout_s, _ = _median_seconds(
            lambda r=result, a=agents: getattr(a, "rollout_seeds", a.rollout)(frame, r.start, r.end, Costs(), 100_000.0),
            repeats,
        )
        status = "OK" if seconds < 1.0 else "SLOWER THAN TARGET"
        print(
            f"battle of {source}, {label} ({result.test_start} to {result.test_end}, {n} bars, "
            f"{len(result.contestants)} contestants): median {seconds * 1e3:.0f} ms over {repeats} runs "
            f"(agents' rollout alone {rollout_s * 1e3:.0f} ms); target < 1000 ms: {status}"
        )
    agents = _agents()[0][1]
    start = time.perf_counter()
    run_battle(frame, ticker="AAPL", agents=agents)
    first = time.perf_counter() - start
    start = time.perf_counter()
    run_battle(frame, ticker="AAPL", agents=agents)
    print(
        f"cache: first call {first * 1e3:.0f} ms, repeat (hit) {(time.perf_counter() - start) * 1e3:.1f} ms"
    )


def bench_sma_vs_backtesting(repeats: int) -> None:
    import pandas as pd

    from core.data import load_ohlcv
    from core.sim import Costs, simulate
    from core.strategies import sma_crossover_targets

    try:
        from backtesting import Backtest, Strategy
        from backtesting.lib import crossover
    except ImportError:
        print("skipped: backtesting.py is not installed (pip install -r requirements-test.txt)")
        return

    ohlcv, _ = load_ohlcv("AAPL", live=False)

    def sma(values, n):
        return pd.Series(values).rolling(n).mean().to_numpy()

    class SmaCross(Strategy):
        def init(self):
            self.fast = self.I(sma, self.data.Close, 20)
            self.slow = self.I(sma, self.data.Close, 50)

        def next(self):
            if crossover(self.fast, self.slow):
                self.buy()
            elif crossover(self.slow, self.fast):
                self.position.close()

    data = ohlcv.rename(columns=str.capitalize).set_index("Date")

    def peer():
        bt = Backtest(
            data,
            SmaCross,
            cash=100_000,
            commission=0.001,
            trade_on_close=False,
            exclusive_orders=True,
            finalize_trades=False,
        )
        with warnings.catch_warnings(), contextlib.redirect_stderr(io.StringIO()):  # its progress bar
            warnings.simplefilter("ignore")
            return bt.run()

    open_, close = ohlcv["open"].to_numpy(), ohlcv["close"].to_numpy()

    def ours():
        targets = sma_crossover_targets(close)
        return simulate(
            open_, close, targets, Costs(commission_bps=10, slippage_bps=0), 100_000.0, whole_units=True
        )

    ours_s, result = _median_seconds(ours, repeats * 5)
    peer_s, stats = _median_seconds(peer, repeats)
    final_peer = float(stats["Equity Final [$]"])
    rel = abs(result.equity[-1] - final_peer) / final_peer
    trades = stats["_trades"]
    same_fills = bool(
        np.array_equal(result.fill_bars[result.fill_qty > 0][: len(trades)], trades["EntryBar"].to_numpy())
        and np.array_equal(result.fill_bars[result.fill_qty < 0], trades["ExitBar"].to_numpy())
    )
    ratio = peer_s / ours_s
    print(
        f"SMA 20/50 crossover on AAPL ({len(ohlcv)} bars): ours median {ours_s * 1e3:.2f} ms, backtesting.py "
        f"median {peer_s * 1e3:.1f} ms -> {ratio:.0f}x faster "
        f"(target >= 20x: {'OK' if ratio >= 20 else 'MISSED'})"
    )
    print(
        f"equal results: final equity ours {result.equity[-1]:,.4f} vs backtesting.py {final_peer:,.4f} "
        f"(relative difference {rel:.1e}), fills ours {len(result.fill_bars)} vs {len(trades)} closed trades "
        f"x 2 + {len(result.fill_bars) - 2 * len(trades)} open; same entry/exit bars: {same_fills}"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7, help="timed runs per figure (median reported)")
    args = parser.parse_args(argv if argv is not None else [])
    bench_battle(args.repeats)
    bench_sma_vs_backtesting(args.repeats)


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
