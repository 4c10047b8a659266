"""`python -m core risk`: VaR, CVaR, the VaR backtest and drawdowns of one asset's daily close-to-close returns.

    python -m core risk (--ticker T | --csv PATH) [--start DATE] [--end DATE] [--window 250] [--offline]
                        [--json [PATH]]

Returns are close[t] / close[t-1] - 1 over the data's bars (core.risk's conventions: VaR and CVaR are
positive loss fractions). The JSON holds the historical `var_95`, `cvar_95`, `var_99`, `cvar_99` at the
top, the same four keys under `parametric` and `cornish_fisher`, `ten_day` (historical, square-root-of-time
scaled, with its label), `backtest` keyed "99" and "95" (rolling one-day-ahead historical VaR over
`window` returns: level, window, observations, exceptions, expected, kupiec {lr, p_value},
christoffersen {lr_ind, p_ind, lr_cc, p_cc, n00, n01, n10, n11}, exception_dates, verdict),
`traffic_light` (exceptions and zone over the last 250 days at 99%), `distribution`, `worst_drawdowns`
(of the close), and the data's ticker, source, sha256, start and end.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from core.cli import UsageError, add_json_option, emit_json, human_stream

LEVELS = (0.95, 0.99)


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "risk",
        help="VaR / CVaR, VaR backtest and drawdowns of an asset's daily returns",
        description=(
            "Value at Risk and expected shortfall at 95%% and 99%% (historical, Gaussian, Cornish-Fisher), "
            "a rolling one-day-ahead VaR backtest (Kupiec, Christoffersen, Basel traffic light), the "
            "return distribution and the worst drawdowns of an asset's daily close-to-close returns."
        ),
    )
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--ticker", help="market symbol, e.g. AAPL (live, cached or bundled data)")
    source.add_argument("--csv", metavar="PATH", help="path of an OHLCV CSV (date,open,high,low,close,volume)")
    parser.add_argument("--start", metavar="YYYY-MM-DD", help="first date to keep (inclusive)")
    parser.add_argument("--end", metavar="YYYY-MM-DD", help="last date to keep (inclusive)")
    parser.add_argument("--window", type=int, default=250,
                        help="returns in each backtest VaR estimate (default 250; at least 20)")
    parser.add_argument("--offline", action="store_true", help="never download: cache or bundled data only")
    add_json_option(parser)
    parser.set_defaults(func=run)


def _returns(args):
    import pandas as pd

    from core.data import load_ohlcv, periods_per_year

    if args.window < 20:
        raise UsageError(f"--window must be at least 20 returns, got {args.window}")
    if args.csv:
        source = Path(args.csv)
        if not source.is_file():
            raise UsageError(f"--csv {args.csv}: no such file")
        frame, provenance = load_ohlcv(source, args.start, args.end, min_rows=1)
    else:
        frame, provenance = load_ohlcv(args.ticker, args.start, args.end, live=not args.offline, min_rows=1)
    close = pd.Series(frame["close"].to_numpy(dtype=float), index=pd.DatetimeIndex(frame["date"]))
    returns = close.pct_change().iloc[1:]
    need = args.window + 1
    if len(returns) < need:
        what = f"{args.csv}" if args.csv else provenance.ticker
        raise UsageError(
            f"{what} is too short: {len(frame)} rows give {len(returns)} daily returns; the risk report needs "
            f"at least {need} ({args.window} for the VaR backtest window plus one day to test; "
            "a smaller --window needs fewer)"
        )
    ppy = max(periods_per_year(provenance), periods_per_year(frame))  # a ticker's name or a CSV's weekends
    return close, returns, provenance, ppy


def report(close, returns, provenance, window: int = 250, periods_per_year: int = 252) -> dict:
    """The JSON payload of `python -m core risk` (module docstring), JSON-safe."""
    from core import risk
    from core.risk_report import backtest_json, level_key

    figures = {m: {} for m in risk.METHODS}
    for method in risk.METHODS:
        for level in LEVELS:
            res = risk.var_cvar(returns, level, method)
            figures[method][f"var_{level_key(level)}"] = res.var
            figures[method][f"cvar_{level_key(level)}"] = res.cvar
    ten_day = {key: risk.scale_to_horizon(value, 10)[0] for key, value in figures["historical"].items()}
    backtests = risk.var_backtests(returns, levels=(0.99, 0.95), window=window)
    light = backtests[0.99].traffic_light
    payload = {
        "ticker": provenance.ticker, "source": provenance.source, "label": provenance.label,
        "sha256": provenance.sha256, "start": provenance.start.isoformat(), "end": provenance.end.isoformat(),
        "rows": int(close.size), "n_returns": int(returns.size),
        **figures["historical"],
        "parametric": figures["parametric"], "cornish_fisher": figures["cornish_fisher"],
        "ten_day": {"label": risk.scale_to_horizon(1.0, 10)[1], **ten_day},
        "backtest": {},
        "traffic_light": {"exceptions": light["exceptions"], "zone": light["zone"], "days": light["days"],
                          "level": 0.99, "note": light["note"]},
        "periods_per_year": periods_per_year,
        "distribution": risk.distribution_stats(returns, periods_per_year=periods_per_year),
        "worst_drawdowns": risk.worst_drawdowns(close, 5).to_dict(orient="records"),
    }
    for level, bt in backtests.items():
        entry = backtest_json(bt)
        entry.pop("var")  # the per-day forecasts stay out of the CLI's JSON
        payload["backtest"][level_key(level)] = entry
    from core.arena.results import _json_safe

    return _json_safe(payload)


def _pct(value) -> str:
    return "n/a" if value is None else f"{100 * value:.2f}%"


def report_text(payload: dict) -> str:
    """The report as plain text for the terminal."""
    lines = [f"{payload['ticker']}  {payload['start']} to {payload['end']}  {payload['n_returns']:,} daily "
             f"returns  ({payload['label']}, sha256 {payload['sha256'][:12]})",
             "", "1-day loss (positive = loss)    VaR 95    CVaR 95    VaR 99    CVaR 99"]
    for name, figures in (("Historical", payload), ("Gaussian", payload["parametric"]),
                          ("Cornish-Fisher", payload["cornish_fisher"]),
                          ("Historical, 10-day*", payload["ten_day"])):
        lines.append(f"  {name:<29}" + "".join(f"{_pct(figures[k]):>10} " for k in
                                                 ("var_95", "cvar_95", "var_99", "cvar_99")))
    lines.append(f"  * {payload['ten_day']['label']}")
    lines += ["", f"VaR backtest (one day ahead, historical VaR of the previous "
                  f"{payload['backtest']['99']['window']} returns):"]
    lines += [f"  {payload['backtest'][k]['verdict']}" for k in ("99", "95")]
    d = payload["distribution"]
    lines += ["", f"Returns: mean {_pct(d['mean'])}, volatility {_pct(d['volatility'])} a day "
                  f"({_pct(d['volatility_annualised'])} a year), skew {_fmt(d['skew'])}, excess kurtosis "
                  f"{_fmt(d['excess_kurtosis'])}; best day {_pct(d['best'])} on {d['best_date']}, worst "
                  f"{_pct(d['worst'])} on {d['worst_date']}"]
    lines += ["", "Worst drawdowns of the close:", "  depth     peak        trough      recovery    bars"]
    for row in payload["worst_drawdowns"]:
        lines.append(f"  {_pct(row['depth']):<9} {row['peak']:<11} {row['trough']:<11} {row['recovery']:<11} "
                     f"{row['length']}")
    return "\n".join(lines)


def _fmt(value) -> str:
    return "n/a" if value is None else f"{value:.2f}"


def run(args: argparse.Namespace) -> int:
    close, returns, provenance, ppy = _returns(args)
    payload = report(close, returns, provenance, args.window, ppy)
    print(report_text(payload), file=human_stream(args))
    emit_json(payload, args.json)
    return 0
