"""Journal page callbacks: the battle's trades as a grid; the summary and the downloads follow what it shows."""

from __future__ import annotations

import math

import pandas as pd
from dash import Input, Output, State, ctx, no_update

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
from layouts import fmt, grid, ids, state
from layouts.journal import JOURNAL_COLUMNS


def battle_journal(spec_dict: dict | None, source=None):
    from core.journal import build_journal

    view = BattleSource.of(source).view(spec_dict)
    return view, build_journal(view.result)


def filtered(journal: pd.DataFrame, contestants, side) -> pd.DataFrame:
    from core.journal import filter_journal

    return filter_journal(journal, contestants=contestants or None, side=None if side in (None, "all") else side)


def _clean(value):
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def table_records(journal: pd.DataFrame) -> list[dict]:
    """Grid rows: dates as YYYY-MM-DD, numbers RAW (the grid formats them once), NaN as null."""
    table = journal.copy()
    for col in ("date", "decision_date"):
        if col in table:
            table[col] = pd.to_datetime(table[col]).dt.strftime("%Y-%m-%d")
    records = table.astype(object).where(table.notna(), None).to_dict("records")
    return [{k: _clean(v) for k, v in r.items()} for r in records]


# Grid rows per (battle, contestants, side): building and formatting the journal is ~50 ms a request.
_ROWS = shared_figures.figure_lru(32, "journal-rows")


def journal_rows(spec_dict, contestants, side, source=None):
    """(view, grid rows) of the battle's journal filtered by contestants and side, cached per battle."""
    view = BattleSource.of(source).view(spec_dict)
    result = view.result

    def build():
        from core.journal import build_journal

        return table_records(filtered(build_journal(result), contestants, side))

    if not result.cache_key:
        return view, build()
    key = (result.cache_key, tuple(sorted(map(str, contestants or []))), str(side or "all"))
    return view, _ROWS.get_or_compute(key, build, share=not getattr(result, "private", False))


def journal_outputs(query, session_spec, contestants, side, source=None, market_choice=None) -> tuple:
    """(contestant options, header, rows, alert) for the battle the page follows (URL, then session)."""
    spec, message = state.spec_from_query_and_session(query, session_spec, market_choice)
    try:
        view, rows = journal_rows(spec, contestants, side, source)
    except Exception as exc:  # noqa: BLE001 - bad input or bug: an alert, never a trace
        return failed(exc, 4, 3, "building the journal")
    result = view.result
    options = [{"label": c.label, "value": c.name} for c in result.contestants]
    header = battle_header(result, view.spec.run_id)
    notes = [message] if message else []
    if not view.agents_ready:
        notes.append(view.agents_message + " The journal lists the benchmarks only.")
    alert = error_alert(" ".join(notes), color="info") if notes else None
    return options, header, rows, alert


def summary_text(shown_rows, all_rows) -> str:
    """The line above the grid: counts and costs of exactly the rows the grid shows (its own filters too)."""
    shown = list(shown_rows if shown_rows is not None else all_rows or [])
    costs = sum(float(r.get("cost") or 0.0) for r in shown)
    return (f"{fmt.count(len(shown))} of {fmt.count(len(all_rows or []))} fills shown · costs paid in these fills: "
            f"{fmt.money(costs, 2)} · decision context (RSI, SMA 20, MACD, policy probabilities) is as of the "
            "decision bar's close; fills happen at the next open.")


def export_journal(which: str, spec_dict, rows, column_state=None, source=None):
    """The rows the grid shows (after every filter, in its sort order), its visible columns, the battle's
    window, costs and shared-market flag in the file and its name."""
    result = BattleSource.of(source).view(spec_dict).result
    kind = "xlsx" if which in (ids.JRN_XLSX, "xlsx") else "csv"
    return grid.export_download(kind, rows or [], JOURNAL_COLUMNS, column_state, meta=battle_meta(result),
                                name=battle_file_stem("journal", result, "filtered"), sheet="Journal")


def register(app, settings) -> None:
    @app.callback(
        Output(ids.JRN_CONTESTANTS, "options"),
        Output(ids.JRN_HEADER, "children"),
        Output(ids.JRN_TABLE, "rowData"),
        Output(ids.JRN_ALERT, "children"),
        Input(ids.JRN_QUERY, "data"),
        Input(ids.JRN_CONTESTANTS, "value"),
        Input(ids.JRN_SIDE, "value"),
        State(ids.BATTLE_SPEC, "data"),
        State(ids.MARKET_CHOICE, "data"),
        State(ids.SESSION, "data"),
    )
    def _journal(query, contestants, side, spec, market_choice, session):
        return journal_outputs(query, spec, contestants, side, BattleSource.of(settings, session), market_choice)

    @app.callback(
        Output(ids.JRN_SUMMARY, "children"),
        Input(ids.JRN_TABLE, "virtualRowData"),
        State(ids.JRN_TABLE, "rowData"),
    )
    def _summary(shown, rows):
        return summary_text(shown, rows)

    @app.callback(
        Output(ids.JRN_DOWNLOAD, "data"),
        Input(ids.JRN_CSV, "n_clicks"),
        Input(ids.JRN_XLSX, "n_clicks"),
        State(ids.JRN_QUERY, "data"),
        State(ids.BATTLE_SPEC, "data"),
        State(ids.MARKET_CHOICE, "data"),
        State(ids.JRN_TABLE, "virtualRowData"),
        State(ids.JRN_TABLE, "columnState"),
        State(ids.SESSION, "data"),
        prevent_initial_call=True,
    )
    def _download(_csv, _xlsx, query, session_spec, market_choice, rows, column_state, session):
        try:
            spec, _message = state.spec_from_query_and_session(query, session_spec, market_choice)
            return export_journal(ctx.triggered_id, spec, rows, column_state, BattleSource.of(settings, session))
        except Exception as exc:  # noqa: BLE001
            unexpected_error_alert(exc, "preparing the journal download")
            return no_update
