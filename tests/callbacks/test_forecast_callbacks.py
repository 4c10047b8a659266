"""Forecast page callbacks, called directly: input validation with clear messages, uploads checked before
any job starts, the re-attach decisions, the view of a real (tiny) result, the export, and no torch in the
web process."""

from __future__ import annotations

import base64
import io
import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from app.jobs import JobStatus
from callbacks.forecast import forecast_request, upload_outputs
from callbacks.jobs import reattach

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("horizon, message", [
    (0, "from 1 to 90 bars, got 0"), (10_000, "from 1 to 90 bars, got 10000"), ("abc", "whole number of bars"),
    (None, "whole number of bars"),
])
def test_bad_horizons_are_refused_before_any_job(horizon, message):
    with pytest.raises(ValueError, match=message):
        forecast_request("AAPL", None, horizon, "standard", 0)


def test_a_request_carries_a_validated_config():
    request = forecast_request("tsla", None, 20, "quick", 3)
    assert request["source"] == "ticker" and request["ticker"] == "TSLA"
    assert request["config"]["horizon"] == 20 and request["config"]["seed"] == 3
    upload = forecast_request("AAPL", {"name": "mine.csv", "csv": "x"}, 30, "standard", 0)
    assert upload["source"] == "file" and upload["name"] == "mine.csv" and "csv" not in upload
    with pytest.raises(ValueError, match="seed"):
        forecast_request("AAPL", None, 30, "standard", -1)
    with pytest.raises(ValueError, match="Training effort"):
        forecast_request("AAPL", None, 30, "insane", 0)


def _data_url(text: str) -> str:
    return "data:text/csv;base64," + base64.b64encode(text.encode()).decode()


def test_uploads_are_validated_at_once(make_ohlcv):
    store, line, alert = upload_outputs(_data_url("date,open\n2024-01-02,1\n"), "bad.csv", 5)
    assert "close" in str(alert).lower()
    buf = io.StringIO()
    make_ohlcv(n=400).to_csv(buf, index=False)
    store, line, alert = upload_outputs(_data_url(buf.getvalue()), "walk.csv", 5)
    assert store["name"] == "walk.csv" and "400 bars" in line and alert is None
    binary = "data:application/octet-stream;base64," + base64.b64encode(b"\x00\x01PK" * 10).decode()
    assert "binary" in str(upload_outputs(binary, "x.zip", 5)[2])


def test_reattach_decisions():
    assert reattach(None, first_call=True, shown_token=None).poll_disabled is True
    running = JobStatus(token="t1", kind="forecast", state="running",
                        progress={"fraction": 0.4, "label": "backtest-fit", "detail": "epoch 3/20", "state": "running"})
    view = reattach(running, first_call=True, shown_token=None)
    assert (view.poll_disabled, view.value, view.status, view.run_disabled, view.cancel_disabled) == (
        False, 40, "epoch 3/20", True, False)
    done = JobStatus(token="t1", kind="forecast", state="done", result_ref={"token": "t1", "forecast": {}})
    assert reattach(done, first_call=True, shown_token=None).result == {"token": "t1", "forecast": {}}
    assert reattach(done, first_call=False, shown_token="t1").result is not done.result_ref  # not sent twice
    failed = JobStatus(token="t2", kind="forecast", state="failed", message="212 rows are too few")
    assert reattach(failed, first_call=False, shown_token=None).alert == "212 rows are too few"
    assert reattach(failed, first_call=True, shown_token=None).alert is None  # old failures stay quiet


@pytest.fixture(scope="module")
def tiny_result():
    from core.data import load_ohlcv
    from core.forecast import ForecastConfig, run_forecast

    frame, provenance = load_ohlcv("TSLA", live=False, use_cache=False)
    config = ForecastConfig(epochs=2, patience=1, hidden_size=8, backtest_origins=3, horizon=12, seed=1)
    return run_forecast(frame, provenance=provenance, ticker="TSLA", config=config).to_json()


def test_the_view_of_a_real_result_states_its_verdict_and_sample(tiny_result):
    from layouts.forecast_view import TABLE_COLUMNS, forecast_view

    tag, banner, kpis, chart, backtest, rows, card = forecast_view(json.loads(json.dumps(tiny_result)))
    assert "OUT-OF-SAMPLE" in json.dumps(tag.to_plotly_json(), default=str)
    assert "Diebold-Mariano" in json.dumps(banner.to_plotly_json(), default=str)
    names = [t.get("name") for t in chart["data"]]
    assert {"Naive (last value)", "Drift (random walk)", "Linear (Ridge)", "95% band", "80% band"} <= set(names)
    lstm = next(t for t in chart["data"] if (t.get("name") or "").startswith("LSTM"))
    assert len(lstm["x"]) == 13  # the last bar + 12 future dates
    assert {r["method"] for r in rows} == {"lstm", "naive", "drift", "linear"}
    assert all(c["field"] in rows[0] for c in TABLE_COLUMNS)
    assert len(kpis) == 6 and card is not None and backtest["data"]


def test_the_export_holds_the_rows_shown_and_says_what_they_are(tiny_result):
    from callbacks.forecast import export_table
    from layouts.forecast_view import table_rows

    result = {"token": "t", "forecast": tiny_result}
    shown = [r for r in table_rows(tiny_result) if r["method"] in ("lstm", "naive")]  # as if filtered
    payload = export_table("fc-csv", result, shown, None)
    assert payload["filename"].startswith("forecast_backtest_TSLA_h12") and payload["filename"].endswith(".csv")
    text = base64.b64decode(payload["content"]).decode()
    assert "out-of-sample" in text and "TSLA" in text
    table = pd.read_csv(io.StringIO(text))
    assert len(table) == 2


def test_the_web_process_never_imports_torch():
    code = (
        "import sys, tempfile, pathlib\n"
        "from app import create_app\nfrom app.settings import Settings\n"
        "app = create_app(Settings(live_data=False, job_cache_dir=pathlib.Path(tempfile.mkdtemp()) / 'j'))\n"
        "c = app.server.test_client()\nassert c.get('/forecast').status_code == 200\n"
        "import callbacks.forecast, layouts.forecast_view, core.forecast\n"
        "callbacks.forecast.forecast_request('AAPL', None, 30, 'standard', 0)\n"
        "print('torch' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "False"
