"""One module per page: thin callbacks that parse inputs, call core's facade and build figures."""

from __future__ import annotations

import logging
import uuid

import dash_bootstrap_components as dbc
from dash import html

log = logging.getLogger("neon.callbacks")


def error_alert(message: str, color: str = "danger") -> dbc.Alert:
    """The one way a failure reaches the user: a readable, dismissable message in the page."""
    return dbc.Alert(message, color=color, dismissable=True, className="neon-alert", fade=False)


def unexpected_error_alert(exc: BaseException, what: str) -> dbc.Alert:
    """For bugs, not bad input: log the stack trace server-side, show the user a reference only."""
    ref = uuid.uuid4().hex[:8]
    log.exception("unexpected error while %s (ref %s)", what, ref, exc_info=exc)
    return error_alert(
        [html.Strong(f"Something went wrong while {what}. "),
         f"Nothing was lost; try again or pick other inputs. Reference: {ref}."]
    )


def register_all(app, settings) -> None:
    from callbacks import arena, journal, market, replay, shell

    for module in (shell, market, arena, replay, journal):
        module.register(app, settings)
