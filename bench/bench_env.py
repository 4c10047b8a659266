"""Environment throughput against peers, run in the same process (prints figures; not a test).

    python -m bench.bench_env [--steps N] [--repeats R]

1. TradingArenaEnv through the PettingZoo ParallelEnv API: 4 agents, random actions, agent-steps/s.
2. BatchArena (256 windows x 4 agents per call): agent-steps/s.
3. gym-anytrading's StocksEnv (one agent, random actions): steps/s  (test-only peer, requirements-test.txt).
4. FinRL's StockTradingEnv (one stock, random actions): steps/s, from .venv-bench/finrl when present
   (installed with `pip install --no-deps --target .venv-bench/finrl finrl==0.3.7`; its package __init__
   pulls in the whole FinRL stack, so the env module is loaded from its file).
All on the bundled AAPL data; medians over repeats; ratios per agent-step.
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parent.parent
FINRL_DIR = REPO / ".venv-bench" / "finrl"


def _median_rate(run, units: int, repeats: int) -> float:
    run()  # warm-up
    rates = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        rates.append(units / (time.perf_counter() - start))
    return statistics.median(rates)


def bench_pettingzoo(frame: pd.DataFrame, steps: int, repeats: int) -> float:
    from core.env import TradingArenaEnv

    env = TradingArenaEnv(frame, episode_bars=1000)
    rng = np.random.default_rng(0)
    actions = [dict(zip(env.possible_agents, row.tolist(), strict=True)) for row in rng.integers(0, 5, (1000, 4))]
    env.reset(seed=0)

    def run() -> None:
        for k in range(steps):
            env.step(actions[k % 1000])
            if not env.agents:
                env.reset()

    return _median_rate(run, steps * len(env.possible_agents), repeats)


def bench_batch(frame: pd.DataFrame, steps: int, repeats: int, n_envs: int = 256) -> float:
    from core.env import BatchArena

    arena = BatchArena(frame, n_envs=n_envs, episode_bars=256, seed=0)
    arena.reset()
    actions = np.random.default_rng(0).integers(0, 5, (64, n_envs, 4))
    calls = max(steps // n_envs, 50)

    def run() -> None:
        for k in range(calls):
            arena.step(actions[k % 64])

    return _median_rate(run, calls * n_envs * 4, repeats)


def bench_anytrading(frame: pd.DataFrame, steps: int, repeats: int) -> float | str:
    try:
        from gym_anytrading.envs import StocksEnv
    except ImportError:
        return "skipped: gym-anytrading is not installed (pip install -r requirements-test.txt)"
    df = frame.rename(columns=str.capitalize).set_index("Date")
    env = StocksEnv(df=df, window_size=10, frame_bound=(10, len(df)))
    acts = np.random.default_rng(0).integers(0, 2, 1000)
    env.reset(seed=0)

    def run() -> None:
        for k in range(steps):
            _, _, term, trunc, _ = env.step(int(acts[k % 1000]))
            if term or trunc:
                env.reset()

    return _median_rate(run, steps, repeats)


def _load_finrl_env():
    path = FINRL_DIR / "finrl" / "meta" / "env_stock_trading" / "env_stocktrading.py"
    if not path.is_file():
        return None
    spec = importlib.util.spec_from_file_location("finrl_env_stocktrading", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.StockTradingEnv


def bench_finrl(frame: pd.DataFrame, steps: int, repeats: int) -> float | str:
    try:
        env_cls = _load_finrl_env()
    except Exception as exc:  # a peer that does not load is reported, never fatal
        return f"skipped: FinRL's env did not load ({type(exc).__name__}: {exc})"
    if env_cls is None:
        return f"skipped: FinRL not found in {FINRL_DIR} (see the module docstring)"
    from core.indicators import add_indicators

    data = add_indicators(frame).iloc[40:].reset_index(drop=True)
    data["tic"] = "AAPL"
    tech = ["rsi", "sma20", "macd"]
    data.index = range(len(data))  # FinRL indexes rows by day number
    env = env_cls(
        df=data, stock_dim=1, hmax=100, initial_amount=100_000, num_stock_shares=[0], buy_cost_pct=[0.001],
        sell_cost_pct=[0.001], reward_scaling=1e-4, state_space=1 + 2 + len(tech), action_space=1,
        tech_indicator_list=tech, print_verbosity=10**9,
    )
    acts = np.random.default_rng(0).uniform(-1, 1, (1000, 1))
    env.reset(seed=0)

    def run() -> None:
        for k in range(steps):
            _, _, term, trunc, _ = env.step(acts[k % 1000])
            if term or trunc:
                env.reset()

    return _median_rate(run, steps, repeats)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20_000, help="env steps per timed run")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs (median reported)")
    args = parser.parse_args(argv if argv is not None else [])
    frame = pd.read_csv(REPO / "data" / "AAPL.csv")
    pz = bench_pettingzoo(frame, args.steps, args.repeats)
    batch = bench_batch(frame, args.steps * 16, args.repeats)
    any_rate = bench_anytrading(frame, args.steps, args.repeats)
    finrl_rate = bench_finrl(frame, max(args.steps // 10, 500), args.repeats)
    print(f"TradingArenaEnv, PettingZoo API, 4 agents : {pz:>12,.0f} agent-steps/s")
    print(f"BatchArena, 256 windows x 4 agents        : {batch:>12,.0f} agent-steps/s")
    peers = (
        ("gym-anytrading StocksEnv, 1 agent", any_rate, ("   (target >= 1x)", "   (target >= 5x)")),
        ("FinRL StockTradingEnv, 1 stock", finrl_rate, ("", "")),
    )
    for label, rate, targets in peers:
        if isinstance(rate, str):
            print(f"{label:<42}: {rate}")
            continue
        peer = label.split()[0]
        print(f"{label:<42}: {rate:>12,.0f} agent-steps/s")
        print(f"  ratio PettingZoo / {peer:<14}: {pz / rate:>8.2f}x{targets[0]}")
        print(f"  ratio batched    / {peer:<14}: {batch / rate:>8.2f}x{targets[1]}")

if __name__ == "__main__":
    main(sys.argv[1:])
