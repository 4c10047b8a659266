"""The input series of a forecast: dates and closes checked for use, the data's sha256 (the cache key's
half), and whether the market trades every day (crypto) or on NYSE days."""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd

from core.forecast.config import ForecastInputError


def prepare_series(frame: pd.DataFrame) -> tuple[pd.DatetimeIndex, np.ndarray]:
    """(dates, closes) of a daily-bar frame; ForecastInputError for missing, NaN or non-positive closes.

    Parameters
    ----------
    frame: a 'close' column (any case) and a 'date' column or a DatetimeIndex, oldest bar first (an OHLCV
        frame from core.data.load_ohlcv passes; other columns are ignored).
    """
    if not isinstance(frame, pd.DataFrame):
        raise ForecastInputError(f"expected a pandas DataFrame of daily bars, got {type(frame).__name__}")
    cols = {str(c).strip().lower(): c for c in frame.columns}
    if "close" not in cols:
        raise ForecastInputError("the data has no 'close' column: give date and close (OHLCV) columns")
    if "date" in cols:
        dates = pd.DatetimeIndex(pd.to_datetime(frame[cols["date"]], errors="coerce"))
    elif isinstance(frame.index, pd.DatetimeIndex):
        dates = frame.index
    else:
        raise ForecastInputError("the data has no 'date' column: give date and close (OHLCV) columns")
    close = pd.to_numeric(frame[cols["close"]], errors="coerce").to_numpy(dtype=float)

    def first(mask) -> str:
        i = int(np.flatnonzero(mask)[0])
        where = f"row {i + 1}" if pd.isna(dates[i]) else str(dates[i].date())
        return f"{int(mask.sum())} row(s), first on {where}"

    if dates.hasnans:
        raise ForecastInputError(f"unreadable dates: {first(np.asarray(dates.isna()))}; write them as YYYY-MM-DD")
    if not np.isfinite(close).all():
        raise ForecastInputError(
            f"missing (NaN) or non-numeric closes: {first(~np.isfinite(close))}; fill or drop them first"
        )
    if (close <= 0).any():
        raise ForecastInputError(f"non-positive closes: {first(close <= 0)}; prices must be above zero")
    if len(dates) > 1 and not (np.diff(dates.asi8) > 0).all():
        raise ForecastInputError("dates must be strictly increasing (oldest first, no duplicates)")
    return dates.normalize().astype("datetime64[ns]"), close


def data_sha256(frame: pd.DataFrame, dates: pd.DatetimeIndex, close: np.ndarray) -> str:
    """core.data's canonical sha256 for a full OHLCV frame (what Provenance.sha256 holds), else a sha256
    of the date,close lines."""
    from core.data import COLUMNS, frame_sha256

    if all(c in frame.columns for c in COLUMNS) and pd.api.types.is_datetime64_any_dtype(frame["date"]):
        return frame_sha256(frame)
    text = "date,close\n" + "".join(f"{d:%Y-%m-%d},{c!r}\n" for d, c in zip(dates, close.tolist(), strict=True))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def trades_every_day(dates: pd.DatetimeIndex, ticker: str | None) -> bool:
    """True for crypto: core.data.periods_per_year says 365 for the ticker (a pair such as BTC-USD) or
    for the frame (more than 10% of its bars on weekends)."""
    from core.data import periods_per_year

    if periods_per_year(pd.DataFrame({"date": dates})) == 365:
        return True
    return bool(ticker) and periods_per_year(ticker) == 365
