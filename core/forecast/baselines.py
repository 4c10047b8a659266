"""The baselines every forecast is judged against, each fit only on closes up to its origin.

- naive: the last close, for every step (a random walk's best forecast).
- drift: a random walk with drift, last + h * (last - first) / (n - 1) over the n closes it is fit on
  (all closes from the first bar to the origin).
- linear: sklearn Ridge on exactly the LSTM's inputs and target: the last `window` min-max-scaled log
  returns -> the next `horizon` scaled log returns (direct multi-output), with its own scaler and
  regression fit on the returns up to the origin (refit at every origin: it takes milliseconds).
"""

from __future__ import annotations

import numpy as np

from core.forecast.windows import (
    fit_scaler,
    input_window,
    log_returns,
    make_windows,
    price_path,
    scale,
    unscale,
)

METHODS: tuple[str, ...] = ("lstm", "naive", "drift", "linear")
"""Every method of a forecast run, in display order."""
BASELINES: tuple[str, ...] = ("naive", "drift", "linear")
LABELS = {"lstm": "LSTM", "naive": "Naive (last value)", "drift": "Drift (random walk)", "linear": "Linear (Ridge)"}


def naive_forecast(close, origin: int, horizon: int) -> np.ndarray:
    """close[origin] repeated `horizon` times."""
    return np.full(horizon, float(close[origin]))


def drift_forecast(close, origin: int, horizon: int) -> np.ndarray:
    """last + h * (last - first) / (n - 1) for h = 1..horizon, over close[0..origin]."""
    c = np.asarray(close, dtype=float)
    slope = (c[origin] - c[0]) / origin if origin > 0 else 0.0
    return c[origin] + slope * np.arange(1, horizon + 1)


def linear_forecast(close, origin: int, window: int, horizon: int, alpha: float) -> np.ndarray:
    """Ridge on scaled log-return windows, fit on close[0..origin]; the price path after the origin."""
    from sklearn.linear_model import Ridge

    c = np.asarray(close[: origin + 1], dtype=float)
    returns = log_returns(c)
    scaler = fit_scaler(returns)
    x, y = make_windows(scale(scaler, returns), window, horizon)
    if len(x) == 0:
        raise ValueError(f"origin {origin} leaves no training windows for the linear baseline")
    model = Ridge(alpha=alpha).fit(x, y)
    inputs = scale(scaler, input_window(c, origin, window))[None, :]
    return price_path(c[origin], unscale(scaler, model.predict(inputs)[0]))


def baseline_forecasts(close, origin: int, window: int, horizon: int, alpha: float) -> dict[str, np.ndarray]:
    """{"naive", "drift", "linear"} price paths for the `horizon` bars after `origin`."""
    return {
        "naive": naive_forecast(close, origin, horizon),
        "drift": drift_forecast(close, origin, horizon),
        "linear": linear_forecast(close, origin, window, horizon, alpha),
    }
