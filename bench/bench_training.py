"""PPO training speed and memory (prints figures; not a test).

    python -m bench.bench_training [--ticker AAPL] [--timesteps N] [--steps-probe N]

1. PPO env-steps/s of one personality (the shipped config: 4 DummyVecEnv copies, one torch thread).
2. Wall time to train the four personalities of one ticker at the shipped budget with 1 process and with
   2 processes (spawned), and the speed-up. Targets: < 5 minutes with 2 processes on 2 cores.
3. Peak RSS of each training process (resource.getrusage in the child). Target: < 1.5 GB.
Everything is written to a temporary folder, never to models/.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time

from core.training import SHIPPED_TIMESTEPS, TrainConfig, train_agent, train_all_agents


def probe_steps_per_second(ticker: str, steps: int) -> float:
    config = TrainConfig(personality="aggressive", ticker=ticker, live=False, data_cache=False, timesteps=steps)
    start = time.perf_counter()
    summary = train_agent(config, save=False)
    elapsed = time.perf_counter() - start
    # the summary's wall time includes the evaluation rollouts; the probe wants PPO alone
    return summary["timesteps"] / min(elapsed, summary["card"]["train_time_s"])


def timed_train_all(ticker: str, timesteps: int, processes: int) -> tuple[float, list[dict]]:
    with tempfile.TemporaryDirectory() as out:
        start = time.perf_counter()
        summaries = train_all_agents(ticker, timesteps=timesteps, processes=processes, out_dir=out, live=False,
                                     data_cache=False)
        return time.perf_counter() - start, summaries


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ticker", default="AAPL")
    parser.add_argument("--timesteps", type=int, default=SHIPPED_TIMESTEPS, help="per personality")
    parser.add_argument("--steps-probe", type=int, default=40_960, help="budget of the env-steps/s probe")
    args = parser.parse_args(argv if argv is not None else [])

    rate = probe_steps_per_second(args.ticker, args.steps_probe)
    print(f"PPO, one personality, 4 envs, 1 torch thread : {rate:>8,.0f} env-steps/s")
    one, _ = timed_train_all(args.ticker, args.timesteps, processes=1)
    print(f"4 personalities x {args.timesteps:,} steps, 1 process   : {one:>8.1f} s")
    two, summaries = timed_train_all(args.ticker, args.timesteps, processes=2)
    print(f"4 personalities x {args.timesteps:,} steps, 2 processes : {two:>8.1f} s  (target < 300 s)")
    print(f"speed-up 2 vs 1 process                      : {one / two:>8.2f}x")
    for s in summaries:
        print(f"  peak RSS {s['personality']:<15} (pid {s['pid']}): {s['peak_rss_mb']:>7.0f} MB  (target < 1,536 MB)")


if __name__ == "__main__":
    main(sys.argv[1:])
