"""Market page callbacks: choose data (bundled / typed ticker / uploaded CSV), draw it, download it."""

from __future__ import annotations

import base64
import binascii

import dash_bootstrap_components as dbc
import numpy as np
import pandas as pd
from dash import Input, Output, Patch, State, ctx, html, no_update

from callbacks import error_alert, shared_figures, unexpected_error_alert
from core import service
from layouts import fmt, grid, ids, state
from layouts.components import kpi
from layouts.figures import market_figure

_FIGURES = shared_figures.figure_lru(48, "market-figure")

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


FILE_PREFIX = "file:"
"""Ticker-dropdown values that stand for an uploaded file ("file:prices.csv")."""


def load_choice(choice: dict, upload: dict | None, live: bool) -> service.MarketData:
    """The WHOLE history of what a market choice names: a ticker, or the session's uploaded CSV."""
    if choice.get("kind") == "file":
        if not (isinstance(upload, dict) and upload.get("csv")):
            raise service.SpecError("The uploaded file is no longer in this session; upload it again.")
        return service.load_market_csv(upload["csv"].encode("utf-8"), upload.get("name", "upload.csv"))
    return service.load_market(choice["ticker"], live=live)


def clamp_dates(start, end, first: str, last: str) -> tuple[str | None, str | None, list[str]]:
    """Dates inside the data (inverted ranges swapped), with a note for every change made."""
    notes = []
    start = str(start)[:10] if start else None
    end = str(end)[:10] if end else None
    if start and end and start > end:
        start, end = end, start
        notes.append("start and end were swapped")
    if start and start < first:
        notes.append(f"start moved to the first bar, {first}")
        start = None
    if end and end > last:
        notes.append(f"end moved to the last bar, {last}")
        end = None
    if start and start > last:
        notes.append(f"start {start} is after the last bar; showing from {first}")
        start = None
    if end and end < first:
        notes.append(f"end {end} is before the first bar; showing to {last}")
        end = None
    return start, end, notes


def cut(data: service.MarketData, start, end) -> service.MarketData:
    """The shown window of a full history (indicators stay those of the whole history: causal)."""
    frame = data.frame
    if start:
        frame = frame[frame["date"] >= pd.Timestamp(start)]
    if end:
        frame = frame[frame["date"] <= pd.Timestamp(end)]
    if len(frame) < 2:
        from core.data import DataError

        raise DataError(f"The range {start or 'first bar'} to {end or 'last bar'} holds {len(frame)} bar(s) of "
                        f"{data.provenance.ticker}; pick a wider range.")
    return service.MarketData(frame=frame.reset_index(drop=True), provenance=data.provenance,
                              periods_per_year=data.periods_per_year)


def figure_for(data: service.MarketData, log: bool = False) -> dict:
    title = f"{data.provenance.ticker}  ·  {len(data.frame):,} bars"
    # an uploaded file is one user's data: its figure stays in this process
    fig = _FIGURES.get_or_compute(data.key, lambda: market_figure(data.frame, title=title).to_dict(),
                                  share=data.provenance.source != "file")
    return with_log(fig, log)


def with_log(fig: dict, log: bool) -> dict:
    """The cached figure with the price axis linear or log (a shallow copy: the cache stays untouched)."""
    layout = dict(fig["layout"])
    layout["yaxis"] = {**layout.get("yaxis", {}), "type": "log" if log else "linear"}
    return {**fig, "layout": layout}


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
        kpi("Last close", fmt.price(last), hint=f"{frame['date'].iloc[-1]:%a %d %b %Y}"),
        kpi("1-bar change", fmt.signed_pct(change, 2), "up" if change >= 0 else "down"),
        kpi("Period return", fmt.signed_pct(period), "up" if period >= 0 else "down", hint=span),
        kpi("Annual volatility", fmt.pct(vol), hint=f"{data.periods_per_year} bars a year"),
        kpi("Max drawdown", fmt.pct(mdd), "down"),
        kpi("RSI 14", fmt.fmt(rsi, "number", 1) if np.isfinite(rsi) else "n/a",
            hint="oversold < 30 < neutral < 70 < overbought"),
    ]


