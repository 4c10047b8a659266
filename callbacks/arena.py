"""Arena page callbacks: run (or fetch from cache) the battle for the chosen spec and draw it."""

from __future__ import annotations

import time
from urllib.parse import urlencode

import dash_bootstrap_components as dbc
from dash import Input, Output, State, ctx, dcc, html, no_update

from callbacks import (
    BattleSource,
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


BEHAVIOUR = {"long": "always long", "flat": "always flat", "buy_and_hold": "like buy-and-hold"}


def seed_rows(result) -> list[dict]:
    """One row per agent across its training seeds (raw numbers): median and range of net return and Sharpe,
    seeds beating buy-and-hold, the p-value of the shown (median) seed against buy-and-hold, trivial flag."""
    rows = []
    for c in result.contestants:
        if c.kind != "agent" or not c.seed_stats:
            continue
        stats = c.seed_stats.get("stats", {})
        ret, sharpe = stats.get("total_return", {}), stats.get("sharpe", {})
        rows.append({
            "contestant": c.label, "name": c.name, "n_seeds": int(c.seed_stats.get("n_seeds", 0)),
            "shown_seed": c.representative_seed,
            "return_median": _num(ret.get("median")), "return_min": _num(ret.get("min")),
            "return_max": _num(ret.get("max")),
            "sharpe_median": _num(sharpe.get("median")), "sharpe_min": _num(sharpe.get("min")),
            "sharpe_max": _num(sharpe.get("max")),
            "beats": f"{c.seed_stats.get('beats', 0)} of {c.seed_stats.get('n_seeds', 0)}",
            "p_value": _num(c.significance.get("p_value")),
            "behaviour": BEHAVIOUR.get(c.trivial.get("code"), "—"),
        })
    return rows


def luck_notes(result) -> list:
    """The plain sentences above the seed table: the deflated Sharpe ratio of the best try, the bootstrap's
    block length, each trivial policy, and why anything is missing."""
    agents = [c for c in result.contestants if c.kind == "agent"]
    if not agents:
        return [html.P("No agents in this battle: nothing to test against luck.", className="text-muted")]
    items = []
    if result.deflated_sentence:
        p = fmt.finite(result.deflated.get("p_value")) if result.deflated else None
        colour = "neon-pos" if p is not None and p < 0.05 else "neon-neg"
        items.append(html.Li(html.Strong(result.deflated_sentence, className=colour)))
    blocks = [fmt.finite(c.significance.get("block_length")) for c in agents if c.significance]
    blocks = [b for b in blocks if b is not None]
    if blocks:
        days = len(result.dates) - 1
        items.append(html.Li(
            f"p vs B&H: paired stationary bootstrap of the Sharpe difference on the same {days:,} days, "
            f"2,000 resamples, mean block length {blocks[0]:.1f} days (n^1/3); one-sided. The deflated Sharpe "
            "ratio corrects the best agent x seed for the number of tries (Bailey and Lopez de Prado)."))
    for c in agents:
        if c.trivial.get("sentence"):
            items.append(html.Li(c.trivial["sentence"], className="neon-neg"))
    if result.significance_note:
        items.append(html.Li(result.significance_note, className="text-muted"))
    return [html.Ul(items, className="mb-2")]


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
    train = dcc.Link(f"Train agents for {ticker}", href="/train?" + urlencode({"ticker": ticker}),
                     className="alert-link")
    if view.spec.run_id:
        reason = view.agents_message + " "
    elif corrupt:
        reason = view.agents_message + " "
    else:
        reason = f"There are no trained agents for {ticker} yet. "
    return dbc.Alert([
        html.Strong("Benchmarks only. "), reason, html.Br(), train,
        " on the Train page (a few minutes on 2 cores, with progress and cancel); they appear in this page's "
        "agent picker when done. From a terminal: ", html.Code(f"python -m core train --ticker {ticker}"), ".",
    ], color="warning" if corrupt or view.spec.run_id else "info", className="neon-alert")


def spec_from_inputs(ticker, window, start, end, commission, slippage, shared=False,
                     agents=service.SHIPPED) -> service.BattleSpec:
    if commission is None or slippage is None:
        raise service.SpecError("Commission and slippage must be numbers between 0 and 1000 basis points.")
    return service.BattleSpec(ticker=ticker or "AAPL", window=window or "out-of-sample",
                              start=start if window == "custom" else None,
                              end=end if window == "custom" else None,
                              commission_bps=float(commission), slippage_bps=float(slippage),
                              shared_market=bool(shared), agents=agents or service.SHIPPED)


def _cost_invalid(value) -> bool:
    try:
        return not 0 <= float(value) <= 1000
    except (TypeError, ValueError):
        return True


def agent_options(runs) -> list[dict]:
    """The agent picker's options: the shipped agents, then the session's runs (newest first)."""
    return [{"label": "Shipped agents · 5 seeds each", "value": service.SHIPPED},
            *({"label": f"Your run {r.run_id[:6]} · {r.label}", "value": r.run_id} for r in runs)]


def session_runs(source: BattleSource) -> list:
    if not (source.runs_dir and source.session):
        return []
    try:
        return service.session_runs(source.runs_dir, source.session)
    except ValueError:  # a malformed session id: no runs, never an error on the arena
        return []


def restore_outputs(query, session_spec, market_choice, source: BattleSource | None = None) -> tuple:
    """The controls' values on arrival: URL first, then the session (layouts/state.py).

    Returns (ticker options, ticker, window, start, end, commission, slippage, shared, agent options,
    agents, note).
    """
    spec, message = state.spec_from_query_and_session(query, session_spec, market_choice)
    options = list(dict.fromkeys([*state.arena_tickers(), spec["ticker"]]))
    runs = session_runs(source or BattleSource())
    agents = spec.get("agents") or service.SHIPPED
    if agents != service.SHIPPED and agents not in {r.run_id for r in runs}:
        # kept: the battle says why it cannot load it (another tab's run, removed, mistyped)
        runs_options = [*agent_options(runs), {"label": f"Run {agents[:6]} (not in this tab)", "value": agents}]
    else:
        runs_options = agent_options(runs)
    note = error_alert(message, color="warning") if message else None
    return (options, spec["ticker"], spec["window"], spec.get("start"), spec.get("end"), spec["commission_bps"],
            spec["slippage_bps"], bool(spec.get("shared_market")), runs_options, agents, note)


def stamped(spec: dict, previous: dict | None) -> dict:
    """The spec for the session store; its "updated" stamp moves only when the ticker changed (so the
    Market page follows the Arena's ticker only when the Arena chose it last: layouts.state.shared_ticker)."""
    previous = previous if isinstance(previous, dict) else {}
    if previous.get("ticker") == spec["ticker"] and previous.get("updated"):
        return {**spec, "updated": previous["updated"]}
    return {**spec, "updated": time.time()}


def arena_outputs(ticker, window, start, end, commission, slippage, source=None, shared=False,
                  previous_spec=None, agents=service.SHIPPED) -> tuple:
    """(sample tag, alert, kpis, candles, spec store, dates disabled, commission invalid, slippage invalid,
    ticker disabled).

    `source`: app settings, a models folder or a BattleSource (callbacks.BattleSource.of). With a run picked
    (`agents`), the ticker is the run's and its control is disabled.

    The equity figure and the leaderboard rows follow in a second callback (`board_outputs`, on the spec
    store): the candles reach the screen first.

    On bad input: an alert, the bad input marked invalid, and every other output unchanged (the previous
    battle stays on screen). A custom window without dates yet is a hint, not an error.
    """
    invalid = (_cost_invalid(commission), _cost_invalid(slippage))
    if window == "custom" and not (start or end):
        hint = error_alert("Custom window: pick a start and/or an end date; the battle runs as soon as one is "
                           "set. The previous battle stays on screen until then.", color="info")
        return (no_update, hint) + (no_update,) * 3 + (False, *invalid, no_update)
    run_picked = bool(agents) and agents != service.SHIPPED
    try:
        spec = spec_from_inputs(ticker, window, start, end, commission, slippage, shared, agents)
        view = BattleSource.of(source).view(spec)
    except Exception as exc:  # noqa: BLE001 - bad input or bug: an alert, never a trace
        return failed(exc, 5, 1, "running the battle") + (window != "custom", *invalid, run_picked)
    result = view.result
    candles, _equity = battle_figures(result)
    return (
        sample_tag(result.sample, battle_caption(result)),
        agents_alert(view),
        arena_kpis(result),
        candles,
        stamped(view.spec.to_dict(), previous_spec),
        window != "custom",
        *invalid,
        run_picked,
    )


def board_outputs(spec_dict: dict | None, source=None) -> tuple:
    """(equity figure, leaderboard rows, seed rows, luck notes) of the battle in the spec store (cached: the
    battle already ran)."""
    if not spec_dict:
        return no_update, no_update, no_update, no_update
    try:
        result = _result(spec_dict, source)
    except Exception as exc:  # noqa: BLE001 - the battle callback already showed the message
        unexpected_error_alert(exc, "drawing the equity curves") if not isinstance(exc, ValueError) else None
        return no_update, no_update, no_update, no_update
    return battle_figures(result)[1], leaderboard_rows(result), seed_rows(result), luck_notes(result)


def stress_outputs(spec_dict: dict | None, source=None):
    from layouts import theme

    if not spec_dict:
        return no_update, no_update
    try:
        spec = service.BattleSpec.from_dict(spec_dict)
        source = BattleSource.of(source)
        stress, view = source.stress(spec), source.view(spec)
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


def _result(spec_dict, source):
    return BattleSource.of(source).view(spec_dict).result


def export_leaderboard(which: str, spec_dict: dict | None, source=None, rows=None, column_state=None):
    """The leaderboard as shown (the grid's rows in its order, its visible columns) with the battle's
    window, costs and shared-market flag in the file and in its name."""
    result = _result(spec_dict, source)
    shown = rows if rows else leaderboard_rows(result)
    kind = "xlsx" if which in (ids.ARN_BOARD_XLSX, "xlsx") else "csv"
    return grid.export_download(kind, shown, BOARD_COLUMNS, column_state, meta=battle_meta(result),
                                name=battle_file_stem("leaderboard", result), sheet="Leaderboard")


def export_whole_journal(which: str, spec_dict: dict | None, source=None):
    """Every fill of every contestant, with the journal page's columns (unfiltered)."""
    from callbacks.journal import table_records
    from core.journal import build_journal
    from layouts.journal import JOURNAL_COLUMNS

    result = _result(spec_dict, source)
    kind = "xlsx" if which in (ids.ARN_JOURNAL_XLSX, "xlsx") else "csv"
    return grid.export_download(kind, table_records(build_journal(result)), JOURNAL_COLUMNS,
                                meta=battle_meta(result), name=battle_file_stem("journal", result, "all"),
                                sheet="Journal")


def register(app, settings) -> None:
    def source(session) -> BattleSource:
        return BattleSource.of(settings, session)

    @app.callback(
        Output(ids.ARN_TICKER, "options"),
        Output(ids.ARN_TICKER, "value"),
        Output(ids.ARN_WINDOW, "value"),
        Output(ids.ARN_DATES, "start_date"),
        Output(ids.ARN_DATES, "end_date"),
        Output(ids.ARN_COMMISSION, "value"),
        Output(ids.ARN_SLIPPAGE, "value"),
        Output(ids.ARN_SHARED, "value"),
        Output(ids.ARN_AGENTS, "options"),
        Output(ids.ARN_AGENTS, "value"),
        Output(ids.ARN_NOTE, "children"),
        Input(ids.ARN_QUERY, "data"),
        Input(ids.SESSION, "data"),  # the tab's session id arrives after the first paint: its runs then
        State(ids.BATTLE_SPEC, "data"),
        State(ids.MARKET_CHOICE, "data"),
    )
    def _restore(query, session, session_spec, market_choice):
        return restore_outputs(query, session_spec, market_choice, source(session))

    @app.callback(
        Output(ids.ARN_SAMPLE_TAG, "children"),
        Output(ids.ARN_ALERT, "children"),
        Output(ids.ARN_KPIS, "children"),
        Output(ids.ARN_CANDLES, "figure"),
        Output(ids.BATTLE_SPEC, "data"),
        Output(ids.ARN_DATES, "disabled"),
        Output(ids.ARN_COMMISSION, "invalid"),
        Output(ids.ARN_SLIPPAGE, "invalid"),
        Output(ids.ARN_TICKER, "disabled"),
        Input(ids.ARN_TICKER, "value"),
        Input(ids.ARN_WINDOW, "value"),
        Input(ids.ARN_DATES, "start_date"),
        Input(ids.ARN_DATES, "end_date"),
        Input(ids.ARN_COMMISSION, "value"),
        Input(ids.ARN_SLIPPAGE, "value"),
        Input(ids.ARN_SHARED, "value"),
        Input(ids.ARN_AGENTS, "value"),
        State(ids.BATTLE_SPEC, "data"),
        State(ids.SESSION, "data"),
    )
    def _battle(ticker, window, start, end, commission, slippage, shared, agents, previous, session):
        return arena_outputs(ticker, window, start, end, commission, slippage, source(session), shared,
                             previous, agents)

    @app.callback(
        Output(ids.ARN_EQUITY, "figure"),
        Output(ids.ARN_BOARD, "rowData"),
        Output(ids.ARN_SEEDS, "rowData"),
        Output(ids.ARN_LUCK, "children"),
        Input(ids.BATTLE_SPEC, "data"),
        State(ids.SESSION, "data"),
    )
    def _board(spec, session):
        return board_outputs(spec, source(session))

    @app.callback(
        Output(ids.ARN_STRESS_FIG, "figure"),
        Output(ids.ARN_STRESS_TABLE, "children"),
        Input(ids.BATTLE_SPEC, "data"),
        State(ids.SESSION, "data"),
    )
    def _stress(spec, session):
        return stress_outputs(spec, source(session))

    @app.callback(
        Output(ids.ARN_DOWNLOAD, "data"),
        Input(ids.ARN_BOARD_CSV, "n_clicks"),
        Input(ids.ARN_BOARD_XLSX, "n_clicks"),
        Input(ids.ARN_JOURNAL_CSV, "n_clicks"),
        Input(ids.ARN_JOURNAL_XLSX, "n_clicks"),
        State(ids.BATTLE_SPEC, "data"),
        State(ids.ARN_BOARD, "virtualRowData"),
        State(ids.ARN_BOARD, "columnState"),
        State(ids.SESSION, "data"),
        prevent_initial_call=True,
    )
    def _download(_csv, _xlsx, _jcsv, _jxlsx, spec, rows, column_state, session):
        try:
            if ctx.triggered_id in (ids.ARN_JOURNAL_CSV, ids.ARN_JOURNAL_XLSX):
                return export_whole_journal(ctx.triggered_id, spec, source(session))
            return export_leaderboard(ctx.triggered_id, spec, source(session), rows, column_state)
        except Exception as exc:  # noqa: BLE001
            unexpected_error_alert(exc, "preparing the download")
            return no_update
