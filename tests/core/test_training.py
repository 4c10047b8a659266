"""Training: split, folds, config, SB3 check_env, save/load, numpy == SB3, reproducibility, hooks, CLI.

Budgets are tiny (a few hundred PPO steps): these tests prove plumbing and determinism, not skill.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from core import PERSONALITIES
from core.agents import load_agents
from core.cli import main as cli_main
from core.env import OBS_DIM
from core.indicators import WARMUP_BARS, add_indicators
from core.personalities import UnknownPersonality
from core.policy import NumpyPolicy
from core.registry import load_sb3
from core.sim import Costs
from core.training import (
    MIN_TEST_BARS,
    MIN_TRAIN_BARS,
    InsufficientData,
    PersonalityEnv,
    TrainConfig,
    TrainingCancelled,
    min_rows,
    split_by_date,
    train_agent,
    train_all_agents,
    walk_forward_folds,
)

DATA = Path(__file__).resolve().parents[2] / "data"
TINY = {"timesteps": 256, "n_steps": 64, "n_envs": 2, "batch_size": 64, "n_epochs": 1, "episode_bars": 64}


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return pd.read_csv(DATA / "AAPL.csv").iloc[:700].reset_index(drop=True)


@pytest.fixture(scope="module")
def small_csv(tmp_path_factory, frame) -> Path:
    path = tmp_path_factory.mktemp("csv") / "small.csv"
    frame.to_csv(path, index=False)
    return path


def _tiny(personality: str = "momentum", **extra) -> TrainConfig:
    return TrainConfig(personality=personality, ticker="AAPL", **(TINY | extra))


# --- split ----------------------------------------------------------------------------------------


def test_split_holds_out_the_last_fifth(frame):
    split = split_by_date(frame)
    n = len(frame)
    assert split.train == (WARMUP_BARS, n - 140) and split.test == (n - 140, n)


def test_split_by_explicit_test_start(frame):
    split = split_by_date(frame, test_start="2013-06-03")
    first_test = frame["date"].iloc[split.test[0]]
    assert first_test >= "2013-06-03" and frame["date"].iloc[split.test[0] - 1] < "2013-06-03"
    assert split.train[1] == split.test[0]


def test_too_little_data_names_the_minimum(frame):
    need = min_rows(0.2)
    assert need >= WARMUP_BARS + MIN_TRAIN_BARS + MIN_TEST_BARS
    with pytest.raises(InsufficientData, match=f"at least {need} rows"):
        split_by_date(frame.iloc[: need - 1])
    split_by_date(frame.iloc[:need])  # exactly the minimum is enough
    with pytest.raises(InsufficientData, match=f"at least {need} rows"):
        split_by_date(frame.iloc[:20])
    with pytest.raises(InsufficientData, match="test_start"):
        split_by_date(frame, test_start="2011-03-01")
    with pytest.raises(ValueError, match="test_fraction"):
        split_by_date(frame, test_fraction=0.9)


def test_walk_forward_folds_expand_and_tile():
    folds = walk_forward_folds(1000, 4, first_bar=33)
    assert len(folds) == 4
    assert all(f.train[0] == 33 and f.train[1] == f.test[0] for f in folds)
    assert folds[0].train[1] == 33 + MIN_TRAIN_BARS and folds[-1].test[1] == 1000
    assert all(a.test[1] == b.test[0] for a, b in zip(folds, folds[1:], strict=False))
    with pytest.raises(InsufficientData, match="at least"):
        walk_forward_folds(300, 4)


def test_config_rejects_bad_combinations():
    with pytest.raises(UnknownPersonality):
        TrainConfig(personality="bold", ticker="AAPL")
    with pytest.raises(ValueError, match="batch_size"):
        TrainConfig(ticker="AAPL", n_steps=100, n_envs=1, batch_size=64)
    with pytest.raises(ValueError, match="ticker or a csv"):
        TrainConfig()


# --- env and SB3 -------------------------------------------------------------------------------------


def test_personality_env_passes_the_checkers(frame):
    import supersuit
    from gymnasium.utils.env_checker import check_env as gym_check
    from stable_baselines3.common.env_checker import check_env

    env = PersonalityEnv(add_indicators(frame), "conservative", start=40, end=500, episode_bars=50)
    check_env(supersuit.dtype_v0(env, np.float32))
    gym_check(PersonalityEnv(add_indicators(frame), "momentum", start=40, end=500, episode_bars=50),
              skip_render_check=True)


def test_sb3_save_load_predict_identical_and_numpy_matches(tmp_path, frame):
    from stable_baselines3 import PPO

    env = PersonalityEnv(add_indicators(frame), "aggressive", start=40, end=500, episode_bars=50)
    model = PPO("MlpPolicy", env, n_steps=64, batch_size=32, n_epochs=1, seed=1, device="cpu")
    model.learn(128)
    model.save(tmp_path / "m.zip")
    loaded = PPO.load(tmp_path / "m.zip", device="cpu")
    obs = np.random.default_rng(0).uniform(-5, 5, size=(2000, OBS_DIM)).astype(np.float32)
    a1, _ = model.predict(obs, deterministic=True)
    a2, _ = loaded.predict(obs, deterministic=True)
    np.testing.assert_array_equal(a1, a2)
    policy = NumpyPolicy.from_sb3(loaded)
    np.testing.assert_array_equal(policy.act(obs)[0], a1)
    path = tmp_path / "p.npz"
    policy.save(path)
    np.testing.assert_array_equal(NumpyPolicy.load(path).act(obs)[0], a1)


# --- train_agent ----------------------------------------------------------------------------------------


def test_training_is_reproducible_and_numpy_equals_sb3(tmp_path, frame):
    s1 = train_agent(_tiny(), frame=frame, out_dir=tmp_path / "a")
    s2 = train_agent(_tiny(), frame=frame, out_dir=tmp_path / "b")
    assert s1["out_of_sample"] == s2["out_of_sample"] and s1["in_sample"] == s2["in_sample"]
    card = s1["card"]
    test = card["split"]["test"]
    data = add_indicators(frame)
    r1 = load_agents("AAPL", tmp_path / "a", ["momentum"]).rollout(data, test["first_bar"], test["end_bar"], Costs())
    r2 = load_agents("AAPL", tmp_path / "b", ["momentum"]).rollout(data, test["first_bar"], test["end_bar"], Costs())
    np.testing.assert_array_equal(r1["momentum"].actions, r2["momentum"].actions)
    # the card: what, on which data and split, with which libraries, and how it did
    assert card["timesteps"] == 256 and card["seed"] == 0 and card["config"]["n_envs"] == 2
    assert test["bars"] == 140 and card["split"]["train"]["first_bar"] == WARMUP_BARS
    assert set(card["versions"]) >= {"stable_baselines3", "torch", "gymnasium", "pettingzoo", "supersuit"}
    assert card["scaler"]["fit_rows"] == [WARMUP_BARS, test["first_bar"]]
    for key in ("total_return", "max_drawdown", "exposure", "trades", "buy_hold_return"):
        assert key in card["metrics"]["out_of_sample"]
    # the SB3 zip and the numpy export agree on the observations the agent really saw
    sb3 = load_sb3("AAPL", "momentum", tmp_path / "a")
    obs = np.random.default_rng(3).uniform(-5, 5, size=(1000, OBS_DIM)).astype(np.float32)
    np.testing.assert_array_equal(sb3.predict(obs, deterministic=True)[0],
                                  load_agents("AAPL", tmp_path / "a", ["momentum"]).policies["momentum"].act(obs)[0])
    assert (tmp_path / "a" / "AAPL" / "momentum" / "seed0.zip").stat().st_size < 2_000_000


def test_progress_is_called_with_increasing_fractions(frame):
    seen = []
    train_agent(_tiny(), frame=frame, save=False, progress=lambda f, m: seen.append((f, m)))
    fractions = [f for f, _ in seen]
    assert len(fractions) == 2 and fractions == sorted(set(fractions)) and fractions[-1] == 1.0
    assert "momentum" in seen[0][1]


def test_training_leaves_no_logger_folder_in_the_temp_dir(tmp_path, frame, monkeypatch):
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # SB3's default logger would write here
    train_agent(_tiny(), frame=frame, save=False)
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith("SB3-")] == []


def test_cancel_stops_training_and_writes_nothing(tmp_path, frame):
    calls = []

    def cancel() -> bool:
        calls.append(1)
        return len(calls) > 1

    with pytest.raises(TrainingCancelled):
        train_agent(_tiny(timesteps=10_000), frame=frame, out_dir=tmp_path, cancel=cancel)
    assert len(calls) == 2  # stopped at the second check, long before 10,000 steps
    assert list(tmp_path.iterdir()) == []


def test_train_all_agents_in_process_publishes_everything(tmp_path, small_csv):
    summaries = train_all_agents(csv=str(small_csv), personalities=["conservative", "mean_reversion"], processes=1,
                                 out_dir=tmp_path, live=False, **(TINY | {"timesteps": 128}))
    assert [s["personality"] for s in summaries] == ["conservative", "mean_reversion"]
    assert sorted(p.name for p in (tmp_path / "SMALL").iterdir()) == ["conservative", "mean_reversion"]
    for name in ("conservative", "mean_reversion"):
        assert sorted(p.name for p in (tmp_path / "SMALL" / name).iterdir()) == [
            "seed0.json", "seed0.npz", "seed0.zip"]
    assert [p.name for p in tmp_path.iterdir()] == ["SMALL"]  # no staging folder left behind
    assert all(s["peak_rss_mb"] > 0 for s in summaries)


def test_train_all_agents_cancel_writes_nothing(tmp_path, small_csv):
    with pytest.raises(TrainingCancelled):
        train_all_agents(csv=str(small_csv), processes=1, out_dir=tmp_path, live=False, cancel=lambda: True, **TINY)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow
def test_train_all_agents_in_two_processes(tmp_path, small_csv):
    summaries = train_all_agents(csv=str(small_csv), processes=2, out_dir=tmp_path, live=False,
                                 personalities=["aggressive", "momentum"], **(TINY | {"timesteps": 128}))
    assert [s["personality"] for s in summaries] == ["aggressive", "momentum"]
    assert len({s["pid"] for s in summaries}) == 2  # each in its own spawned process
    assert len(list((tmp_path / "SMALL").glob("*/seed0.json"))) == 2


# --- CLI ------------------------------------------------------------------------------------------------


def test_cli_unknown_personality_lists_valid_ones_and_exits_2(capsys):
    assert cli_main(["train", "--ticker", "AAPL", "--personality", "reckless"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and all(name in err for name in PERSONALITIES)


def test_cli_rejects_a_bad_budget_and_bad_data(capsys, tmp_path):
    assert cli_main(["train", "--ticker", "AAPL", "--timesteps", "0"]) == 2
    assert "--timesteps" in capsys.readouterr().err
    short = tmp_path / "short.csv"
    pd.read_csv(DATA / "AAPL.csv").iloc[:100].to_csv(short, index=False)
    assert cli_main(["train", "--csv", str(short), "--out", str(tmp_path / "m")]) == 2
    assert "rows" in capsys.readouterr().err


def test_cli_train_writes_models_and_json(tmp_path, small_csv, capsys):
    out = tmp_path / "summary.json"
    code = cli_main(["train", "--csv", str(small_csv), "--personality", "aggressive", "--timesteps", "64",
                     "--processes", "1", "--out", str(tmp_path / "m"), "--json", str(out)])
    assert code == 0
    payload = json.loads(out.read_text())
    assert payload["agents"][0]["personality"] == "aggressive"
    assert "OOS ret" in capsys.readouterr().out
    assert (tmp_path / "m" / "SMALL" / "aggressive" / "seed0.npz").is_file()


# --- seeds ----------------------------------------------------------------------------------------------


def test_several_seeds_are_trained_and_a_personality_folder_is_replaced_whole(tmp_path, small_csv):
    old = tmp_path / "SMALL"
    (old / "momentum").mkdir(parents=True)
    (old / "momentum" / "seed9.json").write_text("{}")  # an older set of momentum: replaced as a whole
    (old / "momentum.json").write_text("{}")  # the single-file layout before seeds: removed
    (old / "aggressive").mkdir()
    (old / "aggressive" / "seed9.json").write_text("{}")  # a personality not trained now: kept
    summaries = train_all_agents(csv=str(small_csv), personalities=["momentum"], seeds=[0, 1], processes=1,
                                 out_dir=tmp_path, live=False, **(TINY | {"timesteps": 128}))
    assert [(s["personality"], s["seed"]) for s in summaries] == [("momentum", 0), ("momentum", 1)]
    assert sorted(p.name for p in old.iterdir()) == ["aggressive", "momentum"]
    assert sorted(p.name for p in (old / "momentum").iterdir()) == sorted(
        f"seed{k}.{e}" for k in (0, 1) for e in ("json", "npz", "zip"))
    assert (old / "aggressive" / "seed9.json").is_file()
    assert summaries[1]["paths"]["card"] == str(tmp_path.resolve() / "SMALL" / "momentum" / "seed1.json")
    cards = [json.loads((old / "momentum" / f"seed{k}.json").read_text()) for k in (0, 1)]
    assert [c["seed"] for c in cards] == [0, 1] and cards[0]["config"]["seed"] == 0
    p0, p1 = (NumpyPolicy.load(old / "momentum" / f"seed{k}.npz") for k in (0, 1))
    assert not np.array_equal(p0.weights[0], p1.weights[0])  # different seeds, different agents
    assert "mean_reward" in cards[0]["metrics"]["out_of_sample"]


def test_seed_lists_are_checked(tmp_path, small_csv):
    for bad, message in (([], "at least one"), ([1, 1], "once"), ([-1], "whole numbers"), ([True], "whole")):
        with pytest.raises(ValueError, match=message):
            train_all_agents(csv=str(small_csv), seeds=bad, processes=1, out_dir=tmp_path, live=False, **TINY)


def test_cli_train_with_seeds(tmp_path, small_csv, capsys):
    code = cli_main(["train", "--csv", str(small_csv), "--personality", "aggressive", "--timesteps", "64",
                     "--seeds", "0-1", "--processes", "1", "--out", str(tmp_path / "m")])
    assert code == 0
    assert sorted(p.name for p in (tmp_path / "m" / "SMALL" / "aggressive").glob("*.json")) == [
        "seed0.json", "seed1.json"]
    out = capsys.readouterr().out
    assert any(line.startswith("ticker") and " seed " in line for line in out.splitlines())
    assert cli_main(["train", "--csv", str(small_csv), "--seeds", "3-1"]) == 2
    assert "--seeds" in capsys.readouterr().err


@pytest.mark.slow
def test_make_models_trains_every_shipped_seed_through_train_shipped(tmp_path, capsys):
    """`make models` runs `python -m core train-shipped` (5 seeds x 4 personalities x 3 tickers); here on a
    tiny budget, one ticker and two seeds."""
    import re

    from core.training import SHIPPED_SEEDS

    makefile = (Path(__file__).resolve().parents[2] / "Makefile").read_text()
    recipe = re.search(r"^models:.*\n\t(.+)$", makefile, re.M).group(1)
    assert recipe.endswith("-m core train-shipped") and SHIPPED_SEEDS == (0, 1, 2, 3, 4)
    out = tmp_path / "train.json"
    assert cli_main(["train-shipped", "--timesteps", "64", "--seeds", "0,1", "--tickers", "AAPL", "--processes", "1",
                     "--out", str(tmp_path / "m"), "--json", str(out)]) == 0
    payload = json.loads(out.read_text())
    assert payload["seeds"] == [0, 1] and payload["tickers"] == ["AAPL"] and len(payload["agents"]) == 8
    for name in PERSONALITIES:
        folder = tmp_path / "m" / "AAPL" / name
        assert sorted(p.name for p in folder.iterdir()) == sorted(
            f"seed{k}.{e}" for k in (0, 1) for e in ("json", "npz", "zip"))
        card = json.loads((folder / "seed1.json").read_text())
        assert card["seed"] == 1 and card["data"]["source"] == "bundled" and card["config"]["vec_env"] == "arena"
    from core.agents import load_agent_seeds

    assert load_agent_seeds("AAPL", tmp_path / "m").seeds == (0, 1)
    assert "trained 8 agents" in capsys.readouterr().out
    assert cli_main(["train-shipped", "--tickers", "MSFT"]) == 2
