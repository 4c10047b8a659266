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

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import logging
import os
import re
import socket
import tempfile
import threading
import time
import warnings
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

BUNDLED_TICKERS: tuple[str, ...] = ("AAPL", "TSLA", "BTC-USD")
"""Tickers shipped as CSV snapshots in data/ (see data/README.md for their origin)."""
DATA_DIR: Path = Path(__file__).resolve().parent.parent / "data"
"""Where the bundled CSVs live."""
DEFAULT_CACHE_DIR: Path = Path(os.environ.get("NEON_DATA_CACHE_DIR") or DATA_DIR / "cache")
"""Downloaded copies (git-ignored; created with mode 0o700 on first write). Env NEON_DATA_CACHE_DIR
overrides it, e.g. for a read-only checkout."""
MIN_ROWS = 50
"""Fewest rows a usable frame may have."""
COLUMNS: tuple[str, ...] = ("date", "open", "high", "low", "close", "volume")
PRICE_COLUMNS: tuple[str, ...] = ("open", "high", "low", "close")
MAX_CSV_BYTES = 50_000_000
"""Larger CSVs are refused: a century of daily bars is about 2 MB."""
OHLC_REL_TOL = 1e-6
"""open/close may exceed [low, high] by this relative amount: Yahoo's values pass through float32."""
LIVE_BREAKER_SECONDS = 300.0
"""After a live failure that looks like "network unreachable", skip live attempts this long."""
CRYPTO_QUOTES = frozenset(
    {"USD", "USDT", "USDC", "BUSD", "DAI", "EUR", "GBP", "JPY", "CAD", "AUD", "BTC", "ETH"}
)
"""Quote currencies of Yahoo crypto pairs ("BTC-USD"): such tickers trade every day (365 bars a year)."""

_TICKER_RE = re.compile(r"^(?=.*[A-Z0-9])[A-Z0-9.^=-]{1,15}$")
_ISO_DATE_RE = r"^\d{4}-\d{2}-\d{2}(?:[T ].*)?$"
_MISSING_TOKENS = frozenset({"", "nan", "na", "n/a", "null", "none", "-"})
_ALIASES = {
    "date": "date",
    "datetime": "date",
    "timestamp": "date",
    "open": "open",
    "high": "high",
    "low": "low",
    "close": "close",
    "volume": "volume",
    "adj close": "adj close",
    "adj_close": "adj close",
    "adjclose": "adj close",
}
_NETWORK_RE = re.compile(
    r"DNSError|Could not resolve|Couldn't connect|Failed to connect|Connection (?:refused|reset|aborted)"
    r"|Network is unreachable|No route to host|timed? ?out|Temporary failure in name resolution"
    r"|Name or service not known|curl: \((?:5|6|7|28|35|56)\)",
    re.IGNORECASE,
)
log = logging.getLogger(__name__)


class DataError(ValueError):
    """The one error this module raises for bad or unavailable data; its message says what is wrong."""


# --------------------------------------------------------------------------------------------- provenance
@dataclass(frozen=True)
class Provenance:
    """Where a validated frame came from; shown as the data-source badge and stored in model cards."""

    source: str
    """"live" | "cache" | "bundled" | "file"."""
    ticker: str
    """Normalised ticker, or the file's stem for a CSV."""
    start: dt.date
    """Date of the first bar."""
    end: dt.date
    """Date of the last bar ("as of")."""
    rows: int
    """Number of bars."""
    sha256: str
    """Hex sha256 of the canonical CSV text of the frame (module docstring)."""
    fetched_at: dt.datetime | None
    """When a live or cached copy was downloaded (UTC); None for bundled and file data."""
    note: str = ""
    """Why a fallback happened, e.g. "live source unreachable (...)"; empty when none did."""
    file_name: str = ""
    """The CSV's file name for source "file" (e.g. "prices.csv"); empty otherwise."""

    @property
    def label(self) -> str:
        """The badge text, e.g. "bundled snapshot, as of 2026-10-06"."""
        if self.source == "live":
            return f"live, as of {self.end.isoformat()}"
        if self.source == "cache":
            day = self.fetched_at.date() if self.fetched_at is not None else self.end
            return f"offline: cached copy from {day.isoformat()}"
        if self.source == "bundled":
            return f"bundled snapshot, as of {self.end.isoformat()}"
        return f"file: {self.file_name or self.ticker + '.csv'}"

    def to_dict(self) -> dict:
        """JSON-safe dict (dates as ISO strings), including the label."""
        return {
            "source": self.source,
            "ticker": self.ticker,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "rows": self.rows,
            "sha256": self.sha256,
            "fetched_at": self.fetched_at.isoformat() if self.fetched_at is not None else None,
            "note": self.note,
            "file_name": self.file_name,
            "label": self.label,
        }

    @classmethod
    def from_dict(cls, data: dict) -> Provenance:
        """Inverse of `to_dict` (e.g. for a dcc.Store round trip); the label key is ignored."""
        fetched = data.get("fetched_at")
        return cls(
            source=str(data["source"]),
            ticker=str(data["ticker"]),
            start=dt.date.fromisoformat(str(data["start"])),
            end=dt.date.fromisoformat(str(data["end"])),
            rows=int(data["rows"]),
            sha256=str(data["sha256"]),
            fetched_at=dt.datetime.fromisoformat(fetched) if fetched else None,
            note=str(data.get("note", "")),
            file_name=str(data.get("file_name", "")),
        )