MARKET_OUTPUTS = 14


def _options(options, choice: dict) -> list[dict]:
    """Dropdown options: the bundled tickers, any other ticker chosen, and the uploaded file (by name)."""
    out = [o for o in (options or []) if not str(o.get("value", "")).startswith(FILE_PREFIX)]
    if choice.get("kind") == "file":
        out.append({"label": f"📄 {choice.get('name', 'upload.csv')}", "value": FILE_PREFIX + choice.get("name", "")})
    elif choice["ticker"] not in {o["value"] for o in out}:
        out.append({"label": choice["ticker"], "value": choice["ticker"]})
    return out


def _value(choice: dict) -> str:
    return FILE_PREFIX + choice.get("name", "") if choice.get("kind") == "file" else choice["ticker"]


def span_start(span: str | None, last: str) -> str | None:
    """First date of a window preset ("1y", "2y", "5y") ending at `last`; None for the whole history."""
    years = {"1y": 1, "2y": 2, "5y": 5}.get(span or "")
    if not years:
        return None
    return (pd.Timestamp(last) - pd.DateOffset(years=years) + pd.Timedelta(days=1)).strftime("%Y-%m-%d")


def update_market(trigger, query, ticker, custom, upload_contents, upload_name, start, end, log, choice_store,
                  upload_store, battle_spec, options, settings, span=None) -> tuple:
    """All outputs of the page for one user action. On bad input: an alert, and the previous view stays;
    on arrival (restore) a bad URL value falls back to the default with a message (never an endless
    "Loading").

    Returns (figure, badge, alert, kpis, market choice (session), dropdown options, dropdown value,
    first date, last date, start shown, end shown, upload (session), date note, window preset).
    """
    from core.data import normalise_ticker

    keep = [no_update] * MARKET_OUTPUTS
    previous = choice_store if isinstance(choice_store, dict) else state.default_market()
    upload_out = no_update
    message = None
    log = bool(log)
    if trigger == ids.MKT_LOG:  # only the axis type changes: a small patch, not the whole figure again
        patch = Patch()
        patch["layout"]["yaxis"]["type"] = "log" if log else "linear"
        keep[0] = patch
        keep[4] = state.stamp({**previous, "log": log}) if previous.get("log") != log else no_update
        return tuple(keep)
    try:
        if trigger == ids.MKT_UPLOAD and upload_contents:
            raw = decode_upload(upload_contents, upload_name, settings.max_upload_mb)
            upload = {"name": upload_name or "upload.csv", "csv": raw.decode("utf-8", errors="replace")}
            full = service.load_market_csv(raw, upload["name"])
            choice = {"kind": "file", "name": upload["name"], "ticker": full.provenance.ticker,
                      "start": None, "end": None, "log": log, "span": "all"}
            upload_out = upload
        elif trigger in (ids.MKT_CUSTOM_GO, ids.MKT_CUSTOM) and custom:
            choice = {**previous, "kind": "ticker", "ticker": normalise_ticker(custom), "log": log}
            full = load_choice(choice, upload_store, settings.live_data)
        elif trigger == ids.MKT_TICKER and ticker:
            if str(ticker).startswith(FILE_PREFIX):
                choice = {**previous, "kind": "file", "name": str(ticker)[len(FILE_PREFIX):], "log": log}
            else:
                choice = {**previous, "kind": "ticker", "ticker": normalise_ticker(ticker), "log": log}
            full = load_choice(choice, upload_store, settings.live_data)
        elif trigger == ids.MKT_DATES:
            choice = {**previous, "start": start, "end": end, "log": log, "span": None if (start or end) else "all"}
            full = load_choice(choice, upload_store, settings.live_data)
        elif trigger == ids.MKT_SPAN:
            choice = {**previous, "start": None, "end": None, "log": log, "span": span or state.DEFAULT_SPAN}
            full = load_choice(choice, upload_store, settings.live_data)
        else:  # arrival: URL first, then the session, then the default (layouts/state.py)
            choice, message = state.market_from_query_and_session(query, choice_store, battle_spec, upload_store)
            try:
                full = load_choice(choice, upload_store, settings.live_data)
            except Exception as exc:  # noqa: BLE001 - a bad bookmark must still show a chart
                shown = choice.get("name") if choice.get("kind") == "file" else choice.get("ticker")
                reason = str(exc) if isinstance(exc, ValueError) else "it could not be loaded"
                message = " ".join(filter(None, [message, f"{shown}: {reason} Showing {state.DEFAULT_TICKER}."]))
                choice = {**state.default_market(), "log": choice.get("log", False)}
                full = load_choice(choice, None, settings.live_data)
            log = bool(choice.get("log"))
        first = f"{full.frame['date'].iloc[0]:%Y-%m-%d}"
        last = f"{full.frame['date'].iloc[-1]:%Y-%m-%d}"
        shown_start, shown_end, notes = clamp_dates(choice.get("start"), choice.get("end"), first, last)
        shown_start = None if shown_start == first else shown_start  # None: from the first bar
        shown_end = None if shown_end == last else shown_end
        span = None if (shown_start or shown_end) else (choice.get("span") or "all")
        data = cut(full, span_start(span, last) if span else shown_start, shown_end)
    except Exception as exc:  # noqa: BLE001 - bad input or bug: an alert, never a trace
        alert = error_alert(str(exc)) if isinstance(exc, ValueError) else unexpected_error_alert(exc, "loading market data")
        keep[2] = alert
        return tuple(keep)

    choice = {**choice, "start": shown_start, "end": shown_end, "log": log, "span": span}
    if choice.get("kind") == "ticker":
        choice.pop("name", None)
    same_ticker = (previous.get("kind") == choice.get("kind") and previous.get("ticker") == choice.get("ticker")
                   and previous.get("name") == choice.get("name"))
    stamp_needed = trigger is not None and not same_ticker
    choice_out = state.stamp(choice) if stamp_needed else {**choice, "updated": previous.get("updated", 0)}
    alerts = []
    if message:
        alerts.append(error_alert(message, color="warning"))
    prov = data.provenance
    if prov.source == "cache":  # stale data: say so loudly, not only in the badge
        alerts.append(error_alert(f"{prov.label}. {prov.note}".strip(". ") + ".", color="warning"))
    note = ("Dates adjusted: " + "; ".join(notes) + ".") if notes else None
    return (figure_for(data, log), source_badge(prov), alerts or None, kpi_cards(data), choice_out,
            _options(options, choice), _value(choice), first, last,
            f"{data.frame['date'].iloc[0]:%Y-%m-%d}", f"{data.frame['date'].iloc[-1]:%Y-%m-%d}", upload_out, note,
            span)


