"""Ticker names: `normalise_ticker` (the check that keeps tickers safe as file names),
`periods_per_year` (365 for crypto pairs, 252 otherwise), `BUNDLED_TICKERS` and the offline inventory
(`bundled_path`, `available_offline`) of the bundled snapshots and cached downloads."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

# the package itself: DATA_DIR, DEFAULT_CACHE_DIR are looked up on it at call time, so that
# monkeypatching core.data.<NAME> (tests/conftest.py does) still redirects this module
import core.data as _pkg
from core.data.provenance import DataError, Provenance

BUNDLED_TICKERS: tuple[str, ...] = ("AAPL", "TSLA", "BTC-USD")
"""Tickers shipped as CSV snapshots in data/ (see data/README.md for their origin)."""
CRYPTO_QUOTES = frozenset(
    {"USD", "USDT", "USDC", "BUSD", "DAI", "EUR", "GBP", "JPY", "CAD", "AUD", "BTC", "ETH"}
)
"""Quote currencies of Yahoo crypto pairs ("BTC-USD"): such tickers trade every day (365 bars a year)."""

_TICKER_RE = re.compile(r"^(?=.*[A-Z0-9])[A-Z0-9.^=-]{1,15}$")


def normalise_ticker(text: str) -> str:
    """Strip and upper-case a ticker; allowed are 1-15 of A-Z 0-9 . ^ = - (at least one letter or digit).

    The check matters beyond tidiness: tickers become cache file names, so "../etc" must never pass.
    """
    if not isinstance(text, str):
        raise DataError(f"ticker must be text, got {type(text).__name__}")
    ticker = text.strip().upper()
    if not ticker:
        raise DataError("empty ticker: give a symbol such as AAPL, BTC-USD or ^GSPC")
    if not _TICKER_RE.match(ticker):
        shown = text.strip()[:30]
        raise DataError(
            f"invalid ticker {shown!r}: use 1-15 letters, digits or . ^ = - (e.g. AAPL, BTC-USD, ^GSPC)"
        )
    return ticker


def periods_per_year(ticker_or_frame) -> int:
    """Bars per year for annualising: 365 for crypto, 252 otherwise.

    Parameters
    ----------
    ticker_or_frame: a ticker ("BTC-USD" is crypto: a Yahoo pair whose quote is a currency in
        CRYPTO_QUOTES), a CSV path (judged by its stem), a Provenance (its ticker), or an OHLCV frame
        (crypto when more than 10% of its bars fall on a weekend; stocks have none).
    """
    if isinstance(ticker_or_frame, pd.DataFrame):
        frame = ticker_or_frame
        dates = frame["date"] if "date" in frame.columns else frame.index.to_series()
        dates = pd.to_datetime(pd.Series(dates), errors="coerce").dropna()
        if dates.empty:
            return 252
        return 365 if float((dates.dt.day_of_week >= 5).mean()) > 0.10 else 252
    if isinstance(ticker_or_frame, Provenance):
        text = ticker_or_frame.ticker
    else:
        text = str(ticker_or_frame)
        if isinstance(ticker_or_frame, Path) or text.lower().endswith(".csv") or "/" in text:
            text = Path(text).stem
    base, sep, quote = text.strip().upper().rpartition("-")
    return 365 if sep and base and quote in CRYPTO_QUOTES else 252


def bundled_path(ticker: str, *, data_dir: Path | None = None) -> Path | None:
    """The bundled CSV for `ticker` (data_dir/<TICKER>.csv) if it exists, else None."""
    try:
        ticker = normalise_ticker(ticker)
    except DataError:
        return None
    path = Path(data_dir if data_dir is not None else _pkg.DATA_DIR) / f"{ticker}.csv"
    return path if path.is_file() else None


def _csv_tickers(folder: Path) -> list[str]:
    try:
        stems = [p.stem for p in folder.glob("*.csv") if not p.name.startswith(".")]
    except OSError:
        return []
    return [s for s in stems if _TICKER_RE.match(s)]


def available_offline(*, data_dir: Path | None = None, cache_dir: Path | None = None) -> list[str]:
    """Tickers loadable without network: bundled ones first (in BUNDLED_TICKERS order), then cached."""
    bundled = _csv_tickers(Path(data_dir if data_dir is not None else _pkg.DATA_DIR))
    cached = _csv_tickers(Path(cache_dir if cache_dir is not None else _pkg.DEFAULT_CACHE_DIR))
    first = [t for t in BUNDLED_TICKERS if t in bundled]
    rest = sorted((set(bundled) | set(cached)) - set(first))
    return first + rest
