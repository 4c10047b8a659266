"""`python -m core battle`: the agents and the benchmarks on one test window, as a leaderboard or JSON.

    python -m core battle (--ticker T | --csv PATH) [--models DIR | --train-timesteps N] [--seeds LIST]
                          [--split 0.8 | --test-start DATE | --walk-forward K] [--test-end DATE]
                          [--cost-bps 10] [--in-sample] [--shared-market] [--offline] [--json [PATH]]

Agents: --models DIR reads what `python -m core train --out DIR` wrote (DIR/<TICKER>/<personality>/seed<k>.*);
--train-timesteps N first trains the four personalities on the training part of the data into a
temporary directory (once per seed of --seeds, default seed 0); with neither, the shipped/default models
directory is tried, and when it has no agents for the ticker the benchmarks still run (stderr says so).
An explicit --models without agents is an error (exit 2). Every seed battles (--seeds picks some); each
agent is shown by its median seed (by total return), with the range over its seeds, how many seeds beat
buy-and-hold, the bootstrap p-value of its Sharpe ratio against buy-and-hold's, a trivial-policy flag, and
the deflated Sharpe ratio of the best agent x seed.

--walk-forward K: retrain on each expanding window and battle on the next block, K blocks (budget
--train-timesteps, default the shipped 150,000 steps; seeds --seeds, default 0); a table per fold next to
buy-and-hold, and the folds in the JSON.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from core.cli import UsageError, add_json_option, emit_json, human_stream

DEFAULT_COST_BPS = 10.0
"""Total cost per fill: the app's default 10 bps commission + 5 bps slippage, charged here as commission."""
TINY_BUDGET = 2048
"""At or below this many timesteps per personality, train in this process (spawning costs more)."""


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "battle",
        help="battle the agents against the benchmarks on the test window",
        description=(
            "Run the four agents and the benchmarks (buy-and-hold, cash, SMA 20/50 crossover, RSI 30/70) on "
            "one window with the same costs, and print a leaderboard. Default window: the agents' "
            "out-of-sample period from their model cards, else the last 20%% of bars."
        ),
    )
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--ticker", help="market symbol, e.g. AAPL (live, cached or bundled data)")
    source.add_argument("--csv", help="path of an OHLCV CSV (date,open,high,low,close,volume)")
    agents = parser.add_mutually_exclusive_group()
    agents.add_argument(
        "--models", metavar="DIR", help="models directory written by `python -m core train --out DIR`"
    )
    agents.add_argument(
        "--train-timesteps",
        type=int,
        metavar="N",
        help="first train the four personalities (N PPO steps each) on the training part, then battle",
    )
    window = parser.add_mutually_exclusive_group()
    window.add_argument(
        "--split",
        type=float,
        help="fraction of bars before the test window, e.g. 0.8 (default: the model cards')",
    )
    window.add_argument("--test-start", metavar="DATE", help="first date of the test window (YYYY-MM-DD)")
    window.add_argument(
        "--walk-forward",
        type=int,
        metavar="K",
        help="retrain on each expanding window and battle on the next block, K blocks",
    )
    parser.add_argument(
        "--seeds",
        metavar="LIST",
        help="training seeds, e.g. 0,1,2,3,4 or 0-4: which seeds to battle (default: all the models "
        "directory has), or to train with --train-timesteps / --walk-forward (default 0)",
    )
    parser.add_argument("--test-end", metavar="DATE", help="last date of the test window (default: last bar)")
    parser.add_argument(
        "--cost-bps",
        type=float,
        default=DEFAULT_COST_BPS,
        help=(
            "total cost per fill in basis points, charged as commission on the traded notional with no "
            "separate slippage, i.e. Costs(commission_bps=COST, slippage_bps=0) "
            f"(default {DEFAULT_COST_BPS:g}, as in the issue's usage line; the web app's default is 10 "
            "commission + 5 slippage = 15)"
        ),
    )
    parser.add_argument(
        "--in-sample", action="store_true", help="battle on the agents' training period instead"
    )
    parser.add_argument(
        "--shared-market", action="store_true", help="the agents' net order flow moves their fill prices"
    )
    parser.add_argument("--offline", action="store_true", help="never download: cache or bundled data only")
    add_json_option(parser)
    parser.set_defaults(func=run)


def _load_data(args):
    from core.data import load_ohlcv

    if args.csv:
        return load_ohlcv(Path(args.csv))
    return load_ohlcv(args.ticker, live=not args.offline)


def _trained_agents(args, frame, provenance, tmp: str, out, seeds: list[int]):
    from core.agents import load_agent_seeds
    from core.registry import available_tickers
    from core.training import train_all_agents

    if args.train_timesteps < 1:
        raise UsageError(f"--train-timesteps must be at least 1, got {args.train_timesteps}")
    which = f"seed {seeds[0]}" if len(seeds) == 1 else f"seeds {','.join(map(str, seeds))}"
    print(f"training four personalities, {args.train_timesteps:,} steps each, {which} ...", file=out)
    processes = 1 if args.train_timesteps * len(seeds) <= TINY_BUDGET else 2
    kwargs = {"csv": args.csv} if args.csv else {"ticker": args.ticker, "live": not args.offline}
    train_all_agents(timesteps=args.train_timesteps, seeds=seeds, out_dir=tmp, processes=processes, **kwargs)
    tickers = available_tickers(tmp)
    if len(tickers) != 1:
        raise UsageError(f"training wrote models for {tickers or 'no ticker'}; expected exactly one")
    return load_agent_seeds(tickers[0], models_dir=tmp, data_sha256=provenance.sha256)


