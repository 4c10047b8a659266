"""ONE factory for every table of the app: Dash AG Grid, themed dark neon, with the app's number formatter.

How a page builds a table (the Risk and Forecast pages do the same):

    from layouts import grid

    COLUMNS = [
        grid.col("contestant", "Contestant", tip="Who traded", key=True),           # first: pinned left
        grid.col("total_return", "Return", "signed_pct", rule="sign", key=True,
                 tip="Net total return over the window, after every cost"),
        grid.col("beats", "Beats B&H?", rule="verdict", tip="Net return above buy-and-hold's"),
        grid.col("var_95", "VaR 95", "pct", tip="One-day 95% Value at Risk (a loss, as a fraction)"),
    ]
    layout = grid.data_grid(ids.RSK_TABLE, COLUMNS, height=360, export_name="risk")
    # callback: Output(ids.RSK_TABLE, "rowData") <- list of dicts with RAW numbers (never pre-rounded)

`col()` kinds are those of layouts.fmt (pct, signed_pct, ratio, signed_ratio, money, bps, count, price,
number) plus "text" and "date" (YYYY-MM-DD strings). Numeric kinds sort as numbers and filter with a number
filter; formatting happens in the browser with the same rules as Python's fmt. `rule=` colours cells:
"sign" (positive green / negative red), "verdict" (YES green / no red), "side" (buy green / sell red), "flag" (anything but "—" red);
the CSS lives in assets/10-neon.css (.neon-grid ...). `key=True` columns stay on a phone (narrow grids
hide the others, assets/dashAgGridFunctions.js neonResponsive).

Exports hold exactly what the grid shows: give the download callback
State(grid_id, "virtualRowData") (rows after the grid's filter and sort) and State(grid_id, "columnState")
(column order and visibility), then

    return grid.export_download("csv" | "xlsx", rows, COLUMNS, column_state, meta={...}, name="risk_AAPL_...")

which writes through core.journal's injection-safe writers. `shown_table()` gives the DataFrame itself.
Percent kinds are exported as numbers in percent (header "Return (%)"), full precision.
"""

from __future__ import annotations

import re

import pandas as pd
from dash_ag_grid import AgGrid

from layouts import fmt

NUMERIC_KINDS = set(fmt.KINDS)
TEXT_KINDS = {"text", "date"}

RULES = {
    "sign": {"neon-pos": "params.value > 0", "neon-neg": "params.value < 0"},
    "verdict": {"neon-yes": "params.value === 'YES'", "neon-no": "params.value === 'no'"},
    "side": {"neon-buy": "params.value === 'buy'", "neon-sell": "params.value === 'sell'"},
    "flag": {"neon-no": "params.value !== '—'"},
}
"""Colour rules (class -> condition); dash-ag-grid evaluates the strings with its CSP-safe parser."""

PERCENT_KINDS = {"pct", "signed_pct"}


def col(field: str, header: str, kind: str = "text", *, tip: str | None = None, rule: str | None = None,
        digits: int | None = None, key: bool = False, width: int | None = None, min_width: int | None = None,
        flex: float | None = None, interval_high: str | None = None, wrap: bool = False, **extra) -> dict:
    """One column definition.

    :param field: the row key. :param header: the header text. :param kind: fmt kind, "text" or "date".
    :param tip: header tooltip (define the metric). :param rule: "sign", "verdict" or "side" colours.
    :param key: keep the column on narrow screens. :param interval_high: the row key of an interval's upper
        bound; the cell shows "low … high" and sorts by its own (lower) value; exports write both bounds.
    """
    if kind not in NUMERIC_KINDS | TEXT_KINDS:
        raise ValueError(f"unknown column kind {kind!r}")
    numeric = kind in NUMERIC_KINDS
    d = fmt.DIGITS.get(kind) if digits is None else digits
    out: dict = {"field": field, "headerName": header, "colId": field,
                 "context": {"kind": kind, "digits": d, "key": key, "high": interval_high}}
    if tip:
        out["headerTooltip"] = tip
    if numeric:
        out.update(cellDataType="number", type="rightAligned", filter="agNumberColumnFilter")
        out["valueFormatter"] = (
            {"function": f"neonInterval(params, '{interval_high}', '{kind}', {d})"} if interval_high
            else fmt.js(kind, d))
    else:
        out.update(cellDataType="text", filter="agTextColumnFilter")
    if rule:
        if rule not in RULES:
            raise ValueError(f"unknown colour rule {rule!r}; one of {', '.join(RULES)}")
        out["cellClassRules"] = dict(RULES[rule])
    if width:
        out["width"] = width
    if min_width:
        out["minWidth"] = min_width
    if flex:
        out["flex"] = flex
    if wrap:
        out.update(wrapText=True, autoHeight=True)
    out.update(extra)
    return out


