"""`python -m core risk`: JSON keys and values, the terminal table, --json to a file, exit status 2."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from core import risk
from core.cli import main

REPO = Path(__file__).resolve().parents[2]
AAPL_SHA = "fd48e46d009af2ab6fd24cb8469dd332f5cd9d581561cfac8592878d179e9041"  # sha256 of data/AAPL.csv
FOUR = ("var_95", "cvar_95", "var_99", "cvar_99")


@pytest.fixture(scope="module")
def aapl_returns() -> pd.Series:
    close = pd.read_csv(REPO / "data" / "AAPL.csv", parse_dates=["date"]).set_index("date")["close"]
    return close.pct_change().iloc[1:]


def test_json_keys_and_values(capsys, aapl_returns):
    assert main(["risk", "--ticker", "AAPL", "--offline", "--json"]) == 0
    out, err = capsys.readouterr()
    payload = json.loads(out)
    assert payload["ticker"] == "AAPL" and payload["sha256"] == AAPL_SHA
    assert (payload["start"], payload["end"], payload["n_returns"]) == ("2011-01-03", "2026-09-25", 3955)
    r = aapl_returns.to_numpy()
    assert payload["var_95"] == pytest.approx(risk.historical_var(r, 0.95))
    assert payload["cvar_99"] == pytest.approx(risk.historical_cvar(r, 0.99))
    for block in (payload, payload["parametric"], payload["cornish_fisher"]):
        assert all(block[k] > 0 for k in FOUR) and block["cvar_99"] >= block["var_99"] > block["var_95"]
    assert payload["parametric"]["var_99"] == pytest.approx(risk.parametric_var(r, 0.99))
    assert payload["ten_day"]["var_99"] == pytest.approx(payload["var_99"] * np.sqrt(10))
    assert "square-root-of-time" in payload["ten_day"]["label"]
    for key, level in (("99", 0.99), ("95", 0.95)):
        bt = payload["backtest"][key]
        assert bt["level"] == level and bt["window"] == 250 and bt["observations"] == 3955 - 250
        assert bt["expected"] == pytest.approx(bt["observations"] * (1 - level))
        assert set(bt["kupiec"]) == {"lr", "p_value"}
        assert {"lr_ind", "p_ind", "lr_cc", "p_cc"} <= set(bt["christoffersen"])
        assert len(bt["exception_dates"]) == bt["exceptions"]
    light = payload["traffic_light"]
    assert light["zone"] == risk.traffic_light(light["exceptions"]) and light["days"] == 250
    assert payload["distribution"]["count"] == 3955 and payload["distribution"]["worst_date"] == "2020-03-16"
    assert payload["worst_drawdowns"][0]["depth"] < 0 and len(payload["worst_drawdowns"]) == 5
    assert err.startswith("AAPL  2011-01-03 to 2026-09-25") and "VaR 95" in err  # the table went to stderr


def test_terminal_table_and_json_file(tmp_path, capsys):
    target = tmp_path / "out" / "risk.json"
    assert main(["risk", "--ticker", "BTC-USD", "--offline", "--json", str(target)]) == 0
    out, _ = capsys.readouterr()
    payload = json.loads(target.read_text())
    assert payload["ticker"] == "BTC-USD" and payload["periods_per_year"] == 365
    for fragment in ("Historical", "Gaussian", "Cornish-Fisher", "10-day", "At 99%", "Worst drawdowns"):
        assert fragment in out


def test_csv_input_and_a_smaller_window(tmp_path, capsys, make_ohlcv):
    path = tmp_path / "prices.csv"
    make_ohlcv(n=120).to_csv(path, index=False)
    assert main(["risk", "--csv", str(path), "--window", "60", "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["source"] == "file" and payload["backtest"]["99"]["observations"] == 119 - 60
    assert "only 59 forecast days" in payload["traffic_light"]["note"]


@pytest.mark.parametrize(
    "argv, fragment",
    [
        (["--csv", "{short}"], "is too short: 100 rows give 99 daily returns; the risk report needs at least 251"),
        (["--csv", "{missing}"], "no such file"),
        (["--ticker", "NOPE", "--offline"], "No data for NOPE"),
        (["--ticker", "AAPL", "--offline", "--window", "5"], "--window must be at least 20"),
    ],
)
def test_bad_input_exits_2_with_one_line(tmp_path, capsys, make_ohlcv, argv, fragment):
    short = tmp_path / "short.csv"
    make_ohlcv(n=100).to_csv(short, index=False)
    argv = [a.format(short=short, missing=tmp_path / "missing.csv") for a in argv]
    assert main(["risk", *argv]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and err.startswith("error: ") and fragment in err


def test_module_entry_point():
    proc = subprocess.run([sys.executable, "-m", "core", "risk", "--ticker", "AAPL", "--offline"], cwd=REPO,
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    assert "Kupiec p" in proc.stdout and proc.stderr == ""
