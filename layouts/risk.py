"""Risk page: VaR and CVaR three ways for every contestant of the Arena's battle, each VaR backtested in
plain words, drawdowns, monthly-return and correlation heatmaps. Follows the Arena (layouts/state.py)."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import dcc, html

from layouts import grid, ids, state
from layouts.components import card, page_header
from layouts.figures import empty_figure

GRAPH_CONFIG = {"displaylogo": False, "scrollZoom": False}
DEFAULT_CONTESTANTS = ["buy_and_hold", "conservative", "aggressive", "momentum", "mean_reversion"]

VAR_COLUMNS = [
    grid.col("label", "Contestant", key=True, min_width=130, tip="Who traded (net of costs)"),
    grid.col("method_label", "Method", key=True, min_width=120,
             tip="Historical: the empirical quantile of the daily returns. Parametric: a normal distribution "
                 "with their mean and volatility. Cornish-Fisher: the normal quantile corrected for their skew "
                 "and excess kurtosis"),
    grid.col("level", "Level", "pct", digits=0, key=True, tip="Confidence level of the VaR"),
    grid.col("var", "VaR (1 day)", "pct", digits=2, key=True,
             tip="Value at Risk: the daily loss (as a share of value) not exceeded with this confidence"),
    grid.col("cvar", "CVaR (1 day)", "pct", digits=2, key=True,
             tip="Conditional VaR / expected shortfall: the average loss on the days beyond the VaR"),
    grid.col("var_10d", "VaR 10-day (√t)", "pct", digits=2,
             tip="The 1-day VaR times √10: square-root-of-time scaled, which assumes independent days"),
    grid.col("n_returns", "Days", "count", tip="Daily returns the figure is computed from"),
    grid.col("note", "Note", min_width=160, tip="Why a figure is missing or to be read with care"),
]

DRAWDOWN_COLUMNS = [
    grid.col("label", "Contestant", key=True, min_width=120, tip="Whose equity curve"),
    grid.col("depth", "Depth", "signed_pct", rule="sign", key=True, tip="Fall from the running peak to the trough"),
    grid.col("peak", "Peak", "date", min_width=104, tip="Last high before the fall"),
    grid.col("trough", "Trough", "date", min_width=104, key=True, tip="Lowest point"),
    grid.col("recovery", "Recovered", "text", min_width=104, tip="First day back at the old peak, or 'not yet'"),
    grid.col("length", "Bars", "count", tip="Bars from peak to recovery (or to the end of the window)"),
]


def _graph(id_: str, message: str, height: int = 360) -> dcc.Loading:
    return dcc.Loading(dcc.Graph(id=id_, figure=empty_figure(message, height), config=GRAPH_CONFIG),
                       type="dot", color="#00f0ff", delay_show=250)


def controls() -> dbc.Card:
    return dbc.Card(dbc.CardBody(dbc.Row([
        dbc.Col([dbc.Label("Contestants (table, drawdowns)", html_for=ids.RSK_CONTESTANTS),
                 dcc.Dropdown(id=ids.RSK_CONTESTANTS, options=[], value=DEFAULT_CONTESTANTS, multi=True,
                              clearable=False)], md=6),
        dbc.Col([dbc.Label("Focus (histogram, backtest, monthly)", html_for=ids.RSK_FOCUS),
                 dcc.Dropdown(id=ids.RSK_FOCUS, options=[], value="buy_and_hold", clearable=False)], md=3),
        dbc.Col([dbc.Label("Backtest level"),
                 dbc.RadioItems(id=ids.RSK_LEVEL, options=[{"label": "99%", "value": 0.99},
                                                          {"label": "95%", "value": 0.95}],
                                value=0.99, inline=True, className="neon-radio")], md=3),
    ], className="g-3 align-items-end")), className="neon-card mb-3")


def layout(**query) -> html.Div:
    """The risk of the battle the Arena set up (URL first, then the session: layouts/state.py)."""
    return html.Div([
        page_header("Risk", "VaR and CVaR three ways, every VaR backtested; drawdowns and heatmaps",
                    right=html.Div(id=ids.RSK_SAMPLE_TAG)),
        html.Div(id=ids.RSK_ALERT),
        controls(),
        html.Div(id=ids.RSK_KPIS, className="kpi-row"),
        card("Value at Risk and expected shortfall · daily simple returns, net of costs",
              [grid.data_grid(ids.RSK_TABLE, VAR_COLUMNS, height=420, filter_row=False),
               html.Small(id=ids.RSK_NOTES, className="text-muted")],
              right=html.Div([dbc.Button("CSV", id=ids.RSK_CSV, size="sm", color="secondary", n_clicks=0),
                              dbc.Button("Excel", id=ids.RSK_XLSX, size="sm", color="secondary", n_clicks=0)],
                             className="d-flex gap-2")),
        dbc.Row([
            dbc.Col(card("Return distribution with its VaR and CVaR", _graph(ids.RSK_HIST, "Loading...")), lg=5),
            dbc.Col(card("Is the VaR right? One-day-ahead backtest", [
                html.Div(id=ids.RSK_VERDICT, className="risk-verdict mb-2"),
                _graph(ids.RSK_ROLLING, "Loading..."),
            ]), lg=7),
        ]),
        dbc.Row([
            dbc.Col(card("Underwater: drawdown from the running peak", _graph(ids.RSK_UNDERWATER, "Loading...")),
                    lg=7),
            dbc.Col(card("Worst drawdowns", grid.data_grid(ids.RSK_DRAWDOWNS, DRAWDOWN_COLUMNS, height=360)),
                    lg=5),
        ]),
        card("Monthly returns (compounded) of the focus contestant", _graph(ids.RSK_MONTHLY, "Loading...", 260)),
        dbc.Row([
            dbc.Col(card("Correlation of daily returns: the contestants", _graph(ids.RSK_CORR, "Loading...", 380)),
                    lg=6),
            dbc.Col(card("Correlation of the bundled assets", _graph(ids.RSK_ASSET_CORR, "Loading...", 380)),
                    lg=6),
        ]),
        state.query_store(ids.RSK_QUERY, query),
        dcc.Store(id=ids.RSK_SPEC),
        dcc.Download(id=ids.RSK_DOWNLOAD),
    ])
