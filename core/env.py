"""The multi-agent trading arena: a PettingZoo ParallelEnv and a batched numpy twin for fast rollouts.

Timing (no look-ahead): the observation at bar t is built from data up to bar t's close; the action
taken on it is a target exposure that fills at bar t+1's open through `core.sim.rebalance` (the shared
trading rules), an order being sent only when an agent's level changes. The reward is computed at bar
t+1's close. An episode over bars [s, e) has e - s - 1 steps (a decision on the last bar never fills),
so the env's accounts equal `core.sim.simulate(open[s:e], close[s:e], targets)` exactly.

Action space: Discrete(5) for every agent; level k means a target exposure of k / 4 x the personality's
position cap (Conservative 0.5, the others 1.0): flat, a quarter, half, three quarters, full cap.

Observation (Box(-5, 5, (14,), float32)), see OBSERVATION_NAMES:
    8 market features scaled by the agent's FeatureScaler (fit on training rows, clipped to +-5),
    the trend and contrarian signals (what Momentum and Mean-Reversion are rewarded on, in [-1, 1]),
    cash / equity, units x close / equity, current level / 4, drawdown from the account's peak equity.

Shared market (`shared_market=True`): the agents' net order flow at a bar moves that bar's fill price for
all of them: price_shift = impact x (net signed notional wanted by all agents at the open) / (total
equity of all agents), applied as `rebalance(..., price_shift=...)`; buying together costs more.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import gymnasium
import numpy as np
import pandas as pd
from gymnasium.utils import seeding
from pettingzoo import ParallelEnv

from core import PERSONALITIES
from core.features import (
    MARKET_FEATURES,
    SCALER_CLIP,
    FeatureScaler,
    contrarian_signal,
    first_valid_bar,
    market_features,
    trend_signal,
    with_indicators,
)
from core.personalities import (
    N_LEVELS,
    REWARD_SCALE,
    Personality,
    RewardParams,
    resolve_personalities,
    shaped_reward,
)
from core.sim import Costs, rebalance, rebalance_one

OBSERVATION_NAMES: tuple[str, ...] = MARKET_FEATURES + (
    "trend_signal",
    "contrarian_signal",
    "cash_fraction",
    "position_fraction",
    "level_fraction",
    "drawdown",
)
OBS_DIM = len(OBSERVATION_NAMES)
_LEVEL_STEP = 1.0 / (N_LEVELS - 1)
DEFAULT_IMPACT = 0.01
"""Shared market: trading the whole arena's equity in one direction moves the fill price by 1%."""


@dataclass(frozen=True)
class Market:
    """Price and feature arrays of one OHLCV frame, computed once (the hot path only indexes them)."""

    open: np.ndarray
    close: np.ndarray
    features: np.ndarray
    """Unscaled market features (n_bars, 8), NaN in the warm-up."""
    trend: np.ndarray
    contrarian: np.ndarray
    first_valid: int
    """First bar at which every feature is defined."""

    @classmethod
    def from_frame(cls, frame: pd.DataFrame) -> Market:
        frame = with_indicators(frame)
        feats = market_features(frame)
        return cls(
            open=frame["open"].to_numpy(dtype=float),
            close=frame["close"].to_numpy(dtype=float),
            features=feats,
            trend=trend_signal(frame),
            contrarian=contrarian_signal(frame),
            first_valid=first_valid_bar(feats),
        )

    @property
    def n_bars(self) -> int:
        return self.close.size


def _check_window(market: Market, start: int | None, end: int | None) -> tuple[int, int]:
    n = market.n_bars
    min_rows = market.first_valid + 2
    if n < min_rows:
        raise ValueError(
            f"the data has {n} bars; the arena needs at least {min_rows} (indicator warm-up + 2 bars)"
        )
    start = market.first_valid if start is None else int(start)
    end = n if end is None else int(end)
    if start < market.first_valid:
        raise ValueError(
            f"start bar {start} is inside the indicator warm-up; use start >= {market.first_valid}"
        )
    if end > n or end - start < 2:
        raise ValueError(f"window [{start}, {end}) must hold at least 2 bars and end at or before bar {n}")
    return start, end


