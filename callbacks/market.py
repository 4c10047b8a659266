"""Market page callbacks: choose data (bundled / typed ticker / uploaded CSV), draw it, download it."""

from __future__ import annotations

import base64
import binascii

import dash_bootstrap_components as dbc
import numpy as np
from dash import Input, Output, State, ctx, dcc, html, no_update

from callbacks import error_alert, failed, unexpected_error_alert
from core import service
from layouts import ids
from layouts.components import kpi
from layouts.figures import market_figure

_FIGURES = service.LRU(maxsize=48)

SOURCE_COLOURS = {"live": "success", "cache": "warning", "bundled": "info", "file": "secondary"}


def decode_upload(contents: str, filename: str | None, max_mb: int) -> bytes:
    """dcc.Upload's data URL -> bytes, refusing oversized or non-text files with a readable message."""
    from core.data import DataError

    try:
        _header, b64 = contents.split(",", 1)
        raw = base64.b64decode(b64, validate=True)
    except (ValueError, binascii.Error):
        raise DataError(f"{filename or 'The file'} could not be read as an upload; try again.") from None
    if len(raw) > max_mb * 1024 * 1024:
        raise DataError(f"{filename or 'The file'} is {len(raw) / 1e6:.1f} MB; uploads are limited to {max_mb} MB.")
    if b"\x00" in raw[:4096]:
        raise DataError(f"{filename or 'The file'} looks binary; upload a CSV text file with "
                        "date, open, high, low, close, volume columns.")
    return raw


def load_from_state(state: dict, start, end, live: bool) -> service.MarketData:
    if state.get("kind") == "file":
        content = state["csv"].encode("utf-8")
        return service.load_market_csv(content, state.get("name", "upload.csv"), start, end)
    return service.load_market(state["ticker"], start, end, live=live)


def figure_for(data: service.MarketData) -> dict:
    title = f"{data.provenance.ticker}  ·  {len(data.frame):,} bars"
    return _FIGURES.get_or_compute(data.key, lambda: market_figure(data.frame, title=title).to_dict())


def source_badge(provenance) -> html.Span:
    colour = SOURCE_COLOURS.get(provenance.source, "secondary")
    return html.Span(
        [dbc.Badge(provenance.source.upper(), color=colour, className="me-2"),
         html.Span(provenance.label, className="source-label")],
        title=f"{provenance.rows:,} rows, {provenance.start} to {provenance.end}; sha256 {provenance.sha256}"
              + (f"; {provenance.note}" if provenance.note else ""),
    )


def kpi_cards(data: service.MarketData) -> list:
    frame = data.frame
    s = data.summary()
    last, change, period, vol, mdd, rsi = (s["last_close"], s["change"], s["period_return"], s["volatility"],
                                           s["max_drawdown"], s["rsi"])
    span = f"{frame['date'].iloc[0]:%Y-%m-%d} → {frame['date'].iloc[-1]:%Y-%m-%d}"
    return [
        kpi("Last close", f"{last:,.2f}", hint=f"{frame['date'].iloc[-1]:%a %d %b %Y}"),
        kpi("1-bar change", f"{change:+.2%}", "up" if change >= 0 else "down"),
        kpi("Period return", f"{period:+.1%}", "up" if period >= 0 else "down", hint=span),
        kpi("Annual volatility", f"{vol:.1%}", hint=f"{data.periods_per_year} bars a year"),
        kpi("Max drawdown", f"{mdd:.1%}", "down"),
        kpi("RSI 14", f"{rsi:.1f}" if np.isfinite(rsi) else "n/a",
            hint="oversold < 30 < neutral < 70 < overbought"),
    ]


