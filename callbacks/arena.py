"""Arena page callbacks: run (or fetch from cache) the battle for the chosen spec and draw it."""

from __future__ import annotations

import time

import dash_bootstrap_components as dbc
from dash import Input, Output, State, ctx, html, no_update

from callbacks import (
    battle_caption,
    battle_file_stem,
    battle_meta,
    error_alert,
    failed,
    shared_figures,
    unexpected_error_alert,
)
from core import service
from layouts import fmt, grid, ids, state
from layouts.arena import BOARD_COLUMNS
from layouts.battle_figures import battle_candles_figure, cost_stress_figure, equity_figure
from layouts.components import kpi, sample_tag

_FIGURES = shared_figures.figure_lru(32, "arena-figures", several=True)
_STRESS_FIGURES = shared_figures.figure_lru(32, "stress-figure")  # ~30 ms to build, one per battle


def battle_figures(result) -> tuple[dict, dict]:
    """(candles with markers, equity) as plotly dicts, built once per battle (results are keyed by input hash)."""
    return _FIGURES.get_or_compute(
        result.cache_key or id(result),
        lambda: (battle_candles_figure(result).to_dict(), equity_figure(result).to_dict()),
        share=bool(result.cache_key) and not getattr(result, "private", False),  # never a user's run
    )


_num = fmt.finite  # raw finite floats (None for NaN/inf/missing): the grid formats once, never rounded


def leaderboard_rows(result) -> list[dict]:
    """Rows of the leaderboard with RAW numbers (the grid sorts them as numbers and formats them once)."""
    rows = []
    for c in result.contestants:
        m = c.metrics
        row = {"contestant": c.label, "name": c.name, "type": c.kind,
               "beats": "—" if c.name == "buy_and_hold" else ("YES" if m.get("beats_buy_and_hold") else "no"),
               "sharpe_ci_low": _num(m.get("sharpe_ci_low")), "sharpe_ci_high": _num(m.get("sharpe_ci_high")),
               "trades": int(m.get("trades", 0))}
        for key in ("total_return", "cagr", "volatility", "max_drawdown", "win_rate", "exposure", "var_95",
                    "cvar_95", "sharpe", "sortino", "calmar", "turnover", "costs_paid"):
            row[key] = _num(m.get(key))
        rows.append(row)
    rows.sort(key=lambda r: -1e9 if r["total_return"] is None else -r["total_return"])
    return rows


def arena_kpis(result) -> list:
    agents = [c for c in result.contestants if c.kind == "agent"]
    bh = next((c for c in result.contestants if c.name == "buy_and_hold"), None)
    out = []
    if bh is not None:
        r = bh.metrics["total_return"]
        out.append(kpi("Buy-and-hold", fmt.signed_pct(r), "up" if r >= 0 else "down", hint="the yardstick, after costs"))
    if agents:
        best = max(agents, key=lambda c: c.metrics["total_return"])
        r = best.metrics["total_return"]
        out.append(kpi("Best agent", best.label, hint=f"{fmt.signed_pct(r)} net of costs"))
        beating = sum(bool(c.metrics.get("beats_buy_and_hold")) for c in agents)
        out.append(kpi("Agents beating B&H", f"{beating} / {len(agents)}", "up" if beating else "down"))
        trades = sum(int(c.metrics["trades"]) for c in agents)
        out.append(kpi("Agent fills", fmt.count(trades), hint="all four agents"))
    out.append(kpi("Window", f"{fmt.count(len(result.dates))} bars",
                   hint=f"{result.test_start:%Y-%m-%d} → {result.test_end:%Y-%m-%d}"))
    return out


def agents_alert(view: service.ArenaView):
    if view.agents_ready:
        warnings = list(getattr(view.result, "warnings", []) or [])
        return error_alert(" ".join(warnings), color="warning") if warnings else None
    ticker = view.result.ticker
    corrupt = "cannot be used" in view.agents_message
    return dbc.Alert([
        html.Strong("Benchmarks only. "),
        (view.agents_message + " ") if corrupt else f"There are no trained agents for {ticker} yet. ",
        html.Br(),
        "Train the four personalities for this ticker with ",
        html.Code(f"python -m core train --ticker {ticker}"),
        " (a few minutes on 2 cores), then reload this page. In-app training jobs with progress and cancel "
        "arrive with the background-jobs milestone.",
    ], color="warning" if corrupt else "info", className="neon-alert")


def spec_from_inputs(ticker, window, start, end, commission, slippage, shared=False) -> service.BattleSpec:
    if commission is None or slippage is None:
        raise service.SpecError("Commission and slippage must be numbers between 0 and 1000 basis points.")
    return service.BattleSpec(ticker=ticker or "AAPL", window=window or "out-of-sample",
                              start=start if window == "custom" else None,
                              end=end if window == "custom" else None,
                              commission_bps=float(commission), slippage_bps=float(slippage),
                              shared_market=bool(shared))


