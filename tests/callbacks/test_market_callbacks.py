"""The market page's callback functions, called directly (no browser)."""

from __future__ import annotations

import base64
import io

import pandas as pd
import pytest
from dash import no_update

from app.settings import Settings
from callbacks import market
from layouts import ids

OFFLINE = Settings(live_data=False)
OPTIONS = [{"label": t, "value": t} for t in ("AAPL", "TSLA", "BTC-USD")]


def _upload(text: str) -> str:
    return "data:text/csv;base64," + base64.b64encode(text.encode()).decode()


def _run(trigger, ticker="AAPL", custom=None, contents=None, name=None, start=None, end=None, state=None):
    """The first seven outputs (the date-picker bounds are checked in their own test)."""
    out = market.update_market(trigger, ticker, custom, contents, name, start, end, state, OPTIONS, OFFLINE)
    assert len(out) == 9
    return out[:7]


def test_date_picker_is_bounded_by_the_data():
    out = market.update_market(None, "BTC-USD", None, None, None, None, None, None, OPTIONS, OFFLINE)
    assert out[7:] == ("2014-09-18", "2025-11-29")
    failed = market.update_market(ids.MKT_CUSTOM_GO, "AAPL", "ZZZZ", None, None, None, None, None, OPTIONS, OFFLINE)
    assert failed[7] is no_update and failed[8] is no_update


def _alert_text(alert) -> str:
    return str(alert.children)


def test_bundled_ticker_draws_candles_with_indicators_and_badge():
    fig, badge, alert, kpis, state, options, value = _run(None, "TSLA")
    assert alert is None
    assert fig["data"][0]["type"] == "candlestick"
    names = {trace.get("name") for trace in fig["data"]}
    assert {"SMA 20", "RSI 14", "MACD", "Signal"} <= names
    assert state == {"kind": "ticker", "ticker": "TSLA"}
    assert "bundled snapshot, as of 2026-10-06" in str(badge.children)
    assert len(kpis) == 6
    assert value is no_update  # the dropdown already shows TSLA


def test_date_range_filters_the_bars():
    fig, *_ = _run(ids.MKT_DATES, "AAPL", start="2024-01-01", end="2024-12-31", state={"kind": "ticker", "ticker": "AAPL"})
    x = fig["data"][0]["x"]
    assert x[0] >= "2024-01-01" and x[-1] <= "2024-12-31"
    assert 240 <= len(x) <= 260  # one US trading year


def test_unknown_ticker_offline_says_what_is_available_and_keeps_the_chart():
    fig, badge, alert, kpis, state, options, value = _run(ids.MKT_CUSTOM_GO, custom="zzzz")
    assert fig is no_update and state is no_update and kpis is no_update
    text = _alert_text(alert)
    assert "ZZZZ" in text and "AAPL, TSLA, BTC-USD" in text


def test_invalid_ticker_text_is_refused_clearly():
    *_, = result = _run(ids.MKT_CUSTOM_GO, custom="../etc/passwd")
    assert result[0] is no_update
    assert "ticker" in _alert_text(result[2]).lower()


def test_csv_without_close_column_names_it_and_keeps_the_chart():
    text = "date,open,high,low,volume\n" + "\n".join(
        f"2024-01-{d:02d},1,2,0.5,100" for d in range(1, 28)
    )
    fig, badge, alert, kpis, state, options, value = _run(ids.MKT_UPLOAD, contents=_upload(text), name="bad.csv")
    assert fig is no_update and state is no_update
    assert "close" in _alert_text(alert)


def test_valid_csv_upload_is_drawn_and_labelled_as_a_file():
    frame = pd.read_csv("data/AAPL.csv").tail(300)
    buf = io.StringIO()
    frame.to_csv(buf, index=False)
    fig, badge, alert, kpis, state, options, value = _run(ids.MKT_UPLOAD, contents=_upload(buf.getvalue()), name="mine.csv")
    assert alert is None
    assert len(fig["data"][0]["x"]) == 300
    assert state["kind"] == "file" and state["name"] == "mine.csv"
    assert "FILE" in str(badge.children)


def test_oversized_and_binary_uploads_are_refused_with_a_size_or_type_message():
    big = "data:text/csv;base64," + base64.b64encode(b"a" * (6 * 1024 * 1024)).decode()
    result = _run(ids.MKT_UPLOAD, contents=big, name="big.csv")
    assert "limited to 5 MB" in _alert_text(result[2])
    binary = "data:application/octet-stream;base64," + base64.b64encode(b"\x00\x01\x02" * 100).decode()
    result = _run(ids.MKT_UPLOAD, contents=binary, name="x.bin")
    assert "binary" in _alert_text(result[2])


@pytest.mark.parametrize("which, suffix", [(ids.MKT_CSV, ".csv"), (ids.MKT_XLSX, ".xlsx")])
def test_download_gives_the_shown_rows(which, suffix):
    state = {"kind": "ticker", "ticker": "AAPL"}
    payload = market.export_market(which, state, "2025-01-01", "2025-03-31", OFFLINE)
    assert payload["filename"].endswith(suffix)
    raw = base64.b64decode(payload["content"])
    table = pd.read_csv(io.BytesIO(raw)) if suffix == ".csv" else pd.read_excel(io.BytesIO(raw))
    assert list(table.columns[:6]) == ["date", "open", "high", "low", "close", "volume"]
    assert table["date"].iloc[0] >= "2025-01-01" and table["date"].iloc[-1] <= "2025-03-31"
    assert pd.api.types.is_float_dtype(table["close"])