def update_market(trigger, ticker, custom, upload_contents, upload_name, start, end, state, options,
                  settings) -> tuple:
    """All outputs of the page for one user action. On bad input: an alert, and the previous view stays.

    Returns (figure, badge, alert, kpis, state, dropdown options, dropdown value, first date, last date);
    the two dates bound the date-range picker to the data's own range.
    """
    from core.data import normalise_ticker

    try:
        if trigger == ids.MKT_UPLOAD and upload_contents:
            raw = decode_upload(upload_contents, upload_name, settings.max_upload_mb)
            data = service.load_market_csv(raw, upload_name or "upload.csv", start, end)
            new_state = {"kind": "file", "name": upload_name or "upload.csv",
                         "csv": raw.decode("utf-8", errors="replace")}
        elif trigger in (ids.MKT_CUSTOM_GO, ids.MKT_CUSTOM) and custom:
            symbol = normalise_ticker(custom)
            data = service.load_market(symbol, start, end, live=settings.live_data)
            new_state = {"kind": "ticker", "ticker": symbol}
        elif trigger == ids.MKT_DATES and state:
            data = load_from_state(state, start, end, settings.live_data)
            new_state = state
        else:
            symbol = normalise_ticker(ticker or "AAPL")
            data = service.load_market(symbol, start, end, live=settings.live_data)
            new_state = {"kind": "ticker", "ticker": symbol}
    except Exception as exc:  # noqa: BLE001 - bad input or bug: an alert, never a trace
        return failed(exc, 9, 2, "loading market data")

    options = list(options or [])
    value = no_update
    if new_state["kind"] == "ticker":
        symbol = new_state["ticker"]
        if symbol not in {o["value"] for o in options}:
            options.append({"label": symbol, "value": symbol})
        value = symbol if symbol != ticker else no_update
    alert = None
    if data.provenance.source == "cache":  # stale data: say so loudly, not only in the badge
        alert = error_alert(f"{data.provenance.label}. {data.provenance.note}".strip(". ") + ".", color="warning")
    prov = data.provenance
    return (figure_for(data), source_badge(prov), alert, kpi_cards(data), new_state, options, value,
            prov.start.isoformat(), prov.end.isoformat())


def export_market(which: str, state: dict | None, start, end, settings):
    """The data shown (OHLCV + indicators) as a CSV or Excel download, neutralised against injection."""
    from core.journal import table_to_csv_bytes, table_to_excel_bytes

    if not state:
        return no_update
    data = load_from_state(state, start, end, settings.live_data)
    table = data.frame.copy()
    table["date"] = table["date"].dt.strftime("%Y-%m-%d")
    name = f"{data.provenance.ticker}_{table['date'].iloc[0]}_{table['date'].iloc[-1]}"
    if which == ids.MKT_XLSX:
        return dcc.send_bytes(table_to_excel_bytes(table, sheet_name="Market"), f"{name}.xlsx")
    return dcc.send_bytes(table_to_csv_bytes(table), f"{name}.csv")


def register(app, settings) -> None:
    @app.callback(
        Output(ids.MKT_CHART, "figure"),
        Output(ids.MKT_SOURCE, "children"),
        Output(ids.MKT_ALERT, "children"),
        Output(ids.MKT_KPIS, "children"),
        Output(ids.MKT_STATE, "data"),
        Output(ids.MKT_TICKER, "options"),
        Output(ids.MKT_TICKER, "value"),
        Output(ids.MKT_DATES, "min_date_allowed"),
        Output(ids.MKT_DATES, "max_date_allowed"),
        Input(ids.MKT_TICKER, "value"),
        Input(ids.MKT_CUSTOM_GO, "n_clicks"),
        Input(ids.MKT_CUSTOM, "n_submit"),
        Input(ids.MKT_UPLOAD, "contents"),
        Input(ids.MKT_DATES, "start_date"),
        Input(ids.MKT_DATES, "end_date"),
        State(ids.MKT_CUSTOM, "value"),
        State(ids.MKT_UPLOAD, "filename"),
        State(ids.MKT_STATE, "data"),
        State(ids.MKT_TICKER, "options"),
    )
    def _update(ticker, _go, _submit, contents, start, end, custom, filename, state, options):
        return update_market(ctx.triggered_id, ticker, custom, contents, filename, start, end, state, options,
                             settings)

    @app.callback(
        Output(ids.MKT_DOWNLOAD, "data"),
        Input(ids.MKT_CSV, "n_clicks"),
        Input(ids.MKT_XLSX, "n_clicks"),
        State(ids.MKT_STATE, "data"),
        State(ids.MKT_DATES, "start_date"),
        State(ids.MKT_DATES, "end_date"),
        prevent_initial_call=True,
    )
    def _download(_csv, _xlsx, state, start, end):
        try:
            return export_market(ctx.triggered_id, state, start, end, settings)
        except Exception as exc:  # noqa: BLE001 - logged with a reference, nothing shown raw
            unexpected_error_alert(exc, "preparing the download")
            return no_update

