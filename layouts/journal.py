"""Journal page: every trade of every contestant with its decision context; filter; CSV / Excel."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import dash_table, dcc, html

from layouts import ids
from layouts.arena import TABLE_DATA, TABLE_HEADER
from layouts.components import page_header

SIDE_OPTIONS = [{"label": "All", "value": "all"}, {"label": "Buys", "value": "buy"}, {"label": "Sells", "value": "sell"}]


def layout(**_query) -> html.Div:
    return html.Div([
        page_header("Trading Journal", "Every fill of every contestant, with the context of the decision behind it",
                    right=html.Div(id=ids.JRN_HEADER)),
        html.Div(id=ids.JRN_ALERT),
        dbc.Card(dbc.CardBody(dbc.Row([
            dbc.Col([dbc.Label("Contestants"),
                     dcc.Dropdown(id=ids.JRN_CONTESTANTS, options=[], value=[], multi=True,
                                  placeholder="all contestants")], md=6),
            dbc.Col([dbc.Label("Side"), dbc.RadioItems(id=ids.JRN_SIDE, options=SIDE_OPTIONS, value="all",
                                                       inline=True)], md=3),
            dbc.Col([dbc.Label("Download the filtered journal"), html.Div([
                dbc.Button("CSV", id=ids.JRN_CSV, size="sm", color="secondary", n_clicks=0),
                dbc.Button("Excel", id=ids.JRN_XLSX, size="sm", color="secondary", n_clicks=0),
            ], className="d-flex gap-2")], md=3),
        ], className="g-3 align-items-end")), className="neon-card mb-3"),
        html.Div(id=ids.JRN_SUMMARY, className="mb-2 text-muted small"),
        dbc.Card(dbc.CardBody(dash_table.DataTable(
            id=ids.JRN_TABLE, data=[], columns=[], sort_action="native", filter_action="native",
            page_action="native", page_size=25, style_as_list_view=True, cell_selectable=False,
            style_table={"overflowX": "auto"}, style_header=TABLE_HEADER, style_data=TABLE_DATA,
            style_filter={"backgroundColor": "#0a0d1a", "color": "#d6e2ff"},
            style_cell={"padding": "5px 9px", "textAlign": "right", "minWidth": "72px", "maxWidth": "320px",
                        "overflow": "hidden", "textOverflow": "ellipsis"},
            style_cell_conditional=[{"if": {"column_id": c}, "textAlign": "left"}
                                    for c in ("label", "kind", "date", "side", "decision_date", "decision",
                                              "probabilities")],
            style_data_conditional=[
                {"if": {"filter_query": '{side} = "buy"', "column_id": "side"}, "color": "#00ff9c", "fontWeight": 700},
                {"if": {"filter_query": '{side} = "sell"', "column_id": "side"}, "color": "#ff3860", "fontWeight": 700},
            ],
            tooltip_duration=None,
        )), className="neon-card neon-table mb-3"),
        dcc.Download(id=ids.JRN_DOWNLOAD),
    ])
