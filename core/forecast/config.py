"""`ForecastConfig` (everything that determines a forecast run), the errors of core.forecast, and the
bar plan that turns a config and a series length into the training / calibration / backtest parts.

No torch, no sklearn here: the web process imports this module to validate a config before it starts a
job (STACK.md pitfall 2).

The plan over n closes c[0..n-1] (an "origin" is the index of the last bar a forecast may see; it
forecasts bars origin+1 .. origin+H):

    | training part: c[0..a1]          | calibration origins a1..qC  | backtest origins b1..bK      |
                                  a1 = first calibration origin     b1 = first backtest origin
    backtest origins:    b_k = n-1-H - (K-k)*H, k = 1..K (non-overlapping; bK's horizon ends at the last bar)
    calibration origins: q_j = b1-H - (C-j)*s,  j = 1..C (their targets all lie at or before b1)
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields

MAX_HORIZON = 120
"""Longest forecast horizon in bars (about half a trading year)."""
WINDOW_RANGE = (5, 250)
"""Allowed input window lengths in bars."""


class ForecastInputError(ValueError):
    """Bad input for a forecast (too few rows, missing or non-positive closes, a bad config value).

    The message says what is wrong and what to do; the CLI prints it as one line and exits with status 2.
    """


class InsufficientData(ForecastInputError):
    """Too few rows for the configured window, horizon, calibration and backtest origins."""


class ForecastCancelled(RuntimeError):
    """The run was cancelled through `should_cancel`; nothing was written (like training.TrainingCancelled)."""


@dataclass(frozen=True)
class ForecastConfig:
    """Everything that determines a forecast run (stored in the model card; part of the cache key)."""

    window: int = 60
    """Input length: the network (and the linear baseline) sees the last `window` daily log returns."""
    horizon: int = 30
    """Forecast length in bars (trading days for stocks, days for crypto), 1..120."""
    hidden_size: int = 32
    """LSTM hidden units (32: about 0.22 s per epoch on AAPL's ~3,100 training windows, one thread)."""
    num_layers: int = 1
    """Stacked LSTM layers."""
    dropout: float = 0.1
    """Dropout on the LSTM's last hidden state before the linear head (and between layers when > 1)."""
    epochs: int = 20
    """Most training epochs; early stopping usually ends the backtest fit sooner."""
    batch_size: int = 64
    """Minibatch size (windows per Adam step)."""
    learning_rate: float = 1e-3
    """Adam learning rate."""
    val_fraction: float = 0.1
    """Share of the training windows, at the END of the training part, used for early stopping."""
    patience: int = 4
    """Epochs without a better validation loss before the backtest fit stops."""
    seed: int = 0
    """Seed of torch (weights, dropout, batch order); the run is deterministic on CPU."""
    backtest_origins: int = 8
    """K: rolling forecast origins over the held-out end of the data, `horizon` bars apart."""
    calibration_origins: int = 20
    """C: rolling origins just before the backtest whose residuals calibrate the conformal band
    (19..500: 19 is the fewest with a finite 95% split-conformal quantile)."""
    calibration_step: int = 5
    """Bars between two calibration origins."""
    min_train_windows: int = 250
    """Fewest (input, target) windows the training part must give the LSTM (about a year of bars)."""
    ridge_alpha: float = 1.0
    """L2 penalty of the linear (Ridge) baseline on the scaled windows."""
    history_bars: int = 250
    """Bars of history carried in the result for the chart (about a trading year)."""

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if f.type in ("int", int) and (isinstance(value, bool) or not isinstance(value, int)):
                if isinstance(value, float) and value.is_integer():
                    object.__setattr__(self, f.name, int(value))
                else:
                    raise ForecastInputError(f"{f.name} must be a whole number, got {value!r}")
            if f.type in ("float", float):
                if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                    raise ForecastInputError(f"{f.name} must be a finite number, got {value!r}")
                object.__setattr__(self, f.name, float(value))
        self._check()

    def _check(self) -> None:
        def need(ok: bool, message: str) -> None:
            if not ok:
                raise ForecastInputError(message)

        need(
            1 <= self.horizon <= MAX_HORIZON,
            f"horizon must be between 1 and {MAX_HORIZON} bars, got {self.horizon}: "
            f"forecasts further out than about half a year are noise; try 30",
        )
        lo, hi = WINDOW_RANGE
        need(lo <= self.window <= hi, f"window must be between {lo} and {hi} bars, got {self.window}; try 60")
        need(1 <= self.hidden_size <= 512, f"hidden_size must be between 1 and 512, got {self.hidden_size}")
        need(1 <= self.num_layers <= 4, f"num_layers must be between 1 and 4, got {self.num_layers}")
        need(0.0 <= self.dropout < 1.0, f"dropout must be in [0, 1), got {self.dropout:g}")
        need(1 <= self.epochs <= 1000, f"epochs must be between 1 and 1000, got {self.epochs}")
        need(1 <= self.batch_size <= 4096, f"batch_size must be between 1 and 4096, got {self.batch_size}")
        need(0.0 < self.learning_rate <= 1.0, f"learning_rate must be in (0, 1], got {self.learning_rate:g}")
        need(
            0.05 <= self.val_fraction <= 0.5,
            f"val_fraction must be between 0.05 and 0.5, got {self.val_fraction:g}; try 0.1",
        )
        need(1 <= self.patience <= 1000, f"patience must be at least 1, got {self.patience}")
        need(0 <= self.seed < 2**32, f"seed must be between 0 and 2**32 - 1, got {self.seed}")
        need(
            1 <= self.backtest_origins <= 100,
            f"backtest_origins must be between 1 and 100, got {self.backtest_origins}; try 8",
        )
        need(
            19 <= self.calibration_origins <= 500,
            f"calibration_origins must be between 19 and 500, got {self.calibration_origins}: a 95% "
            "split-conformal band needs at least 19 calibration forecasts; try 20",
        )
        need(1 <= self.calibration_step <= 250, f"calibration_step must be 1..250, got {self.calibration_step}")
        need(
            10 <= self.min_train_windows <= 100_000,
            f"min_train_windows must be at least 10, got {self.min_train_windows}",
        )
        need(self.ridge_alpha >= 0.0, f"ridge_alpha must be >= 0, got {self.ridge_alpha:g}")
        need(10 <= self.history_bars <= 100_000, f"history_bars must be at least 10, got {self.history_bars}")

    def to_dict(self) -> dict:
        """A JSON-ready dict of every field (the inverse of `from_dict`)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> ForecastConfig:
        """A config from `to_dict()` output; unknown keys are refused with their names."""
        if not isinstance(data, dict):
            raise ForecastInputError(f"a forecast config must be a mapping, got {type(data).__name__}")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ForecastInputError(f"unknown forecast setting(s): {', '.join(unknown)}; known: {', '.join(sorted(known))}")
        return cls(**data)

    def min_windows(self) -> int:
        """Fewest windows of the training part: min_train_windows to train on after the validation slice
        (val_fraction of them) and the H-1 purged windows before it are taken away (lstm.fit_lstm)."""
        m = self.min_train_windows + self.horizon - 1
        while m - math.ceil(self.val_fraction * m) - (self.horizon - 1) < self.min_train_windows:
            m += 1
        return m

    def min_rows(self) -> int:
        """Fewest closes that give min_windows() training windows plus the calibration and backtest origins."""
        # the training part c[0..a1] has a1 - H - W + 1 windows (a1 + 1 closes, a1 returns)
        return self.min_windows() + self.window + self.horizon + self.holdout_bars()

    def holdout_bars(self) -> int:
        """Bars after the first calibration origin: calibration span + one horizon + the backtest."""
        return (self.calibration_origins - 1) * self.calibration_step + self.horizon * (1 + self.backtest_origins)

    def describe_min_rows(self, n: int) -> str:
        """The too-few-rows message for a series of n closes."""
        return (
            f"{n} rows are too few: a {self.horizon}-day forecast with a {self.window}-bar window and "
            f"{self.backtest_origins} backtest origins needs at least {self.min_rows()} rows "
            f"({self.min_windows()} training windows of {self.window} + {self.horizon} bars, "
            f"{self.calibration_origins} calibration origins {self.calibration_step} bars apart, and "
            f"{self.backtest_origins} x {self.horizon} backtest bars); use a longer history, or a shorter "
            "horizon, window or backtest"
        )


@dataclass(frozen=True)
class Plan:
    """Bar indices of a run over n closes (see the module docstring)."""

    n: int
    calibration: tuple[int, ...]
    """Calibration origins q_1..q_C (ascending)."""
    backtest: tuple[int, ...]
    """Backtest origins b_1..b_K (ascending)."""

    @property
    def train_end(self) -> int:
        """Last bar of the backtest model's training part (= the first calibration origin)."""
        return self.calibration[0]


def make_plan(n: int, config: ForecastConfig) -> Plan:
    """The origins for n closes; InsufficientData (saying the minimum) when n is too small."""
    if n < config.min_rows():
        raise InsufficientData(config.describe_min_rows(n))
    h, k = config.horizon, config.backtest_origins
    backtest = tuple(n - 1 - h - (k - i) * h for i in range(1, k + 1))
    last_cal = backtest[0] - h
    c, s = config.calibration_origins, config.calibration_step
    calibration = tuple(last_cal - (c - j) * s for j in range(1, c + 1))
    return Plan(n=n, calibration=calibration, backtest=backtest)
