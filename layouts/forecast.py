"""Forecast page: a 30-day LSTM forecast run as a background job, always measured against the naive,
drift and linear forecasts on a rolling-origin backtest, with its verdict next to the line."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import dcc, html

from layouts import grid, ids
from layouts.components import card, page_header
from layouts.figures import empty_figure
from layouts.forecast_view import TABLE_COLUMNS

BUNDLED = ("AAPL", "TSLA", "BTC-USD")
GRAPH_CONFIG = {"displaylogo": False, "scrollZoom": True}
HORIZON_MIN, HORIZON_MAX = 1, 90
EFFORTS = [
    {"label": "Quick", "value": "quick"},
    {"label": "Standard", "value": "standard"},
    {"label": "Thorough", "value": "thorough"},
]


def controls(ticker: str, horizon: int) -> dbc.Card:
    options = [{"label": t, "value": t} for t in BUNDLED]
    if ticker not in BUNDLED:
        options.append({"label": ticker, "value": ticker})
    return dbc.Card(dbc.CardBody([
        dbc.Row([
            dbc.Col([dbc.Label("Ticker", html_for=ids.FC_TICKER),
                     dcc.Dropdown(id=ids.FC_TICKER, options=options, value=ticker, clearable=False)], md=2),
            dbc.Col([dbc.Label("Or forecast an OHLCV CSV"),
                     dcc.Upload(id=ids.FC_UPLOAD, multiple=False, accept=".csv,text/csv",
                                children=html.Div(["Drop a CSV or ", html.A("browse")]),
                                className="neon-upload"),
                     html.Small(id=ids.FC_SOURCE, className="text-muted")], md=4),
            dbc.Col([dbc.Label(f"Horizon (bars, {HORIZON_MIN}-{HORIZON_MAX})", html_for=ids.FC_HORIZON),
                     dbc.Input(id=ids.FC_HORIZON, type="number", value=horizon, min=HORIZON_MIN,
                               max=HORIZON_MAX, step=1)], md=2, xs=6),
            dbc.Col([dbc.Label("Training effort"),
                     dbc.RadioItems(id=ids.FC_EFFORT, options=EFFORTS, value="standard", inline=True,
                                    className="neon-radio")], md=3),
            dbc.Col([dbc.Label("Seed", html_for=ids.FC_SEED),
                     dbc.Input(id=ids.FC_SEED, type="number", value=0, min=0, max=9999, step=1)], md=1, xs=6),
        ], className="g-3 align-items-end"),
        dbc.Row([
            dbc.Col(html.Div([
                dbc.Button("Run forecast", id=ids.FC_RUN, color="info", n_clicks=0, className="neon-run"),
                dbc.Button("Cancel", id=ids.FC_CANCEL, color="danger", outline=True, n_clicks=0, disabled=True),
            ], className="d-flex gap-2"), md="auto"),
            dbc.Col(html.Div([
                dbc.Progress(id=ids.FC_PROGRESS, value=0, label="", striped=True, animated=True,
                             className="neon-progress", style={"height": "18px"}),
                html.Div("Press Run forecast: the LSTM trains in the background (about 10-20 s); you can keep "
                         "working on other pages and come back.", id=ids.FC_STATUS, className="job-status mt-1"),
                job_backend_note(),
            ]), className="flex-grow-1"),
        ], className="g-3 mt-1 align-items-center"),
    ]), className="neon-card mb-3")


def job_backend_note() -> html.Small | None:
    """A line under the job status when REDIS_URL is set but Redis was unreachable at start-up: jobs run on
    this server (diskcache) instead of the Celery workers."""
    from app.jobs import backend_note

    note = backend_note()
    return html.Small(note, className="job-backend-note text-warning d-block mt-1") if note else None


def method_note() -> html.Small:
    return html.Small(
        "Every method is fit only on data before each backtest origin; errors are on prices, net of nothing "
        "(a forecast pays no costs). MASE < 1 beats the one-step naive forecast in-sample; the Diebold-Mariano "
        "test asks whether the LSTM's squared errors differ from naive's by more than chance.",
        className="text-muted")


def layout(ticker: str | None = None, horizon: str | None = None, **_query) -> html.Div:
    """The page tree; `?ticker=TSLA&horizon=20` preselects; bad values fall back to the defaults."""
    chosen = (ticker or "AAPL").strip().upper()[:15] or "AAPL"
    try:
        steps = min(HORIZON_MAX, max(HORIZON_MIN, int(horizon))) if horizon else 30
    except ValueError:
        steps = 30
    return html.Div([
        page_header("Forecast", "A 30-day LSTM forecast, and an honest answer to: does it beat the naive guess?",
                    right=html.Div(id=ids.FC_SAMPLE_TAG)),
        controls(chosen, steps),
        html.Div(id=ids.FC_ALERT),
        html.Div(id=ids.FC_VERDICT),
        html.Div(id=ids.FC_KPIS, className="kpi-row"),
        card("Forecast against the history",
              dcc.Graph(id=ids.FC_CHART, figure=empty_figure("Run a forecast to see it here.", 520),
                        config=GRAPH_CONFIG),
              right=html.Small("bands: split-conformal 80% / 95%, calibrated before the backtest",
                               className="text-muted")),
        dbc.Row([
            dbc.Col(card("Backtest: rolling origins, out-of-sample", [
                dcc.Graph(id=ids.FC_BACKTEST_CHART, figure=empty_figure("No backtest yet.", 360),
                          config=GRAPH_CONFIG),
            ]), lg=6),
            dbc.Col(card("Errors per method (backtest)", [
                grid.data_grid(ids.FC_TABLE, TABLE_COLUMNS, height=250, export_name="forecast_backtest"),
                method_note(),
            ], right=html.Div([
                dbc.Button("CSV", id=ids.FC_CSV, size="sm", color="secondary", n_clicks=0),
                dbc.Button("Excel", id=ids.FC_XLSX, size="sm", color="secondary", n_clicks=0),
            ], className="d-flex gap-2")), lg=6),
        ]),
        card("Model card", html.Div(id=ids.FC_CARD, children=html.Small("No model yet.", className="text-muted"))),
        dcc.Store(id=ids.FC_UPLOAD_STORE),
        dcc.Store(id=ids.FC_RESULT),
        dcc.Interval(id=ids.FC_POLL, interval=700, disabled=True),
        dcc.Download(id=ids.FC_DOWNLOAD),
    ])