def canonical_csv(frame: pd.DataFrame) -> str:
    """The canonical CSV text of a validated frame (the module docstring describes the format)."""
    dates = frame["date"].dt.strftime("%Y-%m-%d").tolist()
    cols = [frame[c].to_numpy(dtype=float).tolist() for c in COLUMNS[1:]]
    lines = [",".join(COLUMNS)]
    lines.extend(
        f"{d},{o!r},{h!r},{lo!r},{c!r},{v!r}" for d, o, h, lo, c, v in zip(dates, *cols, strict=True)
    )
    return "\n".join(lines) + "\n"


def frame_sha256(frame: pd.DataFrame) -> str:
    """sha256 (hex) of `canonical_csv(frame)`."""
    return hashlib.sha256(canonical_csv(frame).encode("utf-8")).hexdigest()


# ---------------------------------------------------------------------------------------------- tickers
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


# ------------------------------------------------------------------------------------------- validation
def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _flatten_columns(frame: pd.DataFrame, name: str) -> pd.DataFrame:
    """yfinance 1.x returns (field, ticker) MultiIndex columns even for one ticker: keep the field level."""
    if not isinstance(frame.columns, pd.MultiIndex):
        return frame
    levels = [frame.columns.get_level_values(i) for i in range(frame.columns.nlevels)]

    def known(level) -> int:
        return sum(str(v).strip().lower() in _ALIASES for v in set(level))

    field = max(range(len(levels)), key=lambda i: known(levels[i]))
    for i, level in enumerate(levels):
        others = sorted({str(v) for v in level})
        if i != field and len(others) > 1:
            raise DataError(
                f"{name}: several tickers in one frame ({', '.join(others[:5])}); load one at a time"
            )
    out = frame.copy()
    out.columns = list(levels[field])
    return out


def _pick_columns(frame: pd.DataFrame, name: str) -> dict[str, object]:
    """Map canonical names to the frame's own column labels (case-insensitive, with aliases)."""
    found: dict[str, object] = {}
    for col in frame.columns:
        key = _ALIASES.get(re.sub(r"\s+", " ", str(col).strip().lower()))
        if key is None:
            continue
        if key in found:
            raise DataError(f"{name}: columns {found[key]!r} and {col!r} both look like {key!r}; keep one")
        found[key] = col
    if "close" not in found and "adj close" in found:
        found["close"] = found["adj close"]  # only a fallback: Adj Close mixes in dividends differently
    found.pop("adj close", None)
    return found


def _parse_dates(values: pd.Series, name: str) -> pd.Series:
    """Dates as naive datetime64[ns] at midnight; NaT where a value cannot be read."""
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        values = values.dt.tz_localize(None)  # keep the exchange's local calendar day
    if not pd.api.types.is_datetime64_any_dtype(values.dtype) and not pd.api.types.is_numeric_dtype(
        values.dtype
    ):
        text = values.astype("string").str.strip()
        text = text.mask(text == "")
        if len(text.dropna()) and text.dropna().str.fullmatch(r"\d+").all():
            values = pd.to_numeric(text).astype(float)  # digits only: epoch numbers or YYYYMMDD, below
    if pd.api.types.is_datetime64_any_dtype(values.dtype):
        parsed = values
    elif pd.api.types.is_numeric_dtype(values.dtype) and not pd.api.types.is_bool_dtype(values.dtype):
        numbers = values.to_numpy(dtype=float, na_value=np.nan)
        low, top = (
            (float(np.nanmin(numbers)), float(np.nanmax(numbers))) if np.isfinite(numbers).any() else (0, 0)
        )
        if 1e7 <= low and top < 1e8:  # 20200102: a YYYYMMDD number, not 1970 in epoch seconds
            parsed = pd.to_datetime(values.astype("Int64").astype("string"), format="%Y%m%d", errors="coerce")
        else:  # epoch numbers: the unit follows from the magnitude of today's timestamps
            unit = "s" if top < 1e11 else "ms" if top < 1e14 else "us" if top < 1e17 else "ns"
            parsed = pd.to_datetime(values, unit=unit, errors="coerce")
    else:
        if text.dropna().str.match(_ISO_DATE_RE).all():
            # daily bars: the calendar day is what matters, so a time or UTC offset after it is dropped
            parsed = pd.to_datetime(text.str.slice(0, 10), format="%Y-%m-%d", errors="coerce")
        else:
            parsed = _parse_local_dates(text, name)
    return pd.Series(parsed, index=values.index).dt.normalize().astype("datetime64[ns]")


