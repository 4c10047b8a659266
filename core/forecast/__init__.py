"""Forecast: a 30-day LSTM price forecast, judged against naive, drift and linear baselines.

Import-light on purpose: `import core.forecast` loads the config, the errors, the calendar and the
result types but NOT torch (the web process imports it to validate configs; STACK.md pitfall 2). torch is
imported inside `run_forecast` (through core.forecast.lstm) when a model is trained or loaded.

    from core.data import load_ohlcv
    from core.forecast import ForecastConfig, run_forecast

    frame, prov = load_ohlcv("AAPL", live=False)
    result = run_forecast(frame, provenance=prov, config=ForecastConfig(horizon=30))
    result.to_json()["verdict"]

Modules: config (ForecastConfig, errors, the bar plan), inputs (the checked series), windows (log
returns, scaler, windows), calendar (NYSE holidays, future dates), baselines, lstm (torch), backtest,
conformal, scores (metrics, Diebold-Mariano, verdict), result (ForecastResult), store (disk cache),
progress (ForecastProgress), run (run_forecast).
"""

from __future__ import annotations

from core.forecast.calendar import NYSEHolidayCalendar, future_dates, nyse_holidays
from core.forecast.config import (
    MAX_HORIZON,
    ForecastCancelled,
    ForecastConfig,
    ForecastInputError,
    InsufficientData,
)
from core.forecast.progress import ForecastProgress
from core.forecast.result import ForecastResult
from core.forecast.run import run_forecast
from core.forecast.store import default_cache_dir

__all__ = [
    "MAX_HORIZON",
    "ForecastCancelled",
    "ForecastConfig",
    "ForecastInputError",
    "ForecastProgress",
    "ForecastResult",
    "InsufficientData",
    "NYSEHolidayCalendar",
    "default_cache_dir",
    "future_dates",
    "nyse_holidays",
    "run_forecast",
]
