"""Browser: the arena shows all four agents' markers and the leaderboard; replay plays; journal downloads."""

from __future__ import annotations

import time
from pathlib import Path

import pandas as pd
import pytest
from dash.testing.wait import until

from tests.browser.conftest import severe_logs, wait_for_file

META_COLUMNS = {"ticker", "sample", "window", "commission_bps", "slippage_bps", "shared_market"}
MODELS = Path(__file__).resolve().parents[2] / "models"
pytestmark = pytest.mark.skipif(not (MODELS / "AAPL").is_dir(), reason="shipped AAPL models not present")


def _js(dash_duo, script):
    return dash_duo.driver.execute_script(script)


def test_arena_shows_markers_of_all_four_agents_and_the_leaderboard(dash_duo, neon_app):
    dash_duo.start_server(neon_app)
    dash_duo.wait_for_page(url=f"{dash_duo.server_url}/arena")
    dash_duo.wait_for_contains_text("#arn-sample-tag", "OUT-OF-SAMPLE", timeout=30)
    dash_duo.wait_for_contains_text("#arn-leaderboard", "Buy & Hold", timeout=30)
    script = ("var g = document.querySelector('#arn-candles .js-plotly-plot'); if (!g || !g.data) return [];"
              "return g.data.filter(t => t.mode === 'markers' && t.x.length > 0).map(t => t.name)")
    until(lambda: len(_js(dash_duo, script)) >= 8, 20)  # Plotly draws after the callback's outputs land
    names = _js(dash_duo, script)
    for label in ("Conservative", "Aggressive", "Momentum", "Mean-Reversion"):
        assert any(n.startswith(label) for n in names), (label, names)
    board = dash_duo.find_element("#arn-leaderboard").text
    for label in ("Conservative", "Aggressive", "Momentum", "Mean-Reversion", "SMA", "RSI", "Cash"):
        assert label in board
    assert severe_logs(dash_duo) == []


def test_replay_play_advances_the_bar(dash_duo, neon_app):
    dash_duo.start_server(neon_app)
    dash_duo.wait_for_page(url=f"{dash_duo.server_url}/replay")
    dash_duo.wait_for_contains_text("#rpl-bar-label", "Bar 1 /", timeout=30)
    dash_duo.find_element("#rpl-play").click()
    time.sleep(2.5)
    dash_duo.find_element("#rpl-play").click()  # pause (the label follows a clientside callback)
    until(lambda: "Play" in dash_duo.find_element("#rpl-play").text, 5)
    time.sleep(0.5)
    label = dash_duo.find_element("#rpl-bar-label").text
    bar = int(label.split()[1])
    assert bar > 5, label
    # data[0]: grey context bars before the window; data[1]: the window's candles, revealed up to the bar
    last = _js(dash_duo, "var x = document.querySelector('#rpl-fig .js-plotly-plot').data[1].x; return x[x.length-1]")
    assert last == label.split("·")[1].strip()
    assert severe_logs(dash_duo) == []


def _shown_headers(dash_duo, grid):
    """The header names of the grid's displayed columns, left to right (pinned first), from its own API."""
    return _js(dash_duo, f"return dash_ag_grid.getApi('{grid}').getAllDisplayedColumns()"
                         ".map(c => c.getColDef().headerName)")


@pytest.mark.parametrize("width", [560, 1600])  # 560: a narrow grid keeps only the key columns
def test_journal_downloads_read_back_with_the_same_rows_and_the_columns_on_screen(dash_duo, neon_app, width):
    dash_duo.driver.set_window_size(width, 1000)
    dash_duo.start_server(neon_app)
    dash_duo.wait_for_page(url=f"{dash_duo.server_url}/journal")
    dash_duo.wait_for_contains_text("#jrn-summary", "fills shown", timeout=30)
    until(lambda: len(dash_duo.find_elements("#jrn-table .ag-center-cols-container .ag-row")) > 0, 20)
    if width == 560:  # the narrow layout applies once the first rows are drawn (neonResponsive)
        until(lambda: len(_shown_headers(dash_duo, "jrn-table")) < 8, 10)
    shown = int(dash_duo.find_element("#jrn-summary").text.split()[0].replace(",", ""))
    headers = _shown_headers(dash_duo, "jrn-table")
    folder = Path(dash_duo.download_path)
    dash_duo.find_element("#jrn-csv").click()  # at once: the export must not wait for the grid's own sync
    csv = pd.read_csv(wait_for_file(folder, ".csv"))
    dash_duo.find_element("#jrn-xlsx").click()
    xlsx = pd.read_excel(wait_for_file(folder, ".xlsx"))
    assert len(csv) == len(xlsx) == shown > 0
    assert list(csv.columns) == list(xlsx.columns)
    exported = [c.removesuffix(" (%)") for c in csv.columns if c not in META_COLUMNS]
    assert exported == headers, (exported, headers)
    assert (len(headers) < 8) if width == 560 else (len(headers) > 12), headers
    assert severe_logs(dash_duo) == []
