"""gunicorn entry point for the job tests: the real app, with the forecast page's "quick" effort shrunk to a
tiny budget so that ten jobs finish in seconds (`gunicorn tests.app.tiny_forecast_wsgi:server`)."""

from app import create_app
from callbacks import forecast

forecast.EFFORT_OVERRIDES["quick"] = {"epochs": 2, "patience": 1, "hidden_size": 8, "backtest_origins": 3}

server = create_app().server
