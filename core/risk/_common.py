"""Shared helpers of core.risk: input cleaning, the confidence check, sample moments, the error type."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd


class RiskDataError(ValueError):
    """Too little (or unusable) data for a risk computation; the message says what is needed."""


def _finite(returns) -> np.ndarray:
    values = np.asarray(returns, dtype=float).ravel()
    return values[np.isfinite(values)]


def _check_confidence(confidence: float) -> float:
    if not 0.5 <= confidence < 1.0:
        raise ValueError(f"confidence must be in [0.5, 1), e.g. 0.95; got {confidence!r}")
    return 1.0 - confidence


def clean_returns(returns, dates=None) -> tuple[np.ndarray, pd.Index | None, int]:
    """(finite values, their labels or None, number of NaN/inf dropped).

    Labels are `dates` when given (same length as `returns`), else the index of a Series, else None.
    """
    values = np.asarray(returns, dtype=float).ravel()
    if dates is not None:
        labels = pd.Index(dates)
    elif isinstance(returns, pd.Series):
        labels = returns.index
    else:
        labels = None
    if labels is not None and len(labels) != values.size:
        raise ValueError(f"{len(labels)} dates for {values.size} returns")
    keep = np.isfinite(values)
    dropped = int(values.size - keep.sum())
    if dropped:
        values = values[keep]
        labels = labels[keep] if labels is not None else None
    return values, labels, dropped


def zero_std() -> float:
    from core.metrics import ZERO_STD  # lazy: core.metrics imports core.risk

    return ZERO_STD


def moments(values: np.ndarray) -> tuple[float, float, float, float]:
    """(mean, sample std (ddof=1), skew, excess kurtosis) of finite values.

    Skew and excess kurtosis are the bias-adjusted sample estimators of pandas' `Series.skew` and
    `Series.kurt` (the adjusted Fisher-Pearson G1 and G2, as quantstats and Excel report them). Skew needs
    3 values, kurtosis 4, and both are NaN when the returns do not vary (std below core.metrics.ZERO_STD).
    """
    n = values.size
    if n == 0:
        return math.nan, math.nan, math.nan, math.nan
    mean = float(values.mean())
    if n < 2:
        return mean, math.nan, math.nan, math.nan
    d = values - mean
    d2 = d * d
    sum_squares = float(d2.sum())
    m2 = sum_squares / n
    std = math.sqrt(sum_squares / (n - 1))
    skew = kurt = math.nan
    if std >= zero_std():
        if n >= 3:
            g1 = float((d2 * d).mean()) / m2**1.5
            skew = g1 * math.sqrt(n * (n - 1)) / (n - 2)
        if n >= 4:
            g2 = float((d2 * d2).mean()) / (m2 * m2) - 3.0
            kurt = ((n + 1) * g2 + 6.0) * (n - 1) / ((n - 2) * (n - 3))
    return mean, std, skew, kurt


def same_kind(values: np.ndarray, like, index=None):
    """`values` as a Series (on `index`, or `like`'s index) when `like` is a Series, else the array."""
    if isinstance(like, pd.Series):
        return pd.Series(values, index=like.index if index is None else index, name=like.name)
    return values
