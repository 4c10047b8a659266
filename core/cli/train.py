"""`python -m core train` and `python -m core train-shipped`: PPO training of the personalities.

    python -m core train (--ticker T | --csv PATH) [--personality all|NAME] [--timesteps N]
                         [--seed S | --seeds 0,1,2,3,4] [--processes P] [--out DIR] [--json [PATH]]
    python -m core train-shipped [--timesteps N] [--seeds 0,1,2,3,4] [--tickers AAPL,TSLA,BTC-USD]
                                 [--processes P] [--out DIR] [--json [PATH]]

Models go to <out>/<TICKER>/<personality>/seed<k>.{zip,npz,json} (core.registry); a trained personality's
folder is replaced by the seeds trained together.
"""

from __future__ import annotations

import argparse

from core import PERSONALITIES
from core.cli import UsageError, add_json_option, emit_json, human_stream


def parse_seeds(text: str) -> list[int]:
    """ "0,1,2,3,4" or "0-4" (or a mix: "0-2,7") -> [0, 1, 2, 3, 4]; UsageError for anything else."""
    out: list[int] = []
    try:
        for part in str(text).split(","):
            part = part.strip()
            if "-" in part:
                low, high = (int(x) for x in part.split("-", 1))
                if high < low:
                    raise ValueError
                out.extend(range(low, high + 1))
            else:
                out.append(int(part))
    except ValueError:
        raise UsageError(f"--seeds takes whole numbers like 0,1,2,3,4 or 0-4, got {text!r}") from None
    if any(not 0 <= k < 2**31 for k in out) or len(set(out)) != len(out) or not out:
        raise UsageError(f"--seeds must be distinct whole numbers from 0 to {2**31 - 1}, got {text!r}")
    return out


def add_parser(subparsers) -> None:
    from core.training import SHIPPED_SEEDS, SHIPPED_TICKERS, SHIPPED_TIMESTEPS

    train = subparsers.add_parser(
        "train",
        help="train PPO agents for one ticker or CSV",
        description=(
            "Train one PPO agent per personality and seed; writes models/<TICKER>/<personality>/seed<k>.{zip,npz,json}."
        ),
    )
    source = train.add_mutually_exclusive_group(required=True)
    source.add_argument("--ticker", help="market symbol, e.g. AAPL (live, cached or bundled data)")
    source.add_argument("--csv", help="path of an OHLCV CSV (date,open,high,low,close,volume)")
    train.add_argument(
        "--personality",
        default="all",
        help=f"'all' or one of: {', '.join(PERSONALITIES)} (default: all)",
    )
    _common(train, SHIPPED_TIMESTEPS)
    seeds = train.add_mutually_exclusive_group()
    seeds.add_argument("--seed", type=int, default=0, help="training seed (default 0)")
    seeds.add_argument("--seeds", metavar="LIST", help="several training seeds, e.g. 0,1,2,3,4 or 0-4")
    train.add_argument("--offline", action="store_true", help="never download: cache or bundled data only")
    train.set_defaults(func=run_train)

    shipped = subparsers.add_parser(
        "train-shipped",
        help=f"train the shipped agents ({', '.join(SHIPPED_TICKERS)}, bundled data, seeds "
        f"{','.join(map(str, SHIPPED_SEEDS))})",
    )
    _common(shipped, SHIPPED_TIMESTEPS)
    default_seeds = ",".join(map(str, SHIPPED_SEEDS))
    shipped.add_argument("--seeds", default=default_seeds, metavar="LIST",
                         help=f"training seeds (default {default_seeds})")
    shipped.add_argument("--tickers", default=",".join(SHIPPED_TICKERS), metavar="LIST",
                         help=f"which shipped tickers (default {','.join(SHIPPED_TICKERS)})")
    shipped.set_defaults(func=run_shipped)


def _common(parser: argparse.ArgumentParser, default_timesteps: int) -> None:
    parser.add_argument(
        "--timesteps", type=int, default=default_timesteps, help=f"PPO steps per personality (default {default_timesteps:,})"
    )
    parser.add_argument("--processes", type=int, default=2, help="personalities trained at once (default 2)")
    parser.add_argument("--out", default=None, help="models directory (default: $NEON_MODELS_DIR or ./models)")
    add_json_option(parser)


