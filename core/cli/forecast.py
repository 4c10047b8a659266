"""`python -m core forecast`: the LSTM's price forecast with its band, the baselines and the backtest.

    python -m core forecast (--ticker T | --csv PATH) [--horizon 30] [--epochs N] [--seed S]
                            [--offline] [--cache-dir DIR | --no-cache] [--json [PATH]]

Data loads like the other commands (a ticker: live -> cached copy -> bundled snapshot; --offline skips
the download). Results are cached per (data, settings) in data/cache/forecast/ unless --no-cache.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

from core.cli import UsageError, add_json_option, emit_json, human_stream


def add_parser(subparsers) -> None:
    from core.forecast.config import MAX_HORIZON, ForecastConfig

    defaults = ForecastConfig()
    parser = subparsers.add_parser(
        "forecast",
        help="forecast the next days with an LSTM, judged against naive, drift and linear baselines",
        description=(
            "Fit an LSTM on daily log returns, backtest it and the baselines at rolling origins on the end "
            "of the data (out-of-sample), calibrate an 80%/95% band, and forecast past the last bar."
        ),
    )
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--ticker", help="market symbol, e.g. AAPL (live, cached or bundled data)")
    source.add_argument("--csv", help="path of an OHLCV CSV (date,open,high,low,close,volume)")
    parser.add_argument(
        "--horizon", type=int, default=defaults.horizon,
        help=f"bars to forecast, 1..{MAX_HORIZON} (default {defaults.horizon})",
    )
    parser.add_argument(
        "--epochs", type=int, default=defaults.epochs,
        help=f"most training epochs; early stopping may end sooner (default {defaults.epochs})",
    )
    parser.add_argument("--seed", type=int, default=defaults.seed, help=f"seed (default {defaults.seed})")
    parser.add_argument("--offline", action="store_true", help="never download: cache or bundled data only")
    cache = parser.add_mutually_exclusive_group()
    cache.add_argument("--cache-dir", metavar="DIR", help="result cache folder (default data/cache/forecast)")
    cache.add_argument("--no-cache", action="store_true", help="neither read nor write the result cache")
    add_json_option(parser)
    parser.set_defaults(func=run)


class _Bar:
    """A tqdm bar in percent driven by ForecastProgress; created on the first report."""

    def __init__(self, stream) -> None:
        self.stream, self.bar = stream, None

    def __call__(self, event) -> None:
        if self.bar is None:
            from tqdm import tqdm

            self.bar = tqdm(total=100, file=self.stream, unit="%", dynamic_ncols=True, bar_format=(
                "{l_bar}{bar}| {n:.0f}/{total:.0f}% [{elapsed}<{remaining}{postfix}]"))
        target = int(round(100 * event.fraction))
        if target > self.bar.n:
            self.bar.update(target - self.bar.n)
        self.bar.set_postfix_str(event.message, refresh=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _config(args):
    from core.forecast.config import ForecastConfig, ForecastInputError

    try:
        return ForecastConfig(horizon=args.horizon, epochs=args.epochs, seed=args.seed)
    except ForecastInputError as exc:
        raise UsageError(str(exc)) from None


def run(args: argparse.Namespace) -> int:
    from core.data import load_ohlcv
    from core.forecast import default_cache_dir, run_forecast

    config = _config(args)
    frame, provenance = load_ohlcv(Path(args.csv)) if args.csv else load_ohlcv(args.ticker, live=not args.offline)
    cache_dir = None if args.no_cache else (Path(args.cache_dir) if args.cache_dir else default_cache_dir())
    stream = human_stream(args)
    bar = _Bar(sys.stderr)  # tqdm's usual place: stdout keeps only the summary (or the JSON)
    try:
        result = run_forecast(frame, provenance=provenance, config=config, cache_dir=cache_dir, progress=bar)
    finally:
        bar.close()
    print(summary_text(result), file=stream)
    emit_json(result.to_json(), args.json)
    return 0


def _fmt(value, pattern: str) -> str:
    return "n/a" if value is None or not math.isfinite(value) else format(value, pattern)


def summary_text(result) -> str:
    """The forecast's end point, the backtest table and the verdict as plain text."""
    h = result.config.horizon
    lines = [
        f"{result.ticker}: last close {result.last_close:,.2f} on {result.last_date}; {h}-bar forecast to "
        f"{result.dates[-1]} ({result.calendar})" + ("  [from cache]" if result.from_cache else ""),
        f"  LSTM {result.forecast[-1]:,.2f}  80% [{result.lower_80[-1]:,.2f}, {result.upper_80[-1]:,.2f}]  "
        f"95% [{result.lower_95[-1]:,.2f}, {result.upper_95[-1]:,.2f}]",
        "  baselines: " + ", ".join(f"{k} {v[-1]:,.2f}" for k, v in result.baselines.items()),
        f"backtest (out-of-sample, {result.config.backtest_origins} origins x {h} bars, "
        f"{result.backtest.get('start')} to {result.backtest.get('end')}):",
        f"  {'method':<20} {'MAE':>9} {'RMSE':>9} {'MAPE':>7} {'MASE':>7} {'dir.acc':>7} {'cov80':>6} {'cov95':>6}",
    ]
    for _, row in result.metrics_frame().iterrows():
        lines.append(
            f"  {row['label']:<20} {_fmt(row['mae'], ',.2f'):>9} {_fmt(row['rmse'], ',.2f'):>9} "
            f"{_fmt(row['mape'], '.1%'):>7} {_fmt(row['mase'], '.2f'):>7} "
            f"{_fmt(row['directional_accuracy'], '.0%'):>7} {_fmt(row['coverage_80'], '.0%'):>6} "
            f"{_fmt(row['coverage_95'], '.0%'):>6}"
        )
    lines.append(result.verdict)
    return "\n".join(lines)
