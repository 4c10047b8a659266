"""core.indicators against golden values computed here independently of `ta` (plain Python loops), on
the bundled AAPL series and on canonical series (flat, rising, falling, NaN); causality and warm-up.

What `ta` 0.11 does, pinned here so a library upgrade that changes it is noticed:
- RSI is Wilder's smoothing (alpha = 1/14, i.e. avg = (13 * avg + x) / 14) started at bar 0, where the
  "change" counts as 0; the textbook seed (the mean of the first 14 changes) differs early on but agrees
  to 1e-9 after a few hundred bars. When the average loss is 0 (flat or only-rising closes) RSI is 100.
- MACD uses EMAs (alpha = 2 / (span + 1)) seeded with the first value; the signal line is the EMA of the
  MACD line started at its first defined bar (25), so it is defined from bar 33 = WARMUP_BARS.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.indicators import INDICATOR_COLUMNS, WARMUP_BARS, add_indicators, macd, rsi, sma


# ------------------------------------------------------------------------- independent implementations
def rsi_loop(close: np.ndarray, window: int = 14) -> np.ndarray:
    """Wilder RSI with ta's seeding (the bar-0 change is 0); NaN for bars < window."""
    out = np.full(len(close), np.nan)
    avg_up = avg_down = 0.0
    for i in range(len(close)):
        change = close[i] - close[i - 1] if i else 0.0
        up, down = max(change, 0.0), max(-change, 0.0)
        avg_up = up if i == 0 else (avg_up * (window - 1) + up) / window
        avg_down = down if i == 0 else (avg_down * (window - 1) + down) / window
        if i >= window:
            out[i] = 100.0 if avg_down == 0 else 100.0 * avg_up / (avg_up + avg_down)
    return out


def rsi_textbook(close: np.ndarray, window: int = 14) -> np.ndarray:
    """Wilder's original: seed = mean of the first `window` changes, then the same smoothing."""
    change = np.diff(close)
    out = np.full(len(close), np.nan)
    avg_up = np.clip(change[:window], 0, None).mean()
    avg_down = np.clip(-change[:window], 0, None).mean()
    out[window] = 100.0 * avg_up / (avg_up + avg_down)
    for i in range(window + 1, len(close)):
        avg_up = (avg_up * (window - 1) + max(change[i - 1], 0.0)) / window
        avg_down = (avg_down * (window - 1) + max(-change[i - 1], 0.0)) / window
        out[i] = 100.0 * avg_up / (avg_up + avg_down)
    return out


def sma_loop(close: np.ndarray, window: int = 20) -> np.ndarray:
    out = np.full(len(close), np.nan)
    for i in range(window - 1, len(close)):
        out[i] = sum(close[i - window + 1 : i + 1]) / window
    return out


def ema_loop(values: np.ndarray, span: int, first: int = 0) -> np.ndarray:
    """EMA seeded with values[first]; NaN before first + span - 1."""
    alpha = 2.0 / (span + 1.0)
    out = np.full(len(values), np.nan)
    ema = values[first]
    for i in range(first, len(values)):
        ema = values[i] if i == first else alpha * values[i] + (1 - alpha) * ema
        if i >= first + span - 1:
            out[i] = ema
    return out


