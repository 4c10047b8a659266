"""Browser: state follows the user (URL + session), grids show their colours and export what they show,
the replay delivers its top speed, and the Python and browser number formatters agree."""

from __future__ import annotations

import time
from pathlib import Path

import pandas as pd
import pytest
from dash.testing.wait import until
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from layouts import fmt
from tests.browser.conftest import severe_logs, wait_for_file

MODELS = Path(__file__).resolve().parents[2] / "models"
pytestmark = pytest.mark.skipif(not (MODELS / "AAPL").is_dir() or not (MODELS / "TSLA").is_dir(),
                                reason="shipped AAPL/TSLA models not present")
GREEN, RED = "rgb(0, 255, 156)", "rgb(255, 56, 96)"


def _js(dash_duo, script):
    return dash_duo.driver.execute_script(script)


def _nav(dash_duo, page: str):
    dash_duo.find_element(f"#nav-link-{page}").click()


def _tag(dash_duo, selector: str, *fragments, timeout: float = 30):
    for fragment in fragments:
        dash_duo.wait_for_contains_text(selector, fragment, timeout=timeout)


def _select(dash_duo, selector: str, label: str):
    """Pick a dcc.Dropdown option by its label (scrolled into view first: long menus scroll)."""
    dash_duo.find_element(selector).click()
    option = dash_duo.driver.find_element(
        By.XPATH, f"//*[contains(@class, 'dash-dropdown-option')][normalize-space(.)='{label}']")
    dash_duo.driver.execute_script("arguments[0].scrollIntoView({block: 'nearest'})", option)
    option.click()


def _poll(condition, describe, timeout: float = 5):
    end = time.time() + timeout
    while time.time() < end:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(describe())


def _grid_rows(dash_duo, grid_id: str) -> list[dict]:
    return _js(dash_duo, f"var api = dash_ag_grid.getApi('{grid_id}'); var out = [];"
                         "api.forEachNodeAfterFilterAndSort(function (n) { out.push(n.data); }); return out;")


def test_arena_round_trip_keeps_the_battle(dash_duo, neon_app):
    """Set TSLA, in-sample, 20 bps; Replay and Journal follow; ARENA in the navbar brings it back."""
    dash_duo.start_server(neon_app)
    dash_duo.wait_for_page(url=f"{dash_duo.server_url}/arena")
    _tag(dash_duo, "#arn-sample-tag", "OUT-OF-SAMPLE", "AAPL")
    dash_duo.select_dcc_dropdown("#arn-ticker", value="TSLA")
    _tag(dash_duo, "#arn-sample-tag", "TSLA")
    dash_duo.driver.find_element(By.XPATH, "//label[contains(., 'In-sample (training)')]").click()
    _tag(dash_duo, "#arn-sample-tag", "IN-SAMPLE")
    box = dash_duo.find_element("#arn-commission")
    box.send_keys(Keys.CONTROL, "a")
    box.send_keys("20", Keys.ENTER)
    _tag(dash_duo, "#arn-sample-tag", "costs 20 + 5 bps")
    until(lambda: "commission=20" in dash_duo.driver.current_url, 10)
    url = dash_duo.driver.current_url
    assert "ticker=TSLA" in url and "window=in-sample" in url  # bookmarkable

    _nav(dash_duo, "replay")
    _tag(dash_duo, "#rpl-header", "IN-SAMPLE", "TSLA", "costs 20 + 5 bps")
    _nav(dash_duo, "journal")
    _tag(dash_duo, "#jrn-header", "IN-SAMPLE", "TSLA", "costs 20 + 5 bps")
    _nav(dash_duo, "arena")
    _tag(dash_duo, "#arn-sample-tag", "IN-SAMPLE", "TSLA", "costs 20 + 5 bps")
    assert dash_duo.find_element("#arn-commission").get_attribute("value") == "20"
    assert "TSLA" in dash_duo.find_element("#arn-ticker").text
    _nav(dash_duo, "market")  # Market and Arena share the ticker
    dash_duo.wait_for_contains_text("#mkt-ticker", "TSLA", timeout=20)
    assert severe_logs(dash_duo) == []


def test_a_bookmarked_url_restores_the_battle_and_bad_values_say_so(dash_duo, neon_app):
    dash_duo.start_server(neon_app)
    dash_duo.wait_for_page(url=f"{dash_duo.server_url}/replay?ticker=TSLA&window=in-sample&commission=20&shared=1")
    _tag(dash_duo, "#rpl-header", "IN-SAMPLE", "TSLA", "costs 20 + 5 bps", "shared market")
    _nav(dash_duo, "arena")  # the bookmark reached the session: the next page keeps it
    _tag(dash_duo, "#arn-sample-tag", "IN-SAMPLE", "TSLA", "costs 20 + 5 bps", "shared market")

    dash_duo.wait_for_page(url=f"{dash_duo.server_url}/arena?ticker=ZZZZ")
    _tag(dash_duo, "#arn-note", "ZZZZ", "showing AAPL")
    _tag(dash_duo, "#arn-sample-tag", "AAPL")
    dash_duo.wait_for_page(url=f"{dash_duo.server_url}/market?ticker=ZZZZ")
    _tag(dash_duo, "#mkt-alert", "ZZZZ", "Showing AAPL")
    until(lambda: _js(dash_duo, "var g = document.querySelector('#mkt-chart .js-plotly-plot');"
                                "return g && g.data && g.data[0].type") == "candlestick", 20)
    assert severe_logs(dash_duo) == []


