"""Browser: the Risk page draws every figure for the default battle with no console error, follows a
bookmarked battle, and its VaR table downloads read back with pandas."""

from __future__ import annotations

import time
from pathlib import Path

import pandas as pd
import pytest
from dash.testing.wait import until

from tests.browser.conftest import severe_logs

PORT = 8072
MODELS = Path(__file__).resolve().parents[2] / "models"
pytestmark = pytest.mark.skipif(not (MODELS / "AAPL").is_dir(), reason="shipped AAPL models not present")
FIGURES = ("rsk-hist", "rsk-rolling", "rsk-underwater", "rsk-monthly", "rsk-corr", "rsk-asset-corr")


def _traces(dash_duo, graph_id: str) -> int:
    return dash_duo.driver.execute_script(
        f"var g = document.querySelector('#{graph_id} .js-plotly-plot'); return g && g.data ? g.data.length : 0;")


def _click(dash_duo, selector: str) -> None:
    element = dash_duo.find_element(selector)
    # a JS click: the sticky navbar can cover a header button that selenium scrolled to the top edge
    dash_duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center'}); arguments[0].click();", element)


def _wait_for_file(folder: Path, suffix: str, timeout: float = 20) -> Path:
    end = time.time() + timeout
    while time.time() < end:
        done = [p for p in folder.glob(f"*{suffix}") if not p.name.endswith(".crdownload")]
        if done:
            return done[0]
        time.sleep(0.2)
    raise AssertionError(f"no {suffix} file downloaded into {folder}")


def test_risk_page_draws_the_default_battle_and_downloads_its_table(dash_duo, neon_app):
    dash_duo.start_server(neon_app, port=PORT)
    dash_duo.wait_for_page(url=f"{dash_duo.server_url}/risk")
    dash_duo.wait_for_contains_text("#rsk-sample-tag", "OUT-OF-SAMPLE", timeout=30)
    dash_duo.wait_for_contains_text("#rsk-verdict", "Kupiec p =", timeout=30)
    for graph in FIGURES:
        until(lambda graph=graph: _traces(dash_duo, graph) > 0, 20)
    verdict = dash_duo.find_element("#rsk-verdict").text
    assert verdict.startswith("At 99%,") and "zone" in verdict
    until(lambda: len(dash_duo.find_elements("#rsk-table .ag-row")) >= 10, 20)

    folder = Path(dash_duo.download_path)
    _click(dash_duo, "#rsk-csv")
    csv = pd.read_csv(_wait_for_file(folder, ".csv"))
    _click(dash_duo, "#rsk-xlsx")
    xlsx = pd.read_excel(_wait_for_file(folder, ".xlsx"))
    # buy-and-hold and the four agents x 3 methods x 2 levels, as shown
    assert len(csv) == len(xlsx) == 30
    assert set(csv["sample"]) == {"out-of-sample"} and set(csv["ticker"]) == {"AAPL"}
    assert {"Historical", "Parametric (normal)", "Cornish-Fisher"} == set(csv["Method"])
    assert severe_logs(dash_duo) == []


def test_risk_follows_a_bookmarked_battle(dash_duo, neon_app):
    dash_duo.start_server(neon_app, port=PORT)
    dash_duo.wait_for_page(url=f"{dash_duo.server_url}/risk?ticker=TSLA&window=in-sample&commission=20")
    dash_duo.wait_for_contains_text("#rsk-sample-tag", "IN-SAMPLE", timeout=30)
    tag = dash_duo.find_element("#rsk-sample-tag").text
    assert "TSLA" in tag and "costs 20 + 5 bps" in tag
    dash_duo.wait_for_contains_text("#rsk-verdict", "Kupiec p =", timeout=30)
    assert severe_logs(dash_duo) == []
