"""`python -m core data`: summary line, --json to stdout or a file, --csv input, clean errors (exit 2)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from core.cli import main

REPO = Path(__file__).resolve().parents[2]
AAPL_SHA = "fd48e46d009af2ab6fd24cb8469dd332f5cd9d581561cfac8592878d179e9041"  # sha256 of data/AAPL.csv


def test_json_on_stdout_end_to_end():
    proc = subprocess.run(
        [sys.executable, "-m", "core", "data", "AAPL", "--offline", "--json"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    payload = json.loads(proc.stdout)
    assert {k: payload[k] for k in ("rows", "start", "end", "source", "sha256")} == {
        "rows": 3956,
        "start": "2011-01-03",
        "end": "2026-09-25",
        "source": "bundled",
        "sha256": AAPL_SHA,
    }
    assert payload["label"] == "bundled snapshot, as of 2026-09-25"
    assert proc.stderr.startswith("AAPL: 3956 rows, 2011-01-03 to 2026-09-25, bundled snapshot")


def test_human_summary_line(capsys):
    assert main(["data", "btc-usd", "--offline", "--start", "2020-01-01", "--end", "2020-12-31"]) == 0
    out = capsys.readouterr()
    prefix = out.out.split()[-1]
    assert out.out.splitlines() == [
        f"BTC-USD: 366 rows, 2020-01-01 to 2020-12-31, bundled snapshot, as of 2020-12-31, sha256 {prefix}"
    ]
    assert len(prefix) == 12 and out.err == ""


def test_json_path_writes_the_file(tmp_path, capsys):
    target = tmp_path / "out" / "tsla.json"
    assert main(["data", "TSLA", "--offline", "--json", str(target)]) == 0
    payload = json.loads(target.read_text())
    assert (payload["rows"], payload["source"], payload["end"]) == (4093, "bundled", "2026-10-06")
    assert capsys.readouterr().out.startswith("TSLA: 4093 rows")


def test_csv_input(tmp_path, capsys, make_ohlcv):
    path = tmp_path / "mine.csv"
    make_ohlcv(70).to_csv(path, index=False)
    assert main(["data", "--csv", str(path), "--json"]) == 0
    out = capsys.readouterr()
    payload = json.loads(out.out)
    assert (payload["rows"], payload["source"], payload["ticker"], payload["label"]) == (
        70,
        "file",
        "mine",
        "file: mine.csv",
    )
    assert payload["start"] == "2021-01-04" and len(payload["sha256"]) == 64
    assert out.err.startswith("mine: 70 rows")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["data", "../etc", "--offline"], "error: invalid ticker '../etc'"),
        (["data", "ZZZZ", "--offline"], "error: No data for ZZZZ: live download is disabled (offline)"),
        (["data"], "error: give a TICKER (e.g. AAPL) or --csv PATH"),
        (["data", "AAPL", "--csv", "x.csv"], "error: give either a TICKER or --csv PATH, not both"),
        (
            ["data", "AAPL", "--offline", "--start", "2020-01-01", "--end", "2020-01-10"],
            "error: AAPL: only 7 rows between 2020-01-01 and 2020-01-10",
        ),
    ],
)
def test_bad_input_exits_2_with_one_error_line(argv, message, capsys):
    assert main(argv) == 2
    out = capsys.readouterr()
    assert out.out == "" and out.err.startswith(message) and out.err.count("\n") == 1


def test_malformed_csv_exits_2(tmp_path, capsys, make_ohlcv):
    path = tmp_path / "bad.csv"
    frame = make_ohlcv(60)
    frame.loc[7, "high"] = frame.loc[7, "low"] / 2
    frame.to_csv(path, index=False)
    assert main(["data", "--csv", str(path)]) == 2
    err = capsys.readouterr().err
    assert err == "error: bad.csv: high < low on 1 row, first on 2021-01-13\n"