def _default_agents(ticker: str, provenance, seeds):
    """The models root's agents for `ticker` (every seed, or `seeds`), or (None, reason) when there are none."""
    from core.agents import load_agent_seeds

    try:
        return load_agent_seeds(ticker, data_sha256=provenance.sha256, seeds=seeds), ""
    except ValueError as exc:  # core.registry.ModelMissing / ModelCorrupt / a ticker the registry refuses
        return None, str(exc)


def _model_ticker(args, provenance) -> str:
    if args.ticker:
        return provenance.ticker
    # A CSV's models are filed under its cleaned, upper-cased stem (core.training._ticker_for's rule).
    stem = Path(args.csv).stem.upper()
    cleaned = "".join(ch if ch.isalnum() or ch in ".-_" else "_" for ch in stem)[:32]
    return cleaned.lstrip("._-") or "CSV"


def run(args: argparse.Namespace) -> int:
    from core.arena import run_battle
    from core.cli.train import parse_seeds
    from core.sim import MAX_COST_BPS, Costs

    out = human_stream(args)
    if args.split is not None and not 0.0 < args.split < 1.0:
        raise UsageError(f"--split must be between 0 and 1 (e.g. 0.8), got {args.split}")
    try:
        costs = Costs(commission_bps=args.cost_bps, slippage_bps=0.0)
    except ValueError as exc:
        raise UsageError(f"--cost-bps must be between 0 and {MAX_COST_BPS:g}, got {args.cost_bps:g}") from exc
    seeds = parse_seeds(args.seeds) if args.seeds else None
    if args.walk_forward is not None:
        return run_walk_forward(args, costs, seeds or [0], out)
    frame, provenance = _load_data(args)
    ticker = provenance.ticker
    test_start = args.test_start
    if args.split is not None:  # an explicit split wins over the model cards' dates
        test_start = str(frame["date"].iloc[min(int(len(frame) * args.split), len(frame) - 1)].date())

    reason = ""
    with tempfile.TemporaryDirectory(prefix="neon-battle-") as tmp:
        if args.train_timesteps is not None:
            agents = _trained_agents(args, frame, provenance, tmp, out, seeds or [0])
        elif args.models:
            from core.agents import load_agent_seeds

            if not Path(args.models).is_dir():
                raise UsageError(f"--models {args.models} is not a directory")
            agents = load_agent_seeds(
                _model_ticker(args, provenance), models_dir=args.models, data_sha256=provenance.sha256, seeds=seeds
            )
        else:
            agents, reason = _default_agents(_model_ticker(args, provenance), provenance, seeds)
        result = run_battle(
            frame,
            ticker=ticker,
            provenance=provenance,
            test_start=test_start,
            test_end=args.test_end,
            costs=costs,
            agents=agents,
            shared_market=args.shared_market,
            in_sample=args.in_sample,
        )
    print(leaderboard_text(result), file=out)
    for line in significance_lines(result):
        print(line, file=out)
    if reason:  # said after the battle, so that a failing battle prints one error line only
        print(f"no agents found: {reason}; ran the benchmarks only", file=sys.stderr)
    for warning in result.warnings:
        if not (reason and warning.startswith("no agents")):  # already said, with the reason
            print(f"warning: {warning}", file=sys.stderr)
    emit_json(result.to_json_dict(), args.json)
    return 0


def _present(value) -> bool:
    return value is not None and value == value


def _pct(value) -> str:
    return "n/a" if value is None or value != value else f"{100 * value:+.1f}%"


def _num(value, digits: int = 2) -> str:
    if value is None or value != value:
        return "n/a"
    if value in (float("inf"), float("-inf")):
        return "inf" if value > 0 else "-inf"
    return f"{value:.{digits}f}"


