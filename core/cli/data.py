"""`python -m core data TICKER | --csv PATH`: load and validate market data, print where it came from.

Examples::

    python -m core data AAPL --offline
    python -m core data BTC-USD --start 2020-01-01 --end 2021-12-31 --json
    python -m core data --csv my_prices.csv --json out/prices.json
"""

from __future__ import annotations

import argparse
from pathlib import Path

from core.cli import UsageError, add_json_option, emit_json, human_stream


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "data",
        help="load and validate daily OHLCV data (live, cached, bundled or a CSV)",
        description="Load daily OHLCV data for a ticker (live -> cached copy -> bundled snapshot) or a CSV "
        "file, validate it and print its rows, date range, source and sha256.",
    )
    parser.add_argument("ticker", nargs="?", help="ticker symbol, e.g. AAPL, TSLA, BTC-USD")
    parser.add_argument("--csv", metavar="PATH", help="read this OHLCV CSV file instead of a ticker")
    parser.add_argument("--start", metavar="YYYY-MM-DD", help="first date to keep (inclusive)")
    parser.add_argument("--end", metavar="YYYY-MM-DD", help="last date to keep (inclusive)")
    parser.add_argument(
        "--offline", action="store_true", help="no live download: cached copy or bundled data"
    )
    add_json_option(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from core.data import load_ohlcv  # lazy: keeps `python -m core --help` fast

    if args.ticker and args.csv:
        raise UsageError("give either a TICKER or --csv PATH, not both")
    if not args.ticker and not args.csv:
        raise UsageError("give a TICKER (e.g. AAPL) or --csv PATH")
    source = Path(args.csv) if args.csv else args.ticker
    _, prov = load_ohlcv(source, args.start, args.end, live=not args.offline)

    line = (
        f"{prov.ticker}: {prov.rows} rows, {prov.start} to {prov.end}, {prov.label}, "
        f"sha256 {prov.sha256[:12]}"
    )
    if prov.note:
        line += f" (note: {prov.note})"
    print(line, file=human_stream(args))
    emit_json(
        {
            "ticker": prov.ticker,
            "rows": prov.rows,
            "start": prov.start.isoformat(),
            "end": prov.end.isoformat(),
            "source": prov.source,
            "label": prov.label,
            "sha256": prov.sha256,
            "fetched_at": prov.fetched_at.isoformat() if prov.fetched_at else None,
            "note": prov.note,
        },
        args.json,
    )
    return 0