_LOCAL_DATE_FORMATS = ("%m/%d/%Y", "%d/%m/%Y", "%d.%m.%Y", "%Y/%m/%d", "%d-%m-%Y", "%m-%d-%Y", "%Y%m%d")


def _parse_local_dates(text: pd.Series, name: str) -> pd.Series:
    """Non-ISO date text: one explicit format that reads every value and keeps the bars in order wins.

    Trying formats (rather than guessing per value) means 01/02/2020 is never read as 2 January on one
    line and 1 February on the next; a file that two formats read equally well is refused as ambiguous.
    """
    present = text.dropna()
    fits = {}
    for fmt in _LOCAL_DATE_FORMATS:
        parsed = pd.to_datetime(present, format=fmt, errors="coerce")
        if parsed.notna().all() and (len(parsed) < 2 or parsed.is_monotonic_increasing):
            fits[fmt] = parsed
    distinct = {tuple(p.tolist()) for p in fits.values()}
    if len(distinct) > 1:
        raise DataError(
            f"{name}: ambiguous dates such as {present.iloc[0]!r} (day or month first?); write them as YYYY-MM-DD"
        )
    if fits:
        return pd.to_datetime(text, format=next(iter(fits)), errors="coerce")
    try:  # anything else (e.g. "Jan 2, 2020"): per-value parsing; what cannot be read becomes NaT
        parsed = pd.to_datetime(text, format="mixed", errors="coerce")
    except (ValueError, TypeError) as exc:
        raise DataError(f"{name}: dates could not be read ({exc}); write them as YYYY-MM-DD") from exc
    return parsed.dt.tz_localize(None) if isinstance(parsed.dtype, pd.DatetimeTZDtype) else parsed


def _to_float(values: pd.Series, column: str, dates: pd.Series, name: str) -> np.ndarray:
    """Column as float64; refuses text that is not a number (missing values become NaN)."""
    if pd.api.types.is_numeric_dtype(values.dtype) and not pd.api.types.is_bool_dtype(values.dtype):
        return values.to_numpy(dtype=float, na_value=np.nan)
    raw = values.to_numpy(dtype=object)
    cleaned = np.empty(len(raw), dtype=object)
    bad: list[int] = []
    for i, item in enumerate(raw):
        if item is None or item is pd.NA or (isinstance(item, float) and np.isnan(item)):
            cleaned[i] = None
        elif isinstance(item, str):
            token = item.strip()
            cleaned[i] = None if token.lower() in _MISSING_TOKENS else token
        elif isinstance(item, (int, float, np.number)) and not isinstance(item, bool):
            cleaned[i] = float(item)
        else:
            bad.append(i)
            cleaned[i] = None
    try:
        out = np.asarray(cleaned, dtype=float)  # float(str) is correctly rounded: same text -> same bits
    except ValueError:
        out = np.empty(len(raw))
        for i, item in enumerate(cleaned):
            try:
                out[i] = np.nan if item is None else float(item)
            except ValueError:
                out[i] = np.nan
                bad.append(i)
    if bad:
        first = min(bad)
        raise DataError(
            f"{name}: non-numeric value(s) in column {column}: {_plural(len(bad), 'row')}, "
            f"first {str(raw[first])[:30]!r} on {_day(dates, first)}"
        )
    return out


def _day(dates: pd.Series, i: int) -> str:
    value = dates.iloc[i]
    return f"row {i + 1}" if pd.isna(value) else value.strftime("%Y-%m-%d")


def _first(mask: np.ndarray, dates: pd.Series) -> tuple[int, str]:
    """(how many rows are flagged, the first flagged date) for an error message."""
    idx = np.flatnonzero(mask)
    return len(idx), _day(dates, int(idx[0]))


