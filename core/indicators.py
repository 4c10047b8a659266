"""Causal technical indicators as pure functions over pandas Series (computed with `ta`).

Every value at bar t uses closes up to and including bar t only. Bars before an indicator has enough
history are NaN, never back-filled (back-filling would leak the future into the warm-up).
"""

from __future__ import annotations

import pandas as pd
from ta.momentum import RSIIndicator
from ta.trend import MACD, SMAIndicator

RSI_WINDOW = 14
SMA_WINDOW = 20
MACD_FAST, MACD_SLOW, MACD_SIGNAL = 12, 26, 9
WARMUP_BARS = MACD_SLOW + MACD_SIGNAL - 2
"""Index of the first bar at which every indicator (the MACD signal line is the last) is defined."""

INDICATOR_COLUMNS = ("rsi", "sma20", "macd", "macd_signal", "macd_hist")


def rsi(close: pd.Series, window: int = RSI_WINDOW) -> pd.Series:
    """Wilder's Relative Strength Index in [0, 100]; NaN for the first `window` bars."""
    out = RSIIndicator(close=close.astype(float), window=window, fillna=False).rsi()
    out.iloc[:window] = float("nan")  # ta emits values from bar 1 onward; they are not yet an RSI(14)
    return out.rename("rsi")


def sma(close: pd.Series, window: int = SMA_WINDOW) -> pd.Series:
    """Simple moving average of the last `window` closes; NaN until `window` closes exist."""
    return SMAIndicator(close=close.astype(float), window=window, fillna=False).sma_indicator().rename(
        f"sma{window}"
    )


def macd(
    close: pd.Series, fast: int = MACD_FAST, slow: int = MACD_SLOW, signal: int = MACD_SIGNAL
) -> pd.DataFrame:
    """MACD line (EMA fast - EMA slow), its signal line (EMA of MACD) and histogram (MACD - signal)."""
    ind = MACD(close=close.astype(float), window_fast=fast, window_slow=slow, window_sign=signal, fillna=False)
    frame = pd.DataFrame(
        {"macd": ind.macd(), "macd_signal": ind.macd_signal(), "macd_hist": ind.macd_diff()},
        index=close.index,
    )
    return frame


def add_indicators(ohlcv: pd.DataFrame) -> pd.DataFrame:
    """Return a copy of an OHLCV frame with the columns rsi, sma20, macd, macd_signal, macd_hist."""
    out = ohlcv.copy()
    close = out["close"]
    out["rsi"] = rsi(close)
    out["sma20"] = sma(close)
    out[["macd", "macd_signal", "macd_hist"]] = macd(close)
    return out
