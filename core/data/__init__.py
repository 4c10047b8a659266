"""Daily OHLCV market data: load, validate, cache, and say where it came from (Provenance).

The chain for a ticker is live (yfinance) -> the last good download cached on disk -> the bundled
snapshot in data/. A path (or a name ending in ".csv") is read as a user file instead. Every frame that
leaves this module is validated (`validate_ohlcv`) and described by a `Provenance` whose sha256 is taken
over a canonical CSV text, so the same data hashes the same whatever its source formatting.

Canonical CSV (the hash input, and the exact bytes of the files written to the cache):
UTF-8, "\\n" line ends, header ``date,open,high,low,close,volume``, one line per bar in date order, the date
as YYYY-MM-DD, each number as Python's ``repr`` of the float64 (the shortest text that round-trips,
e.g. ``9.8573``, ``445138400.0``), a final "\\n", no index column.
"""

# The package's modules, each holding one concern (this file only re-exports their public names):
#   provenance.py  DataError, COLUMNS, Provenance, canonical_csv, frame_sha256
#   dates.py       reading the date column (ISO, epoch, YYYYMMDD, one consistent local format)
#   validate.py    column normalisation, number conversion and every check: validate_ohlcv
#   csv_io.py      CSV files and uploads, the parsed-file memo: read_ohlcv_csv, clear_memory_cache
#   cache.py       DATA_DIR, DEFAULT_CACHE_DIR, private folders, atomic writes, the cached copy + sidecar
#   live.py        yfinance_fetch, its tz-cache set-up, the live circuit breaker
#   tickers.py     normalise_ticker, periods_per_year, BUNDLED_TICKERS, bundled_path, available_offline
#   loader.py      load_ohlcv: CSV path, or live -> cache -> bundled, then the start/end range
# DATA_DIR, DEFAULT_CACHE_DIR and yfinance_fetch are read from this package at call time, so patching
# core.data.DEFAULT_CACHE_DIR (as tests/conftest.py does) redirects every module.

from __future__ import annotations

from core.data.cache import DATA_DIR, DEFAULT_CACHE_DIR
from core.data.csv_io import MAX_CSV_BYTES, clear_memory_cache, read_ohlcv_csv
from core.data.live import LIVE_BREAKER_SECONDS, live_blocked_until, reset_live_breaker, yfinance_fetch
from core.data.loader import load_ohlcv
from core.data.provenance import COLUMNS, DataError, Provenance, canonical_csv, frame_sha256
from core.data.tickers import (
    BUNDLED_TICKERS,
    CRYPTO_QUOTES,
    available_offline,
    bundled_path,
    normalise_ticker,
    periods_per_year,
)
from core.data.validate import MIN_ROWS, OHLC_REL_TOL, PRICE_COLUMNS, validate_ohlcv

__all__ = [
    "BUNDLED_TICKERS",
    "COLUMNS",
    "CRYPTO_QUOTES",
    "DATA_DIR",
    "DEFAULT_CACHE_DIR",
    "LIVE_BREAKER_SECONDS",
    "MAX_CSV_BYTES",
    "MIN_ROWS",
    "OHLC_REL_TOL",
    "PRICE_COLUMNS",
    "DataError",
    "Provenance",
    "available_offline",
    "bundled_path",
    "canonical_csv",
    "clear_memory_cache",
    "frame_sha256",
    "live_blocked_until",
    "load_ohlcv",
    "normalise_ticker",
    "periods_per_year",
    "read_ohlcv_csv",
    "reset_live_breaker",
    "validate_ohlcv",
    "yfinance_fetch",
]