def _validate(frame: pd.DataFrame, name: str) -> pd.DataFrame:
    """Every check of `validate_ohlcv` except the row count."""
    if not isinstance(frame, pd.DataFrame):
        raise DataError(f"{name}: expected a pandas DataFrame, got {type(frame).__name__}")
    frame = _flatten_columns(frame, name)
    cols = _pick_columns(frame, name)
    if "date" not in cols and (
        isinstance(frame.index, pd.DatetimeIndex) or str(frame.index.name).strip().lower() in _ALIASES
    ):
        frame = frame.reset_index(names="__index_date__")  # yfinance keeps the dates in the index
        cols["date"] = "__index_date__"
    missing = [c for c in COLUMNS if c not in cols]
    if missing:
        shown = ", ".join(str(c) for c in frame.columns[:12]) or "none"
        raise DataError(f"{name}: missing column(s): {', '.join(missing)} (found: {shown})")
    if len(frame) == 0:
        raise DataError(f"{name}: no rows")

    dates = _parse_dates(frame[cols["date"]].reset_index(drop=True), name)
    if dates.isna().any():
        flagged = np.flatnonzero(dates.isna().to_numpy())
        n, i = len(flagged), int(flagged[0])
        value = frame[cols["date"]].iloc[i]
        raise DataError(
            f"{name}: {_plural(n, 'row')} without a readable date, first {str(value)[:30]!r} in row {i + 1}; "
            "write dates as YYYY-MM-DD"
        )
    out = pd.DataFrame({"date": dates})
    for col in COLUMNS[1:]:
        out[col] = _to_float(frame[cols[col]].reset_index(drop=True), col, dates, name)
    for col in COLUMNS[1:]:
        values = out[col].to_numpy()
        if np.isnan(values).any():
            n, day = _first(np.isnan(values), dates)
            raise DataError(
                f"{name}: NaN (missing) value(s) in column {col}: {_plural(n, 'row')}, first on {day}"
            )
        if np.isinf(values).any():
            n, day = _first(np.isinf(values), dates)
            raise DataError(f"{name}: infinite value(s) in column {col}: {_plural(n, 'row')}, first on {day}")

    step = np.diff(dates.to_numpy().astype("int64"))
    if (step <= 0).any():
        i = int(np.flatnonzero(step <= 0)[0]) + 1
        if step[i - 1] == 0:
            n_dup = int(dates.duplicated().sum())
            raise DataError(
                f"{name}: duplicate date {_day(dates, i)} ({_plural(n_dup, 'duplicated row')} in all)"
            )
        if (step < 0).all():
            raise DataError(
                f"{name}: dates are in descending order (newest first); reverse the file, oldest first"
            )
        raise DataError(
            f"{name}: dates are not in ascending order: {_day(dates, i)} comes after {_day(dates, i - 1)} "
            f"(row {i + 1}); sort the file by date, oldest first"
        )

    for col in PRICE_COLUMNS:
        values = out[col].to_numpy()
        if (values <= 0).any():
            n, day = _first(values <= 0, dates)
            raise DataError(
                f"{name}: non-positive price(s) in column {col}: {_plural(n, 'row')}, first on {day}"
            )
    high, low = out["high"].to_numpy(), out["low"].to_numpy()
    if (high < low).any():
        n, day = _first(high < low, dates)
        raise DataError(f"{name}: high < low on {_plural(n, 'row')}, first on {day}")
    slack = OHLC_REL_TOL * high
    for col in ("open", "close"):
        values = out[col].to_numpy()
        outside = (values > high + slack) | (values < low - slack)
        if outside.any():
            n, day = _first(outside, dates)
            raise DataError(f"{name}: {col} outside [low, high] on {_plural(n, 'row')}, first on {day}")
    volume = out["volume"].to_numpy()
    if (volume < 0).any():
        n, day = _first(volume < 0, dates)
        raise DataError(f"{name}: negative volume on {_plural(n, 'row')}, first on {day}")
    out["volume"] = volume + 0.0  # -0.0 -> 0.0, so that equal data serialise (and hash) equally
    return out


def _check_min_rows(min_rows: int) -> None:
    if isinstance(min_rows, bool) or not isinstance(min_rows, (int, np.integer)) or min_rows < 1:
        raise DataError(f"min_rows must be a positive integer, got {min_rows!r}")


def _check_rows(n: int, min_rows: int, name: str) -> None:
    if n < min_rows:
        raise DataError(
            f"{name}: only {_plural(n, 'row')}; at least {min_rows} are needed for the indicators"
        )


def validate_ohlcv(frame: pd.DataFrame, *, min_rows: int = MIN_ROWS, name: str = "data") -> pd.DataFrame:
    """Return a clean copy of an OHLCV frame, or raise DataError naming exactly what is wrong.

    Parameters
    ----------
    frame: columns date, open, high, low, close, volume in any case and order (aliases: Date, Datetime,
        timestamp; "Adj Close" only when there is no Close; dates may also be the index; yfinance's
        (field, ticker) MultiIndex columns are accepted). Extra columns are dropped.
    min_rows: fewest rows accepted.
    name: what to call the data in error messages (a file name or ticker).

    The result has exactly the columns date (naive datetime64[ns] at midnight), open, high, low, close,
    volume (float64), a RangeIndex and strictly ascending dates. Nothing is reordered or filled: unsorted
    or duplicate dates, NaN, non-positive prices, high < low, open/close outside [low, high] and negative
    volume are refused.
    """
    _check_min_rows(min_rows)
    out = _validate(frame, name)
    _check_rows(len(out), min_rows, name)
    return out


# -------------------------------------------------------------------------------------------- CSV files
def _csv_text(data: bytes, name: str) -> str:
    if len(data) > MAX_CSV_BYTES:
        raise DataError(
            f"{name}: file too large ({len(data) / 1e6:.1f} MB; the limit is {MAX_CSV_BYTES / 1e6:.0f} MB)"
        )
    if b"\x00" in data[:8192]:
        raise DataError(f"{name}: not a text CSV file (binary content)")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("latin-1")  # the numbers and dates are ASCII either way


