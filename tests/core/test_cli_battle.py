"""`python -m core battle`: JSON schema (seeds included), leaderboard, --models / --train-timesteps / --seeds
agents, --walk-forward, exit status 2."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from core import PERSONALITIES, arena
from core.cli import main

REPO = Path(__file__).resolve().parents[2]
REQUIRED_METRICS = (
    "total_return",
    "sharpe",
    "sortino",
    "max_drawdown",
    "calmar",
    "var_95",
    "cvar_95",
    "trades",
    "exposure",
)


@pytest.fixture(autouse=True)
def _no_default_models(tmp_path_factory, monkeypatch):
    # the default models root is empty: tests never depend on what models/ holds at the moment
    monkeypatch.setenv("NEON_MODELS_DIR", str(tmp_path_factory.mktemp("no-models")))
    arena.clear_cache()


def _check_schema(payload: dict, n_agents: int) -> None:
    assert {"ticker", "test_start", "test_end", "cost_bps", "contestants"} <= set(payload)
    kinds = [c["kind"] for c in payload["contestants"]]
    assert kinds.count("agent") == n_agents and kinds.count("benchmark") == 4
    n = len(payload["contestants"][0]["dates"])
    assert payload["contestants"][0]["dates"][0] == payload["test_start"]
    assert payload["contestants"][0]["dates"][-1] == payload["test_end"]
    for c in payload["contestants"]:
        assert {"name", "kind", "metrics", "dates", "actions", "positions", "equity"} <= set(c)
        assert len(c["dates"]) == len(c["actions"]) == len(c["positions"]) == len(c["equity"]) == n
        assert all(isinstance(a, str) for a in c["actions"])
        assert set(REQUIRED_METRICS) <= set(c["metrics"])
        if c["kind"] == "agent":
            _check_agent(c, n)


def _check_agent(c: dict, n: int) -> None:
    """An agent's seeds, its median seed (whose per-bar lists these are) and its significance figures."""
    assert {"seeds", "representative_seed", "equity_band", "seed_summary", "significance"} <= set(c)
    assert c["seeds"] and all({"seed", "metrics"} <= set(s) for s in c["seeds"])
    assert all({"total_return", "sharpe"} <= set(s["metrics"]) for s in c["seeds"])
    rep = next(s for s in c["seeds"] if s["seed"] == c["representative_seed"])
    assert rep["metrics"]["total_return"] == c["metrics"]["total_return"]
    assert c["equity"][-1] == pytest.approx(100_000.0 * (1 + rep["metrics"]["total_return"]))
    assert {"p_value_vs_buy_and_hold", "deflated_sharpe", "trivial"} <= set(c["metrics"])
    assert c["metrics"]["trivial"] in (None, "long", "flat", "buy_and_hold")
    assert len(c["equity_band"]["low"]) == len(c["equity_band"]["high"]) == n


def test_benchmarks_only_json_on_stdout_and_leaderboard_on_stderr(capsys):
    assert main(["battle", "--ticker", "AAPL", "--offline", "--cost-bps", "10", "--json"]) == 0
    out, err = capsys.readouterr()
    payload = json.loads(out)
    _check_schema(payload, n_agents=0)
    assert payload["ticker"] == "AAPL" and payload["cost_bps"] == 10.0
    assert payload["commission_bps"] == 10.0 and payload["slippage_bps"] == 0.0
    assert payload["test_end"] == "2026-09-25" and payload["sample"] == "out-of-sample"
    assert "no agents found" in err and "ran the benchmarks only" in err
    assert "Buy & Hold" in err and "Sharpe [95% CI]" in err


def test_json_to_a_file_and_leaderboard_on_stdout(tmp_path, capsys):
    target = tmp_path / "out" / "battle.json"
    assert (
        main(["battle", "--ticker", "AAPL", "--offline", "--test-start", "2025-01-02", "--json", str(target)])
        == 0
    )
    out, _ = capsys.readouterr()
    payload = json.loads(target.read_text())
    assert payload["test_start"] == "2025-01-02" and payload["cost_bps"] == 10.0
    assert out.splitlines()[0].startswith("AAPL  2025-01-02 to 2026-09-25")
    for name in ("Buy & Hold", "Cash", "SMA 20/50 Cross", "RSI 30/70"):
        assert name in out


