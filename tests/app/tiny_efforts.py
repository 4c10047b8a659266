"""The forecast page's training efforts shrunk for the job tests (import before the app is created): "quick"
finishes in seconds, "thorough" trains for minutes, long enough to be cancelled or killed mid-way."""

from callbacks import forecast

forecast.EFFORT_OVERRIDES["quick"] = {"epochs": 2, "patience": 1, "hidden_size": 8, "backtest_origins": 3}
forecast.EFFORT_OVERRIDES["thorough"] = {"epochs": 400, "patience": 400, "hidden_size": 8, "backtest_origins": 3}