def _parse_csv(data: bytes, name: str) -> pd.DataFrame:
    """Raw CSV -> validated frame (no row-count check). Every cell is read as text, then converted."""
    text = _csv_text(data, name)
    header = text.lstrip().split("\n", 1)[0]
    sep = (
        ";"
        if header.count(";") > header.count(",")
        else "\t"
        if "\t" in header and "," not in header
        else ","
    )
    try:
        raw = pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False, skipinitialspace=True)
    except pd.errors.EmptyDataError as exc:
        raise DataError(f"{name}: the file is empty") from exc
    except (pd.errors.ParserError, ValueError) as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DataError(f"{name}: not a readable CSV ({first_line})") from exc
    if (
        len(raw) >= 2
        and str(raw.columns[0]).strip().lower() == "price"
        and str(raw.iloc[0, 0]).strip().lower() == "ticker"
        and str(raw.iloc[1, 0]).strip().lower() in ("date", "datetime")
    ):
        # a yfinance 1.x DataFrame.to_csv(): three header lines (Price / Ticker / Date)
        raw = raw.iloc[2:].rename(columns={raw.columns[0]: "date"})
    return _validate(raw, name)


_MEMO: OrderedDict[tuple, tuple[pd.DataFrame, str]] = OrderedDict()
_MEMO_LOCK = threading.Lock()
_MEMO_SIZE = 16


def clear_memory_cache() -> None:
    """Forget the in-process parsed-CSV cache (tests; after editing files in place within one mtime tick)."""
    with _MEMO_LOCK:
        _MEMO.clear()


def _read_path(path: Path, name: str) -> tuple[pd.DataFrame, str]:
    """(validated frame, sha256) of a CSV file, memoised by (path, mtime, size); returns a copy."""
    try:
        stat = path.stat()
    except FileNotFoundError as exc:
        raise DataError(f"file not found: {path}") from exc
    if not path.is_file():
        raise DataError(f"not a file: {path}")
    key = (str(path.resolve()), stat.st_mtime_ns, stat.st_size, name)
    with _MEMO_LOCK:
        hit = _MEMO.get(key)
        if hit is not None:
            _MEMO.move_to_end(key)
            return hit[0].copy(), hit[1]
    if stat.st_size > MAX_CSV_BYTES:
        raise DataError(
            f"{name}: file too large ({stat.st_size / 1e6:.1f} MB; the limit is {MAX_CSV_BYTES / 1e6:.0f} MB)"
        )
    frame = _parse_csv(path.read_bytes(), name)
    sha = frame_sha256(frame)
    with _MEMO_LOCK:
        _MEMO[key] = (frame, sha)
        while len(_MEMO) > _MEMO_SIZE:
            _MEMO.popitem(last=False)
    return frame.copy(), sha


def _provenance(frame: pd.DataFrame, sha: str, source: str, ticker: str, **extra) -> Provenance:
    extra.setdefault("fetched_at", None)
    return Provenance(
        source=source,
        ticker=ticker,
        start=frame["date"].iloc[0].date(),
        end=frame["date"].iloc[-1].date(),
        rows=len(frame),
        sha256=sha,
        **extra,
    )


def read_ohlcv_csv(
    source: str | Path | bytes, *, name: str | None = None, min_rows: int = MIN_ROWS
) -> tuple[pd.DataFrame, Provenance]:
    """Read and validate a user's OHLCV CSV (Provenance source "file").

    Parameters
    ----------
    source: a path, or the file's bytes (e.g. an upload).
    name: the file name to show (defaults to the path's name, or "upload.csv" for bytes); only its last
        path component is kept, so an uploaded name cannot point anywhere.
    min_rows: fewest rows accepted.

    Comma, semicolon and tab separators, a UTF-8 BOM and yfinance's three-line header are understood.
    """
    _check_min_rows(min_rows)
    if isinstance(source, (bytes, bytearray, memoryview)):
        file_name = Path(name).name if name else "upload.csv"
        frame = _parse_csv(bytes(source), file_name)
        sha = frame_sha256(frame)
    elif isinstance(source, (str, Path)):
        path = Path(source).expanduser()
        file_name = Path(name).name if name else path.name
        frame, sha = _read_path(path, file_name)
    else:
        raise DataError(f"CSV source must be a path or bytes, got {type(source).__name__}")
    _check_rows(len(frame), min_rows, file_name)
    stem = Path(file_name).stem or file_name
    return frame, _provenance(frame, sha, "file", stem, file_name=file_name)


def bundled_path(ticker: str, *, data_dir: Path | None = None) -> Path | None:
    """The bundled CSV for `ticker` (data_dir/<TICKER>.csv) if it exists, else None."""
    try:
        ticker = normalise_ticker(ticker)
    except DataError:
        return None
    path = Path(data_dir if data_dir is not None else DATA_DIR) / f"{ticker}.csv"
    return path if path.is_file() else None


def _csv_tickers(folder: Path) -> list[str]:
    try:
        stems = [p.stem for p in folder.glob("*.csv") if not p.name.startswith(".")]
    except OSError:
        return []
    return [s for s in stems if _TICKER_RE.match(s)]


