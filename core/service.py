"""The engine's facade for clients (the web app, notebooks): one call per thing a page shows.

Clients never reach into core's modules directly for page work; they call these functions, which add
indicators, cache, and raise only `ValueError` subclasses whose messages are fit to show a user.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

import pandas as pd

from core.indicators import add_indicators


class LRU:
    """A small thread-safe least-recently-used cache (per process; every gunicorn worker has its own)."""

    def __init__(self, maxsize: int = 32) -> None:
        self.maxsize = maxsize
        self._data: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get_or_compute(self, key: Hashable, compute: Callable[[], Any]) -> Any:
        with self._lock:
            if key in self._data:
                self._data.move_to_end(key)
                return self._data[key]
        value = compute()  # outside the lock: two threads may compute the same key once, never block
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self.maxsize:
                self._data.popitem(last=False)
        return value

    def clear(self) -> None:
        with self._lock:
            self._data.clear()


@dataclass(frozen=True)
class MarketData:
    """A validated OHLCV frame with indicators, where it came from, and the window shown."""

    frame: pd.DataFrame
    provenance: Any  # core.data.Provenance
    periods_per_year: int

    @property
    def key(self) -> str:
        """Identifies the data shown (for caching figures): data hash plus the shown window."""
        first, last = self.frame["date"].iloc[0], self.frame["date"].iloc[-1]
        return f"{self.provenance.sha256}:{first:%Y-%m-%d}:{last:%Y-%m-%d}"


def _window(frame: pd.DataFrame, start, end) -> pd.DataFrame:
    out = frame
    if start:
        out = out[out["date"] >= pd.Timestamp(start)]
    if end:
        out = out[out["date"] <= pd.Timestamp(end)]
    return out.reset_index(drop=True)


def _finish(frame: pd.DataFrame, provenance, start, end) -> MarketData:
    from core.data import DataError, periods_per_year

    # Indicators are computed on the whole history, then the window is cut: the first bars of a window
    # keep their real (causal) indicator values instead of a fresh warm-up.
    full = add_indicators(frame)
    shown = _window(full, start, end)
    if len(shown) < 2:
        raise DataError(
            f"The range {start or 'first bar'} to {end or 'last bar'} holds {len(shown)} bar(s) of "
            f"{provenance.ticker}; its data runs from {provenance.start} to {provenance.end}."
        )
    return MarketData(frame=shown, provenance=provenance, periods_per_year=periods_per_year(frame))


def load_market(ticker: str, start=None, end=None, *, live: bool = True) -> MarketData:
    """Market data for a ticker through the live -> cache -> bundled chain, with indicators."""
    from core.data import load_ohlcv, normalise_ticker

    frame, provenance = load_ohlcv(normalise_ticker(ticker), live=live)
    return _finish(frame, provenance, start, end)


def load_market_csv(content: bytes, name: str, start=None, end=None) -> MarketData:
    """Market data from an uploaded or local CSV file's bytes, validated, with indicators."""
    from core.data import read_ohlcv_csv

    frame, provenance = read_ohlcv_csv(content, name=name)
    return _finish(frame, provenance, start, end)


def content_hash(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()