class ArenaCore:
    """Vectorised accounts of B parallel market windows x A agents (arrays of shape (B, A)).

    Parameters
    ----------
    market: the precomputed price and feature arrays.
    personalities: the A agents.
    scalers: one FeatureScaler per agent.
    costs: commission and slippage.
    cash0: starting cash of every account.
    shared_market: agents' net order flow moves the fill price (see the module docstring).
    impact: price impact coefficient for the shared market.
    """

    def __init__(
        self,
        market: Market,
        personalities: Sequence[Personality],
        scalers: Sequence[FeatureScaler],
        costs: Costs,
        cash0: float,
        shared_market: bool = False,
        impact: float = DEFAULT_IMPACT,
    ) -> None:
        self.market = market
        self.costs = costs
        self.cash0 = float(cash0)
        self.shared_market = shared_market
        self.impact = float(impact)
        self.caps = np.array([p.position_cap for p in personalities])
        self.params = RewardParams.of(personalities)
        n, a = market.n_bars, len(personalities)
        static = np.zeros((n, a, len(MARKET_FEATURES) + 2), dtype=np.float32)
        for i, scaler in enumerate(scalers):
            static[:, i, : len(MARKET_FEATURES)] = np.nan_to_num(scaler.transform(market.features))
        static[:, :, -2] = np.nan_to_num(market.trend)[:, None]
        static[:, :, -1] = np.nan_to_num(market.contrarian)[:, None]
        self.static_obs = static
        self.t = np.zeros(0, dtype=np.int64)

    def reset(self, starts: np.ndarray) -> np.ndarray:
        """Start flat accounts at the given bars (one per batch row); returns observations (B, A, D)."""
        b, a = len(starts), self.caps.size
        self.t = np.asarray(starts, dtype=np.int64).copy()
        self.cash = np.full((b, a), self.cash0)
        self.units = np.zeros((b, a))
        self.level = np.zeros((b, a), dtype=np.int64)
        self.target = np.zeros((b, a))
        self.peak = np.full((b, a), self.cash0)
        self.drawdown = np.zeros((b, a))
        self.equity = np.full((b, a), self.cash0)
        self.last_fill = None
        return self.observe()

    def observe(self) -> np.ndarray:
        obs = np.empty((self.t.size, self.caps.size, OBS_DIM), dtype=np.float32)
        obs[:, :, :-4] = self.static_obs[self.t]
        obs[:, :, -4] = self.cash / self.equity
        obs[:, :, -3] = self.units * self.market.close[self.t][:, None] / self.equity
        obs[:, :, -2] = self.level * (1.0 / (N_LEVELS - 1))
        obs[:, :, -1] = self.drawdown
        return obs

    def step(self, actions: np.ndarray) -> np.ndarray:
        """Apply actions (B, A) decided at bars t; fill at t+1's open; return rewards (B, A) at t+1's close.

        After the call self.t has advanced by one and self.last_fill holds (changed, traded, price, cost)
        of the fills (or None when no level changed).
        """
        actions = np.asarray(actions, dtype=np.int64)
        if actions.min() < 0 or actions.max() >= N_LEVELS:
            raise ValueError(f"actions must be levels 0..{N_LEVELS - 1}, got {np.unique(actions).tolist()}")
        target = actions * (1.0 / (N_LEVELS - 1)) * self.caps
        t0 = self.t
        t1 = t0 + 1
        changed = target != self.target
        self.last_fill = None
        if changed.any():
            open1 = self.market.open[t1][:, None]
            shift = 0.0
            if self.shared_market:
                equity_open = self.cash + self.units * open1
                wanted = np.where(changed, target * equity_open - self.units * open1, 0.0)
                shift = self.impact * wanted.sum(axis=1, keepdims=True) / equity_open.sum(axis=1, keepdims=True)
            cash, units, traded, price, cost = rebalance(
                self.cash, self.units, target, open1, self.costs, price_shift=shift
            )
            self.cash = np.where(changed, cash, self.cash)
            self.units = np.where(changed, units, self.units)
            self.last_fill = (changed, np.where(changed, traded, 0.0), price, np.where(changed, cost, 0.0))
        self.target = target
        self.level = actions
        equity = self.cash + self.units * self.market.close[t1][:, None]
        log_return = np.log(equity / self.equity)
        self.peak = np.maximum(self.peak, equity)
        drawdown = 1.0 - equity / self.peak
        rewards = shaped_reward(
            self.params,
            log_return,
            np.maximum(drawdown - self.drawdown, 0.0),
            target,
            self.market.trend[t0][:, None],
            self.market.contrarian[t0][:, None],
        )
        self.equity = equity
        self.drawdown = drawdown
        self.t = t1
        return rewards


def _scalers_for(
    personalities: Sequence[Personality],
    scalers: FeatureScaler | Mapping[str, FeatureScaler] | None,
    market: Market,
    start: int,
    end: int,
) -> list[FeatureScaler]:
    if scalers is None:
        fitted = FeatureScaler.fit(market.features, start, end)
        return [fitted] * len(personalities)
    if isinstance(scalers, FeatureScaler):
        return [scalers] * len(personalities)
    missing = [p.name for p in personalities if p.name not in scalers]
    if missing:
        raise ValueError(f"scalers given for some personalities but not for {missing}")
    return [scalers[p.name] for p in personalities]


