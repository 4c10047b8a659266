"""Split-conformal uncertainty bands per horizon step, as price multipliers.

Scores: at every calibration origin and horizon step h, s = |log(actual / forecast)|, the size of the
forecast's error in log-price (a relative error, so the band scales with the price level). For each step
h separately, the band's half-width is the conformal quantile of the n calibration scores of that step:
the ceil((n + 1) * level)-th smallest (Vovk et al.; Lei et al. 2018), which gives at least `level`
coverage for a new exchangeable origin. With fewer than level/(1-level) scores (19 for 95%) that quantile
does not exist and the band is unbounded (reported as such, never silently narrowed).

The band is forecast * exp(-q_h) .. forecast * exp(+q_h): symmetric in log-price, wider above than below
in price. Its coverage is checked on origins that were not used to calibrate it.
"""

from __future__ import annotations

import math

import numpy as np

LEVELS: tuple[float, ...] = (0.8, 0.95)


def log_scores(actual, forecast) -> np.ndarray:
    """|log(actual / forecast)|, element-wise (shape of the inputs)."""
    return np.abs(np.log(np.asarray(actual, dtype=float) / np.asarray(forecast, dtype=float)))


def conformal_quantiles(scores, level: float) -> np.ndarray:
    """Per horizon step (column): the ceil((n+1)*level)-th smallest of the n scores (inf when > n)."""
    s = np.sort(np.asarray(scores, dtype=float), axis=0)
    n = s.shape[0]
    k = math.ceil((n + 1) * level - 1e-9)
    if n == 0 or k > n:
        return np.full(s.shape[1:], np.inf)
    return s[k - 1]


def band(forecast, quantiles) -> tuple[np.ndarray, np.ndarray]:
    """(lower, upper) = forecast * exp(-q), forecast * exp(+q), step by step."""
    f, q = np.asarray(forecast, dtype=float), np.asarray(quantiles, dtype=float)
    return f * np.exp(-q), f * np.exp(q)


def coverage(actual, lower, upper) -> float:
    """Share of the actual values inside [lower, upper]."""
    a = np.asarray(actual, dtype=float)
    return float(np.mean((a >= np.asarray(lower)) & (a <= np.asarray(upper))))
