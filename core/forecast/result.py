"""`ForecastResult`: what a forecast run returns, JSON-safe for the web app, the CLI and the disk cache.

`to_json()` keys (lists are aligned with `dates` unless said otherwise):

- ticker, data_sha256, provenance (dict or None), calendar ("NYSE trading days" | "every day")
- sample ("out-of-sample"), sample_note (what was fit on what), samples (per part of the run)
- history: {dates, close}: the last `history_bars` bars, for the chart
- last_date, last_close; dates: the `horizon` future dates
- forecast (the LSTM's prices), lower / upper (95% band), lower_80 / upper_80, lower_95 / upper_95
- baselines: {naive, drift, linear}: price lists
- metrics: the LSTM's backtest figures (mae, rmse, mape, mase, directional_accuracy, naive_mae, naive_mase,
  dm_statistic, dm_p_value, coverage_80, coverage_95)
- metrics_table: one row per method (method, label, mae, rmse, mape, mase, directional_accuracy,
  coverage_80, coverage_95, sample)
- dm: {statistic, p_value, loss, correction, lags, n, against}; coverage_80, coverage_95; verdict
- backtest: {start, end, origins: [{origin_date, origin_close, dates, actual, lstm, naive, drift, linear,
  lower_80, upper_80, lower_95, upper_95}]}
- calibration: {origins, start, end, quantile_80, quantile_95 (per horizon step, log-price)}
- training: {train_end, backtest_model, final_model} (scaler bounds, epochs run, best epoch, windows)
- config, versions, wall_time_s, from_cache, format
NaN and infinite numbers become null.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np

from core.forecast.baselines import BASELINES, LABELS, METHODS
from core.forecast.config import ForecastConfig

FORMAT_VERSION = 1
METRIC_KEYS: tuple[str, ...] = ("mae", "rmse", "mape", "mase", "directional_accuracy")


def clean(value):
    """A JSON-safe copy: numpy scalars/arrays to Python, NaN and inf to None, tuples to lists."""
    if isinstance(value, dict):
        return {str(k): clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, np.ndarray)):
        return [clean(v) for v in value]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(value) else None
    return value


def _floats(values) -> list:
    return [_num(v) for v in values]


def _num(value) -> float:
    return math.nan if value is None else float(value)


@dataclass
class ForecastResult:
    """A forecast run: the future path with its bands and baselines, and the backtest that judges it."""

    ticker: str
    """The name shown (ticker, CSV stem, or "the data")."""
    data_sha256: str
    """sha256 of the data (core.data's canonical CSV for an OHLCV frame)."""
    config: ForecastConfig
    every_day: bool
    """True: future dates are every calendar day (crypto); False: NYSE trading days."""
    history_dates: list[str]
    """The last config.history_bars bar dates (ISO), ending at the last bar."""
    history_close: list[float]
    dates: list[str]
    """The `horizon` future dates (ISO)."""
    forecast: list[float]
    """The LSTM's price path (refit on all data)."""
    lower_80: list[float]
    upper_80: list[float]
    lower_95: list[float]
    upper_95: list[float]
    baselines: dict[str, list[float]]
    """naive, drift, linear price paths from the last bar."""
    metrics_table: dict[str, dict[str, float]]
    """Backtest metrics per method (METHODS order): METRIC_KEYS (+ coverage for the LSTM)."""
    dm_statistic: float
    """Diebold-Mariano statistic of LSTM vs naive (negative: the LSTM's squared errors are smaller)."""
    dm_p_value: float
    coverage_80: float
    """Share of the backtest's realised prices inside the LSTM's calibrated 80% band."""
    coverage_95: float
    verdict: str
    backtest: dict
    """Per backtest origin: dates, realised prices, every method's forecast and the band (for the chart)."""
    calibration: dict
    """Calibration origins and the band's per-step log-price quantiles."""
    training: dict
    """Training facts of the backtest and final fits (scaler bounds, epochs, best epoch, windows)."""
    versions: dict = field(default_factory=dict)
    provenance: dict | None = None
    wall_time_s: float = 0.0
    from_cache: bool = False
    """True when read from the disk cache (wall_time_s is then the original run's)."""

    @property
    def last_date(self) -> str:
        return self.history_dates[-1]

    @property
    def last_close(self) -> float:
        return self.history_close[-1]

    @property
    def calendar(self) -> str:
        return "every day" if self.every_day else "NYSE trading days"

    def sample_note(self) -> str:
        k, h = self.config.backtest_origins, self.config.horizon
        bt = self.backtest
        return (
            f"Metrics are out-of-sample: a rolling-origin backtest at {k} origins {h} bars apart "
            f"({bt.get('start')} to {bt.get('end')}); every method was fit only on data before its origin (the "
            f"LSTM once, on bars up to {self.training.get('train_end')}, before every origin). The backtest's "
            f"band was calibrated on {self.calibration.get('origins')} earlier origins, the forecast's on "
            f"those and the backtest origins. The {h}-bar forecast starts after the last bar "
            f"({self.last_date}), from the LSTM refit on all data."
        )

    def lstm_metrics(self) -> dict:
        """The flat metrics block of the JSON (the LSTM's figures, with the naive MAE/MASE to compare)."""
        lstm, naive = self.metrics_table["lstm"], self.metrics_table["naive"]
        return {
            **{k: lstm[k] for k in METRIC_KEYS},
            "naive_mae": naive["mae"],
            "naive_mase": naive["mase"],
            "dm_statistic": self.dm_statistic,
            "dm_p_value": self.dm_p_value,
            "coverage_80": self.coverage_80,
            "coverage_95": self.coverage_95,
        }

    def metrics_frame(self):
        """The per-method backtest table as a pandas DataFrame (for CSV / Excel export)."""
        import pandas as pd

        rows = []
        for method in METHODS:
            m = self.metrics_table[method]
            rows.append(
                {
                    "method": method,
                    "label": LABELS[method],
                    **{k: m.get(k, math.nan) for k in METRIC_KEYS},
                    "coverage_80": m.get("coverage_80", math.nan),
                    "coverage_95": m.get("coverage_95", math.nan),
                    "sample": "out-of-sample",
                }
            )
        return pd.DataFrame(rows)

    def to_json(self) -> dict:
        """A JSON-safe dict (module docstring lists the keys)."""
        table = self.metrics_frame().to_dict(orient="records")
        return clean(
            {
                "format": FORMAT_VERSION,
                "ticker": self.ticker,
                "data_sha256": self.data_sha256,
                "provenance": self.provenance,
                "calendar": self.calendar,
                "every_day": self.every_day,
                "sample": "out-of-sample",
                "sample_note": self.sample_note(),
                "samples": {
                    "backtest": "out-of-sample (rolling origins; fit only on data before each origin)",
                    "calibration": "out-of-sample (origins before the backtest)",
                    "forecast": "future (after the last bar; no realised values yet)",
                },
                "history": {"dates": self.history_dates, "close": self.history_close},
                "last_date": self.last_date,
                "last_close": self.last_close,
                "dates": self.dates,
                "forecast": self.forecast,
                "lower": self.lower_95,
                "upper": self.upper_95,
                "lower_80": self.lower_80,
                "upper_80": self.upper_80,
                "lower_95": self.lower_95,
                "upper_95": self.upper_95,
                "baselines": {name: self.baselines[name] for name in BASELINES},
                "metrics": self.lstm_metrics(),
                "metrics_table": table,
                "dm": {
                    "statistic": self.dm_statistic,
                    "p_value": self.dm_p_value,
                    "against": "naive",
                    "loss": "squared error",
                    "correction": "Harvey-Leybourne-Newbold, Student t with n-1 df, two-sided",
                    "lags": self.config.horizon - 1,
                    "n": self.config.horizon * self.config.backtest_origins,
                },
                "coverage_80": self.coverage_80,
                "coverage_95": self.coverage_95,
                "verdict": self.verdict,
                "backtest": self.backtest,
                "calibration": self.calibration,
                "training": self.training,
                "config": self.config.to_dict(),
                "versions": self.versions,
                "wall_time_s": self.wall_time_s,
                "from_cache": self.from_cache,
            }
        )

    @classmethod
    def from_json(cls, data: dict) -> ForecastResult:
        """Inverse of `to_json` (nulls come back as NaN in the numeric lists)."""
        table = {}
        for row in data["metrics_table"]:
            keep = METRIC_KEYS + (("coverage_80", "coverage_95") if row["method"] == "lstm" else ())
            table[row["method"]] = {k: _num(row.get(k)) for k in keep}
        return cls(
            ticker=data["ticker"],
            data_sha256=data["data_sha256"],
            config=ForecastConfig.from_dict(data["config"]),
            every_day=bool(data["every_day"]),
            history_dates=list(data["history"]["dates"]),
            history_close=_floats(data["history"]["close"]),
            dates=list(data["dates"]),
            forecast=_floats(data["forecast"]),
            lower_80=_floats(data["lower_80"]),
            upper_80=_floats(data["upper_80"]),
            lower_95=_floats(data["lower_95"]),
            upper_95=_floats(data["upper_95"]),
            baselines={k: _floats(v) for k, v in data["baselines"].items()},
            metrics_table=table,
            dm_statistic=_num(data["dm"]["statistic"]),
            dm_p_value=_num(data["dm"]["p_value"]),
            coverage_80=_num(data["coverage_80"]),
            coverage_95=_num(data["coverage_95"]),
            verdict=data["verdict"],
            backtest=data["backtest"],
            calibration=data["calibration"],
            training=data["training"],
            versions=data.get("versions", {}),
            provenance=data.get("provenance"),
            wall_time_s=float(data.get("wall_time_s", 0.0)),
            from_cache=bool(data.get("from_cache", False)),
        )

    def cached_copy(self) -> ForecastResult:
        """The same result marked as read from the cache."""
        return replace(self, from_cache=True)
