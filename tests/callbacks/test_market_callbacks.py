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


def _full(trigger, ticker="AAPL", custom=None, contents=None, name=None, start=None, end=None, state=None,
          query=None, upload=None, log=False, battle=None):
    out = market.update_market(trigger, query or {}, ticker, custom, contents, name, start, end, log, state, upload,
                               battle, OPTIONS, OFFLINE)
    assert len(out) == market.MARKET_OUTPUTS
    return out


def _run(trigger, ticker="AAPL", custom=None, contents=None, name=None, start=None, end=None, state=None):
    """The first seven outputs (the date-picker bounds are checked in their own test)."""
    if trigger is None and ticker != "AAPL":  # arrival: what a URL names
        return _full(None, query={"ticker": ticker})[:7]
    return _full(trigger, ticker, custom, contents, name, start, end, state)[:7]


def test_date_picker_is_bounded_by_the_data():
    out = _full(None, query={"ticker": "BTC-USD", "span": "all"})
    assert out[7:9] == ("2014-09-18", "2025-11-29")
    assert out[9:11] == ("2014-09-18", "2025-11-29")  # the inputs say what the chart shows
    default = _full(None, query={"ticker": "BTC-USD"})  # the last two years by default
    assert default[9:11] == ("2023-11-30", "2025-11-29") and default[13] == "2y"
    assert len(default[0]["data"][0]["x"]) == 731
    failed = _full(ids.MKT_CUSTOM_GO, custom="ZZZZ")
    assert failed[7] is no_update and failed[8] is no_update


def _alert_text(alert) -> str:
    return str(alert.children)


def test_bundled_ticker_draws_candles_with_indicators_and_badge():
    fig, badge, alert, kpis, state, options, value = _run(None, "TSLA")
    assert alert is None
    assert fig["data"][0]["type"] == "candlestick"
    names = {trace.get("name") for trace in fig["data"]}
    assert {"SMA 20", "RSI 14", "MACD", "Signal"} <= names
    assert state["kind"] == "ticker" and state["ticker"] == "TSLA"
    assert "bundled snapshot, as of 2026-10-06" in str(badge.children)
    assert len(kpis) == 6
    assert value == "TSLA"


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
    state = {"kind": "ticker", "ticker": "AAPL", "start": "2025-01-01", "end": "2025-03-31"}
    payload = market.export_market(which, state, None, OFFLINE)
    assert payload["filename"].endswith(suffix)
    raw = base64.b64decode(payload["content"])
    table = pd.read_csv(io.BytesIO(raw)) if suffix == ".csv" else pd.read_excel(io.BytesIO(raw))
    assert list(table.columns[:9]) == ["ticker", "source", "window", "Date", "Open", "High", "Low", "Close",
                                       "Volume"]
    assert table["Date"].iloc[0] >= "2025-01-01" and table["Date"].iloc[-1] <= "2025-03-31"
    assert pd.api.types.is_float_dtype(table["Close"])
    assert "20250102" in payload["filename"] and "20250331" in payload["filename"]


def test_inverted_and_out_of_range_dates_are_fixed_and_said():
    out = _full(ids.MKT_DATES, start="2030-01-01", end="2024-01-01", state={"kind": "ticker", "ticker": "AAPL"})
    # inverted -> swapped; the end beyond the data -> the last bar; the inputs show what the chart shows
    assert out[9] == "2024-01-02" and out[10] == "2026-09-25"
    assert "swapped" in out[12] and "last bar" in out[12]
    assert out[0]["data"][0]["x"][0] == "2024-01-02"


def test_log_scale_is_a_small_patch_and_persists_in_the_session():
    out = _full(ids.MKT_LOG, log=True, state={"kind": "ticker", "ticker": "AAPL", "log": False})
    assert out[1] is no_update and out[4]["log"] is True
    assert "log" in str(out[0].to_plotly_json())
    arrival = _full(None, state={"kind": "ticker", "ticker": "AAPL", "log": True})
    assert arrival[0]["layout"]["yaxis"]["type"] == "log"


def test_bookmark_with_unknown_ticker_shows_the_default_with_a_message():
    out = _full(None, query={"ticker": "ZZZZ"})
    assert out[0]["data"][0]["type"] == "candlestick"  # a chart, never an endless "Loading"
    assert "ZZZZ" in str(out[2]) and "Showing AAPL" in str(out[2])
    assert out[4]["ticker"] == "AAPL"


def test_upload_names_the_file_in_the_ticker_box_and_stays_for_the_session():
    frame = pd.read_csv("data/AAPL.csv").tail(120)
    text = frame.to_csv(index=False)
    out = _full(ids.MKT_UPLOAD, contents=_upload(text), name="mine.csv")
    assert out[6] == "file:mine.csv" and any("mine.csv" in o["label"] for o in out[5])
    choice, upload = out[4], out[11]
    assert upload["name"] == "mine.csv" and choice["kind"] == "file"
    back = _full(None, state=choice, upload=upload)  # another page, then back: the upload is still shown
    assert len(back[0]["data"][0]["x"]) == 120 and back[6] == "file:mine.csv"


def test_rangebreaks_hide_weekends_for_stocks_not_for_crypto():
    stock = _full(None, query={"ticker": "AAPL"})[0]["layout"]["xaxis"]
    crypto = _full(None, query={"ticker": "BTC-USD"})[0]["layout"]["xaxis"]
    assert stock["rangebreaks"][0]["bounds"] == ["sat", "mon"]
    assert not crypto.get("rangebreaks")


def test_range_slider_previews_the_price():
    fig = _full(None)[0]
    slider_axes = [k for k, v in fig["layout"].items() if k.startswith("xaxis") and v.get("rangeslider", {}).get("visible")]
    assert len(slider_axes) == 1
    axis = "x" + slider_axes[0][5:]
    traces = [t for t in fig["data"] if t.get("xaxis") == axis]
    assert [t["name"] for t in traces] == ["Close (range slider)"]