def _cost_invalid(value) -> bool:
    try:
        return not 0 <= float(value) <= 1000
    except (TypeError, ValueError):
        return True


def restore_outputs(query, session_spec, market_choice) -> tuple:
    """The controls' values on arrival: URL first, then the session (layouts/state.py).

    Returns (ticker options, ticker, window, start, end, commission, slippage, shared, note).
    """
    spec, message = state.spec_from_query_and_session(query, session_spec, market_choice)
    options = list(dict.fromkeys([*state.arena_tickers(), spec["ticker"]]))
    note = error_alert(message, color="warning") if message else None
    return (options, spec["ticker"], spec["window"], spec.get("start"), spec.get("end"), spec["commission_bps"],
            spec["slippage_bps"], bool(spec.get("shared_market")), note)


def stamped(spec: dict, previous: dict | None) -> dict:
    """The spec for the session store; its "updated" stamp moves only when the ticker changed (so the
    Market page follows the Arena's ticker only when the Arena chose it last: layouts.state.shared_ticker)."""
    previous = previous if isinstance(previous, dict) else {}
    if previous.get("ticker") == spec["ticker"] and previous.get("updated"):
        return {**spec, "updated": previous["updated"]}
    return {**spec, "updated": time.time()}


def arena_outputs(ticker, window, start, end, commission, slippage, models_dir=None, shared=False,
                  previous_spec=None) -> tuple:
    """(sample tag, alert, kpis, candles, spec store, dates disabled, commission invalid, slippage invalid).

    The equity figure and the leaderboard rows follow in a second callback (`board_outputs`, on the spec
    store): the candles reach the screen first.

    On bad input: an alert, the bad input marked invalid, and every other output unchanged (the previous
    battle stays on screen). A custom window without dates yet is a hint, not an error.
    """
    invalid = (_cost_invalid(commission), _cost_invalid(slippage))
    if window == "custom" and not (start or end):
        hint = error_alert("Custom window: pick a start and/or an end date; the battle runs as soon as one is "
                           "set. The previous battle stays on screen until then.", color="info")
        return (no_update, hint) + (no_update,) * 3 + (False, *invalid)
    try:
        spec = spec_from_inputs(ticker, window, start, end, commission, slippage, shared)
        view = service.run_arena(spec, models_dir=models_dir)
    except Exception as exc:  # noqa: BLE001 - bad input or bug: an alert, never a trace
        return failed(exc, 5, 1, "running the battle") + (window != "custom", *invalid)
    result = view.result
    candles, _equity = battle_figures(result)
    return (
        sample_tag(result.sample, battle_caption(result)),
        agents_alert(view),
        arena_kpis(result),
        candles,
        stamped(spec.to_dict(), previous_spec),
        window != "custom",
        *invalid,
    )


def board_outputs(spec_dict: dict | None, models_dir=None) -> tuple:
    """(equity figure, leaderboard rows) of the battle in the spec store (cached: the battle already ran)."""
    if not spec_dict:
        return no_update, no_update
    try:
        result = _result(spec_dict, models_dir)
    except Exception as exc:  # noqa: BLE001 - the battle callback already showed the message
        unexpected_error_alert(exc, "drawing the equity curves") if not isinstance(exc, ValueError) else None
        return no_update, no_update
    return battle_figures(result)[1], leaderboard_rows(result)


def stress_outputs(spec_dict: dict | None, models_dir=None):
    from layouts import theme

    if not spec_dict:
        return no_update, no_update
    try:
        spec = service.BattleSpec.from_dict(spec_dict)
        stress = service.arena_cost_stress(spec, models_dir=models_dir)
        view = service.run_arena(spec, models_dir=models_dir)
    except Exception as exc:  # noqa: BLE001 - bad input or bug: an alert, never a trace
        return failed(exc, 2, 1, "running the cost stress test")
    styles = {c.name: (c.label, c.colour) for c in view.result.contestants}
    styles.setdefault("buy_and_hold", ("Buy-and-hold", theme.TEXT))
    result = view.result
    figure = _STRESS_FIGURES.get_or_compute(
        result.cache_key or id(result), lambda: cost_stress_figure(stress, styles).to_dict(),
        share=bool(result.cache_key) and not getattr(result, "private", False))
    table = stress.table()
    agents = [n for n in stress.returns.index if n in stress.break_even]
    rows = [html.Tr([html.Td(styles.get(n, (n,))[0], style={"color": styles.get(n, (n, theme.TEXT))[1]}),
                     html.Td(table.loc[table["contestant"] == n, "break_even"].iloc[0])]) for n in agents]
    body = html.Table([html.Thead(html.Tr([html.Th("Agent"), html.Th("Break-even cost (vs buy-and-hold)")])),
                       html.Tbody(rows)], className="table table-sm neon-mini-table") if rows else html.Small(
        "No agents in this battle: nothing to break even.", className="text-muted")
    return figure, body


def _result(spec_dict, models_dir):
    return service.run_arena(service.BattleSpec.from_dict(spec_dict), models_dir=models_dir).result


