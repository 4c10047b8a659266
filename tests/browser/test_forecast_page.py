"""Browser: the forecast runs as a background job with progress, then shows its verdict; leaving the page
and coming back re-attaches to the running job; Cancel stops it and leaves no job process behind."""

from __future__ import annotations

import psutil
import pytest
from dash.testing.wait import until

import callbacks.forecast as forecast_callbacks
from tests.browser.conftest import severe_logs

PORT = 8071
TINY = {"epochs": 2, "patience": 1, "hidden_size": 8, "backtest_origins": 3}
LONG = {"epochs": 400, "patience": 400, "hidden_size": 96}


@pytest.fixture
def tiny_efforts(monkeypatch):
    # The job process is forked from this test process, so it sees these tiny budgets too.
    monkeypatch.setitem(forecast_callbacks.EFFORT_OVERRIDES, "quick", TINY)
    monkeypatch.setitem(forecast_callbacks.EFFORT_OVERRIDES, "thorough", LONG)


def _status(dash_duo) -> str:
    return dash_duo.find_element("#fc-status").text


def _job_processes() -> list[psutil.Process]:
    """Live (non-zombie) child processes of this test process: Dash's job processes."""
    return [p for p in psutil.Process().children(recursive=True)
            if "chrom" not in p.name() and p.status() != psutil.STATUS_ZOMBIE]


def test_forecast_job_shows_progress_then_the_verdict(dash_duo, neon_app, tiny_efforts):
    dash_duo.start_server(neon_app, port=PORT)
    dash_duo.wait_for_page(url=f"{dash_duo.server_url}/forecast?ticker=TSLA")
    dash_duo.wait_for_element("#fc-run", timeout=10)
    dash_duo.find_element("#fc-effort input[value=quick]").click()
    dash_duo.find_element("#fc-run").click()
    seen = set()

    def progressed():
        seen.add(_status(dash_duo))
        return any("epoch" in s for s in seen)

    until(progressed, 60)  # the progress line names the training epoch
    dash_duo.wait_for_contains_text("#fc-verdict", "Diebold-Mariano p-value", timeout=90)
    verdict = dash_duo.find_element("#fc-verdict").text
    assert "On TSLA the LSTM's MASE is" in verdict
    assert "beat" in verdict  # "does not beat" / "beats": the sentence always answers the question
    assert "OUT-OF-SAMPLE" in dash_duo.find_element("#fc-sample-tag").text
    names = dash_duo.driver.execute_script(
        "var g = document.querySelector('#fc-chart .js-plotly-plot'); return g ? g.data.map(t => t.name) : [];")
    for name in ("Naive (last value)", "Drift (random walk)", "Linear (Ridge)", "95% band", "80% band"):
        assert name in names
    assert any(n and n.startswith("LSTM") for n in names)
    until(lambda: len(dash_duo.find_elements("#fc-table .ag-row")) >= 4, 10)
    assert "Done in" in _status(dash_duo)
    assert not dash_duo.find_element("#fc-run").get_attribute("disabled")
    assert severe_logs(dash_duo) == []


def test_leaving_and_coming_back_reattaches_then_cancel_leaves_no_process(dash_duo, neon_app, tiny_efforts):
    dash_duo.start_server(neon_app, port=PORT)
    dash_duo.wait_for_page(url=f"{dash_duo.server_url}/forecast")
    dash_duo.wait_for_element("#fc-run", timeout=10)
    dash_duo.find_element("#fc-effort input[value=thorough]").click()
    dash_duo.find_element("#fc-run").click()
    until(lambda: "epoch" in _status(dash_duo), 60)
    assert len(_job_processes()) == 1

    dash_duo.find_element("a.nav-link[href^='/risk']").click()  # leave while it runs
    dash_duo.wait_for_element(".page-title", timeout=10)
    dash_duo.find_element("a.nav-link[href^='/forecast']").click()  # and come back
    until(lambda: "epoch" in _status(dash_duo), 30)  # re-attached: live progress again
    assert dash_duo.find_element("#fc-run").get_attribute("disabled")
    assert not dash_duo.find_element("#fc-cancel").get_attribute("disabled")

    dash_duo.find_element("#fc-cancel").click()
    dash_duo.wait_for_contains_text("#fc-alert", "Cancelled", timeout=30)
    until(lambda: _job_processes() == [], 15)
    assert not dash_duo.find_element("#fc-run").get_attribute("disabled")
    assert severe_logs(dash_duo) == []


def test_cancel_right_after_run_says_cancelled_and_frees_everything(dash_duo, neon_app, tiny_efforts):
    dash_duo.start_server(neon_app, port=PORT)
    dash_duo.wait_for_page(url=f"{dash_duo.server_url}/forecast")
    dash_duo.wait_for_element("#fc-run", timeout=10)
    dash_duo.find_element("#fc-effort input[value=thorough]").click()
    dash_duo.find_element("#fc-run").click()
    until(lambda: not dash_duo.find_element("#fc-cancel").get_attribute("disabled"), 30)
    dash_duo.find_element("#fc-cancel").click()
    dash_duo.wait_for_contains_text("#fc-alert", "Cancelled", timeout=30)
    until(lambda: _job_processes() == [], 15)
    until(lambda: not dash_duo.find_element("#fc-run").get_attribute("disabled"), 10)
    assert severe_logs(dash_duo) == []