class _Bar:
    """A tqdm bar driven by the (fraction, message) progress hook.

    Created on the first progress report, so input errors (too little data, ...) print alone, without an
    empty bar above them.
    """

    def __init__(self, stream, total_units: int) -> None:
        self.stream = stream
        self.bar = None
        self.total = total_units

    def __call__(self, fraction: float, message: str) -> None:
        if self.bar is None:
            from tqdm import tqdm

            self.bar = tqdm(total=self.total, file=self.stream, unit="step", unit_scale=True, dynamic_ncols=True)
        target = int(round(fraction * self.total))
        if target > self.bar.n:
            self.bar.update(target - self.bar.n)
        self.bar.set_postfix_str(message, refresh=False)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _check_budget(args) -> None:
    if args.timesteps < 1:
        raise UsageError(f"--timesteps must be at least 1, got {args.timesteps}")
    if args.processes < 1:
        raise UsageError(f"--processes must be at least 1, got {args.processes}")


def run_train(args) -> int:
    from core.personalities import resolve_personalities
    from core.training import train_all_agents

    _check_budget(args)
    names = [p.name for p in resolve_personalities(args.personality)]
    seeds = parse_seeds(args.seeds) if args.seeds else [args.seed]
    stream = human_stream(args)
    bar = _Bar(stream, args.timesteps * len(names) * len(seeds))
    try:
        summaries = train_all_agents(
            args.ticker,
            csv=args.csv,
            timesteps=args.timesteps,
            seeds=seeds,
            personalities=names,
            out_dir=args.out,
            processes=args.processes,
            progress=bar,
            live=not args.offline,
        )
    finally:
        bar.close()
    print(summary_table(summaries), file=stream)
    emit_json({"command": "train", "agents": summaries}, args.json)
    return 0


def run_shipped(args) -> int:
    import time

    from core.training import SHIPPED_TICKERS, train_all_agents

    _check_budget(args)
    seeds = parse_seeds(args.seeds)
    tickers = [t.strip().upper() for t in args.tickers.split(",") if t.strip()]
    unknown = [t for t in tickers if t not in SHIPPED_TICKERS]
    if unknown or not tickers:
        raise UsageError(f"--tickers must name shipped tickers ({', '.join(SHIPPED_TICKERS)}), got {args.tickers!r}")
    stream = human_stream(args)
    summaries = []
    start = time.perf_counter()
    for ticker in tickers:
        print(f"training {ticker}: {len(PERSONALITIES)} personalities x {len(seeds)} seeds ...", file=stream)
        bar = _Bar(stream, args.timesteps * len(PERSONALITIES) * len(seeds))
        try:
            summaries.extend(
                train_all_agents(
                    ticker, timesteps=args.timesteps, seeds=seeds, out_dir=args.out, processes=args.processes,
                    progress=bar, live=False, data_cache=False,
                )
            )
        finally:
            bar.close()
    wall = time.perf_counter() - start
    print(summary_table(summaries), file=stream)
    print(f"trained {len(summaries)} agents in {wall:.1f} s", file=stream)
    emit_json({"command": "train-shipped", "seeds": seeds, "tickers": tickers, "wall_time_s": round(wall, 2),
               "agents": summaries}, args.json)
    return 0


def summary_table(summaries: list[dict]) -> str:
    """Fixed-width table: one row per trained agent, in-sample and out-of-sample vs buy-and-hold."""
    head = (
        f"{'ticker':<8} {'personality':<15} {'seed':>4} {'steps':>8} {'wall s':>7} | {'IS ret':>8} {'IS B&H':>8} | "
        f"{'OOS ret':>8} {'OOS B&H':>8} {'OOS MDD':>8} {'expo':>5} {'trades':>6}"
    )
    lines = [head, "-" * len(head)]
    for s in summaries:
        ins, oos = s["in_sample"], s["out_of_sample"]
        lines.append(
            f"{s['ticker']:<8} {s['personality']:<15} {s.get('seed', 0):>4} {s['timesteps']:>8,} {s['wall_time_s']:>7.1f} | "
            f"{ins['total_return']:>+8.1%} {ins['buy_hold_return']:>+8.1%} | "
            f"{oos['total_return']:>+8.1%} {oos['buy_hold_return']:>+8.1%} {oos['max_drawdown']:>8.1%} "
            f"{oos['exposure']:>5.2f} {oos['trades']:>6}"
        )
    return "\n".join(lines)
