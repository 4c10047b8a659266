"""Market page: ticker / CSV choice, date range, candles with SMA 20, volume, RSI and MACD."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import dcc, html

from layouts import ids, state
from layouts.components import page_header
from layouts.figures import empty_figure

BUNDLED = ("AAPL", "TSLA", "BTC-USD")
SPAN_OPTIONS = [{"label": label, "value": value} for label, value in
                (("1Y", "1y"), ("2Y", "2y"), ("5Y", "5y"), ("All", "all"))]
"""Window presets: the last 1, 2 or 5 years, or the whole history (the chart carries only that window)."""


def _ticker_options(selected: str) -> list[dict]:
    options = [{"label": t, "value": t} for t in BUNDLED]
    if selected not in BUNDLED:
        options.append({"label": selected, "value": selected})
    return options


def controls(ticker: str) -> dbc.Card:
    return dbc.Card(
        dbc.CardBody(
            dbc.Row(
                [
                    dbc.Col([
                        dbc.Label("Ticker", html_for=ids.MKT_TICKER),
                        dcc.Dropdown(id=ids.MKT_TICKER, options=_ticker_options(ticker), value=ticker,
                                     clearable=False, className="neon-dropdown"),
                    ], md=2),
                    dbc.Col([
                        dbc.Label("Any other ticker", html_for=ids.MKT_CUSTOM),
                        dbc.InputGroup([
                            dbc.Input(id=ids.MKT_CUSTOM, placeholder="e.g. MSFT", type="text", maxLength=15,
                                      debounce=True, autoComplete="off"),
                            dbc.Button("Load", id=ids.MKT_CUSTOM_GO, color="info", outline=True, n_clicks=0),
                        ]),
                    ], md=2),
                    dbc.Col([
                        dbc.Label("Date range"),
                        dcc.DatePickerRange(id=ids.MKT_DATES, display_format="YYYY-MM-DD",
                                            clearable=True, className="neon-dates",
                                            start_date_placeholder_text="first bar",
                                            end_date_placeholder_text="last bar"),
                        dbc.RadioItems(id=ids.MKT_SPAN, options=SPAN_OPTIONS, value=state.DEFAULT_SPAN, inline=True,
                                       className="neon-radio span-radio mt-1"),
                        html.Div(id=ids.MKT_NOTE, className="grid-note mt-1"),
                    ], md=3),
                    dbc.Col([
                        dbc.Label("Or upload an OHLCV CSV"),
                        dcc.Upload(id=ids.MKT_UPLOAD, multiple=False, accept=".csv,text/csv",
                                   children=html.Div(["Drop a CSV or ", html.A("browse")]),
                                   className="neon-upload"),
                    ], md=2),
                    dbc.Col([
                        dbc.Label("Price scale"),
                        dbc.Switch(id=ids.MKT_LOG, label="Log scale", value=False, className="neon-radio"),
                    ], md=1, xs=6),
                    dbc.Col([
                        dbc.Label("Download shown data"),
                        html.Div([
                            dbc.Button("CSV", id=ids.MKT_CSV, color="secondary", size="sm", n_clicks=0),
                            dbc.Button("Excel", id=ids.MKT_XLSX, color="secondary", size="sm", n_clicks=0),
                        ], className="d-flex gap-2"),
                    ], md=2, xs=6),
                ],
                className="g-3 align-items-end",
            )
        ),
        className="neon-card mb-3",
    )


def layout(**query) -> html.Div:
    """The page tree. The view comes from the URL (`?ticker=TSLA&start=2024-01-01&log=1`), else the session
    (an upload stays for the session), else AAPL (layouts/state.py); unknown query keys are ignored."""
    choice, _messages = state.parse_market_query(query)
    chosen = (choice or state.default_market())["ticker"]
    return html.Div(
        [
            page_header("Market", "Daily OHLCV with RSI 14, SMA 20 and MACD 12/26/9 (causal indicators)",
                        right=html.Div(id=ids.MKT_SOURCE, className="source-badge")),
            controls(chosen),
            html.Div(id=ids.MKT_ALERT),
            html.Div(id=ids.MKT_KPIS, className="kpi-row"),
            dbc.Card(
                dcc.Graph(id=ids.MKT_CHART, figure=empty_figure("Loading market data..."),
                          config={"displaylogo": False, "scrollZoom": True},
                          style={"height": "820px"}),
                className="neon-card chart-card",
            ),
            dcc.Download(id=ids.MKT_DOWNLOAD),
            state.query_store(ids.MKT_QUERY, query),
        ]
    )