def leaderboard_text(result) -> str:
    """The battle as a plain-text leaderboard (best total return first)."""
    header = (
        f"{result.ticker}  {result.test_start} to {result.test_end}  "
        f"({result.sample}, {len(result.dates)} bars, "
        f"{result.cost_bps:g} bps per fill)"
    )
    source = result.provenance.get("label") or result.provenance.get("source") or ""
    columns = (
        "contestant",
        "kind",
        "return",
        "seeds: return range",
        "> B&H seeds",
        "CAGR",
        "Sharpe [95% CI]",
        "Sortino",
        "max DD",
        "Calmar",
        "win",
        "fills",
        "exposure",
        "VaR95",
        "CVaR95",
        "> B&H",
        "p vs B&H",
    )
    rows = []
    for _, m in result.leaderboard().iterrows():
        agent = m["kind"] == "agent" and _present(m.get("seeds"))
        rows.append(
            (
                m["label"],
                m["kind"],
                _pct(m["total_return"]),
                f"[{_pct(m['total_return_min'])}, {_pct(m['total_return_max'])}]" if agent else "",
                f"{int(m['seeds_beating_buy_and_hold'])}/{int(m['seeds'])}" if agent else "",
                _pct(m["cagr"]),
                f"{_num(m['sharpe'])} [{_num(m['sharpe_ci_low'])}, {_num(m['sharpe_ci_high'])}]",
                _num(m["sortino"]),
                _pct(m["max_drawdown"]),
                _num(m["calmar"]),
                _pct(m["win_rate"]).lstrip("+"),
                str(int(m["trades"])),
                _pct(m["exposure"]).lstrip("+"),
                _pct(m["var_95"]).lstrip("+"),
                _pct(m["cvar_95"]).lstrip("+"),
                "yes" if m["beats_buy_and_hold"] else "",
                _num(m.get("p_value_vs_buy_and_hold")) if m["kind"] == "agent" else "",
            )
        )
    widths = [max(len(str(r[i])) for r in (columns, *rows)) for i in range(len(columns))]
    lines = [header] + ([f"data: {source}"] if source else [])
    lines.append("  ".join(str(c).ljust(w) for c, w in zip(columns, widths, strict=True)))
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    return "\n".join(lines)


def significance_lines(result) -> list[str]:
    """The sentences under the leaderboard: which seed each agent shows, trivial policies, the deflated
    Sharpe ratio of the best try."""
    lines = []
    agents = [c for c in result.contestants if c.kind == "agent"]
    if not agents:
        return lines
    seeds = [f"{c.label} seed {c.representative_seed}" for c in agents if c.representative_seed is not None]
    if seeds:
        lines.append("each agent shows its median seed by total return: " + ", ".join(seeds))
    for c in agents:
        if c.seed_stats:
            lines.append(f"{c.label}: {c.seed_stats['label']}")
        if c.trivial.get("sentence"):
            lines.append(c.trivial["sentence"])
    if result.deflated_sentence:
        lines.append(result.deflated_sentence)
    return lines


def run_walk_forward(args, costs, seeds: list[int], out) -> int:
    """`--walk-forward K`: train and battle every fold; a table per fold and agent next to buy-and-hold."""
    from core.arena.walkforward import walk_forward
    from core.training import SHIPPED_TIMESTEPS, csv_ticker

    if args.walk_forward < 1:
        raise UsageError(f"--walk-forward must be at least 1, got {args.walk_forward}")
    if args.models or args.in_sample or args.test_end:
        raise UsageError("--walk-forward retrains on each window: it takes neither --models, --in-sample nor --test-end")
    timesteps = SHIPPED_TIMESTEPS if args.train_timesteps is None else args.train_timesteps
    if timesteps < 1:
        raise UsageError(f"--train-timesteps must be at least 1, got {timesteps}")
    frame, provenance = _load_data(args)
    ticker = provenance.ticker if args.ticker else csv_ticker(args.csv)
    processes = 1 if timesteps * len(seeds) <= TINY_BUDGET else 2
    print(f"walk-forward: {args.walk_forward} folds, four personalities x {len(seeds)} seed(s), {timesteps:,} steps "
          "each per fold ...", file=out)
    result = walk_forward(frame, ticker=ticker, n_folds=args.walk_forward, provenance=provenance,
                          timesteps=timesteps, seeds=seeds, costs=costs, processes=processes,
                          shared_market=args.shared_market)
    print(walk_forward_text(result), file=out)
    emit_json(result.to_json_dict(), args.json)
    return 0


def walk_forward_text(result) -> str:
    """One row per fold: the test block, buy-and-hold, each agent's median seed [range over seeds]."""
    names = [c for c in result.folds[0].result.contestants if c.kind == "agent"]
    header = ["fold", "test block", "bars", "Buy & Hold"] + [c.label for c in names]
    rows = []
    for f in result.folds:
        res = f.result
        row = [str(f.fold), f"{f.test['start']} to {f.test['end']}", str(f.test["bars"]),
               _pct(res.contestant("buy_and_hold").metrics["total_return"])]
        for c in names:
            m = res.contestant(c.name).metrics
            mark = "*" if m["beats_buy_and_hold"] else ""
            spread = f" [{_pct(m['total_return_min'])}, {_pct(m['total_return_max'])}]" if int(m["seeds"]) > 1 else ""
            row.append(f"{_pct(m['total_return'])}{mark}{spread}")
        rows.append(row)
    summary = result.summary()
    rows.append(["", "beats B&H (median seed)", "", ""] +
                [f"{summary[c.name]['beats']} of {summary[c.name]['folds']} folds" for c in names])
    widths = [max(len(r[i]) for r in (header, *rows)) for i in range(len(header))]
    lines = [f"{result.ticker} walk-forward: {len(result.folds)} folds, {result.timesteps:,} steps x "
             f"{len(result.seeds)} seed(s) per personality and fold, {result.costs.total_bps:g} bps per fill "
             "(* = median seed beats buy-and-hold; [lowest, highest] over the seeds)"]
    lines.append("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)) for r in rows]
    return "\n".join(lines)