def export_leaderboard(which: str, spec_dict: dict | None, models_dir=None, rows=None, column_state=None):
    """The leaderboard as shown (the grid's rows in its order, its visible columns) with the battle's
    window, costs and shared-market flag in the file and in its name."""
    result = _result(spec_dict, models_dir)
    shown = rows if rows else leaderboard_rows(result)
    kind = "xlsx" if which in (ids.ARN_BOARD_XLSX, "xlsx") else "csv"
    return grid.export_download(kind, shown, BOARD_COLUMNS, column_state, meta=battle_meta(result),
                                name=battle_file_stem("leaderboard", result), sheet="Leaderboard")


def export_whole_journal(which: str, spec_dict: dict | None, models_dir=None):
    """Every fill of every contestant, with the journal page's columns (unfiltered)."""
    from callbacks.journal import table_records
    from core.journal import build_journal
    from layouts.journal import JOURNAL_COLUMNS

    result = _result(spec_dict, models_dir)
    kind = "xlsx" if which in (ids.ARN_JOURNAL_XLSX, "xlsx") else "csv"
    return grid.export_download(kind, table_records(build_journal(result)), JOURNAL_COLUMNS,
                                meta=battle_meta(result), name=battle_file_stem("journal", result, "all"),
                                sheet="Journal")


def register(app, settings) -> None:
    @app.callback(
        Output(ids.ARN_TICKER, "options"),
        Output(ids.ARN_TICKER, "value"),
        Output(ids.ARN_WINDOW, "value"),
        Output(ids.ARN_DATES, "start_date"),
        Output(ids.ARN_DATES, "end_date"),
        Output(ids.ARN_COMMISSION, "value"),
        Output(ids.ARN_SLIPPAGE, "value"),
        Output(ids.ARN_SHARED, "value"),
        Output(ids.ARN_NOTE, "children"),
        Input(ids.ARN_QUERY, "data"),
        State(ids.BATTLE_SPEC, "data"),
        State(ids.MARKET_CHOICE, "data"),
    )
    def _restore(query, session_spec, market_choice):
        return restore_outputs(query, session_spec, market_choice)

    @app.callback(
        Output(ids.ARN_SAMPLE_TAG, "children"),
        Output(ids.ARN_ALERT, "children"),
        Output(ids.ARN_KPIS, "children"),
        Output(ids.ARN_CANDLES, "figure"),
        Output(ids.BATTLE_SPEC, "data"),
        Output(ids.ARN_DATES, "disabled"),
        Output(ids.ARN_COMMISSION, "invalid"),
        Output(ids.ARN_SLIPPAGE, "invalid"),
        Input(ids.ARN_TICKER, "value"),
        Input(ids.ARN_WINDOW, "value"),
        Input(ids.ARN_DATES, "start_date"),
        Input(ids.ARN_DATES, "end_date"),
        Input(ids.ARN_COMMISSION, "value"),
        Input(ids.ARN_SLIPPAGE, "value"),
        Input(ids.ARN_SHARED, "value"),
        State(ids.BATTLE_SPEC, "data"),
    )
    def _battle(ticker, window, start, end, commission, slippage, shared, previous):
        return arena_outputs(ticker, window, start, end, commission, slippage, settings.models_dir, shared,
                             previous)

    @app.callback(
        Output(ids.ARN_EQUITY, "figure"),
        Output(ids.ARN_BOARD, "rowData"),
        Input(ids.BATTLE_SPEC, "data"),
    )
    def _board(spec):
        return board_outputs(spec, settings.models_dir)

    @app.callback(
        Output(ids.ARN_STRESS_FIG, "figure"),
        Output(ids.ARN_STRESS_TABLE, "children"),
        Input(ids.BATTLE_SPEC, "data"),
    )
    def _stress(spec):
        return stress_outputs(spec, settings.models_dir)

    @app.callback(
        Output(ids.ARN_DOWNLOAD, "data"),
        Input(ids.ARN_BOARD_CSV, "n_clicks"),
        Input(ids.ARN_BOARD_XLSX, "n_clicks"),
        Input(ids.ARN_JOURNAL_CSV, "n_clicks"),
        Input(ids.ARN_JOURNAL_XLSX, "n_clicks"),
        State(ids.BATTLE_SPEC, "data"),
        State(ids.ARN_BOARD, "virtualRowData"),
        State(ids.ARN_BOARD, "columnState"),
        prevent_initial_call=True,
    )
    def _download(_csv, _xlsx, _jcsv, _jxlsx, spec, rows, column_state):
        try:
            if ctx.triggered_id in (ids.ARN_JOURNAL_CSV, ids.ARN_JOURNAL_XLSX):
                return export_whole_journal(ctx.triggered_id, spec, settings.models_dir)
            return export_leaderboard(ctx.triggered_id, spec, settings.models_dir, rows, column_state)
        except Exception as exc:  # noqa: BLE001
            unexpected_error_alert(exc, "preparing the download")
            return no_update
