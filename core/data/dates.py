"""Reading the date column of OHLCV data: `_parse_dates` turns datetimes, epoch numbers, YYYYMMDD
numbers, ISO text or one consistent local format (`_parse_local_dates`, refusing ambiguous day/month
order) into naive datetime64[ns] at midnight, with NaT where a value cannot be read."""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.data.provenance import DataError

_ISO_DATE_RE = r"^\d{4}-\d{2}-\d{2}(?:[T ].*)?$"


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
