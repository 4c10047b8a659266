"""`make models` wall time and the size of the set it ships (prints figures; not a test).

    python -m bench.bench_models [--timesteps N] [--seeds 0,1,2,3,4] [--processes P]

Runs what `make models` runs (`python -m core train-shipped`: 4 personalities x 5 seeds x AAPL, TSLA,
BTC-USD, 150,000 PPO steps each, bundled data) into a temporary folder, never into models/, and prints
the wall time (target < 10 minutes on 2 cores) and the size of the files (target < 30 MB).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from core.training import SHIPPED_SEEDS, SHIPPED_TICKERS, SHIPPED_TIMESTEPS


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timesteps", type=int, default=SHIPPED_TIMESTEPS)
    parser.add_argument("--seeds", default=",".join(map(str, SHIPPED_SEEDS)))
    parser.add_argument("--processes", type=int, default=2)
    args = parser.parse_args(argv if argv is not None else [])
    with tempfile.TemporaryDirectory() as out:
        command = [sys.executable, "-m", "core", "train-shipped", "--timesteps", str(args.timesteps), "--seeds",
                   args.seeds, "--processes", str(args.processes), "--out", out]
        start = time.perf_counter()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wall = time.perf_counter() - start
        files = [p for p in Path(out).rglob("*") if p.is_file()]
        size = sum(p.stat().st_size for p in files)
    n_seeds = len(args.seeds.split(","))
    agents = len(SHIPPED_TICKERS) * 4 * n_seeds
    print(f"make models ({len(SHIPPED_TICKERS)} tickers x 4 personalities x {n_seeds} seeds = {agents} agents, "
          f"{args.timesteps:,} steps each, {args.processes} processes): {wall:.0f} s = {wall / 60:.1f} min "
          f"(target < 10 min: {'OK' if wall < 600 else 'MISSED'}); {agents * args.timesteps / wall:,.0f} env-steps/s")
    print(f"shipped set: {len(files)} files, {size / 1e6:.1f} MB (target < 30 MB: {'OK' if size < 30e6 else 'MISSED'})")


if __name__ == "__main__":
    main(sys.argv[1:])
