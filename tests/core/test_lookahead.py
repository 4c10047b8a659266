"""Look-ahead canary (RELIABILITY #17): change every price after bar k; nothing decided up to k may change.

Checked for the features, the env (observations and rewards), random numpy policies, a tiny-budget trained
agent and the shipped models.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from core import PERSONALITIES
from core.agents import load_agents, run_policies
from core.env import Market, TradingArenaEnv
from core.features import FeatureScaler, contrarian_signal, market_features, trend_signal
from core.indicators import add_indicators
from core.personalities import get_personality
from core.registry import models_root
from core.sim import Costs
from core.training import SHIPPED_TICKERS, TrainConfig, train_agent
from tests.core.test_registry import random_policy

DATA = Path(__file__).resolve().parents[2] / "data"
PRICE_COLUMNS = ("open", "high", "low", "close")


def perturb_after(frame: pd.DataFrame, k: int, seed: int = 0) -> pd.DataFrame:
    """A copy whose prices after bar k follow a different random path (bars <= k untouched)."""
    out = frame[["date", "open", "high", "low", "close", "volume"]].copy()
    n = len(out) - k - 1
    factor = np.exp(np.cumsum(np.random.default_rng(seed).normal(0, 0.05, size=n)))
    for col in PRICE_COLUMNS:
        out.loc[out.index[k + 1 :], col] = out[col].to_numpy()[k + 1 :] * factor
    out.loc[out.index[k + 1 :], "volume"] = out["volume"].to_numpy()[k + 1 :] * 3
    return out


@pytest.fixture(scope="module")
def raw() -> pd.DataFrame:
    return pd.read_csv(DATA / "AAPL.csv").iloc[:1200].reset_index(drop=True)


def test_perturbation_really_changes_the_future(raw):
    moved = perturb_after(raw, 1000)
    pd.testing.assert_frame_equal(moved.iloc[:1001], raw.iloc[:1001], check_dtype=False)
    assert (moved["close"].to_numpy()[1001:] != raw["close"].to_numpy()[1001:]).all()


def test_features_and_signals_up_to_k_ignore_the_future(raw):
    k = 1000
    moved = perturb_after(raw, k)
    for fn in (market_features, trend_signal, contrarian_signal):
        a, b = fn(add_indicators(raw)), fn(add_indicators(moved))
        np.testing.assert_array_equal(a[: k + 1], b[: k + 1])
        assert not np.array_equal(a[k + 1 :], b[k + 1 :])


def test_env_observations_and_rewards_up_to_k_ignore_the_future(raw):
    k, start, end = 1000, 850, 1200
    scaler = FeatureScaler.fit(market_features(raw), 40, 800)  # training rows, all before k
    actions = np.random.default_rng(0).integers(0, 5, size=(end - start - 1, 4))
    traces = []
    for data in (raw, perturb_after(raw, k)):
        env = TradingArenaEnv(data, start=start, end=end, scalers=scaler)
        obs, _ = env.reset(seed=0)
        seen, rewards = [np.stack([obs[a] for a in PERSONALITIES])], []
        for row in actions:
            obs, rew, _, _, _ = env.step(dict(zip(PERSONALITIES, row.tolist(), strict=True)))
            seen.append(np.stack([obs[a] for a in PERSONALITIES]))
            rewards.append([rew[a] for a in PERSONALITIES])
        traces.append((np.asarray(seen), np.asarray(rewards)))
    (obs_a, rew_a), (obs_b, rew_b) = traces
    upto = k - start  # observation index of bar k
    np.testing.assert_array_equal(obs_a[: upto + 1], obs_b[: upto + 1])
    np.testing.assert_array_equal(rew_a[:upto], rew_b[:upto])  # reward of step i is realised at bar start+i+1
    assert not np.array_equal(obs_a[upto + 1 :], obs_b[upto + 1 :])


def _decisions_agree_up_to_k(rollouts_a, rollouts_b, k: int, start: int) -> None:
    for name in rollouts_a:
        a, b = rollouts_a[name], rollouts_b[name]
        np.testing.assert_array_equal(a.actions[: k - start + 1], b.actions[: k - start + 1], err_msg=name)
        np.testing.assert_array_equal(a.probs[: k - start + 1], b.probs[: k - start + 1], err_msg=name)


def test_numpy_policies_decide_the_same_up_to_k(raw):
    k, start, end = 1000, 850, 1200
    scaler = FeatureScaler.fit(market_features(raw), 40, 800)
    pers = [get_personality(n) for n in PERSONALITIES]
    policies = [random_policy(seed=i) for i in range(4)]
    out = [
        run_policies(Market.from_frame(data), pers, policies, [scaler] * 4, start, end, Costs())
        for data in (raw, perturb_after(raw, k))
    ]
    _decisions_agree_up_to_k(out[0], out[1], k, start)


def test_tiny_trained_agent_decides_the_same_up_to_k(tmp_path, raw):
    config = TrainConfig(personality="mean_reversion", ticker="AAPL", timesteps=256, n_steps=64, n_envs=2,
                         batch_size=64, n_epochs=1, episode_bars=64)
    summary = train_agent(config, frame=raw, out_dir=tmp_path)
    test = summary["card"]["split"]["test"]
    start, end = test["first_bar"], test["end_bar"]
    k = start + 100
    agents = load_agents("AAPL", tmp_path, ["mean_reversion"])
    a = agents.rollout(add_indicators(raw), start, end, Costs())
    b = agents.rollout(add_indicators(perturb_after(raw, k)), start, end, Costs())
    _decisions_agree_up_to_k(a, b, k, start)


@pytest.mark.parametrize("ticker", SHIPPED_TICKERS)
def test_shipped_models_decide_the_same_up_to_k(ticker):
    agents = load_agents(ticker, models_root())
    test = agents.cards["aggressive"]["split"]["test"]
    start, end = test["first_bar"], test["end_bar"]
    k = start + 250
    data = pd.read_csv(DATA / f"{ticker}.csv")
    a = agents.rollout(add_indicators(data), start, end, Costs())
    b = agents.rollout(add_indicators(perturb_after(data, k, seed=1)), start, end, Costs())
    _decisions_agree_up_to_k(a, b, k, start)