def macd_loop(close: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    line = ema_loop(close, 12) - ema_loop(close, 26)
    signal = ema_loop(line, 9, first=25)
    return line, signal, line - signal


# ----------------------------------------------------------------------------------------------- golden
def test_aapl_matches_the_independent_loops_at_every_defined_bar(aapl_ohlcv):
    close = aapl_ohlcv["close"].to_numpy()
    got = add_indicators(aapl_ohlcv)
    line, signal, hist = macd_loop(close)
    expected = {
        "rsi": rsi_loop(close),
        "sma20": sma_loop(close),
        "macd": line,
        "macd_signal": signal,
        "macd_hist": hist,
    }
    for column, values in expected.items():
        np.testing.assert_allclose(
            got[column].to_numpy(), values, rtol=0, atol=1e-9, equal_nan=True, err_msg=column
        )


def test_rsi_agrees_with_the_textbook_seed_once_the_seed_has_decayed(aapl_ohlcv):
    close = aapl_ohlcv["close"].to_numpy()
    np.testing.assert_allclose(
        rsi(aapl_ohlcv["close"]).to_numpy()[400:], rsi_textbook(close)[400:], rtol=0, atol=1e-9
    )


@pytest.mark.parametrize(
    ("day", "values"),
    [
        ("2020-03-16", (37.0622301694, 69.58406, -3.0864513804, -2.0911519570, -0.9952994234)),
        ("2024-06-03", (69.7797716849, 186.50315, 4.2786363052, 4.3199957744, -0.0413594692)),
        ("2026-09-25", (65.7091283837, 329.396, 6.2300312597, 5.4342944408, 0.7957368189)),
    ],
)
def test_aapl_hard_coded_values_at_fixed_dates(aapl_ohlcv, day, values):
    close = aapl_ohlcv["close"].to_numpy()
    i = int(np.flatnonzero(aapl_ohlcv["date"] == pd.Timestamp(day))[0])
    line, signal, hist = macd_loop(close)
    mine = (rsi_loop(close)[i], sma_loop(close)[i], line[i], signal[i], hist[i])
    theirs = tuple(add_indicators(aapl_ohlcv).loc[i, list(INDICATOR_COLUMNS)])
    np.testing.assert_allclose(mine, values, rtol=0, atol=1e-9)
    np.testing.assert_allclose(theirs, values, rtol=0, atol=1e-9)


# -------------------------------------------------------------------------------------- canonical series
def test_flat_series_rsi_is_100_and_macd_is_zero():
    out = add_indicators(pd.DataFrame({"close": np.full(80, 50.0)}))
    assert (out["rsi"].iloc[14:] == 100.0).all()  # ta's convention: no losses -> 100, even with no gains
    assert (out["sma20"].iloc[19:] == 50.0).all()
    assert (out[["macd", "macd_signal", "macd_hist"]].iloc[WARMUP_BARS:] == 0.0).all().all()


def test_strictly_rising_and_falling_series():
    rising = pd.Series(100.0 + 0.5 * np.arange(600))
    assert (rsi(rising).iloc[14:] == 100.0).all()
    assert (rsi(-rising + 1000.0).iloc[14:] == 0.0).all()
    # a straight line: each EMA lags by (span - 1) / 2 bars, so MACD -> slope * (12.5 - 5.5) = 3.5
    tail = macd(rising).iloc[-1]
    np.testing.assert_allclose(tail.to_numpy(), [3.5, 3.5, 0.0], rtol=0, atol=1e-9)
    # the mean of the last 20 points of a line is its value 9.5 bars back
    np.testing.assert_allclose(sma(rising).iloc[19:], (rising - 0.5 * 9.5).iloc[19:], rtol=0, atol=1e-9)


def test_a_nan_close_freezes_rsi_and_macd_for_that_bar_and_blanks_sma(make_ohlcv):
    clean = make_ohlcv(120)["close"]
    holed = clean.copy()
    holed[40] = np.nan
    a, b = add_indicators(pd.DataFrame({"close": clean})), add_indicators(pd.DataFrame({"close": holed}))
    pd.testing.assert_frame_equal(a.iloc[:40], b.iloc[:40])  # nothing before the hole moves
    assert b.loc[40, "rsi"] == b.loc[39, "rsi"] and b.loc[41, "rsi"] == b.loc[39, "rsi"]
    assert b.loc[40, "macd"] == b.loc[39, "macd"]
    assert b["sma20"].iloc[40:60].isna().all() and b["sma20"].iloc[60:].notna().all()
    assert b[["rsi", "macd", "macd_signal"]].iloc[WARMUP_BARS:].notna().all().all()


# --------------------------------------------------------------------------------- causality and warm-up
@pytest.mark.parametrize("k", [5, 20, WARMUP_BARS, 1000, 3900])
def test_changing_closes_after_bar_k_leaves_values_up_to_k_unchanged(aapl_ohlcv, k):
    rng = np.random.default_rng(k)
    future = aapl_ohlcv.copy()
    future.loc[k + 1 :, "close"] *= rng.uniform(0.5, 1.5, len(future) - k - 1)
    before, after = add_indicators(aapl_ohlcv), add_indicators(future)
    pd.testing.assert_frame_equal(before.iloc[: k + 1], after.iloc[: k + 1], check_exact=True)
    assert not before.iloc[k + 1 :][list(INDICATOR_COLUMNS)].equals(
        after.iloc[k + 1 :][list(INDICATOR_COLUMNS)]
    )
    truncated = add_indicators(aapl_ohlcv.iloc[: k + 1])
    pd.testing.assert_frame_equal(truncated, before.iloc[: k + 1], check_exact=True)


def test_warmup_bars_are_nan_and_every_indicator_is_defined_from_warmup(aapl_ohlcv):
    out = add_indicators(aapl_ohlcv)
    first = {c: out[c].first_valid_index() for c in INDICATOR_COLUMNS}
    assert first == {"rsi": 14, "sma20": 19, "macd": 25, "macd_signal": 33, "macd_hist": 33}
    assert WARMUP_BARS == 33
    assert out[list(INDICATOR_COLUMNS)].iloc[WARMUP_BARS:].notna().all().all()
    assert out["macd_signal"].iloc[:WARMUP_BARS].isna().all()
    assert list(out.columns) == ["date", "open", "high", "low", "close", "volume", *INDICATOR_COLUMNS]
