"""PPO training speed, old path against new path in the same run, and the quality each reaches (prints
figures; not a test).

    python -m bench.bench_training [--ticker AAPL] [--timesteps N] [--quality-seeds S] [--processes P]

Old path: core.training.LEGACY_PPO (an SB3 DummyVecEnv of 4 Supersuit-wrapped PersonalityEnv copies, n_steps
256, batch 256, 5 epochs: the settings before issue #11). New path: TrainConfig's defaults (core.vecenv.
ArenaVecEnv: 64 windows in one numpy call per step over BatchArena; see TrainConfig for each setting).

1. Wall time and env-steps/s of four personalities x N steps (default 150,000) with P processes (default 2,
   spawned, as `make models`), old then new, and the ratio (target >= 3x). Peak RSS of each process.
2. Quality without touching the test window: the data is cut at the test window's first bar (the arena's
   out-of-sample window is never loaded), and the last 20% of what is left (the end of the training
   period) is a validation slice that neither path trains on. Each personality's mean shaped reward per
   step on it (deterministic policy, with costs) for both paths at the same step count, averaged over S
   seeds (default 5; seed 0 is the timed run), with the seeds' spread: one seed's reward varies by about
   0.01 from seed to seed, so a difference of means below twice its standard error is within that noise.
Everything is written to temporary folders, never to models/.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time

from core import PERSONALITIES
from core.training import LEGACY_PPO, SHIPPED_TIMESTEPS, split_by_date, train_all_agents

VALIDATION_FRACTION = 0.2
"""Share of the training period (its end) held out as the validation slice."""
PATHS = {"old": LEGACY_PPO, "new": {}}


def training_period(ticker: str):
    """(frame of the training period only, provenance): the bundled data cut before the test window."""
    from core.data import load_ohlcv
    from core.indicators import add_indicators

    frame, provenance = load_ohlcv(ticker, live=False, use_cache=False)
    split = split_by_date(add_indicators(frame))
    return frame.iloc[: split.test[0]].reset_index(drop=True), provenance


def train(frame, provenance, ticker: str, path: str, timesteps: int, seed: int, processes: int):
    """(wall seconds, summaries) of the four personalities of one seed on one path."""
    with tempfile.TemporaryDirectory() as out:
        start = time.perf_counter()
        summaries = train_all_agents(ticker, frame=frame, provenance=provenance, timesteps=timesteps, seed=seed,
                                     processes=processes, out_dir=out, live=False,
                                     test_fraction=VALIDATION_FRACTION, **PATHS[path])
        return time.perf_counter() - start, summaries


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ticker", default="AAPL")
    parser.add_argument("--timesteps", type=int, default=SHIPPED_TIMESTEPS, help="per personality")
    parser.add_argument("--quality-seeds", type=int, default=5, help="seeds of the validation comparison")
    parser.add_argument("--processes", type=int, default=2)
    args = parser.parse_args(argv if argv is not None else [])

    from core.indicators import add_indicators

    frame, provenance = training_period(args.ticker)
    split = split_by_date(add_indicators(frame), VALIDATION_FRACTION)
    dates = frame["date"]
    print(f"data: {args.ticker} {provenance.label}, cut before the test window: {dates.iloc[0]} to {dates.iloc[-1]}; "
          f"trained on {split.train[1] - split.train[0]} bars, validation slice {dates.iloc[split.test[0]]} to "
          f"{dates.iloc[-1]} ({split.test[1] - split.test[0]} bars, never trained on)")
    steps = 4 * args.timesteps
    wall, rewards, rss = {}, {p: {n: [] for n in PERSONALITIES} for p in PATHS}, {}
    for seed in range(args.quality_seeds):
        for path in PATHS:
            seconds, summaries = train(frame, provenance, args.ticker, path, args.timesteps, seed, args.processes)
            for s in summaries:
                rewards[path][s["personality"]].append(s["out_of_sample"]["mean_reward"])
            if seed == 0:
                wall[path] = seconds
                rss[path] = summaries
                print(f"{path} path: 4 personalities x {args.timesteps:,} steps, {args.processes} processes: "
                      f"{seconds:7.1f} s  ({steps / seconds:>8,.0f} env-steps/s)", flush=True)
        if seed == 0:
            ratio = wall["old"] / wall["new"]
            print(f"speed-up new vs old (same run): {ratio:.2f}x  (target >= 3x: {'OK' if ratio >= 3 else 'MISSED'})")
            for path, summaries in rss.items():
                peaks = ", ".join(f"{s['personality']} {s['peak_rss_mb']:.0f}" for s in summaries)
                print(f"  peak RSS MB, {path} path: {peaks}")
    print(f"validation mean reward per step (shaped, with costs) over seeds 0-{args.quality_seeds - 1}: "
          "mean +- standard deviation of the seeds; new - old with its standard error:")
    lower = []
    for name in PERSONALITIES:
        old, new = rewards["old"][name], rewards["new"][name]
        diff = statistics.mean(new) - statistics.mean(old)
        se = _standard_error(old, new)
        verdict = "not lower" if diff >= 0 else ("lower, within seed noise" if -diff < 2 * se else "LOWER")
        if diff < 0:
            lower.append(name)
        print(f"  {name:<15} old {statistics.mean(old):+.4f} +- {_sd(old):.4f}  new {statistics.mean(new):+.4f} +- "
              f"{_sd(new):.4f}  diff {diff:+.4f} (se {se:.4f})  {verdict}")
        print(f"  {'':<15} per seed old {', '.join(f'{v:.4f}' for v in old)} | new {', '.join(f'{v:.4f}' for v in new)}")
    print("new mean not lower than old for every personality: " + ("yes" if not lower else f"no ({', '.join(lower)})"))


def _sd(values: list[float]) -> float:
    return statistics.stdev(values) if len(values) > 1 else float("nan")


def _standard_error(old: list[float], new: list[float]) -> float:
    """Standard error of a difference of two means (independent seeds)."""
    return (_sd(old) ** 2 / len(old) + _sd(new) ** 2 / len(new)) ** 0.5


if __name__ == "__main__":
    main(sys.argv[1:])
