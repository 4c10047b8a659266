"""Journal page: every trade of every contestant with its decision context; filter; CSV / Excel."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import dcc, html

from layouts import grid, ids, state
from layouts.components import page_header

SIDE_OPTIONS = [{"label": "All", "value": "all"}, {"label": "Buys", "value": "buy"}, {"label": "Sells", "value": "sell"}]

JOURNAL_COLUMNS = [
    grid.col("label", "Contestant", min_width=140, key=True, tip="Who traded"),
    grid.col("kind", "Type", min_width=90, tip="agent: a trained PPO personality; benchmark: a fixed rule"),
    grid.col("date", "Fill date", "text", min_width=104, key=True,
             tip="The bar whose OPEN filled the order (the decision was taken at the previous close)"),
    grid.col("side", "Side", rule="side", min_width=70, key=True, tip="buy or sell"),
    grid.col("quantity", "Qty", "number", digits=2, min_width=88, tip="Units bought or sold"),
    grid.col("price", "Price", "price", key=True, tip="Fill price, slippage included"),
    grid.col("value", "Value", "money", min_width=96, tip="Quantity x fill price"),
    grid.col("cost", "Cost", "money", digits=2, tip="Commission + slippage paid on this fill"),
    grid.col("position_after", "Pos after", "pct", tip="Share of equity in the asset after the fill"),
    grid.col("equity_after", "Equity after", "money", min_width=96, tip="Cash + units x close on the fill bar"),
    grid.col("decision_date", "Decided", "text", min_width=104, tip="The bar whose close the decision saw"),
    grid.col("decision", "Decision", min_width=110, tip="The target exposure level the contestant chose"),
    grid.col("rsi", "RSI", "number", digits=1, tip="RSI 14 at the decision bar's close"),
    grid.col("sma20", "SMA 20", "price", tip="20-bar simple moving average at the decision bar's close"),
    grid.col("macd", "MACD", "number", digits=3, tip="MACD 12/26 at the decision bar's close"),
    grid.col("probabilities", "Policy probabilities", min_width=180, tooltipField="probabilities",
             tip="The agent policy's probability of each exposure level at the decision (agents only)"),
]


def layout(**query) -> html.Div:
    """The journal of the battle the Arena set up (URL first, then the session: layouts/state.py)."""
    return html.Div([
        page_header("Trading Journal", "Every fill of every contestant, with the context of the decision behind it",
                    right=html.Div(id=ids.JRN_HEADER)),
        html.Div(id=ids.JRN_ALERT),
        dbc.Card(dbc.CardBody(dbc.Row([
            dbc.Col([dbc.Label("Contestants"),
                     dcc.Dropdown(id=ids.JRN_CONTESTANTS, options=[], value=[], multi=True,
                                  placeholder="all contestants")], md=6),
            dbc.Col([dbc.Label("Side"), dbc.RadioItems(id=ids.JRN_SIDE, options=SIDE_OPTIONS, value="all",
                                                       inline=True, className="neon-radio")], md=3),
            dbc.Col([dbc.Label("Download what the table shows"), html.Div([
                dbc.Button("CSV", id=ids.JRN_CSV, size="sm", color="secondary", n_clicks=0),
                dbc.Button("Excel", id=ids.JRN_XLSX, size="sm", color="secondary", n_clicks=0),
            ], className="d-flex gap-2")], md=3),
        ], className="g-3 align-items-end")), className="neon-card mb-3"),
        html.Div(id=ids.JRN_SUMMARY, className="mb-2 text-muted small"),
        dbc.Card(dbc.CardBody(grid.data_grid(ids.JRN_TABLE, JOURNAL_COLUMNS, height=640, filter_row=True,
                                             pagination=True, page_size=50, export_name="journal",
                                             rowClassRules={"neon-benchmark": "params.data.kind === 'benchmark'"})),
                 className="neon-card mb-3"),
        html.Small("The filter boxes under the headers, the sort and the selectors above all apply to the "
                   "downloads and to the summary line.", className="text-muted"),
        dcc.Download(id=ids.JRN_DOWNLOAD),
        state.query_store(ids.JRN_QUERY, query),
    ])
