"""Rolling-origin evaluation: every method's forecasts at a set of origins, scored on what came after.

What is fit on what (n closes c[0..n-1], plan in config.py):

- LSTM: fit ONCE, on c[0..a1] (a1 = the first calibration origin, before every calibration and backtest
  origin), with its early-stopping slice at the end of that part. At each later origin o it is fed the
  `window` log returns up to c[o] (known at o) and scaled with its training scaler; it is not refit, which
  makes the backtest honest (nothing after a1 shaped it) and cheap (one fit instead of one per origin),
  at the price of a model that is a little older at later origins than a per-origin refit would be.
- naive, drift, linear: fit on c[0..o] at every origin o (the linear model's Ridge and scaler are refit
  per origin; it takes milliseconds).
- MASE scale: the in-sample one-step naive MAE of c[0..o], the data available at origin o (one scale per
  origin for every method, so their MASEs compare).

Nothing at or after bar o+1 enters a forecast made at origin o; tests perturb every price after an origin
and check that origin's forecasts of every method stay identical.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.forecast.baselines import METHODS, baseline_forecasts
from core.forecast.scores import diebold_mariano, directional_accuracy, mae, mape, mase, naive_scale, rmse


@dataclass
class OriginForecasts:
    """Forecasts of every method at a set of origins, with what actually happened."""

    origins: np.ndarray
    """Bar index of each origin (the last bar a forecast could see)."""
    last: np.ndarray
    """close[origin]."""
    actual: np.ndarray
    """(origins, horizon): close[origin+1 .. origin+H]."""
    scale: np.ndarray
    """MASE scale per origin (naive_scale of close[0..origin])."""
    forecasts: dict[str, np.ndarray]
    """method -> (origins, horizon) price forecasts."""


def origin_forecasts(close, origins, lstm_paths: np.ndarray, window: int, horizon: int, alpha: float):
    """OriginForecasts for the LSTM's given paths plus the three baselines fit at each origin."""
    c = np.asarray(close, dtype=float)
    origins = np.asarray(origins, dtype=int)
    per_origin = [baseline_forecasts(c, int(o), window, horizon, alpha) for o in origins]
    forecasts = {"lstm": np.asarray(lstm_paths, dtype=float)}
    for name in per_origin[0]:
        forecasts[name] = np.stack([p[name] for p in per_origin])
    return OriginForecasts(
        origins=origins,
        last=c[origins],
        actual=np.stack([c[o + 1 : o + 1 + horizon] for o in origins]),
        scale=np.array([naive_scale(c[: o + 1]) for o in origins]),
        forecasts=forecasts,
    )


def method_metrics(of: OriginForecasts) -> dict[str, dict[str, float]]:
    """MAE, RMSE, MAPE, MASE and directional accuracy of every method, pooled over the origins."""
    out = {}
    for method in METHODS:
        f = of.forecasts[method]
        out[method] = {
            "mae": mae(of.actual, f),
            "rmse": rmse(of.actual, f),
            "mape": mape(of.actual, f),
            "mase": mase(of.actual, f, of.scale),
            "directional_accuracy": directional_accuracy(of.last, of.actual, f),
        }
    return out


def dm_versus(of: OriginForecasts, method: str, against: str, horizon: int) -> tuple[float, float]:
    """Diebold-Mariano (statistic, p-value) of `method` vs `against` on the pooled errors in time order.

    The backtest origins are `horizon` bars apart, so the row-major flattening of the (origins, horizon)
    errors is the target bars in date order; errors up to h-1 steps apart share a forecast origin, hence
    the h-1 lags of the test's variance.
    """
    e1 = (of.actual - of.forecasts[method]).ravel()
    e2 = (of.actual - of.forecasts[against]).ravel()
    return diebold_mariano(e1, e2, horizon)