MARKET_COLUMNS = [
    grid.col("date", "Date"), grid.col("open", "Open", "price"), grid.col("high", "High", "price"),
    grid.col("low", "Low", "price"), grid.col("close", "Close", "price"), grid.col("volume", "Volume", "count"),
    grid.col("sma20", "SMA 20", "price"), grid.col("rsi", "RSI 14", "number", digits=1),
    grid.col("macd", "MACD", "number", digits=4), grid.col("macd_signal", "Signal", "number", digits=4),
    grid.col("macd_hist", "MACD hist", "number", digits=4),
]
"""The columns of the market export: the chart's series, with the chart's names."""


def export_market(which: str, choice: dict | None, upload: dict | None, settings):
    """The data shown (OHLCV + the chart's indicators, the chart's window) as CSV or Excel, neutralised."""
    if not choice:
        return no_update
    full = load_choice(choice, upload, settings.live_data)
    last = f"{full.frame['date'].iloc[-1]:%Y-%m-%d}"
    span = None if (choice.get("start") or choice.get("end")) else choice.get("span")
    data = cut(full, span_start(span, last) if span else choice.get("start"), choice.get("end"))
    table = data.frame.copy()
    table["date"] = table["date"].dt.strftime("%Y-%m-%d")
    rows = table.to_dict("records")
    first, last = table["date"].iloc[0], table["date"].iloc[-1]
    prov = data.provenance
    meta = {"ticker": prov.ticker, "source": prov.source, "window": f"{first}..{last}"}
    name = grid.safe_file_stem("market", prov.ticker, first.replace("-", ""), last.replace("-", ""))
    kind = "xlsx" if which in (ids.MKT_XLSX, "xlsx") else "csv"
    return grid.export_download(kind, rows, MARKET_COLUMNS, meta=meta, name=name, sheet="Market")


