"""Causal market features for the agents' observations, and the scaler fit on training rows only.

Every feature at bar t uses closes and indicators up to and including bar t (no centred windows, no
back-fill): bars before every feature is defined are NaN and must never reach a policy; the environment
starts its episodes at `first_valid_bar(...)` or later.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from core.indicators import INDICATOR_COLUMNS, WARMUP_BARS, add_indicators

MARKET_FEATURES: tuple[str, ...] = (
    "close_sma20",  # close / sma20 - 1
    "rsi_centered",  # rsi / 100 - 0.5
    "macd_close",  # macd / close
    "macd_hist_close",  # macd_hist / close
    "log_ret_1d",  # log(close_t / close_{t-1})
    "log_ret_5d",  # log(close_t / close_{t-5})
    "vol_20d",  # standard deviation of the last 20 daily log returns
    "sma20_slope",  # sma20_t / sma20_{t-5} - 1
)
"""Names of the market feature columns, in observation order."""

SLOPE_LAG = 5
VOL_WINDOW = 20
SCALER_CLIP = 5.0
"""Scaled features are clipped to +-5 standard deviations so an outlier bar cannot blow up a policy."""

TREND_MACD_SCALE = 0.005
"""macd_hist / close of this size counts as a clear trend (tanh argument 1)."""
TREND_SLOPE_SCALE = 0.01
"""A 1% rise of the SMA-20 over 5 bars counts as a clear trend (tanh argument 1)."""
RSI_NEUTRAL, RSI_SPAN = 50.0, 20.0
"""The contrarian signal is +1 at RSI <= 30, -1 at RSI >= 70, linear in between."""


def with_indicators(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame itself when it already has the indicator columns, else a copy with them added."""
    if all(col in frame.columns for col in INDICATOR_COLUMNS):
        return frame
    return add_indicators(frame)


def market_features(frame: pd.DataFrame) -> np.ndarray:
    """The (n_bars, 8) float64 array of MARKET_FEATURES; NaN during the warm-up.

    Parameters
    ----------
    frame: OHLCV frame, with or without the indicator columns (they are added when missing).
    """
    frame = with_indicators(frame)
    close = frame["close"].to_numpy(dtype=float)
    sma20 = frame["sma20"].to_numpy(dtype=float)
    log_close = np.log(close)
    ret1 = np.full(close.size, np.nan)
    ret1[1:] = np.diff(log_close)
    ret5 = np.full(close.size, np.nan)
    ret5[SLOPE_LAG:] = log_close[SLOPE_LAG:] - log_close[:-SLOPE_LAG]
    vol = pd.Series(ret1).rolling(VOL_WINDOW, min_periods=VOL_WINDOW).std(ddof=0).to_numpy()
    slope = np.full(close.size, np.nan)
    slope[SLOPE_LAG:] = sma20[SLOPE_LAG:] / sma20[:-SLOPE_LAG] - 1.0
    columns = (
        close / sma20 - 1.0,
        frame["rsi"].to_numpy(dtype=float) / 100.0 - 0.5,
        frame["macd"].to_numpy(dtype=float) / close,
        frame["macd_hist"].to_numpy(dtype=float) / close,
        ret1,
        ret5,
        vol,
        slope,
    )
    return np.column_stack(columns)


def trend_signal(frame: pd.DataFrame) -> np.ndarray:
    """Momentum's trend signal in [-1, 1]: mean of tanh(MACD histogram / close) and tanh(SMA-20 slope).

    Positive in up-trends, negative in down-trends; NaN during the warm-up.
    """
    frame = with_indicators(frame)
    feats = market_features(frame)
    hist = feats[:, MARKET_FEATURES.index("macd_hist_close")]
    slope = feats[:, MARKET_FEATURES.index("sma20_slope")]
    return 0.5 * (np.tanh(hist / TREND_MACD_SCALE) + np.tanh(slope / TREND_SLOPE_SCALE))


def contrarian_signal(frame: pd.DataFrame) -> np.ndarray:
    """Mean-Reversion's signal in [-1, 1]: clip((50 - RSI) / 20, -1, 1), +1 oversold, -1 overbought."""
    rsi = with_indicators(frame)["rsi"].to_numpy(dtype=float)
    return np.clip((RSI_NEUTRAL - rsi) / RSI_SPAN, -1.0, 1.0)


def first_valid_bar(features: np.ndarray) -> int:
    """Index of the first row where every feature is finite (at least the indicator warm-up)."""
    finite = np.isfinite(features).all(axis=1)
    idx = np.flatnonzero(finite)
    if idx.size == 0:
        raise ValueError(
            f"no bar has every feature defined: the data needs more than {WARMUP_BARS} rows"
        )
    return int(max(idx[0], WARMUP_BARS))


@dataclass
class FeatureScaler:
    """Per-feature standardisation (x - mean) / std, clipped to +-clip; fit on training rows only."""

    mean: np.ndarray
    """Mean of each feature over the training rows."""
    std: np.ndarray
    """Standard deviation of each feature over the training rows (1 where a feature was flat)."""
    names: tuple[str, ...] = MARKET_FEATURES
    """Feature names, checked when a scaler is loaded from a model card."""
    clip: float = SCALER_CLIP
    """Scaled values are clipped to [-clip, clip]."""
    fit_rows: tuple[int, int] = field(default=(0, 0))
    """The [start, end) bar range the scaler was fit on (for the model card)."""

    @classmethod
    def fit(cls, features: np.ndarray, start: int, end: int) -> FeatureScaler:
        """Fit on rows [start, end) of `features` (the training bars); raises if any of them is NaN.

        Parameters
        ----------
        features: the (n_bars, n_features) array from `market_features`.
        start: first training bar (at or after the warm-up).
        end: one past the last training bar.
        """
        rows = np.asarray(features[start:end], dtype=float)
        if rows.shape[0] < 2:
            raise ValueError(f"the scaler needs at least 2 training rows, got {rows.shape[0]}")
        if not np.isfinite(rows).all():
            raise ValueError("training rows contain NaN features: start the training range after the warm-up")
        mean = rows.mean(axis=0)
        std = rows.std(axis=0)
        std = np.where(std > 1e-12, std, 1.0)  # a flat feature carries no information; avoid 0/0
        return cls(mean=mean, std=std, fit_rows=(int(start), int(end)))

    def transform(self, features: np.ndarray) -> np.ndarray:
        """Scale and clip; NaN rows stay NaN (the caller never feeds them to a policy)."""
        return np.clip((np.asarray(features, dtype=float) - self.mean) / self.std, -self.clip, self.clip)

    def to_dict(self) -> dict:
        """JSON-ready form for the model card."""
        return {
            "names": list(self.names),
            "mean": [float(x) for x in self.mean],
            "std": [float(x) for x in self.std],
            "clip": float(self.clip),
            "fit_rows": list(self.fit_rows),
        }

    @classmethod
    def from_dict(cls, data: dict) -> FeatureScaler:
        """Rebuild from `to_dict` output; raises ValueError when the stored features do not match."""
        names = tuple(data["names"])
        if names != MARKET_FEATURES:
            raise ValueError(f"scaler features {names} do not match this version's {MARKET_FEATURES}")
        mean = np.asarray(data["mean"], dtype=float)
        std = np.asarray(data["std"], dtype=float)
        if mean.shape != (len(names),) or std.shape != (len(names),) or not (std > 0).all():
            raise ValueError("scaler statistics have the wrong shape or a non-positive std")
        return cls(mean=mean, std=std, names=names, clip=float(data["clip"]), fit_rows=tuple(data["fit_rows"]))
