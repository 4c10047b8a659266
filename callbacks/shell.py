"""App-wide callbacks: the per-browser-session id and the collapsible navbar."""

from __future__ import annotations

from dash import Input, Output, State

from layouts import ids

# A uuid per browser tab session: background jobs are keyed by it so two users with identical inputs
# never share or steal a result (STACK.md pitfall 3).
SESSION_JS = """
function(current) {
    if (current) { return window.dash_clientside.no_update; }
    if (window.crypto && window.crypto.randomUUID) { return window.crypto.randomUUID(); }
    return 'sess-' + Date.now().toString(36) + '-' + Math.random().toString(36).slice(2);
}
"""


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
