"""Replay page callbacks: the server sends the battle once; playback runs in the browser (assets/replay.js)."""

from __future__ import annotations

import numpy as np
from dash import ClientsideFunction, Input, Output, State

from callbacks import battle_caption, error_alert, failed
from core import service
from layouts import ids
from layouts.battle_figures import high_low, replay_base_figure
from layouts.components import sample_tag


def _r(values, digits: int = 4) -> list:
    return [None if not np.isfinite(v) else v for v in np.round(np.asarray(values, dtype=float), digits).tolist()]


def replay_payload(result) -> dict:
    """Everything the browser needs to replay the battle: bars, and per agent equity, positions, fills."""
    high, low = high_low(result)
    dates = [d.strftime("%Y-%m-%d") for d in result.dates]
    index = {d: i for i, d in enumerate(dates)}
    agents = []
    for c in result.contestants:
        if c.kind != "agent":
            continue
        fills = {}
        for date, side, qty, price in zip(c.trades["date"], c.trades["side"], c.trades["quantity"],
                                          c.trades["price"], strict=False):
            fills[str(index[date.strftime("%Y-%m-%d")])] = [side, round(float(qty), 4), round(float(price), 4)]
        agents.append({"name": c.name, "label": c.label, "colour": c.colour, "symbol": c.symbol,
                       "equity": _r(c.equity, 2), "position": _r(c.positions, 4), "actions": list(c.actions),
                       "fills": fills})
    bh = next((c for c in result.contestants if c.name == "buy_and_hold"), None)
    curves = [np.asarray(c.equity, dtype=float) for c in result.contestants if c.kind == "agent" or c is bh]
    eq_lo = min(float(np.nanmin(c)) for c in curves) / result.cash0 * 100 if curves else 90.0
    eq_hi = max(float(np.nanmax(c)) for c in curves) / result.cash0 * 100 if curves else 110.0
    price = [float(np.nanmin(low)), float(np.nanmax(high))]
    span = price[1] - price[0]
    fig = replay_base_figure(result)
    # Fixed axes: the reveal must not rescale the chart at every bar.
    fig.update_xaxes(range=[dates[0], dates[-1]], autorange=False)
    fig.update_yaxes(range=[price[0] - 0.05 * span, price[1] + 0.05 * span], autorange=False, row=1, col=1)
    fig.update_yaxes(range=[eq_lo - 0.05 * (eq_hi - eq_lo), eq_hi + 0.05 * (eq_hi - eq_lo)], autorange=False,
                     row=2, col=1)
    if result.periods_per_year == 252:
        fig.update_xaxes(rangebreaks=[dict(bounds=["sat", "mon"])])
    return {
        "layout": fig.to_plotly_json()["layout"], "layout_ranges": {"price": price},
        "ticker": result.ticker, "dates": dates, "open": _r(result.open), "high": _r(high), "low": _r(low),
        "close": _r(result.close), "cash0": float(result.cash0), "agents": agents,
        "bh": _r(bh.equity, 2) if bh is not None else [], "sample": result.sample,
    }


def replay_outputs(spec_dict: dict | None, models_dir=None) -> tuple:
    """(data store, slider max, slider marks, slider value, header, alert)."""
    try:
        spec = service.BattleSpec.from_dict(spec_dict)
        view = service.run_arena(spec, models_dir=models_dir)
    except Exception as exc:  # noqa: BLE001 - bad input or bug: an alert, never a trace
        return failed(exc, 6, 5, "loading the replay")
    result = view.result
    alert = None
    if not view.agents_ready:
        alert = error_alert(f"{view.agents_message} Only the benchmarks can be shown; the replay follows agents, "
                            "so there is nothing to replay for this ticker yet.", color="info")
    n = len(result.dates)
    marks = {}
    last_year = None
    for i, d in enumerate(result.dates):
        if d.year != last_year:
            marks[i] = {"label": str(d.year)}
            last_year = d.year
    header = sample_tag(result.sample, battle_caption(result))
    return replay_payload(result), n - 1, marks, 0, header, alert


def register(app, settings) -> None:
    @app.callback(
        Output(ids.RPL_DATA, "data"),
        Output(ids.RPL_SLIDER, "max"),
        Output(ids.RPL_SLIDER, "marks"),
        Output(ids.RPL_SLIDER, "value"),
        Output(ids.RPL_HEADER, "children"),
        Output(ids.RPL_ALERT, "children"),
        Input(ids.RPL_FIG, "id"),
        State(ids.BATTLE_SPEC, "data"),
    )
    def _load(_mounted, spec):
        return replay_outputs(spec, settings.models_dir)

    app.clientside_callback(
        ClientsideFunction(namespace="replay", function_name="toggle"),
        Output(ids.RPL_TICK, "disabled"),
        Output(ids.RPL_PLAY, "children"),
        Input(ids.RPL_PLAY, "n_clicks"),
        State(ids.RPL_TICK, "disabled"),
        prevent_initial_call=True,
    )
    app.clientside_callback(
        ClientsideFunction(namespace="replay", function_name="speed"),
        Output(ids.RPL_TICK, "interval"),
        Input(ids.RPL_SPEED, "value"),
    )
    app.clientside_callback(
        ClientsideFunction(namespace="replay", function_name="tick"),
        Output(ids.RPL_SLIDER, "value", allow_duplicate=True),
        Output(ids.RPL_TICK, "disabled", allow_duplicate=True),
        Output(ids.RPL_PLAY, "children", allow_duplicate=True),
        Input(ids.RPL_TICK, "n_intervals"),
        State(ids.RPL_SLIDER, "value"),
        State(ids.RPL_SLIDER, "max"),
        prevent_initial_call=True,
    )
    app.clientside_callback(
        ClientsideFunction(namespace="replay", function_name="render"),
        Output(ids.RPL_FIG, "figure"),
        Output(ids.RPL_FIG, "extendData"),
        Output(ids.RPL_PANEL, "children"),
        Output(ids.RPL_BAR_LABEL, "children"),
        Input(ids.RPL_SLIDER, "value"),
        Input(ids.RPL_DATA, "data"),
        Input(ids.RPL_FOLLOW, "value"),
        State(ids.RPL_SOUND, "value"),
    )
