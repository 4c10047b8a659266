"""Forecast error measures, the Diebold-Mariano test and the verdict sentence (numpy + scipy, no torch).

Arrays are shaped (origins, horizon): row i holds one origin's forecast of the H bars after it.

- MAE, RMSE: in price units. MAPE: a fraction (0.05 = 5%).
- MASE (Hyndman & Koehler 2006): |error| divided by the in-sample one-step naive MAE of the data the
  forecast was fit on, mean |y_t - y_{t-1}|; each origin has its own scale (its own fitting data), the
  scaled errors are pooled. MASE < 1 would mean better than a one-step naive forecast in-sample; multi-step
  forecasts are usually above 1, so compare a method's MASE with the naive forecast's on the same origins.
- Directional accuracy: at every horizon step, does the sign of (forecast - origin's last close) match the
  sign of (actual - origin's last close)? A forecast of no change has no direction: it counts as a miss,
  and a method that never predicts a change (the naive forecast) gets NaN ("n/a").
- Diebold-Mariano (1995) on squared-error loss, d_t = e1_t^2 - e2_t^2, with the variance of mean(d) from
  the autocovariances up to lag h-1 (uniform weights, as in DM; Bartlett/Newey-West weights when that
  estimate is not positive) and the Harvey-Leybourne-Newbold (1997) small-sample correction,
  DM* = DM * sqrt((n + 1 - 2h + h(h-1)/n) / n), compared with Student's t with n-1 degrees of freedom
  (two-sided). A negative statistic means method 1 has the smaller loss.
"""

from __future__ import annotations

import math

import numpy as np

SIGNIFICANCE = 0.05
"""Level of the verdict's "significantly" (two-sided)."""


def _pair(actual, forecast) -> tuple[np.ndarray, np.ndarray]:
    a, f = np.asarray(actual, dtype=float), np.asarray(forecast, dtype=float)
    if a.shape != f.shape:
        raise ValueError(f"actual {a.shape} and forecast {f.shape} differ in shape")
    if a.size == 0:
        raise ValueError("no forecast errors to score")
    return a, f


def mae(actual, forecast) -> float:
    """Mean absolute error."""
    a, f = _pair(actual, forecast)
    return float(np.mean(np.abs(a - f)))


def rmse(actual, forecast) -> float:
    """Root mean squared error."""
    a, f = _pair(actual, forecast)
    return float(np.sqrt(np.mean((a - f) ** 2)))


def mape(actual, forecast) -> float:
    """Mean absolute percentage error as a fraction (actual prices are positive)."""
    a, f = _pair(actual, forecast)
    return float(np.mean(np.abs((a - f) / a)))


def naive_scale(history) -> float:
    """Hyndman's MASE scale: the in-sample one-step naive MAE, mean |y_t - y_{t-1}|, of the fitting data."""
    y = np.asarray(history, dtype=float)
    if y.size < 2:
        raise ValueError("the MASE scale needs at least two in-sample values")
    return float(np.mean(np.abs(np.diff(y))))


def mase(actual, forecast, scale) -> float:
    """Mean absolute scaled error; `scale` is one number or one per origin (row)."""
    a, f = _pair(actual, forecast)
    s = np.asarray(scale, dtype=float)
    if a.ndim == 2 and s.ndim == 1:
        s = s[:, None]
    if np.any(s <= 0):
        return math.nan  # a constant history: no scale
    return float(np.mean(np.abs(a - f) / s))


def directional_accuracy(last, actual, forecast) -> float:
    """Share of (origin, step) pairs where the forecast's direction from `last` matches the realised one.

    Parameters
    ----------
    last: the origin's last known close, one number or one per origin (row).
    actual, forecast: realised and forecast prices, (origins, horizon) or (horizon,).
    """
    a, f = _pair(actual, forecast)
    base = np.asarray(last, dtype=float)
    if a.ndim == 2 and base.ndim == 1:
        base = base[:, None]
    predicted = np.sign(f - base)
    if not np.any(predicted):
        return math.nan  # never predicts a change: directional accuracy does not apply
    hits = (predicted == np.sign(a - base)) & (predicted != 0)
    return float(np.mean(hits))


def diebold_mariano(errors_1, errors_2, horizon: int, *, hln: bool = True) -> tuple[float, float]:
    """(statistic, two-sided p-value) of the DM test of equal squared-error loss (module docstring).

    Parameters
    ----------
    errors_1, errors_2: forecast errors of the two methods on the same targets, in time order (pooled).
    horizon: h; the loss differential's variance uses autocovariances up to lag h-1.
    hln: apply the Harvey-Leybourne-Newbold correction and use Student's t (else the normal).
    """
    from scipy import stats

    e1, e2 = (np.asarray(e, dtype=float).ravel() for e in (errors_1, errors_2))
    if e1.shape != e2.shape:
        raise ValueError("both error series must have the same length")
    d = e1**2 - e2**2
    n = d.size
    h = max(1, int(horizon))
    if n < 2:
        return math.nan, math.nan
    mean = float(d.mean())
    centred = d - mean
    lags = min(h - 1, n - 1)
    gamma = [float(centred @ centred) / n] + [float(centred[k:] @ centred[:-k]) / n for k in range(1, lags + 1)]
    var = gamma[0] + 2.0 * sum(gamma[1:])
    if var <= 0.0:  # the uniform-weight estimate can be negative: Bartlett weights are always >= 0
        var = gamma[0] + 2.0 * sum((1.0 - k / (lags + 1.0)) * g for k, g in enumerate(gamma[1:], start=1))
    if var <= 0.0:
        if mean == 0.0:
            return 0.0, 1.0
        return math.copysign(math.inf, mean), 0.0
    stat = mean / math.sqrt(var / n)
    if not hln:
        return stat, float(2.0 * stats.norm.sf(abs(stat)))
    stat *= math.sqrt(max((n + 1 - 2 * h + h * (h - 1) / n) / n, 0.0))
    return stat, float(2.0 * stats.t.sf(abs(stat), df=n - 1))


def _num(value: float) -> str:
    return "n/a" if value is None or not math.isfinite(value) else f"{value:.2f}"


def verdict(name: str, lstm_mase: float, naive_mase: float, dm_stat: float, dm_p: float) -> str:
    """One sentence: does the LSTM beat the naive forecast on the backtest, and is it significant?"""
    head = (
        f"On {name} the LSTM's MASE is {_num(lstm_mase)} (naive {_num(naive_mase)}) and the "
        f"Diebold-Mariano p-value {_num(dm_p)}"
    )
    if not math.isfinite(dm_p) or not math.isfinite(dm_stat):
        return f"{head}: the test could not be computed, so no claim is made."
    if dm_p < SIGNIFICANCE and dm_stat < 0:
        return f"{head}: it beats the naive forecast, significantly at the 5% level."
    if dm_p < SIGNIFICANCE and dm_stat > 0:
        return f"{head}: it is significantly worse than the naive forecast (5% level)."
    if dm_stat < 0 or (math.isfinite(lstm_mase) and math.isfinite(naive_mase) and lstm_mase < naive_mase):
        return (
            f"{head}: its point errors are lower than the naive forecast's, but not significantly "
            "(5% level), so it does not reliably beat it."
        )
    return f"{head}: it does not beat the naive forecast."
