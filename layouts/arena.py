"""Arena page: the four agents and the benchmarks on one window, with markers, equity, leaderboard, costs."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import dash_table, dcc, html

from layouts import ids
from layouts.components import page_header
from layouts.figures import empty_figure

TABLE_HEADER = {"backgroundColor": "#111633", "color": "#00f0ff", "fontWeight": "600", "border": "none",
                "borderBottom": "1px solid rgba(0,240,255,0.3)", "fontFamily": "DejaVu Sans Mono, monospace",
                "fontSize": "0.75rem", "textTransform": "uppercase"}
TABLE_DATA = {"backgroundColor": "#0b0e1d", "color": "#d6e2ff", "border": "none",
              "borderBottom": "1px solid rgba(0,240,255,0.08)", "fontFamily": "DejaVu Sans Mono, monospace",
              "fontSize": "0.85rem"}
GRAPH_CONFIG = {"displaylogo": False, "scrollZoom": True}

WINDOW_OPTIONS = [
    {"label": "Out-of-sample (test)", "value": "out-of-sample"},
    {"label": "In-sample (training)", "value": "in-sample"},
    {"label": "Custom dates", "value": "custom"},
]


def _tickers() -> list[str]:
    from core.service import arena_tickers

    return arena_tickers()


def controls(spec: dict) -> dbc.Card:
    return dbc.Card(dbc.CardBody(dbc.Row([
        dbc.Col([dbc.Label("Ticker", html_for=ids.ARN_TICKER),
                 dcc.Dropdown(id=ids.ARN_TICKER, options=_tickers(), value=spec["ticker"], clearable=False)],
                md=2),
        dbc.Col([dbc.Label("Window"),
                 dbc.RadioItems(id=ids.ARN_WINDOW, options=WINDOW_OPTIONS, value=spec["window"], inline=True,
                                className="neon-radio"),
                 dbc.Switch(id=ids.ARN_SHARED, value=False, className="mt-1 neon-radio",
                            label="Shared market: the agents' net order flow moves their fill price")], md=4),
        dbc.Col([dbc.Label("Custom dates"),
                 dcc.DatePickerRange(id=ids.ARN_DATES, display_format="YYYY-MM-DD", clearable=True,
                                     start_date=spec.get("start"), end_date=spec.get("end"),
                                     disabled=spec["window"] != "custom", className="neon-dates")], md=3),
        dbc.Col([dbc.Label("Commission (bps)", html_for=ids.ARN_COMMISSION),
                 dbc.Input(id=ids.ARN_COMMISSION, type="number", value=spec["commission_bps"], min=0, max=1000,
                           step=0.5, debounce=True)], md=1, xs=6),
        dbc.Col([dbc.Label("Slippage (bps)", html_for=ids.ARN_SLIPPAGE),
                 dbc.Input(id=ids.ARN_SLIPPAGE, type="number", value=spec["slippage_bps"], min=0, max=1000,
                           step=0.5, debounce=True)], md=1, xs=6),
    ], className="g-3 align-items-end")), className="neon-card mb-3")


def card(title, body, right=None, class_name="") -> dbc.Card:
    return dbc.Card([
        dbc.CardHeader(html.Div([html.Span(title, className="card-title-neon"), html.Div(right)],
                                className="d-flex justify-content-between align-items-center")),
        dbc.CardBody(body),
    ], className=f"neon-card mb-3 {class_name}".strip())


def board_styles() -> list[dict]:
    return [
        {"if": {"filter_query": '{beats} = "YES"', "column_id": "beats"}, "color": "#00ff9c", "fontWeight": "700"},
        {"if": {"filter_query": '{beats} = "no"', "column_id": "beats"}, "color": "#ff3860"},
        {"if": {"filter_query": '{type} = "benchmark"'}, "color": "#9aa6cf"},
        {"if": {"filter_query": "{total_return} < 0", "column_id": "total_return"}, "color": "#ff3860"},
        {"if": {"filter_query": "{total_return} >= 0", "column_id": "total_return"}, "color": "#00ff9c"},
    ]


def leaderboard_table() -> dash_table.DataTable:
    return dash_table.DataTable(
        id=ids.ARN_BOARD, data=[], columns=[], sort_action="native", page_action="none",
        style_table={"overflowX": "auto"}, style_as_list_view=True, cell_selectable=False,
        style_cell={"padding": "6px 10px", "textAlign": "right", "minWidth": "70px"},
        style_header=TABLE_HEADER, style_data=TABLE_DATA,
        style_cell_conditional=[{"if": {"column_id": c}, "textAlign": "left"} for c in ("contestant", "type", "beats")],
        style_data_conditional=board_styles(),
        css=[{"selector": ".dash-spreadsheet-menu", "rule": "display: none"}],
    )


def layout(ticker: str | None = None, window: str | None = None, **_query) -> html.Div:
    """The arena; `?ticker=TSLA&window=in-sample` preselects; the session's last battle otherwise."""
    spec = {"ticker": (ticker or "AAPL").upper()[:15], "window": window if window in
            ("out-of-sample", "in-sample", "custom") else "out-of-sample",
            "start": None, "end": None, "commission_bps": 10.0, "slippage_bps": 5.0}
    return html.Div([
        page_header("Battle Arena", "Four PPO personalities and four benchmarks, same window, same costs",
                    right=html.Div(id=ids.ARN_SAMPLE_TAG)),
        controls(spec),
        html.Div(id=ids.ARN_ALERT),
        html.Div(id=ids.ARN_KPIS, className="kpi-row"),
        card("Trades on the price", dcc.Loading(dcc.Graph(id=ids.ARN_CANDLES, figure=empty_figure("Running the battle..."),
                                                          config=GRAPH_CONFIG), type="dot", color="#00f0ff",
                                                delay_show=250),
             right=html.Small("filled marker = buy, open marker = sell; click a legend entry to hide an agent",
                              className="text-muted")),
        dbc.Row([
            dbc.Col(card("Equity against the market", dcc.Loading(dcc.Graph(
                id=ids.ARN_EQUITY, figure=empty_figure("Running the battle...", 420), config=GRAPH_CONFIG),
                type="dot", color="#00f0ff", delay_show=250)), lg=7),
            dbc.Col(card("Cost stress: net return at 0 / 10 / 25 / 50 bps per fill", [
                dcc.Loading([dcc.Graph(id=ids.ARN_STRESS_FIG, figure=empty_figure("Computing...", 300),
                                       config=GRAPH_CONFIG),
                             html.Div(id=ids.ARN_STRESS_TABLE, className="stress-table")],
                            type="dot", color="#ff2bd6", delay_show=250),
            ]), lg=5),
        ]),
        card("Leaderboard · net of costs · sortable", leaderboard_table(), class_name="neon-table", right=html.Div([
            dbc.Button("CSV", id=ids.ARN_BOARD_CSV, size="sm", color="secondary", n_clicks=0),
            dbc.Button("Excel", id=ids.ARN_BOARD_XLSX, size="sm", color="secondary", n_clicks=0),
        ], className="d-flex gap-2")),
        dcc.Download(id=ids.ARN_DOWNLOAD),
    ])