def test_split_sets_the_window(tmp_path):
    target = tmp_path / "split.json"
    assert main(["battle", "--ticker", "AAPL", "--offline", "--split", "0.5", "--json", str(target)]) == 0
    dates = pd.read_csv(REPO / "data" / "AAPL.csv")["date"]
    assert json.loads(target.read_text())["test_start"] == dates.iloc[int(len(dates) * 0.5)]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--ticker", "AAPL", "--cost-bps", "-5"], "--cost-bps must be between 0 and 1000"),
        (["--ticker", "AAPL", "--test-start", "2026-09-21"], "at least 10"),
        (["--ticker", "AAPL", "--test-start", "2011-01-05"], "warm-up"),
        (["--ticker", "ZZZZ"], "No data for ZZZZ"),
        (["--ticker", "AAPL", "--split", "1.5"], "--split must be between 0 and 1"),
        (["--ticker", "AAPL", "--train-timesteps", "0"], "--train-timesteps must be at least 1"),
        (["--csv", "/nonexistent/prices.csv"], "prices.csv"),
    ],
)
def test_bad_input_exits_2_with_one_error_line(capsys, argv, message):
    assert main(["battle", "--offline", *argv]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error:") and message in err[0]


def test_models_dir_without_agents_is_an_error(tmp_path, capsys):
    assert main(["battle", "--ticker", "AAPL", "--offline", "--models", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: no trained") and "python -m core train --ticker AAPL" in err
    assert main(["battle", "--ticker", "AAPL", "--offline", "--models", str(tmp_path / "missing")]) == 2
    assert "is not a directory" in capsys.readouterr().err


def test_split_and_test_start_are_exclusive(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["battle", "--ticker", "AAPL", "--split", "0.8", "--test-start", "2024-01-02"])
    assert exc.value.code == 2


@pytest.fixture(scope="module")
def csv_path(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("csv") / "acme.csv"
    shutil.copy(REPO / "data" / "AAPL.csv", path)
    return path


@pytest.mark.slow
def test_train_timesteps_trains_then_battles_the_four_agents(csv_path, capsys):
    assert main(["battle", "--csv", str(csv_path), "--train-timesteps", "64", "--seeds", "0,1", "--json"]) == 0
    out, err = capsys.readouterr()
    payload = json.loads(out)
    _check_schema(payload, n_agents=4)
    assert [c["name"] for c in payload["contestants"][:4]] == list(PERSONALITIES)
    assert all([s["seed"] for s in c["seeds"]] == [0, 1] for c in payload["contestants"][:4])
    assert payload["sample"] == "out-of-sample"
    assert payload["deflated_sharpe"]["n_trials"] == 8 and "After 8 tries" in payload["deflated_sharpe"]["sentence"]
    assert "training four personalities" in err and "seeds 0,1" in err and "no agents found" not in err
    assert "each agent shows its median seed" in err and "p vs B&H" in err


@pytest.mark.slow
def test_walk_forward_retrains_each_fold_and_tables_it_next_to_buy_and_hold(csv_path, capsys):
    assert main(["battle", "--csv", str(csv_path), "--walk-forward", "2", "--train-timesteps", "64", "--json"]) == 0
    out, err = capsys.readouterr()
    payload = json.loads(out)
    assert payload["command"] == "walk-forward" and payload["n_folds"] == 2 and payload["seeds"] == [0]
    first, second = payload["folds"]
    assert first["test"]["end"] < second["test"]["start"] and first["train"]["start"] == second["train"]["start"]
    assert second["train"]["end"] > first["train"]["end"]  # expanding window
    for fold in payload["folds"]:
        assert fold["sample"] == "out-of-sample" and fold["train"]["end"] < fold["test"]["start"]
        names = [c["name"] for c in fold["contestants"]]
        assert names[:4] == list(PERSONALITIES) and "buy_and_hold" in names
        assert all("total_return" in c["metrics"] for c in fold["contestants"])
    assert set(payload["summary"]) == set(PERSONALITIES)
    dates = pd.read_csv(csv_path)["date"]
    assert second["test"]["end"] == dates.iloc[-1]
    assert "walk-forward: 2 folds" in err and "Buy & Hold" in err and "of 2 folds" in err


def test_walk_forward_refuses_what_it_cannot_use(capsys):
    assert main(["battle", "--ticker", "AAPL", "--offline", "--walk-forward", "2", "--models", "x"]) == 2
    assert "--walk-forward" in capsys.readouterr().err
    assert main(["battle", "--ticker", "AAPL", "--offline", "--walk-forward", "0"]) == 2
    assert "at least 1" in capsys.readouterr().err
    assert main(["battle", "--ticker", "AAPL", "--offline", "--seeds", "a,b"]) == 2
    assert "--seeds" in capsys.readouterr().err


@pytest.mark.slow
def test_models_dir_written_by_training_is_read_and_matches_the_simulator(csv_path, tmp_path, capsys):
    from core.agents import load_agents
    from core.sim import simulate
    from core.training import train_all_agents

    train_all_agents(csv=str(csv_path), timesteps=64, out_dir=tmp_path, processes=1, seeds=[0, 2])
    assert main(["battle", "--csv", str(csv_path), "--models", str(tmp_path), "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    _check_schema(payload, n_agents=4)
    assert all([s["seed"] for s in c["seeds"]] == [0, 2] for c in payload["contestants"][:4])
    assert main(["battle", "--csv", str(csv_path), "--models", str(tmp_path), "--seeds", "2", "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert all(c["representative_seed"] == 2 for c in payload["contestants"][:4])
    agents = load_agents("ACME", models_dir=tmp_path)
    test_start = agents.cards["momentum"]["split"]["test"]["start"]
    assert payload["test_start"] == test_start  # the default window is the agents' out-of-sample period
    # the real AgentSet through run_battle: env accounting == the shared simulator on the same decisions
    frame = pd.read_csv(csv_path, parse_dates=["date"])
    res = arena.run_battle(frame, ticker="ACME", agents=agents)
    for c in res.contestants[:4]:
        np.testing.assert_allclose(
            c.equity, simulate(res.open, res.close, c.targets, res.costs).equity, rtol=1e-9
        )
        assert c.probs.shape == (len(res.dates), 5) and c.trades["probabilities"].str.contains("flat").all()
    shared = arena.run_battle(frame, ticker="ACME", agents=agents, shared_market=True)
    assert shared.shared_market and shared.cache_key != res.cache_key
    in_sample = arena.run_battle(frame, ticker="ACME", agents=agents, in_sample=True)
    assert in_sample.sample == "in-sample"
    assert in_sample.test_end.isoformat() == agents.cards["momentum"]["split"]["train"]["end"]
