"""A Stable-Baselines3 `VecEnv` over the batched numpy arena: the fast training path of one personality.

`ArenaVecEnv` steps `n_envs` market windows of one personality together through `core.env.BatchArena`
(one numpy call per step for every window, instead of one Python env per window behind a DummyVecEnv).
Each window is an episode of `episode_bars` bars starting at a random bar of the training period; a
window whose episode ended restarts at once at a new random bar (SB3's auto-reset convention: the step
that ends an episode returns the first observation of the next one, the last observation of the ended
episode is in `infos[i]["terminal_observation"]`, and `infos[i]["TimeLimit.truncated"]` is True so PPO
bootstraps the value of the cut-off episode, as it does for the gymnasium env's truncation).

Only the acting personality has an account: without a shared market the other agents of the arena do not
move its fills, prices or rewards, so leaving them out changes nothing it sees (tests/core/test_vecenv.py
plays the same actions through the PettingZoo env, the other agents holding flat, and compares every
observation, reward and episode end).

Staggered episodes: each window's FIRST episode is cut at a random length, so that from then on the
windows' episodes end at different steps. Without it all 64 episodes would start and end together, and each
short rollout (16 steps) would hold only one phase of an episode (e.g. 64 fresh, flat accounts), so every
PPO update would see a biased slice of the states; with it every rollout mixes all phases, as the old
path's rollouts (whole 256-step episodes) did.

Seeding: `seed(s)` (what PPO(seed=s) calls) seeds the generator of the episode starts at the next reset.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import gymnasium
import numpy as np
import pandas as pd
from stable_baselines3.common.vec_env.base_vec_env import VecEnv, VecEnvIndices

from core.env import OBS_DIM, BatchArena
from core.features import SCALER_CLIP, FeatureScaler
from core.personalities import N_LEVELS, get_personality
from core.sim import Costs


class ArenaVecEnv(VecEnv):
    """`n_envs` training windows of one personality, stepped together (module docstring).

    Parameters
    ----------
    frame: OHLCV frame (indicators added when missing).
    personality: the acting agent.
    n_envs: number of parallel windows.
    start, end: the training period's bars [start, end); episodes start at random bars inside it.
    episode_bars: episode length in bars.
    costs: commission and slippage.
    cash0: starting cash.
    scaler: feature scaler fit on the training rows.
    seed: seed of the episode starts (PPO's seed replaces it through `seed()`).
    stagger: cut each window's first episode at a random length (module docstring).
    """

    def __init__(
        self,
        frame: pd.DataFrame,
        personality: str,
        *,
        n_envs: int,
        start: int,
        end: int,
        episode_bars: int = 256,
        costs: Costs | None = None,
        cash0: float = 100_000.0,
        scaler: FeatureScaler | None = None,
        seed: int | None = None,
        stagger: bool = True,
    ) -> None:
        self.personality = get_personality(personality).name
        self.batch = BatchArena(
            frame, n_envs=n_envs, personalities=(self.personality,), start=start, end=end,
            episode_bars=episode_bars, costs=costs, cash0=cash0, scalers=scaler, seed=seed, stagger=stagger,
        )
        self.render_mode = None
        observation_space = gymnasium.spaces.Box(-SCALER_CLIP, SCALER_CLIP, shape=(OBS_DIM,), dtype=np.float32)
        super().__init__(n_envs, observation_space, gymnasium.spaces.Discrete(N_LEVELS))
        self._actions = np.zeros((n_envs, 1), dtype=np.int64)

    # --- the VecEnv protocol -----------------------------------------------------------------------
    def reset(self) -> np.ndarray:
        if self._seeds[0] is not None:
            self.batch.rng = np.random.default_rng(self._seeds[0])
        self._reset_seeds()
        self._reset_options()
        return self.batch.reset()[:, 0]

    def step_async(self, actions: np.ndarray) -> None:
        self._actions[:, 0] = np.asarray(actions).reshape(-1)

    def step_wait(self):
        obs, rewards, done = self.batch.step(self._actions)
        infos: list[dict[str, Any]] = [{} for _ in range(self.num_envs)]
        if self.batch.terminal_obs is not None:
            for row, last in zip(np.flatnonzero(done), self.batch.terminal_obs, strict=True):
                infos[row] = {"terminal_observation": last[0], "TimeLimit.truncated": True}
        return obs[:, 0], rewards[:, 0].astype(np.float32), done.copy(), infos

    def close(self) -> None:
        return None

    def get_attr(self, attr_name: str, indices: VecEnvIndices = None) -> list[Any]:
        return [getattr(self, attr_name, None) for _ in self._get_indices(indices)]

    def set_attr(self, attr_name: str, value: Any, indices: VecEnvIndices = None) -> None:
        setattr(self, attr_name, value)

    def env_method(self, method_name: str, *method_args, indices: VecEnvIndices = None, **method_kwargs) -> list:
        method = getattr(self, method_name)
        return [method(*method_args, **method_kwargs) for _ in self._get_indices(indices)]

    def env_is_wrapped(self, wrapper_class, indices: VecEnvIndices = None) -> list[bool]:
        return [False for _ in self._get_indices(indices)]

    def get_images(self) -> Sequence[np.ndarray | None]:
        return [None for _ in range(self.num_envs)]

    # --- inspection (tests) --------------------------------------------------------------------------
    @property
    def starts(self) -> np.ndarray:
        """First bar of each window's current episode."""
        return self.batch.starts.copy()

    @property
    def last_bars(self) -> np.ndarray:
        """Last bar of each window's current episode."""
        return self.batch.last_bars.copy()
