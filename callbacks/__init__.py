"""One module per page: thin callbacks that parse inputs, call core's facade and build figures."""

from __future__ import annotations

import logging
import uuid

import dash_bootstrap_components as dbc
from dash import html, no_update

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


def failed(exc: BaseException, n_outputs: int, alert_at: int, what: str) -> tuple:
    """Outputs for a failed callback: everything unchanged (the previous view stays) but one alert.

    Bad input (core raises ValueError subclasses with user-fit messages) shows its message; anything
    else is a bug: logged with a reference, never a stack trace in the page.
    """
    out = [no_update] * n_outputs
    out[alert_at] = error_alert(str(exc)) if isinstance(exc, ValueError) else unexpected_error_alert(exc, what)
    return tuple(out)


def battle_caption(result) -> str:
    """The line that states what a battle result is: ticker, window, bars and costs."""
    shared = " · shared market (price impact)" if getattr(result, "shared_market", False) else ""
    return (f"{result.ticker} · {result.test_start:%Y-%m-%d} → {result.test_end:%Y-%m-%d} · "
            f"{len(result.dates):,} bars · costs {result.costs.commission_bps:g} + {result.costs.slippage_bps:g} bps"
            f"{shared}")


def register_all(app, settings) -> None:
    from callbacks import arena, forecast, journal, market, replay, risk, shell

    for module in (shell, market, arena, replay, journal, forecast, risk):
        module.register(app, settings)
