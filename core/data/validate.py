"""Validation of OHLCV frames: column normalisation (yfinance's MultiIndex, case-insensitive names
and aliases), number conversion and every data check, behind the public `validate_ohlcv`; also the
row-count checks (`_check_min_rows`, `_check_rows`) and the message helpers the loader reuses."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from core.data.dates import _parse_dates
from core.data.provenance import COLUMNS, DataError

MIN_ROWS = 50
"""Fewest rows a usable frame may have."""
PRICE_COLUMNS: tuple[str, ...] = ("open", "high", "low", "close")
OHLC_REL_TOL = 1e-6
"""open/close may exceed [low, high] by this relative amount: Yahoo's values pass through float32."""

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