def test_leaderboard_colours_are_visible_and_headers_explain_themselves(dash_duo, neon_app):
    dash_duo.driver.set_window_size(1600, 1000)
    dash_duo.start_server(neon_app)
    # TSLA out-of-sample at 10 + 0 bps: some contestants beat buy-and-hold, most do not
    dash_duo.wait_for_page(url=f"{dash_duo.server_url}/arena?ticker=TSLA&window=out-of-sample&slippage=0")
    dash_duo.wait_for_element("#arn-leaderboard .ag-cell.neon-yes", timeout=30)

    def colours(cls):
        return _js(dash_duo, f"return Array.from(document.querySelectorAll('#arn-leaderboard .ag-cell.{cls}'))"
                             ".map(e => getComputedStyle(e).color)")

    assert colours("neon-yes") and set(colours("neon-yes")) == {GREEN}
    assert colours("neon-no") and set(colours("neon-no")) == {RED}
    assert set(colours("neon-pos")) == {GREEN}
    text = _js(dash_duo, "return Array.from(document.querySelectorAll(\"#arn-leaderboard .ag-cell[col-id='total_return']\"))"
                         ".map(e => e.textContent.trim())")
    assert text and all(t.startswith(("+", "-")) and t.endswith("%") for t in text), text  # signed percent
    # every column is visible at 1600 px (no hidden columns, no horizontal scrollbar)
    widths = _js(dash_duo, "var v = document.querySelector('#arn-leaderboard .ag-center-cols-viewport');"
                           "return [v.scrollWidth, v.clientWidth]")
    assert widths[0] <= widths[1] + 1, widths
    header = dash_duo.find_element("#arn-leaderboard .ag-header-cell[col-id='win_rate']")
    ActionChains(dash_duo.driver).move_to_element(header).perform()
    dash_duo.wait_for_contains_text(".ag-tooltip", "round trip", timeout=10)
    assert severe_logs(dash_duo) == []


def test_leaderboard_keeps_the_key_columns_on_a_phone(dash_duo, neon_app):
    dash_duo.driver.set_window_size(420, 900)
    dash_duo.start_server(neon_app)
    dash_duo.wait_for_page(url=f"{dash_duo.server_url}/arena")
    dash_duo.wait_for_element("#arn-leaderboard .ag-cell[col-id='total_return']", timeout=30)
    until(lambda: _js(dash_duo, "return dash_ag_grid.getApi('arn-leaderboard').getColumn('cagr').isVisible()")
          is False, 10)
    shown = _js(dash_duo, "return dash_ag_grid.getApi('arn-leaderboard').getAllDisplayedColumns()"
                          ".map(c => c.getColId())")
    assert shown[:2] == ["contestant", "total_return"] and "beats" in shown and len(shown) <= 6
    dash_duo.driver.set_window_size(1600, 1000)


def test_filtered_journal_export_equals_the_grids_filtered_rows(dash_duo, neon_app):
    dash_duo.start_server(neon_app)
    dash_duo.wait_for_page(url=f"{dash_duo.server_url}/journal")
    dash_duo.wait_for_contains_text("#jrn-summary", "fills shown", timeout=30)
    total = int(dash_duo.find_element("#jrn-summary").text.split()[0].replace(",", ""))
    # the grid's own filter row (as a user types in it) and a sort on the price column
    box = dash_duo.find_element(".ag-floating-filter[aria-colindex='1'] input")
    box.send_keys("Aggr")
    _js(dash_duo, "dash_ag_grid.getApi('jrn-table').applyColumnState({state: [{colId: 'price', sort: 'desc'}]})")
    until(lambda: int(dash_duo.find_element("#jrn-summary").text.split()[0].replace(",", "")) < total, 10)
    rows = _grid_rows(dash_duo, "jrn-table")
    shown = int(dash_duo.find_element("#jrn-summary").text.split()[0].replace(",", ""))
    assert shown == len(rows) > 0 and {r["label"] for r in rows} == {"Aggressive"}
    costs = fmt.money(sum(r["cost"] for r in rows), 2)
    assert costs in dash_duo.find_element("#jrn-summary").text  # the summary follows the grid's filter
    dash_duo.find_element("#jrn-csv").click()
    path = wait_for_file(Path(dash_duo.download_path), ".csv")
    table = pd.read_csv(path)
    assert len(table) == len(rows)
    assert list(table["Contestant"]) == [r["label"] for r in rows]
    assert list(table["Price"]) == pytest.approx([r["price"] for r in rows])
    assert {"window", "commission_bps", "slippage_bps", "shared_market"} <= set(table.columns)
    assert "filtered" in path.name and "c10-s5bps" in path.name
    assert severe_logs(dash_duo) == []