class TradingArenaEnv(ParallelEnv):
    """PettingZoo ParallelEnv: the four personalities trade one market side by side (see module docstring).

    Parameters
    ----------
    frame: daily OHLCV frame (indicator columns are added when missing).
    personalities: the agents, by name (default: all four).
    start: first bar of the window (default: the first bar after the indicator warm-up).
    end: one past the last bar of the window (default: the last bar of the frame).
    episode_bars: episode length in bars with a random start inside the window (training); None plays
        the whole window from `start` (evaluation).
    costs: commission and slippage (default 10 + 5 bps).
    cash0: starting cash of every account.
    shared_market: when True the agents' net order flow moves the fill price (price impact).
    impact: price impact coefficient; only meaningful with shared_market=True.
    scalers: a FeatureScaler for everyone, or one per personality name; None fits one on the window's
        rows (pass the training-fit scaler when evaluating on test data).
    render_mode: only None is supported.
    """

    metadata = {"name": "neon_arena_v0", "render_modes": []}

    def __init__(
        self,
        frame: pd.DataFrame,
        *,
        personalities: Sequence[str] = PERSONALITIES,
        start: int | None = None,
        end: int | None = None,
        episode_bars: int | None = None,
        costs: Costs | None = None,
        cash0: float = 100_000.0,
        shared_market: bool = False,
        impact: float = DEFAULT_IMPACT,
        scalers: FeatureScaler | Mapping[str, FeatureScaler] | None = None,
        render_mode: str | None = None,
    ) -> None:
        if render_mode is not None:
            raise ValueError("render_mode must be None: the arena is drawn by the web app, not the env")
        if not cash0 > 0:
            raise ValueError(f"cash0 must be positive, got {cash0}")
        if impact < 0:
            raise ValueError(f"impact must be >= 0, got {impact}")
        if impact != DEFAULT_IMPACT and not shared_market:
            raise ValueError("impact only applies to a shared market: pass shared_market=True as well")
        self.personalities = resolve_personalities(tuple(personalities))
        self.market = Market.from_frame(frame)
        self.start, self.end = _check_window(self.market, start, end)
        window = self.end - self.start
        if episode_bars is not None and not 2 <= int(episode_bars) <= window:
            raise ValueError(f"episode_bars must be between 2 and the window length {window}, got {episode_bars}")
        self.episode_bars = None if episode_bars is None else int(episode_bars)
        self.costs = costs or Costs()
        self.cash0 = float(cash0)
        self.render_mode = render_mode
        self.scalers = _scalers_for(self.personalities, scalers, self.market, self.start, self.end)
        self.core = ArenaCore(
            self.market, self.personalities, self.scalers, self.costs, self.cash0, shared_market, impact
        )
        self.possible_agents = [p.name for p in self.personalities]
        self.agents: list[str] = []
        self._index = {name: i for i, name in enumerate(self.possible_agents)}
        self.np_random, self.np_random_seed = seeding.np_random(None)
        self._last_bar = self.end - 1
        # hot-path copies: python floats index faster than numpy scalars
        self._open, self._close = self.market.open.tolist(), self.market.close.tolist()
        self._trend = np.nan_to_num(self.market.trend).tolist()
        self._contrarian = np.nan_to_num(self.market.contrarian).tolist()
        self._static = self.core.static_obs
        self._level_tables = [
            (p.name, {k: (k, k * _LEVEL_STEP * p.position_cap) for k in range(N_LEVELS)}) for p in self.personalities
        ]
        self._fee, self._slip = self.costs.fee, self.costs.slip
        self._reward_weights = [
            (p.drawdown_penalty * REWARD_SCALE, p.volatility_penalty, p.trend_bonus, p.contrarian_bonus)
            for p in self.personalities
        ]
        self._shared_market, self._impact = bool(shared_market), float(impact)
        self._start_accounts(self.start)

    @functools.lru_cache(maxsize=None)  # noqa: B019 - PettingZoo's documented pattern; env lives long
    def observation_space(self, agent: str) -> gymnasium.spaces.Box:
        return gymnasium.spaces.Box(low=-SCALER_CLIP, high=SCALER_CLIP, shape=(OBS_DIM,), dtype=np.float32)

    @functools.lru_cache(maxsize=None)  # noqa: B019
    def action_space(self, agent: str) -> gymnasium.spaces.Discrete:
        return gymnasium.spaces.Discrete(N_LEVELS)

    def episode_start(self) -> int:
        """First bar of the next episode: the window start, or a random one when episode_bars is set."""
        if self.episode_bars is None:
            return self.start
        span = self.end - self.start - self.episode_bars
        return self.start + int(self.np_random.integers(0, span + 1))

    def reset(self, seed: int | None = None, options: dict | None = None):
        if seed is not None:
            self.np_random, self.np_random_seed = seeding.np_random(seed)
        start = self.episode_start()
        self._last_bar = (self.end if self.episode_bars is None else start + self.episode_bars) - 1
        self.agents = list(self.possible_agents)
        self._start_accounts(start)
        obs = self._observe()
        return {a: obs[i] for i, a in enumerate(self.agents)}, {a: {} for a in self.agents}

    def _start_accounts(self, start: int) -> None:
        n = len(self.possible_agents)
        self._t = start
        self._cash = [self.cash0] * n
        self._units = [0.0] * n
        self._level = [0] * n
        self._target = [0.0] * n
        self._peak = [self.cash0] * n
        self._drawdown = [0.0] * n
        self._equity = [self.cash0] * n
        self.last_fills: list[tuple[float, float, float] | None] = [None] * n
        """Per agent: (signed units, fill price, cost) of the last step's fill, or None (no order)."""

    def _observe(self) -> np.ndarray:
        t = self._t
        close = self._close[t]
        account = [
            (cash / equity, units * close / equity, level * _LEVEL_STEP, drawdown)
            for cash, units, equity, level, drawdown in zip(
                self._cash, self._units, self._equity, self._level, self._drawdown, strict=True
            )
        ]
        obs = np.empty((len(account), OBS_DIM), dtype=np.float32)
        obs[:, :-4] = self._static[t]
        obs[:, -4:] = account
        return obs

    def step(self, actions: dict):
        """Decisions at bar t (a level 0..4 per agent, missing = 0) -> fills at t+1's open, rewards at its close.

        Pure-Python arithmetic over the 4 accounts: on arrays this small numpy's per-call overhead dominates
        (core.sim.rebalance costs ~30 us on 4 elements). `rebalance_one` is core.sim.rebalance for one
        account, bit for bit (tests/core/test_env.py checks both that and env == core.sim.simulate).
        """
        agents = self.agents
        if not agents:
            raise RuntimeError("the episode is over: call reset() first")
        t0 = self._t
        t1 = t0 + 1
        open1, close1 = self._open[t1], self._close[t1]
        try:
            picks = [table[actions.get(a, 0)] for a, table in self._level_tables]
        except (KeyError, TypeError):
            raise ValueError(
                f"actions must be levels 0..{N_LEVELS - 1}, got {[actions.get(a) for a in self.possible_agents]}"
            ) from None
        targets = [target for _, target in picks]
        cash, units, old_targets = self._cash, self._units, self._target
        shift = 0.0
        if self._shared_market:
            equity_open = [c + u * open1 for c, u in zip(cash, units, strict=True)]
            wanted = sum(
                tg * eo - u * open1 if tg != old else 0.0
                for tg, old, eo, u in zip(targets, old_targets, equity_open, units, strict=True)
            )
            shift = self._impact * wanted / sum(equity_open)
        fee, slip = self._fee, self._slip
        trend, contrarian = self._trend[t0], self._contrarian[t0]
        equities, drawdowns, peaks, fills = self._equity, self._drawdown, self._peak, self.last_fills
        weights = self._reward_weights
        rewards = {}
        for j, agent in enumerate(self.possible_agents):
            target = targets[j]
            if target != old_targets[j]:
                cash[j], units[j], traded, price, cost = rebalance_one(
                    cash[j], units[j], target, open1, fee, slip, shift
                )
                fills[j] = (traded, price, cost)
            else:
                fills[j] = None
            equity = cash[j] + units[j] * close1
            log_return = math.log(equity / equities[j])
            peak = peaks[j]
            if equity > peak:
                peak = peaks[j] = equity
            drawdown = 1.0 - equity / peak
            deeper = drawdown - drawdowns[j]
            # shaped_reward's formula, inlined for speed (tests compare the two)
            dd_weight, vol_weight, trend_weight, contrarian_weight = weights[j]
            scaled = REWARD_SCALE * log_return
            rewards[agent] = (
                scaled
                - dd_weight * (deeper if deeper > 0.0 else 0.0)
                - vol_weight * scaled * scaled
                + trend_weight * target * trend
                + contrarian_weight * target * contrarian
            )
            equities[j], drawdowns[j] = equity, drawdown
        self._target = targets
        self._level = [level for level, _ in picks]
        self._t = t1
        obs = self._observe()
        done = t1 >= self._last_bar
        observations = {a: obs[i] for i, a in enumerate(agents)}
        terminations = {a: False for a in agents}
        truncations = {a: done for a in agents}
        infos = {a: {} for a in agents}
        if done:
            self.agents = []
        return observations, rewards, terminations, truncations, infos

    @property
    def bar(self) -> int:
        """The bar the agents are looking at (their last observation's close)."""
        return self._t

    def accounts(self) -> dict[str, np.ndarray]:
        """The agents' account state at the current bar's close, as arrays in possible_agents order."""
        return {
            "cash": np.array(self._cash),
            "units": np.array(self._units),
            "equity": np.array(self._equity),
            "target": np.array(self._target),
            "drawdown": np.array(self._drawdown),
        }

    def render(self) -> None:
        return None

    def close(self) -> None:
        return None


