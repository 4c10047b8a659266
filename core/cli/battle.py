"""`python -m core battle`: the agents and the benchmarks on one test window, as a leaderboard or JSON.

    python -m core battle (--ticker T | --csv PATH) [--models DIR | --train-timesteps N]
                          [--split 0.8 | --test-start DATE] [--test-end DATE] [--cost-bps 10]
                          [--in-sample] [--shared-market] [--offline] [--json [PATH]]

Agents: --models DIR reads what `python -m core train --out DIR` wrote (DIR/<TICKER>/<personality>.*);
--train-timesteps N first trains the four personalities on the training part of the data into a
temporary directory; with neither, the shipped/default models directory is tried, and when it has no
agents for the ticker the benchmarks still run (stderr says so). An explicit --models without agents
is an error (exit 2).
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


def _trained_agents(args, frame, provenance, tmp: str, out):
    from core.agents import load_agents
    from core.registry import available_tickers
    from core.training import train_all_agents

    if args.train_timesteps < 1:
        raise UsageError(f"--train-timesteps must be at least 1, got {args.train_timesteps}")
    print(f"training four personalities, {args.train_timesteps:,} steps each ...", file=out)
    processes = 1 if args.train_timesteps <= TINY_BUDGET else 2
    kwargs = {"csv": args.csv} if args.csv else {"ticker": args.ticker, "live": not args.offline}
    train_all_agents(timesteps=args.train_timesteps, out_dir=tmp, processes=processes, **kwargs)
    tickers = available_tickers(tmp)
    if len(tickers) != 1:
        raise UsageError(f"training wrote models for {tickers or 'no ticker'}; expected exactly one")
    return load_agents(tickers[0], models_dir=tmp, data_sha256=provenance.sha256)


def _default_agents(ticker: str, provenance):
    """The models root's agents for `ticker`, or (None, reason) when there are none."""
    from core.agents import load_agents

    try:
        return load_agents(ticker, data_sha256=provenance.sha256), ""
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
    from core.sim import MAX_COST_BPS, Costs

    out = human_stream(args)
    if args.split is not None and not 0.0 < args.split < 1.0:
        raise UsageError(f"--split must be between 0 and 1 (e.g. 0.8), got {args.split}")
    try:
        costs = Costs(commission_bps=args.cost_bps, slippage_bps=0.0)
    except ValueError as exc:
        raise UsageError(f"--cost-bps must be between 0 and {MAX_COST_BPS:g}, got {args.cost_bps:g}") from exc
    frame, provenance = _load_data(args)
    ticker = provenance.ticker
    test_start = args.test_start
    if args.split is not None:  # an explicit split wins over the model cards' dates
        test_start = str(frame["date"].iloc[min(int(len(frame) * args.split), len(frame) - 1)].date())

    reason = ""
    with tempfile.TemporaryDirectory(prefix="neon-battle-") as tmp:
        if args.train_timesteps is not None:
            agents = _trained_agents(args, frame, provenance, tmp, out)
        elif args.models:
            from core.agents import load_agents

            if not Path(args.models).is_dir():
                raise UsageError(f"--models {args.models} is not a directory")
            agents = load_agents(
                _model_ticker(args, provenance), models_dir=args.models, data_sha256=provenance.sha256
            )
        else:
            agents, reason = _default_agents(_model_ticker(args, provenance), provenance)
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
    if reason:  # said after the battle, so that a failing battle prints one error line only
        print(f"no agents found: {reason}; ran the benchmarks only", file=sys.stderr)
    for warning in result.warnings:
        if not (reason and warning.startswith("no agents")):  # already said, with the reason
            print(f"warning: {warning}", file=sys.stderr)
    emit_json(result.to_json_dict(), args.json)
    return 0


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
    )
    rows = []
    for _, m in result.leaderboard().iterrows():
        rows.append(
            (
                m["label"],
                m["kind"],
                _pct(m["total_return"]),
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
            )
        )
    widths = [max(len(str(r[i])) for r in (columns, *rows)) for i in range(len(columns))]
    lines = [header] + ([f"data: {source}"] if source else [])
    lines.append("  ".join(str(c).ljust(w) for c, w in zip(columns, widths, strict=True)))
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    return "\n".join(lines)
