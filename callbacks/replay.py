"""Replay page callbacks: the server sends the battle once; playback runs in the browser (assets/replay.js)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from dash import ClientsideFunction, Input, Output, State, ctx, no_update

from callbacks import (
    BattleSource,
    battle_file_stem,
    battle_header,
    battle_meta,
    error_alert,
    failed,
    shared_figures,
    unexpected_error_alert,
)
from core import service
from layouts import grid, ids, state
from layouts.battle_figures import high_low, replay_base_figure

CONTEXT_BARS = 60
"""Bars before the window drawn in grey, so the first view already reads as a chart."""


def _r(values, digits: int = 4) -> list:
    return [None if not np.isfinite(v) else v for v in np.round(np.asarray(values, dtype=float), digits).tolist()]


def _price_digits(close) -> int:
    top = float(np.nanmax(np.abs(np.asarray(close, dtype=float)))) if len(close) else 1.0
    return 2 if top >= 1 else 6


def context_bars(result, n: int = CONTEXT_BARS) -> dict:
    """Up to `n` bars before the battle window (empty when the window starts at the data's first bar)."""
    empty = {"dates": [], "open": [], "high": [], "low": [], "close": []}
    if not result.start:
        return empty
    try:
        frame, _prov = service.battle_data(result.ticker)
    except Exception:  # noqa: BLE001 - context is decoration; the replay works without it
        return empty
    part = frame.iloc[max(0, result.start - n):result.start]
    if part.empty or pd.Timestamp(part["date"].iloc[-1]) >= pd.Timestamp(result.dates[0]):
        return empty
    d = _price_digits(result.close)
    return {"dates": part["date"].dt.strftime("%Y-%m-%d").tolist(),
            **{k: _r(part[k], d) for k in ("open", "high", "low", "close")}}


_PAYLOADS = shared_figures.figure_lru(16, "replay-payload")


def replay_payload(result) -> dict:
    """Everything the browser needs to replay the battle: bars, context bars, and per agent equity,
    positions and fills. Built once per battle (~100 ms), then cached like a figure (shared between workers
    unless the battle is a user's run)."""
    if not result.cache_key:
        return _replay_payload(result)
    return _PAYLOADS.get_or_compute(result.cache_key, lambda: _replay_payload(result),
                                    share=not getattr(result, "private", False))


def _replay_payload(result) -> dict:
    high, low = high_low(result)
    d = _price_digits(result.close)
    dates = [x.strftime("%Y-%m-%d") for x in result.dates]
    index = {x: i for i, x in enumerate(dates)}
    agents = []
    for c in result.contestants:
        if c.kind != "agent":
            continue
        fills = {}
        for date, side, qty, price in zip(c.trades["date"], c.trades["side"], c.trades["quantity"],
                                          c.trades["price"], strict=False):
            fills[str(index[date.strftime("%Y-%m-%d")])] = [side, round(float(qty), 4), round(float(price), d)]
        agents.append({"name": c.name, "label": c.label, "colour": c.colour, "symbol": c.symbol,
                       "equity": _r(c.equity, 2), "position": _r(c.positions, 4), "actions": list(c.actions),
                       "fills": fills})
    bh = next((c for c in result.contestants if c.name == "buy_and_hold"), None)
    context = context_bars(result)
    curves = [np.asarray(c.equity, dtype=float) for c in result.contestants if c.kind == "agent" or c is bh]
    eq_lo = min(float(np.nanmin(c)) for c in curves) / result.cash0 * 100 if curves else 90.0
    eq_hi = max(float(np.nanmax(c)) for c in curves) / result.cash0 * 100 if curves else 110.0
    lows = [float(np.nanmin(low))] + ([min(v for v in context["low"] if v is not None)] if context["low"] else [])
    highs = [float(np.nanmax(high))] + ([max(v for v in context["high"] if v is not None)] if context["high"] else [])
    price = [min(lows), max(highs)]
    span = price[1] - price[0]
    fig = replay_base_figure(result)
    first = context["dates"][0] if context["dates"] else dates[0]
    # Fixed axes: the reveal must not rescale the chart at every bar (follow mode sets its own window).
    fig.update_xaxes(range=[first, dates[-1]], autorange=False)
    fig.update_yaxes(range=[round(price[0] - 0.05 * span, d), round(price[1] + 0.05 * span, d)], autorange=False,
                     tickformat=",.2~f" if d == 2 else ",.6~f", row=1, col=1)
    pad = 0.05 * (eq_hi - eq_lo)
    fig.update_yaxes(range=[round(eq_lo - pad, 2), round(eq_hi + pad, 2)], autorange=False, tickformat=",.0f",
                     row=2, col=1)
    if result.periods_per_year == 252:
        fig.update_xaxes(rangebreaks=[dict(bounds=["sat", "mon"])])
    return {
        "layout": fig.to_plotly_json()["layout"], "layout_ranges": {"price": price},
        "ticker": result.ticker, "dates": dates, "open": _r(result.open, d), "high": _r(high, d),
        "low": _r(low, d), "close": _r(result.close, d), "cash0": float(result.cash0), "agents": agents,
        "bh": _r(bh.equity, 2) if bh is not None else [], "sample": result.sample, "context": context,
    }


def replay_outputs(query, session_spec=None, source=None, market_choice=None) -> tuple:
    """(data store, slider max, slider marks, slider value, header, alert, position box value).

    The battle is the one the page follows: URL first, then the session (layouts/state.py).
    """
    spec, message = state.spec_from_query_and_session(query, session_spec, market_choice)
    try:
        view = BattleSource.of(source).view(spec)
    except Exception as exc:  # noqa: BLE001 - bad input or bug: an alert, never a trace
        return failed(exc, 7, 5, "loading the replay")
    result = view.result
    notes = [message] if message else []
    if not view.agents_ready:
        notes.append(f"{view.agents_message} Only the benchmarks can be shown; the replay follows agents, "
                     "so there is nothing to replay for this ticker yet.")
    alert = error_alert(" ".join(notes), color="info") if notes else None
    n = len(result.dates)
    marks = {}
    last_year = None
    for i, d in enumerate(result.dates):
        if d.year != last_year:
            marks[i] = {"label": str(d.year)}
            last_year = d.year
    header = battle_header(result, view.spec.run_id)
    return replay_payload(result), n - 1, marks, 0, header, alert, 1


def export_fills(which: str, spec_dict, upto: int | None, source=None):
    """The journal of every fill up to (and including) the bar on screen, with the journal's columns."""
    from callbacks.journal import table_records
    from core.journal import build_journal
    from layouts.journal import JOURNAL_COLUMNS

    result = BattleSource.of(source).view(spec_dict).result
    i = max(0, min(int(upto or 0), len(result.dates) - 1))
    cutoff = result.dates[i]
    journal = build_journal(result)
    journal = journal[pd.to_datetime(journal["date"]) <= cutoff]
    kind = "xlsx" if which in (ids.RPL_XLSX, "xlsx") else "csv"
    return grid.export_download(kind, table_records(journal), JOURNAL_COLUMNS,
                                meta={**battle_meta(result), "up_to_bar": i + 1, "up_to_date": f"{cutoff:%Y-%m-%d}"},
                                name=battle_file_stem("fills", result, f"upto-{cutoff:%Y%m%d}"), sheet="Fills")


def register(app, settings) -> None:
    @app.callback(
        Output(ids.RPL_DATA, "data"),
        Output(ids.RPL_SLIDER, "max"),
        Output(ids.RPL_SLIDER, "marks"),
        Output(ids.RPL_SLIDER, "value"),
        Output(ids.RPL_HEADER, "children"),
        Output(ids.RPL_ALERT, "children"),
        Output(ids.RPL_POS, "value"),
        *state.follow_arena(ids.RPL_QUERY),
    )
    def _load(query, spec, market_choice, session):
        return replay_outputs(query, spec, BattleSource.of(settings, session), market_choice)

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
        State(ids.RPL_SPEED, "value"),
        prevent_initial_call=True,
    )
    app.clientside_callback(
        ClientsideFunction(namespace="replay", function_name="jump"),
        Output(ids.RPL_SLIDER, "value", allow_duplicate=True),
        Output(ids.RPL_TICK, "disabled", allow_duplicate=True),
        Output(ids.RPL_PLAY, "children", allow_duplicate=True),
        Input(ids.RPL_END, "n_clicks"),
        State(ids.RPL_SLIDER, "max"),
        prevent_initial_call=True,
    )
    app.clientside_callback(
        ClientsideFunction(namespace="replay", function_name="position"),
        Output(ids.RPL_SLIDER, "value", allow_duplicate=True),
        Output(ids.RPL_POS, "value", allow_duplicate=True),
        Input(ids.RPL_SLIDER, "value"),
        Input(ids.RPL_POS, "value"),
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

    @app.callback(
        Output(ids.RPL_DOWNLOAD, "data"),
        Input(ids.RPL_CSV, "n_clicks"),
        Input(ids.RPL_XLSX, "n_clicks"),
        State(ids.RPL_QUERY, "data"),
        State(ids.BATTLE_SPEC, "data"),
        State(ids.MARKET_CHOICE, "data"),
        State(ids.RPL_SLIDER, "value"),
        State(ids.SESSION, "data"),
        prevent_initial_call=True,
    )
    def _download(_csv, _xlsx, query, session_spec, market_choice, upto, session):
        try:
            spec, _message = state.spec_from_query_and_session(query, session_spec, market_choice)
            return export_fills(ctx.triggered_id, spec, upto, BattleSource.of(settings, session))
        except Exception as exc:  # noqa: BLE001
            unexpected_error_alert(exc, "preparing the fills download")
            return no_update
