"""Forecast page (not built yet): says plainly what will be here; shows no numbers until they are real."""

from __future__ import annotations

from layouts.components import coming_soon


def layout(**_query):
    return coming_soon(
        "Forecast",
        "A 30-day LSTM forecast set against the history, with an honest baseline",
        [
            "A PyTorch LSTM (60-bar window, MinMax scaling fit on training data only) trained as a background "
            "job with progress and cancel",
            "The 30-day forecast drawn after the last bar, with the history and a naive last-value baseline",
            "Out-of-sample error metrics (MAE, RMSE, MAPE) for the model and the baseline side by side",
        ],
        "Forecasting arrives with the risk / forecast / background-jobs milestone.",
    )
