"""`load_ohlcv`, the one entry point for market data: a CSV path is read as a user file, a ticker goes
live (yfinance) -> the cached copy on disk -> the bundled snapshot, with the circuit breaker consulted,
good downloads cached, fallbacks explained in the provenance note, and the start/end range applied."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

# the package itself: DATA_DIR, DEFAULT_CACHE_DIR, yfinance_fetch are looked up on it at call time, so that
# monkeypatching core.data.<NAME> (tests/conftest.py does) still redirects this module
import core.data as _pkg
from core.data.cache import _cached_fetched_at, _write_cache
from core.data.csv_io import _read_path, read_ohlcv_csv
from core.data.live import _BREAKER, _looks_unreachable
from core.data.provenance import DataError, Provenance, _provenance, frame_sha256
from core.data.tickers import available_offline, bundled_path, normalise_ticker
from core.data.validate import MIN_ROWS, _check_min_rows, _check_rows, _plural, validate_ohlcv

log = logging.getLogger(__package__)  # "core.data", as before the package split


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
    data_dir = Path(data_dir if data_dir is not None else _pkg.DATA_DIR)
    cache_dir = Path(cache_dir if cache_dir is not None else _pkg.DEFAULT_CACHE_DIR)
    note, why = "", "live download is disabled (offline)"
    if live:
        blocked = _BREAKER.blocked_until()
        if blocked is not None:
            why = "the live source is unreachable"
            note = f"live source unreachable; not retried before {blocked:%H:%M} UTC"
        else:
            result = _try_live(ticker, fetcher or _pkg.yfinance_fetch, timeout, min_rows)
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
