"""App-wide callbacks: the per-browser-session id, the collapsible navbar, and state that follows the user
(navbar links carry the current query; the address bar shows the view; a bookmarked battle reaches the
session). The rules themselves live in layouts/state.py."""

from __future__ import annotations

from dash import Input, Output, State, no_update

from layouts import ids, state
from layouts.components import PAGES

# A uuid per browser tab session: background jobs are keyed by it so two users with identical inputs
# never share or steal a result (STACK.md pitfall 3).
SESSION_JS = """
function(current) {
    if (current) { return window.dash_clientside.no_update; }
    if (window.crypto && window.crypto.randomUUID) { return window.crypto.randomUUID(); }
    return 'sess-' + Date.now().toString(36) + '-' + Math.random().toString(36).slice(2);
}
"""

PAGE_NAMES = [label.lower() for _path, label, _ in PAGES]

# The address bar shows what a page shows (bookmarkable) without a reload or a history entry: the
# battle pages take the battle's query, the market page the market's. Dash's own Location is not told
# (no page re-render); the next navigation or reload reads the new query.
URL_SYNC_JS = """
function(battleHref, marketHref, pathname) {
    var path = window.location.pathname, target = null;
    if (["/arena", "/replay", "/journal", "/risk"].indexOf(path) >= 0 && battleHref) {
        target = path + battleHref.slice(battleHref.indexOf("?") >= 0 ? battleHref.indexOf("?") : battleHref.length);
    } else if ((path === "/market" || path === "/") && marketHref) {
        var q = marketHref.indexOf("?") >= 0 ? marketHref.slice(marketHref.indexOf("?")) : "";
        if (path === "/" && q === "?ticker=AAPL") { q = ""; }
        target = path + q;
    }
    if (target !== null && target !== path + window.location.search) {
        window.history.replaceState(window.history.state, "", target);
    }
    return target || "";
}
"""


def nav_outputs(battle_spec, market_choice, pathname) -> tuple:
    """(href of every navbar link..., active flag of every navbar link...)."""
    hrefs = state.nav_hrefs(battle_spec, market_choice)
    path = pathname or "/"
    active = [path == f"/{name}" or (name == "market" and path == "/") for name in PAGE_NAMES]
    return (*[hrefs.get(name, f"/{name}") for name in PAGE_NAMES], *active)


def session_from_url(search, pathname, session_spec):
    """A follower page opened from a URL that names a battle writes it into the session (the next page
    keeps it). The Arena writes the session itself, after running the battle."""
    if pathname not in ("/replay", "/journal", "/risk"):
        return no_update
    spec, _messages = state.parse_battle_query(search)
    if spec is None:
        return no_update
    previous = session_spec if isinstance(session_spec, dict) else {}
    if {k: previous.get(k) for k in spec} == spec:
        return no_update
    return state.stamp(spec) if previous.get("ticker") != spec["ticker"] else {**spec, "updated": previous.get("updated")}


def register(app, settings) -> None:
    app.clientside_callback(SESSION_JS, Output(ids.SESSION, "data"), Input(ids.SESSION, "data"))

    @app.callback(
        Output(ids.NAV_COLLAPSE, "is_open"),
        Input(ids.NAV_TOGGLER, "n_clicks"),
        State(ids.NAV_COLLAPSE, "is_open"),
        prevent_initial_call=True,
    )
    def toggle_nav(_clicks, is_open):
        return not is_open

    @app.callback(
        *[Output(f"{ids.NAV_LINK}{name}", "href") for name in PAGE_NAMES],
        *[Output(f"{ids.NAV_LINK}{name}", "active") for name in PAGE_NAMES],
        Input(ids.BATTLE_SPEC, "data"),
        Input(ids.MARKET_CHOICE, "data"),
        Input(ids.URL, "pathname"),
    )
    def _nav(battle_spec, market_choice, pathname):
        return nav_outputs(battle_spec, market_choice, pathname)

    app.clientside_callback(
        URL_SYNC_JS,
        Output(ids.URL_SYNC, "children"),
        Input(f"{ids.NAV_LINK}arena", "href"),
        Input(f"{ids.NAV_LINK}market", "href"),
        State(ids.URL, "pathname"),
    )

    @app.callback(
        Output(ids.BATTLE_SPEC, "data", allow_duplicate=True),
        Input(ids.URL, "search"),
        State(ids.URL, "pathname"),
        State(ids.BATTLE_SPEC, "data"),
        prevent_initial_call="initial_duplicate",
    )
    def _session_from_url(search, pathname, session_spec):
        return session_from_url(search, pathname, session_spec)
