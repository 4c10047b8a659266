"""`python -m core forecast`: JSON keys, the text summary, the cache, and exit 2 with one line on bad input."""

from __future__ import annotations

import json

import pytest

from core.cli import main
from tests.conftest import synthetic_ohlcv

REQUIRED = ("dates", "forecast", "lower", "upper", "lower_80", "upper_80", "baselines", "metrics", "verdict",
            "ticker", "data_sha256", "sample")
METRICS = ("mae", "rmse", "mase", "directional_accuracy", "naive_mae", "dm_p_value", "coverage_95")


@pytest.fixture
def csv_path(tmp_path):
    path = tmp_path / "synth.csv"
    frame = synthetic_ohlcv(520, start="2022-01-03", seed=4)
    frame.assign(date=frame["date"].dt.strftime("%Y-%m-%d")).to_csv(path, index=False)
    return path


def test_json_on_stdout_summary_on_stderr_then_from_cache(csv_path, capsys):
    args = ["forecast", "--csv", str(csv_path), "--horizon", "5", "--epochs", "1", "--json"]
    assert main(args) == 0
    out, err = capsys.readouterr()
    payload = json.loads(out)
    assert set(REQUIRED) <= set(payload) and set(METRICS) <= set(payload["metrics"])
    assert set(payload["baselines"]) == {"naive", "drift", "linear"}
    assert len(payload["dates"]) == len(payload["forecast"]) == len(payload["upper"]) == 5
    assert payload["ticker"] == "synth" and payload["sample"] == "out-of-sample" and not payload["from_cache"]
    assert "backtest (out-of-sample" in err and payload["verdict"] in err and "%" in err  # the tqdm bar
    assert main(args) == 0
    again = json.loads(capsys.readouterr().out)
    assert again["from_cache"] and again["forecast"] == payload["forecast"]


def test_bundled_ticker_to_a_file(tmp_path, capsys):
    target = tmp_path / "out" / "aapl.json"
    assert main(["forecast", "--ticker", "AAPL", "--offline", "--epochs", "1", "--no-cache", "--json", str(target)]) == 0
    out, _ = capsys.readouterr()
    payload = json.loads(target.read_text())
    assert payload["ticker"] == "AAPL" and payload["last_date"] == "2026-09-25"
    assert payload["dates"][0] == "2026-09-28" and len(payload["dates"]) == 30
    assert out.startswith("AAPL: last close") and "Linear (Ridge)" in out


@pytest.mark.parametrize(
    ("extra", "rows", "expected"),
    [
        ([], 50, "error: 50 rows are too few: a 30-day forecast with a 60-bar window and 8 backtest origins"),
        (["--horizon", "0"], 600, "error: horizon must be between 1 and 120 bars, got 0"),
        (["--horizon", "10000"], 600, "error: horizon must be between 1 and 120 bars, got 10000"),
    ],
)
def test_bad_input_exits_2_with_one_line(tmp_path, capsys, extra, rows, expected):
    path = tmp_path / "small.csv"
    synthetic_ohlcv(rows).to_csv(path, index=False)
    assert main(["forecast", "--csv", str(path), "--no-cache", *extra]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.startswith(expected) and err.count("\n") == 1
