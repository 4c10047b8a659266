"""Journal page callbacks: the battle's trades as a filterable table and safe CSV / Excel downloads."""

from __future__ import annotations

import numpy as np
import pandas as pd
from dash import Input, Output, State, ctx, dcc, no_update

from callbacks import battle_caption, error_alert, failed, unexpected_error_alert
from core import service
from layouts import ids
from layouts.components import sample_tag

DISPLAY_COLUMNS = [
    ("label", "Contestant"), ("kind", "Type"), ("date", "Fill date"), ("side", "Side"), ("quantity", "Qty"),
    ("price", "Price"), ("value", "Value"), ("cost", "Cost"), ("position_after", "Pos after"),
    ("equity_after", "Equity after"), ("decision_date", "Decided"), ("decision", "Decision"), ("rsi", "RSI"),
    ("sma20", "SMA 20"), ("macd", "MACD"), ("probabilities", "Policy probabilities"),
]


def battle_journal(spec_dict: dict | None, models_dir=None):
    from core.journal import build_journal

    view = service.run_arena(service.BattleSpec.from_dict(spec_dict), models_dir=models_dir)
    return view, build_journal(view.result)


def filtered(journal: pd.DataFrame, contestants, side) -> pd.DataFrame:
    from core.journal import filter_journal

    return filter_journal(journal, contestants=contestants or None, side=None if side in (None, "all") else side)


def table_records(journal: pd.DataFrame) -> list[dict]:
    table = journal.copy()
    for col in ("date", "decision_date"):
        if col in table:
            table[col] = pd.to_datetime(table[col]).dt.strftime("%Y-%m-%d")
    for col in ("quantity", "price", "value", "cost", "equity_after", "rsi", "sma20", "macd"):
        if col in table:
            table[col] = table[col].astype(float).round(4 if col in ("quantity", "macd") else 2)
    if "position_after" in table:
        table["position_after"] = (100 * table["position_after"].astype(float)).round(1)
    table = table.replace({np.nan: None})
    return table.to_dict("records")


def journal_columns() -> list[dict]:
    numeric = {"quantity", "price", "value", "cost", "position_after", "equity_after", "rsi", "sma20", "macd"}
    return [{"id": c, "name": n, "type": "numeric" if c in numeric else "text"} for c, n in DISPLAY_COLUMNS]


def journal_outputs(spec_dict, contestants, side, models_dir=None) -> tuple:
    """(options, header, summary, rows, columns, alert, tooltips)."""
    try:
        view, journal = battle_journal(spec_dict, models_dir)
        shown = filtered(journal, contestants, side)
    except Exception as exc:  # noqa: BLE001 - bad input or bug: an alert, never a trace
        return failed(exc, 7, 5, "building the journal")
    result = view.result
    options = [{"label": c.label, "value": c.name} for c in result.contestants]
    header = sample_tag(result.sample, battle_caption(result))
    costs = float(shown["cost"].sum()) if len(shown) else 0.0
    summary = (f"{len(shown):,} of {len(journal):,} fills shown · costs paid in these fills: ${costs:,.2f} · "
               "decision context (RSI, SMA 20, MACD, policy probabilities) is as of the decision bar's close; "
               "fills happen at the next open.")
    alert = None if view.agents_ready else error_alert(view.agents_message + " The journal lists the benchmarks only.",
                                                       color="info")
    rows = table_records(shown)
    tooltips = [{"probabilities": {"value": r.get("probabilities") or "", "type": "text"}} for r in rows]
    return options, header, summary, rows, journal_columns(), alert, tooltips


def export_journal(which: str, spec_dict, contestants, side, models_dir=None):
    from core.journal import to_csv_bytes, to_excel_bytes

    view, journal = battle_journal(spec_dict, models_dir)
    shown = filtered(journal, contestants, side)
    result = view.result
    name = f"journal_{result.ticker}_{result.sample}_{result.test_start:%Y%m%d}-{result.test_end:%Y%m%d}"
    if which == ids.JRN_XLSX:
        return dcc.send_bytes(to_excel_bytes(shown), f"{name}.xlsx")
    return dcc.send_bytes(to_csv_bytes(shown), f"{name}.csv")


def register(app, settings) -> None:
    @app.callback(
        Output(ids.JRN_CONTESTANTS, "options"),
        Output(ids.JRN_HEADER, "children"),
        Output(ids.JRN_SUMMARY, "children"),
        Output(ids.JRN_TABLE, "data"),
        Output(ids.JRN_TABLE, "columns"),
        Output(ids.JRN_ALERT, "children"),
        Output(ids.JRN_TABLE, "tooltip_data"),
        Input(ids.JRN_CONTESTANTS, "value"),
        Input(ids.JRN_SIDE, "value"),
        State(ids.BATTLE_SPEC, "data"),
    )
    def _journal(contestants, side, spec):
        return journal_outputs(spec, contestants, side, settings.models_dir)

    @app.callback(
        Output(ids.JRN_DOWNLOAD, "data"),
        Input(ids.JRN_CSV, "n_clicks"),
        Input(ids.JRN_XLSX, "n_clicks"),
        State(ids.BATTLE_SPEC, "data"),
        State(ids.JRN_CONTESTANTS, "value"),
        State(ids.JRN_SIDE, "value"),
        prevent_initial_call=True,
    )
    def _download(_csv, _xlsx, spec, contestants, side):
        try:
            return export_journal(ctx.triggered_id, spec, contestants, side, settings.models_dir)
        except Exception as exc:  # noqa: BLE001
            unexpected_error_alert(exc, "preparing the journal download")
            return no_update
