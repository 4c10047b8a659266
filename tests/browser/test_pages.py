"""Every page renders with no SEVERE console error; the market page draws candles; bad CSV -> message."""

from __future__ import annotations

import pytest
from dash.testing.wait import until

from tests.browser.conftest import severe_logs

PATHS = ["/", "/market", "/arena", "/replay", "/risk", "/forecast", "/journal", "/no-such-page"]


def _chart_js(expr: str) -> str:
    return f"var g = document.querySelector('#mkt-chart .js-plotly-plot'); return g && g.data ? {expr} : null;"


def _wait_chart(dash_duo, expr: str, expected, timeout: float = 20):
    """Plotly draws asynchronously after the callback's outputs land: poll until the chart shows it."""
    until(lambda: dash_duo.driver.execute_script(_chart_js(expr)) == expected, timeout)


@pytest.mark.parametrize("path", PATHS)
def test_every_page_renders_without_console_errors(dash_duo, neon_app, path):
    dash_duo.start_server(neon_app)
    dash_duo.wait_for_page(url=f"{dash_duo.server_url}{path}")
    dash_duo.wait_for_element(".page-title", timeout=10)
    dash_duo.wait_for_element(".neon-navbar", timeout=4)
    # let the page's initial callbacks finish before reading the console
    dash_duo.wait_for_no_elements("._dash-loading", timeout=15)
    logs = severe_logs(dash_duo)
    if path == "/no-such-page":  # served with status 404 (app/hardening.py), drawn as the app's own page
        assert "There is no page at this address" in dash_duo.find_element(".page-body").text
        logs = [e for e in logs if not e["message"].startswith(f"{dash_duo.server_url}{path} - Failed to load "
                                                              "resource: the server responded with a status of 404")]
    assert logs == []


@pytest.mark.parametrize("ticker, rows", [("AAPL", 3956), ("TSLA", 4093), ("BTC-USD", 4091)])
def test_market_draws_candles_for_each_bundled_ticker(dash_duo, neon_app, ticker, rows):
    dash_duo.start_server(neon_app)
    dash_duo.wait_for_page(url=f"{dash_duo.server_url}/market?ticker={ticker}&span=all")
    dash_duo.wait_for_text_to_equal(".source-badge .badge", "BUNDLED", timeout=20)
    _wait_chart(dash_duo, "g.data[0].type", "candlestick")
    assert dash_duo.driver.execute_script(_chart_js("g.data[0].x.length")) == rows
    assert dash_duo.driver.execute_script(_chart_js("g.layout.meta.title")).startswith(ticker)
    assert dash_duo.find_element("svg .cartesianlayer .trace.boxes") is not None  # candles were drawn
    assert severe_logs(dash_duo) == []


def test_malformed_csv_upload_shows_a_message_and_keeps_the_chart(dash_duo, neon_app, tmp_path):
    bad = tmp_path / "no_close.csv"
    bad.write_text("date,open,high,low,volume\n2024-01-02,1,2,0.5,100\n2024-01-03,1,2,0.5,100\n")
    dash_duo.start_server(neon_app)
    dash_duo.wait_for_page(url=f"{dash_duo.server_url}/market?span=all")
    dash_duo.wait_for_text_to_equal(".source-badge .badge", "BUNDLED", timeout=20)
    _wait_chart(dash_duo, "g.data[0].x.length", 3956)
    dash_duo.find_element("#mkt-upload input[type=file]").send_keys(str(bad))
    dash_duo.wait_for_contains_text("#mkt-alert", "close", timeout=15)
    assert "missing" in dash_duo.find_element("#mkt-alert").text.lower()
    assert dash_duo.driver.execute_script(_chart_js("g.data[0].x.length")) == 3956  # previous chart stays
    assert severe_logs(dash_duo) == []