def register(app, settings) -> None:
    @app.callback(
        Output(ids.MKT_CHART, "figure"),
        Output(ids.MKT_SOURCE, "children"),
        Output(ids.MKT_ALERT, "children"),
        Output(ids.MKT_KPIS, "children"),
        Output(ids.MARKET_CHOICE, "data"),
        Output(ids.MKT_TICKER, "options"),
        Output(ids.MKT_TICKER, "value"),
        Output(ids.MKT_DATES, "min_date_allowed"),
        Output(ids.MKT_DATES, "max_date_allowed"),
        Output(ids.MKT_DATES, "start_date"),
        Output(ids.MKT_DATES, "end_date"),
        Output(ids.UPLOAD_STORE, "data"),
        Output(ids.MKT_NOTE, "children"),
        Output(ids.MKT_SPAN, "value"),
        Output(ids.MKT_LOG, "value"),
        Input(ids.MKT_QUERY, "data"),
        Input(ids.MKT_TICKER, "value"),
        Input(ids.MKT_CUSTOM_GO, "n_clicks"),
        Input(ids.MKT_CUSTOM, "n_submit"),
        Input(ids.MKT_UPLOAD, "contents"),
        Input(ids.MKT_DATES, "start_date"),
        Input(ids.MKT_DATES, "end_date"),
        Input(ids.MKT_LOG, "value"),
        Input(ids.MKT_SPAN, "value"),
        State(ids.MKT_CUSTOM, "value"),
        State(ids.MKT_UPLOAD, "filename"),
        State(ids.MARKET_CHOICE, "data"),
        State(ids.UPLOAD_STORE, "data"),
        State(ids.BATTLE_SPEC, "data"),
        State(ids.MKT_TICKER, "options"),
    )
    def _update(query, ticker, _go, _submit, contents, start, end, log, span, custom, filename, choice, upload,
                battle_spec, options):
        # On arrival Dash reports every input of the new page as triggered: that is the restore, not a click.
        trigger = ctx.triggered_id if len(ctx.triggered_prop_ids) == 1 else None
        out = update_market(trigger, query, ticker, custom, contents, filename, start, end, log, choice,
                            upload, battle_spec, options, settings, span)
        new_log = out[4]["log"] if isinstance(out[4], dict) and trigger != ids.MKT_LOG else no_update
        return (*out, new_log)

    @app.callback(
        Output(ids.MKT_DOWNLOAD, "data"),
        Input(ids.MKT_CSV, "n_clicks"),
        Input(ids.MKT_XLSX, "n_clicks"),
        State(ids.MARKET_CHOICE, "data"),
        State(ids.UPLOAD_STORE, "data"),
        prevent_initial_call=True,
    )
    def _download(_csv, _xlsx, choice, upload):
        try:
            return export_market(ctx.triggered_id, choice, upload, settings)
        except Exception as exc:  # noqa: BLE001 - logged with a reference, nothing shown raw
            unexpected_error_alert(exc, "preparing the download")
            return no_update