class BatchArena:
    """B market windows x A agents stepped together with arrays (benchmarks and fast battles).

    Episodes auto-reset: a row whose episode ended starts a new random one at the next step.

    Parameters
    ----------
    frame: daily OHLCV frame.
    n_envs: number of parallel windows B.
    personalities: the agents, by name.
    start, end: window bars, as in TradingArenaEnv.
    episode_bars: episode length (random start inside the window).
    costs, cash0, scalers: as in TradingArenaEnv.
    seed: seed of the episode-start generator.
    stagger: cut each row's FIRST episode at a random length (1 to episode_bars - 1 steps), so that the rows'
        episodes end at different steps from then on: a training rollout of a few steps then holds every
        phase of an episode (fresh flat accounts and old ones), not the same phase in every row.
    """

    def __init__(
        self,
        frame: pd.DataFrame,
        *,
        n_envs: int = 256,
        personalities: Sequence[str] = PERSONALITIES,
        start: int | None = None,
        end: int | None = None,
        episode_bars: int = 256,
        costs: Costs | None = None,
        cash0: float = 100_000.0,
        scalers: FeatureScaler | Mapping[str, FeatureScaler] | None = None,
        seed: int | None = None,
        stagger: bool = False,
    ) -> None:
        if n_envs < 1:
            raise ValueError(f"n_envs must be at least 1, got {n_envs}")
        self.personalities = resolve_personalities(tuple(personalities))
        self.market = Market.from_frame(frame)
        self.start, self.end = _check_window(self.market, start, end)
        if not 2 <= episode_bars <= self.end - self.start:
            raise ValueError(f"episode_bars must be between 2 and the window length {self.end - self.start}")
        self.n_envs, self.episode_bars = int(n_envs), int(episode_bars)
        scaler_list = _scalers_for(self.personalities, scalers, self.market, self.start, self.end)
        self.core = ArenaCore(self.market, self.personalities, scaler_list, costs or Costs(), cash0)
        self.rng = np.random.default_rng(seed)
        self.stagger = bool(stagger)
        self.n_agents = len(self.personalities)
        self.terminal_obs: np.ndarray | None = None
        """After `step`: the last observations (rows, A, D) of the episodes that ended, or None."""

    def _starts(self, n: int) -> np.ndarray:
        return self.start + self.rng.integers(0, self.end - self.start - self.episode_bars + 1, size=n)

    def reset(self) -> np.ndarray:
        """Start every row; returns observations (B, A, D)."""
        self.starts = self._starts(self.n_envs)
        steps = self.episode_bars - 1
        if self.stagger and steps > 1:
            steps = self.rng.integers(1, steps + 1, size=self.n_envs)
        self.last_bars = self.starts + steps  # per row: the bar at which its current episode ends
        return self.core.reset(self.starts)

    def step(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Actions (B, A) -> (observations (B, A, D), rewards (B, A), done (B,)); done rows restart.

        The observations of a done row are those of its new episode's first bar; the last observations of
        the episodes that ended are in `terminal_obs` (rows in done order; None when no row ended).
        """
        rewards = self.core.step(actions)
        done = self.core.t >= self.last_bars
        self.terminal_obs = None
        if done.any():
            core = self.core
            rows = np.flatnonzero(done)
            self.terminal_obs = core.observe()[rows]
            new = self._starts(rows.size)
            self.starts[rows] = new
            self.last_bars[rows] = new + self.episode_bars - 1
            core.t[rows] = new
            for name in ("cash", "peak", "equity"):
                getattr(core, name)[rows] = core.cash0
            for name in ("units", "target", "drawdown", "level"):
                getattr(core, name)[rows] = 0
        return self.core.observe(), rewards, done