def test_replay_top_speed_and_the_one_based_position_box(dash_duo, neon_app):
    from layouts.replay import TOP_SPEED

    dash_duo.start_server(neon_app)
    dash_duo.wait_for_page(url=f"{dash_duo.server_url}/replay")
    dash_duo.wait_for_contains_text("#rpl-bar-label", "Bar 1 /", timeout=30)
    # the first view reads as a chart: grey bars before the window
    until(lambda: _js(dash_duo, "var g = document.querySelector('#rpl-fig .js-plotly-plot');"
                                "return g && g.data ? g.data[0].x.length : 0") >= 20, 20)
    _select(dash_duo, "#rpl-speed", f"{TOP_SPEED} bars/s")
    dash_duo.wait_for_contains_text("#rpl-speed", f"{TOP_SPEED} bars/s", timeout=5)

    def bar():
        return int(dash_duo.find_element("#rpl-bar-label").text.split()[1].replace(",", ""))

    dash_duo.find_element("#rpl-play").click()
    until(lambda: bar() > 1, 10)
    b0, t0 = bar(), time.perf_counter()
    time.sleep(2.0)
    b1, t1 = bar(), time.perf_counter()
    rate = (b1 - b0) / (t1 - t0)
    print(f"replay at {TOP_SPEED} bars/s requested: {rate:.1f} bars/s delivered")
    assert rate >= 20, rate
    dash_duo.find_element("#rpl-end").click()
    dash_duo.wait_for_contains_text("#rpl-play", "Replay", timeout=5)
    n = int(dash_duo.find_element("#rpl-bar-label").text.split()[3].replace(",", ""))
    assert bar() == n
    box = dash_duo.find_element("#rpl-pos")
    box.send_keys(Keys.CONTROL, "a")
    box.send_keys("5", Keys.ENTER)
    _poll(lambda: bar() == 5, lambda: f"bar {bar()} box {box.get_attribute('value')}")  # one-based
    box.send_keys(Keys.CONTROL, "a")
    box.send_keys("99999", Keys.ENTER)
    _poll(lambda: bar() == n and box.get_attribute("value") == str(n),
          lambda: f"bar {bar()} box {box.get_attribute('value')}")  # clamped, and the box says so
    assert severe_logs(dash_duo) == []


def test_market_upload_stays_for_the_session_and_the_box_names_it(dash_duo, neon_app, tmp_path):
    csv = tmp_path / "mine.csv"
    pd.read_csv("data/AAPL.csv").tail(120).to_csv(csv, index=False)
    dash_duo.start_server(neon_app)
    dash_duo.wait_for_page(url=f"{dash_duo.server_url}/market")
    dash_duo.wait_for_text_to_equal(".source-badge .badge", "BUNDLED", timeout=20)
    dash_duo.find_element("#mkt-upload input[type=file]").send_keys(str(csv))
    dash_duo.wait_for_text_to_equal(".source-badge .badge", "FILE", timeout=20)
    dash_duo.wait_for_contains_text("#mkt-ticker", "mine.csv", timeout=10)
    _nav(dash_duo, "arena")
    _tag(dash_duo, "#arn-sample-tag", "AAPL")
    _nav(dash_duo, "market")
    dash_duo.wait_for_text_to_equal(".source-badge .badge", "FILE", timeout=20)
    dash_duo.wait_for_contains_text("#mkt-ticker", "mine.csv", timeout=10)
    until(lambda: _js(dash_duo, "var g = document.querySelector('#mkt-chart .js-plotly-plot');"
                                "return g && g.data ? g.data[0].x.length : 0") == 120, 20)
    assert severe_logs(dash_duo) == []


def test_browser_and_python_formatters_agree(dash_duo, neon_app):
    cases = [(v, k, d) for v in (0.10955, -0.144, 0.0, -1e-5, 1234.5, -3.2, 12.5, 3956, 192.7394, 1.005, 0.125,
                                 2.5, -2.5, 1e6 + 0.5, None)
             for k, d in (("pct", 1), ("signed_pct", 1), ("ratio", 2), ("money", 0), ("money", 2), ("bps", 1),
                          ("count", 0), ("price", 2))]
    dash_duo.start_server(neon_app)
    dash_duo.wait_for_page(url=f"{dash_duo.server_url}/arena")
    dash_duo.wait_for_element(".page-title", timeout=10)
    browser = dash_duo.driver.execute_script(
        "return arguments[0].map(c => window.neonFmt(c[0], c[1], c[2]))", [list(c) for c in cases])
    python = [fmt.fmt(*c) for c in cases]
    assert browser == python