def data_grid(id: str, column_defs: list[dict], row_data: list[dict] | None = None, *, pinned_first: bool = True,
              height: int | str = 420, export_name: str | None = None, filter_row: bool = False,
              pagination: bool = False, page_size: int = 25, fit: bool = True, class_name: str = "",
              filters: bool = True,
              mobile_breakpoint: int = 700, dash_grid_options: dict | None = None, **props) -> AgGrid:
    """The app's table: dark neon, formatted numbers, header tooltips, first column pinned, fitted width.

    :param id: a component id from layouts.ids. :param column_defs: from col().
    :param filter_row: a filter box under every header (the grid's own filter; exports honour it).
    :param fit: size the columns to the grid's width (no horizontal scrollbar at 1600 px).
    :param filters: column filters (header menu); off for small tables such as the leaderboard.
    :param export_name: kept on the grid's CSV export params (the server-side exports name files themselves).
    """
    defs = [dict(c) for c in column_defs]
    if pinned_first and defs:
        defs[0] = {**defs[0], "pinned": "left", "lockPinned": True}
        defs[0]["context"] = {**defs[0].get("context", {}), "key": True}
    options = {
        "tooltipShowDelay": 250, "tooltipInteraction": True, "animateRows": False,
        "suppressCellFocus": True, "enableCellTextSelection": True, "ensureDomOrder": True,
        "headerHeight": 44, "rowHeight": 34, "suppressDragLeaveHidesColumns": True,
        "localeText": {"noRowsToShow": "Nothing to show yet"}, "domLayout": "normal",
    }
    if pagination:
        options.update(pagination=True, paginationPageSize=page_size, paginationPageSizeSelector=[25, 50, 100])
    options.update(dash_grid_options or {})
    default = {"sortable": True, "resizable": True, "filter": filters, "minWidth": 62, "wrapHeaderText": True,
               "autoHeaderHeight": True, "floatingFilter": filter_row and filters,
               "suppressHeaderMenuButton": not filters, "suppressHeaderFilterButton": not filters}
    if not filters:
        defs = [{k: v for k, v in c.items() if k != "filter"} for c in defs]
    return AgGrid(
        id=id, columnDefs=defs, rowData=row_data or [], defaultColDef=default, dashGridOptions=options,
        columnSize="responsiveSizeToFit" if fit else None,
        className=f"neon-grid {class_name}".strip(),
        style={"height": height if isinstance(height, str) else f"{height}px", "width": "100%"},
        eventListeners={"gridSizeChanged": [f"neonResponsive(params, {int(mobile_breakpoint)}, '{id}')"],
                        "firstDataRendered": [f"neonResponsive(params, {int(mobile_breakpoint)}, '{id}')"]},
        csvExportParams={"fileName": f"{export_name or id}.csv"},
        **props,
    )


def _export_columns(column_defs: list[dict], column_state: list[dict] | None) -> list[dict]:
    by_id = {c.get("colId", c["field"]): c for c in column_defs}
    if column_state:
        ordered = [by_id[s["colId"]] for s in column_state if s.get("colId") in by_id and not s.get("hide")]
        if ordered:
            return ordered
    return [c for c in column_defs if not c.get("hide")]


def _export_header(column: dict, suffix: str = "") -> str:
    kind = column.get("context", {}).get("kind", "text")
    header = column["headerName"] + suffix
    return f"{header} (%)" if kind in PERCENT_KINDS else header


def shown_table(rows: list[dict] | None, column_defs: list[dict], column_state: list[dict] | None = None) -> pd.DataFrame:
    """The rows (in the grid's order) and the visible columns (in the grid's order), as a DataFrame.

    Numbers stay numbers (percent kinds x 100, header marked "(%)"); an interval column becomes two columns
    (low, high).
    """
    columns = _export_columns(column_defs, column_state)
    data: dict[str, list] = {}
    rows = list(rows or [])
    for c in columns:
        ctx = c.get("context", {})
        kind = ctx.get("kind", "text")
        scale = 100.0 if kind in PERCENT_KINDS else 1.0

        def values(field, scale=scale, kind=kind):
            out = []
            for r in rows:
                v = r.get(field)
                if kind in NUMERIC_KINDS:
                    try:
                        v = float(v) * scale if v is not None else None
                    except (TypeError, ValueError):
                        v = None
                out.append(v)
            return out

        if ctx.get("high"):
            data[_export_header(c, " low")] = values(c["field"])
            data[_export_header(c, " high")] = values(ctx["high"])
        else:
            data[_export_header(c)] = values(c["field"])
    frame = pd.DataFrame(data)
    for name, c in zip(frame.columns, columns, strict=False):
        if c.get("context", {}).get("kind") in NUMERIC_KINDS:
            frame[name] = pd.to_numeric(frame[name], errors="coerce")
    return frame


def safe_file_stem(*parts) -> str:
    """A file name stem from parts: letters, digits, '.', '-' and '_' only (joined by '_')."""
    stem = "_".join(str(p) for p in parts if p not in (None, ""))
    return re.sub(r"[^A-Za-z0-9._-]+", "-", stem).strip("-_") or "export"


def export_bytes(which: str, table: pd.DataFrame, meta: dict | None = None, sheet: str = "Table") -> bytes:
    """CSV or Excel bytes of `table`, with `meta` (e.g. window, costs, shared market) as leading columns."""
    from core.journal import table_to_csv_bytes, table_to_excel_bytes

    out = table.copy()
    for i, (k, v) in enumerate((meta or {}).items()):
        out.insert(i, k, v)
    if which == "xlsx":
        return table_to_excel_bytes(out, sheet_name=sheet[:31])
    return table_to_csv_bytes(out)


def export_download(which: str, rows, column_defs, column_state=None, *, meta: dict | None = None,
                    name: str = "export", sheet: str = "Table") -> dict:
    """A dcc.Download payload of what the grid shows (see the module docstring)."""
    from dash import dcc

    which = "xlsx" if which in ("xlsx", "excel") else "csv"
    data = export_bytes(which, shown_table(rows, column_defs, column_state), meta, sheet)
    return dcc.send_bytes(data, f"{safe_file_stem(name)}.{which}")
