"""The fast training env (core.vecenv.ArenaVecEnv over BatchArena) equals the PettingZoo env step for step."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from core import PERSONALITIES
from core.env import OBS_DIM, TradingArenaEnv
from core.features import FeatureScaler, market_features
from core.indicators import add_indicators
from core.sim import Costs
from core.vecenv import ArenaVecEnv

DATA = Path(__file__).resolve().parents[2] / "data"
START, END, EPISODE, ROWS = 40, 700, 30, 6
COSTS = Costs(commission_bps=7, slippage_bps=3)


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return add_indicators(pd.read_csv(DATA / "TSLA.csv").iloc[:800].reset_index(drop=True))


@pytest.fixture(scope="module")
def scaler(frame) -> FeatureScaler:
    return FeatureScaler.fit(market_features(frame), START, END)


def _pettingzoo(frame, scaler, first_bar: int, last_bar: int) -> tuple[TradingArenaEnv, dict]:
    """The PettingZoo env playing one episode [first_bar, last_bar] with all four agents."""
    env = TradingArenaEnv(frame, start=first_bar, end=last_bar + 1, episode_bars=None, costs=COSTS,
                          cash0=50_000.0, scalers=scaler)
    obs, _ = env.reset(seed=0)
    return env, obs


@pytest.mark.parametrize(("personality", "stagger"), [(p, p != "momentum") for p in PERSONALITIES])
def test_vec_env_equals_the_pettingzoo_env_step_for_step(frame, scaler, personality, stagger):
    """Same actions for the acting agent, the other three hold flat in the PettingZoo env: every observation,
    reward, episode end and terminal observation agree, across several auto-resets of every row (with the
    first episodes cut at random lengths, or not)."""
    venv = ArenaVecEnv(frame, personality, n_envs=ROWS, start=START, end=END, episode_bars=EPISODE, costs=COSTS,
                       cash0=50_000.0, scaler=scaler, seed=3, stagger=stagger)
    obs = venv.reset()
    assert obs.shape == (ROWS, OBS_DIM) and obs.dtype == np.float32
    first_lengths = venv.last_bars - venv.starts
    assert (first_lengths >= 1).all() and (first_lengths <= EPISODE - 1).all()
    assert (len(set(first_lengths)) > 1) == stagger
    envs = []
    for row, (first, last) in enumerate(zip(venv.starts, venv.last_bars, strict=True)):
        env, first_obs = _pettingzoo(frame, scaler, int(first), int(last))
        envs.append(env)
        np.testing.assert_array_equal(obs[row], first_obs[personality])
    rng = np.random.default_rng(1)
    ended = 0
    for _ in range(3 * EPISODE + 5):
        actions = rng.integers(0, 5, size=ROWS)
        obs, rewards, dones, infos = venv.step(actions)
        assert rewards.dtype == np.float32 and dones.dtype == bool
        for row in range(ROWS):
            acts = {a: (int(actions[row]) if a == personality else 0) for a in PERSONALITIES}
            env_obs, env_rewards, terminated, truncated, _ = envs[row].step(acts)
            np.testing.assert_allclose(rewards[row], env_rewards[personality], rtol=1e-6, atol=1e-9)
            assert not terminated[personality]
            assert bool(dones[row]) == truncated[personality]
            if dones[row]:
                ended += 1
                np.testing.assert_array_equal(infos[row]["terminal_observation"], env_obs[personality])
                assert infos[row]["TimeLimit.truncated"] is True
                assert venv.last_bars[row] - venv.starts[row] == EPISODE - 1  # later episodes are whole
                envs[row], first_obs = _pettingzoo(frame, scaler, int(venv.starts[row]), int(venv.last_bars[row]))
                np.testing.assert_array_equal(obs[row], first_obs[personality])
            else:
                assert infos[row] == {}
                np.testing.assert_array_equal(obs[row], env_obs[personality])
    assert ended >= 3 * ROWS  # every row ended three episodes or more: auto-resets were compared too


def test_episode_starts_are_seeded_and_inside_the_training_period(frame, scaler):
    def starts(seed):
        venv = ArenaVecEnv(frame, "momentum", n_envs=64, start=START, end=END, episode_bars=EPISODE, scaler=scaler)
        venv.seed(seed)
        venv.reset()
        seen = [venv.starts]
        for _ in range(2 * EPISODE):
            venv.step(np.zeros(64, dtype=np.int64))
            seen.append(venv.starts)
        return np.concatenate(seen)

    a, b, c = starts(5), starts(5), starts(6)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    assert a.min() >= START and a.max() + EPISODE <= END


def test_ppo_trains_on_it_with_the_vec_env_api(frame, scaler):
    from stable_baselines3 import PPO

    venv = ArenaVecEnv(frame, "aggressive", n_envs=8, start=START, end=END, episode_bars=EPISODE, scaler=scaler)
    assert venv.env_is_wrapped(object) == [False] * 8 and venv.get_attr("render_mode") == [None] * 8
    model = PPO("MlpPolicy", venv, n_steps=16, batch_size=64, n_epochs=1, seed=0, device="cpu")
    model.learn(256)
    assert model.num_timesteps == 256
    actions, _ = model.predict(venv.reset(), deterministic=True)
    assert actions.shape == (8,)
