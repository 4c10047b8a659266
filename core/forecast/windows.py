"""What the learned models see: daily log returns, min-max scaled, cut into (window, horizon) pairs.

Why log returns and not prices: a price series trends (AAPL's last years lie far above its training
maximum), so a scaler fit on training prices maps test prices outside [0, 1] and a network trained on
[0, 1] has to extrapolate. Log returns r_t = log(c_t / c_{t-1}) are close to stationary: the test part's
returns mostly stay inside the range fitted on the training part, and a forecast of returns turns back
into a price path anchored at the last known close, c_T * exp(cumsum(r_hat)), so it can never be
negative.

The scaler is sklearn's MinMaxScaler fit on the returns of the model's training data only (every bar up
to its training end); windows at later origins are transformed with it, never refit.
"""

from __future__ import annotations

import numpy as np


def log_returns(close) -> np.ndarray:
    """r[i] = log(close[i+1] / close[i]); len(close) - 1 values (r[i] ends at bar i+1)."""
    c = np.asarray(close, dtype=float)
    return np.diff(np.log(c))


def fit_scaler(returns):
    """A MinMaxScaler (feature range [0, 1]) fit on these returns only."""
    from sklearn.preprocessing import MinMaxScaler

    scaler = MinMaxScaler()
    scaler.fit(np.asarray(returns, dtype=float).reshape(-1, 1))
    return scaler


def scaler_from_bounds(data_min: float, data_max: float):
    """A MinMaxScaler with these fitted bounds (rebuilds a saved one exactly: fit on [[min], [max]])."""
    return fit_scaler(np.array([data_min, data_max], dtype=float))


def scaler_bounds(scaler) -> dict:
    """{"data_min": ..., "data_max": ...} of a fitted MinMaxScaler (for the model card)."""
    return {"data_min": float(scaler.data_min_[0]), "data_max": float(scaler.data_max_[0])}


def scale(scaler, values) -> np.ndarray:
    """Transform returns of any shape with a fitted scaler."""
    v = np.asarray(values, dtype=float)
    return scaler.transform(v.reshape(-1, 1)).reshape(v.shape)


def unscale(scaler, values) -> np.ndarray:
    """Inverse of `scale`."""
    v = np.asarray(values, dtype=float)
    return scaler.inverse_transform(v.reshape(-1, 1)).reshape(v.shape)


def make_windows(series, window: int, horizon: int) -> tuple[np.ndarray, np.ndarray]:
    """All (input, target) pairs of a series: X[j] = s[j : j+W], Y[j] = s[j+W : j+W+H].

    Returns X of shape (m, W) and Y of shape (m, H) with m = len(series) - W - H + 1 (may be 0).
    """
    s = np.asarray(series, dtype=float)
    m = len(s) - window - horizon + 1
    if m <= 0:
        return np.empty((0, window)), np.empty((0, horizon))
    view = np.lib.stride_tricks.sliding_window_view(s, window + horizon)[:m]
    return view[:, :window].copy(), view[:, window:].copy()


def input_window(close, origin: int, window: int) -> np.ndarray:
    """The last `window` log returns known at bar `origin` (they end at close[origin])."""
    c = np.asarray(close, dtype=float)
    if origin < window:
        raise ValueError(f"origin {origin} has fewer than {window} returns before it")
    return log_returns(c[origin - window : origin + 1])


def price_path(last_close: float, returns) -> np.ndarray:
    """Prices after `last_close` for forecast log returns: last * exp(cumsum(r))."""
    return float(last_close) * np.exp(np.cumsum(np.asarray(returns, dtype=float)))
