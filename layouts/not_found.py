"""The 404 page."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import html

from layouts.components import PAGES, page_header


def layout(**_query):
    return html.Div([
        page_header("404", "There is no page at this address."),
        dbc.Card(dbc.CardBody([html.P("Try one of these:"),
                               html.Ul([html.Li(html.A(label, href=path)) for path, label, _ in PAGES])]),
                 className="neon-card"),
    ])
