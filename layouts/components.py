"""Small shared building blocks: the navbar shell, page headers, KPI cards, 'coming soon' panels."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import dcc, html

from layouts import ids

PAGES = (
    ("/market", "Market", "Candles, indicators and where the data came from"),
    ("/train", "Train", "Train the four personalities on your data and watch them learn"),
    ("/arena", "Arena", "Four RL personalities battle on data they never saw"),
    ("/replay", "Replay", "Watch the battle bar by bar, with sound"),
    ("/risk", "Risk", "VaR, CVaR and return heatmaps"),
    ("/forecast", "Forecast", "30-day LSTM forecast against the history"),
    ("/journal", "Journal", "Every trade with its decision context"),
)


def navbar() -> dbc.Navbar:
    links = [
        dbc.NavItem(dbc.NavLink(label, href=path, id=f"{ids.NAV_LINK}{label.lower()}", active=False,
                                className="neon-navlink"))
        for path, label, _ in PAGES
    ]
    return dbc.Navbar(
        dbc.Container(
            [
                html.A(
                    [html.Img(src="/assets/logo.svg", height="30px", alt=""),
                     html.Span("NEON", className="brand-neon"), html.Span("ARENA", className="brand-arena")],
                    href="/market", className="navbar-brand d-flex align-items-center gap-2",
                ),
                dbc.NavbarToggler(id=ids.NAV_TOGGLER, n_clicks=0),
                dbc.Collapse(dbc.Nav(links, className="ms-auto", navbar=True), id=ids.NAV_COLLAPSE,
                             is_open=False, navbar=True),
            ],
            fluid=True,
        ),
        color="dark", dark=True, sticky="top", className="neon-navbar",
    )


def shell(page_container) -> html.Div:
    """The app frame: navbar, the current page, a footer, and the per-session id store."""
    return html.Div(
        [
            dcc.Location(id=ids.URL, refresh=False),
            dcc.Store(id=ids.SESSION, storage_type="session"),
            dcc.Store(id=ids.BATTLE_SPEC, storage_type="session"),
            dcc.Store(id=ids.MARKET_CHOICE, storage_type="session"),
            dcc.Store(id=ids.UPLOAD_STORE, storage_type="session"),
            html.Div(id=ids.URL_SYNC, hidden=True),
            navbar(),
            dbc.Container(page_container, fluid=True, className="page-body"),
            html.Footer(
                "Neon Arena: research and education software, not investment advice. "
                "Every result includes trading costs and is labelled in-sample or out-of-sample.",
                className="neon-footer",
            ),
        ],
        className="neon-app",
    )


def page_header(title: str, subtitle: str, right=None) -> html.Div:
    return html.Div(
        [html.Div([html.H2(title, className="page-title"), html.P(subtitle, className="page-subtitle")]),
         html.Div(right, className="page-header-right")],
        className="page-header",
    )


def sample_tag(sample: str, detail: str = "") -> html.Span:
    """The in-sample / out-of-sample label every result carries, with costs and window in `detail`."""
    tone = "oos" if sample == "out-of-sample" else "ins"
    return html.Span([html.Span(sample.upper(), className=f"sample-tag {tone}"),
                      html.Span(detail, className="sample-detail ms-2")])


def kpi(label: str, value: str, tone: str = "", hint: str = "") -> html.Div:
    """One headline number; tone is '', 'up' or 'down' (colours the value)."""
    return html.Div(
        [html.Div(label, className="kpi-label"), html.Div(value, className=f"kpi-value {tone}".strip()),
         html.Div(hint, className="kpi-hint") if hint else None],
        className="kpi-card",
    )


def coming_soon(title: str, subtitle: str, features: list[str], status: str) -> html.Div:
    """An honest placeholder: what the page will show, and that it is not built yet. No fake numbers."""
    return html.Div(
        [
            page_header(title, subtitle),
            dbc.Card(
                dbc.CardBody([
                    html.Div("NOT BUILT YET", className="badge-soon"),
                    html.P(status, className="mt-3"),
                    html.P("This page will show:", className="text-muted mb-1"),
                    html.Ul([html.Li(item) for item in features]),
                ]),
                className="neon-card",
            ),
        ]
    )


def card(title, body, right=None, class_name: str = "") -> dbc.Card:
    """A neon panel: a title (left) and optional controls (right) in the header, then the body."""
    header = html.Div([html.Span(title, className="card-title-neon"), html.Div(right)],
                      className="d-flex justify-content-between align-items-center flex-wrap gap-2")
    return dbc.Card([dbc.CardHeader(header), dbc.CardBody(body)], className=f"neon-card mb-3 {class_name}".strip())
