"""Replay page: the arena's battle revealed bar by bar (slider, play/pause, speed, jump, sound alerts)."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import dcc, html

from layouts import ids, state
from layouts.components import page_header
from layouts.figures import empty_figure

SPEEDS = [{"label": f"{s} bars/s", "value": s} for s in (1, 2, 5, 10, 20, 50, 100, 250)]
TOP_SPEED = SPEEDS[-1]["value"]


def layout(**query) -> html.Div:
    """The replay of the battle the Arena set up (URL first, then the session: layouts/state.py)."""
    return html.Div([
        page_header("Replay", "The battle bar by bar: each agent's trades, positions and P&L as they happened",
                    right=html.Div(id=ids.RPL_HEADER)),
        html.Div(id=ids.RPL_ALERT),
        dbc.Card(dbc.CardBody([
            dbc.Row([
                dbc.Col(dbc.Button("▶ Play", id=ids.RPL_PLAY, color="info", n_clicks=0, className="play-btn"),
                        width="auto"),
                dbc.Col(dbc.Button("Jump to end", id=ids.RPL_END, color="secondary", n_clicks=0,
                                   title="Jump to the last bar"), width="auto"),
                dbc.Col(dcc.Dropdown(id=ids.RPL_SPEED, options=SPEEDS, value=20, clearable=False,
                                     style={"width": "140px"}), width="auto"),
                dbc.Col(html.Div(dbc.InputGroup([
                    dbc.InputGroupText("Bar"),
                    dbc.Input(id=ids.RPL_POS, type="number", step=1, value=1, debounce=True,
                              style={"width": "92px"}),
                ], size="sm"), title="Type a bar number (1 = the window's first bar)"), width="auto"),
                dbc.Col(dbc.Switch(id=ids.RPL_SOUND, label="Sound alerts", value=False), width="auto",
                        className="pt-2"),
                dbc.Col(dbc.Switch(id=ids.RPL_FOLLOW, label="Follow (last 150 bars)", value=True), width="auto",
                        className="pt-2"),
                dbc.Col(html.Div(id=ids.RPL_BAR_LABEL, className="bar-label"), className="text-end"),
            ], className="g-3 align-items-center mb-2"),
            dcc.Slider(id=ids.RPL_SLIDER, min=0, max=1, step=1, value=0, marks=None, updatemode="drag",
                       allow_direct_input=False),  # the one-based "Bar" box above is the direct input
        ]), className="neon-card mb-3"),
        dbc.Row([
            dbc.Col(dbc.Card(dcc.Graph(id=ids.RPL_FIG, figure=empty_figure("Loading the battle...", 620),
                                       config={"displaylogo": False}, animate=False),
                             className="neon-card chart-card mb-3"), lg=9),
            dbc.Col(dbc.Card([dbc.CardHeader(html.Div([
                html.Span("At this bar", className="card-title-neon"),
                html.Div([html.Span("Fills so far", className="grid-note"),
                          dbc.Button("CSV", id=ids.RPL_CSV, size="sm", color="secondary", n_clicks=0),
                          dbc.Button("Excel", id=ids.RPL_XLSX, size="sm", color="secondary", n_clicks=0)],
                         className="grid-toolbar"),
            ], className="d-flex justify-content-between align-items-center flex-wrap gap-2")),
                dbc.CardBody(html.Div(id=ids.RPL_PANEL))], className="neon-card mb-3"), lg=3),
        ]),
        html.Small(["Replaying the battle last set up on the ", html.A("Arena", href="/arena"),
                    " page (out-of-sample AAPL by default). Grey candles: the bars before the window, for "
                    "context. Sounds: a rising chime for a buy, a falling one for a sell; off until you switch "
                    "them on."], className="text-muted"),
        dcc.Interval(id=ids.RPL_TICK, interval=100, disabled=True),
        dcc.Store(id=ids.RPL_DATA),
        dcc.Download(id=ids.RPL_DOWNLOAD),
        html.Div(id=ids.RPL_AUDIO_SINK, style={"display": "none"}),
        state.query_store(ids.RPL_QUERY, query),
    ])