def available_offline(*, data_dir: Path | None = None, cache_dir: Path | None = None) -> list[str]:
    """Tickers loadable without network: bundled ones first (in BUNDLED_TICKERS order), then cached."""
    bundled = _csv_tickers(Path(data_dir if data_dir is not None else DATA_DIR))
    cached = _csv_tickers(Path(cache_dir if cache_dir is not None else DEFAULT_CACHE_DIR))
    first = [t for t in BUNDLED_TICKERS if t in bundled]
    rest = sorted((set(bundled) | set(cached)) - set(first))
    return first + rest


# ---------------------------------------------------------------------------------------------- caching
def _ensure_private_dir(folder: Path) -> None:
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        os.chmod(folder, 0o700)  # the cache is trusted input later: keep it the app user's own
    except OSError:
        pass


def _write_atomic(path: Path, text: str) -> None:
    """Write via a temp file in the same folder + os.replace: readers never see half a file."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _write_cache(
    cache_dir: Path, ticker: str, frame: pd.DataFrame, sha: str, fetched_at: dt.datetime
) -> None:
    _ensure_private_dir(cache_dir)
    _write_atomic(cache_dir / f"{ticker}.csv", canonical_csv(frame))
    meta = {
        "ticker": ticker,
        "fetched_at": fetched_at.isoformat(),
        "sha256": sha,
        "rows": len(frame),
        "start": frame["date"].iloc[0].date().isoformat(),
        "end": frame["date"].iloc[-1].date().isoformat(),
    }
    _write_atomic(cache_dir / f"{ticker}.json", json.dumps(meta, indent=2) + "\n")


def _cached_fetched_at(csv_path: Path, sha: str) -> dt.datetime:
    """The sidecar's fetched_at when it describes this very file, else the file's mtime."""
    try:
        meta = json.loads(csv_path.with_suffix(".json").read_text(encoding="utf-8"))
        if meta.get("sha256") == sha:
            stamp = dt.datetime.fromisoformat(meta["fetched_at"])
            return stamp if stamp.tzinfo else stamp.replace(tzinfo=dt.UTC)
    except (OSError, ValueError, KeyError, TypeError):
        pass
    return dt.datetime.fromtimestamp(csv_path.stat().st_mtime, tz=dt.UTC).replace(microsecond=0)


# ------------------------------------------------------------------------------------ live + breaker
class _LiveBreaker:
    """Process-wide switch: once the network looks unreachable, skip live attempts for a while."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._open_until = 0.0
        self._wall_until: dt.datetime | None = None

    def blocked_until(self) -> dt.datetime | None:
        with self._lock:
            return self._wall_until if time.monotonic() < self._open_until else None

    def trip(self, seconds: float = LIVE_BREAKER_SECONDS) -> None:
        with self._lock:
            self._open_until = time.monotonic() + seconds
            self._wall_until = dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(seconds=seconds)

    def reset(self) -> None:
        with self._lock:
            self._open_until, self._wall_until = 0.0, None


_BREAKER = _LiveBreaker()


def reset_live_breaker() -> None:
    """Allow live attempts again at once (tests; after the network comes back)."""
    _BREAKER.reset()


def live_blocked_until() -> dt.datetime | None:
    """UTC time until which live downloads are skipped, or None when they are allowed."""
    return _BREAKER.blocked_until()


def _looks_unreachable(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    for _ in range(5):  # walk the cause chain a little: wrappers often hide the socket error
        if seen is None:
            break
        if isinstance(seen, (ConnectionError, TimeoutError, socket.gaierror)):
            return True
        if any(re.search(r"DNS|Connect|Timeout|Unreachable", k.__name__) for k in type(seen).__mro__):
            return True
        if _NETWORK_RE.search(str(seen)):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


_YF_LOCK = threading.Lock()
_yf_ready = False


def _prepare_yfinance(yf) -> None:
    """Once per process: point yfinance's sqlite caches at a private folder and mute its pandas warnings.

    yfinance's timezone cache is a sqlite file that can be read-only or "database is locked"; neither may
    break a load, so every failure here is logged and ignored (yfinance then runs without that cache).
    """
    global _yf_ready
    with _YF_LOCK:
        if _yf_ready:
            return
        _yf_ready = True
        warnings.filterwarnings("ignore", module=r"yfinance(\..*)?$")
        try:
            folder = DEFAULT_CACHE_DIR / "yfinance"
            _ensure_private_dir(DEFAULT_CACHE_DIR)
            _ensure_private_dir(folder)
            yf.set_tz_cache_location(str(folder))
        except Exception as exc:  # noqa: BLE001 - any failure just means "no tz cache"
            log.warning("yfinance cache location not set (%s); continuing without it", exc)


class _ThreadLogCapture(logging.Handler):
    """Collect the yfinance log lines emitted by this thread (yfinance reports failures only by logging)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.thread = threading.get_ident()
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.thread == self.thread:
            self.messages.append(record.getMessage().strip())


def yfinance_fetch(ticker: str, timeout: float) -> pd.DataFrame:
    """The default live fetcher: the full daily history from Yahoo Finance via yfinance.

    Parameters
    ----------
    ticker: a normalised ticker.
    timeout: seconds per HTTP request.

    yfinance signals failure by logging and returning an empty frame; this turns that into an exception:
    ConnectionError when the log says the network is unreachable, LookupError otherwise (unknown ticker,
    delisted, rate limit). A non-empty frame is returned as yfinance gives it (MultiIndex columns, dates
    in the index); `validate_ohlcv` understands that shape.
    """
    import yfinance as yf  # imported here: slow, and only the live path needs it

    _prepare_yfinance(yf)
    capture = _ThreadLogCapture()
    yf_log = logging.getLogger("yfinance")
    yf_log.addHandler(capture)
    try:
        frame = yf.download(
            ticker,
            period="max",
            interval="1d",
            auto_adjust=True,
            progress=False,
            threads=False,
            timeout=timeout,
        )
    finally:
        yf_log.removeHandler(capture)
    if frame is None or frame.empty:
        messages = [re.sub(r"\s*See https?://.*$", "", m, flags=re.S) for m in capture.messages if m]
        network = [m for m in messages if _NETWORK_RE.search(m)]
        if network:
            raise ConnectionError(f"Yahoo Finance unreachable: {network[-1][:160]}")
        detail = " | ".join(messages)[:200]
        raise LookupError(f"Yahoo Finance returned no rows for {ticker}" + (f": {detail}" if detail else ""))
    return frame


# ------------------------------------------------------------------------------------------------ loading
def _parse_bound(value, which: str) -> pd.Timestamp | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        stamp = pd.Timestamp(value.strip() if isinstance(value, str) else value)
    except (ValueError, TypeError) as exc:
        raise DataError(f"{which} {value!r} is not a date; use YYYY-MM-DD") from exc
    if pd.isna(stamp):
        raise DataError(f"{which} {value!r} is not a date; use YYYY-MM-DD")
    if stamp.tzinfo is not None:
        stamp = stamp.tz_localize(None)
    return stamp.normalize()


def _apply_range(
    frame: pd.DataFrame, prov: Provenance, lo, hi, min_rows: int
) -> tuple[pd.DataFrame, Provenance]:
    if lo is None and hi is None:
        _check_rows(len(frame), min_rows, prov.ticker)
        return frame, prov
    mask = np.ones(len(frame), dtype=bool)
    if lo is not None:
        mask &= (frame["date"] >= lo).to_numpy()
    if hi is not None:
        mask &= (frame["date"] <= hi).to_numpy()
    kept = int(mask.sum())
    if kept < min_rows:
        lo_text = lo.date().isoformat() if lo is not None else "the start"
        hi_text = hi.date().isoformat() if hi is not None else "the end"
        raise DataError(
            f"{prov.ticker}: only {_plural(kept, 'row')} between {lo_text} and {hi_text}; at least "
            f"{min_rows} are needed for the indicators (the data covers {prov.start} to {prov.end})"
        )
    if mask.all():
        return frame, prov
    sub = frame.loc[mask].reset_index(drop=True)
    return sub, replace(
        prov,
        start=sub["date"].iloc[0].date(),
        end=sub["date"].iloc[-1].date(),
        rows=len(sub),
        sha256=frame_sha256(sub),
    )


def _as_csv_path(ticker_or_path) -> Path | None:
    if isinstance(ticker_or_path, Path):
        return ticker_or_path
    if not isinstance(ticker_or_path, str):
        raise DataError(f"expected a ticker or a CSV path, got {type(ticker_or_path).__name__}")
    text = ticker_or_path.strip()
    if text.lower().endswith(".csv"):
        return Path(text).expanduser()
    if text and Path(text).is_file():  # an existing file of any name; "../etc" (a folder) stays a ticker
        return Path(text)
    return None


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    text = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
    return text if len(text) <= 200 else text[:197] + "..."


def load_ohlcv(
    ticker_or_path: str | Path,
    start=None,
    end=None,
    *,
    live: bool = True,
    fetcher: Callable[[str, float], pd.DataFrame] | None = None,
    data_dir: Path | None = None,
    cache_dir: Path | None = None,
    timeout: float = 8.0,
    min_rows: int = MIN_ROWS,
    use_cache: bool = True,
) -> tuple[pd.DataFrame, Provenance]:
    """Load validated daily OHLCV for a ticker (live -> cache -> bundled) or a CSV path.

    Parameters
    ----------
    ticker_or_path: a ticker ("AAPL", "btc-usd"), or a CSV path (a Path, an existing file, or a name
        ending in ".csv"), which is read as a user file (source "file").
    start: first date to keep (str YYYY-MM-DD, date or Timestamp; inclusive); None keeps all.
    end: last date to keep (inclusive); None keeps all.
    live: try the live source first; False loads offline only (cache, then bundled).
    fetcher: `fetcher(ticker, timeout) -> DataFrame` for the live source (default `yfinance_fetch`). An
        exception, an empty frame or a frame failing validation counts as a failure and is never passed on.
    data_dir: folder of the bundled CSVs (default DATA_DIR).
    cache_dir: folder of downloaded copies (default DEFAULT_CACHE_DIR).
    timeout: seconds per live HTTP request.
    min_rows: fewest rows accepted (after the start/end filter).
    use_cache: read and write the on-disk cache; pass False with live=False to get exactly the bundled
        snapshot (reproducible training, model cards).

    Returns (frame, provenance); the provenance describes the returned (filtered) frame. Raises DataError
    when no source works, saying why and which tickers are available offline.
    """
    _check_min_rows(min_rows)
    if not (isinstance(timeout, (int, float)) and np.isfinite(timeout) and timeout > 0):
        raise DataError(f"timeout must be a positive number of seconds, got {timeout!r}")
    lo, hi = _parse_bound(start, "start"), _parse_bound(end, "end")
    if lo is not None and hi is not None and lo > hi:
        raise DataError(f"start {lo.date()} is after end {hi.date()}")

    path = _as_csv_path(ticker_or_path)
    if path is not None:
        frame, prov = read_ohlcv_csv(path, min_rows=1)
        return _apply_range(frame, prov, lo, hi, min_rows)

    ticker = normalise_ticker(ticker_or_path)
    data_dir = Path(data_dir if data_dir is not None else DATA_DIR)
    cache_dir = Path(cache_dir if cache_dir is not None else DEFAULT_CACHE_DIR)
    note, why = "", "live download is disabled (offline)"
    if live:
        blocked = _BREAKER.blocked_until()
        if blocked is not None:
            why = "the live source is unreachable"
            note = f"live source unreachable; not retried before {blocked:%H:%M} UTC"
        else:
            result = _try_live(ticker, fetcher or yfinance_fetch, timeout, min_rows)
            if len(result) == 3:
                frame, sha, fetched_at = result
                if use_cache:
                    try:
                        _write_cache(cache_dir, ticker, frame, sha, fetched_at)
                    except OSError as exc:  # a read-only disk must not cost the user a good download
                        log.warning("could not cache %s in %s: %s", ticker, cache_dir, exc)
                prov = _provenance(frame, sha, "live", ticker, fetched_at=fetched_at)
                return _apply_range(frame, prov, lo, hi, min_rows)
            why, note = result

    candidates: list[tuple[str, Path]] = []
    if use_cache and (cache_dir / f"{ticker}.csv").is_file():
        candidates.append(("cache", cache_dir / f"{ticker}.csv"))
    bundled = bundled_path(ticker, data_dir=data_dir)
    if bundled is not None:
        candidates.append(("bundled", bundled))
    short_error: DataError | None = None
    for source, path in candidates:
        label = "cached copy" if source == "cache" else "bundled snapshot"
        try:
            frame, sha = _read_path(path, f"{ticker} ({label})")
        except DataError as exc:  # a damaged file: say so and try the next source
            note = "; ".join(filter(None, [note, f"{label} unusable: {exc}"]))
            why += f", and the {label} is unusable ({exc})"
            continue
        extra = {"fetched_at": _cached_fetched_at(path, sha)} if source == "cache" else {}
        prov = _provenance(frame, sha, source, ticker, note=note, **extra)
        try:
            return _apply_range(frame, prov, lo, hi, min_rows)
        except DataError as exc:  # too few rows (in the range): a later source may cover it
            short_error = short_error or exc
            note = "; ".join(filter(None, [note, f"{label} too short: {exc}"]))
    if short_error is not None:
        raise short_error

    offline = available_offline(data_dir=data_dir, cache_dir=cache_dir if use_cache else data_dir)
    listing = f"Available offline: {', '.join(offline)}." if offline else "Nothing is available offline."
    tail = "" if candidates else " and there is no cached copy"
    raise DataError(f"No data for {ticker}: {why}{tail}. {listing}")


def _try_live(ticker: str, fetcher, timeout: float, min_rows: int):
    """(frame, sha, fetched_at) on success, else (reason for the final error, note for the provenance)."""
    try:
        raw = fetcher(ticker, timeout)
    except Exception as exc:  # noqa: BLE001 - any fetcher failure falls back to offline data
        if _looks_unreachable(exc):
            _BREAKER.trip()
            return "the live source is unreachable", f"live source unreachable ({_short(exc)})"
        return f"the live download failed ({_short(exc)})", f"live download failed ({_short(exc)})"
    if raw is None or not isinstance(raw, pd.DataFrame) or raw.empty:
        return (
            "the live source returned no data (unknown or delisted ticker, or a rate limit)",
            "live source returned no data",
        )
    try:
        frame = validate_ohlcv(raw, min_rows=min_rows, name=f"{ticker} (live)")
    except DataError as exc:
        return f"the live data failed validation ({exc})", f"live data rejected: {exc}"
    return frame, frame_sha256(frame), dt.datetime.now(dt.UTC).replace(microsecond=0)
