"""The four trading personalities: position limits, UI identity and reward shaping.

Every reward is computed per bar, after the agent's decision at bar t has filled at bar t+1's open and
bar t+1 has closed. With lr = log(equity_{t+1} / equity_t), x = the exposure the agent chose at bar t
(level / 4 x position_cap, in [0, cap]) and S = REWARD_SCALE (rewards are in percent):

    reward = S * lr
             - drawdown_penalty * S * max(dd_{t+1} - dd_t, 0)     # deepening of the drawdown from peak
             - volatility_penalty * (S * lr) ** 2                 # squared daily move of equity
             + trend_bonus * x * trend_t                          # core.features.trend_signal
             + contrarian_bonus * x * contrarian_t                # core.features.contrarian_signal

- Conservative: log-return minus drawdown and volatility penalties; positions capped at 50% of equity.
- Aggressive: raw equity log-return, full position allowed, trades freely (no penalty at all).
- Momentum: log-return plus a bonus for holding while the trend signal (MACD histogram / SMA-20 slope)
  is positive and a cost for holding against it.
- Mean-Reversion: log-return plus a bonus for holding when RSI is low (graded, saturating at RSI 30) and
  a cost for holding when RSI is high (saturating at 70).

The signals are known at bar t (causal); the bonus is a function of the decision and of what the agent
sees, which makes the character learnable with a small PPO budget.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from core import PERSONALITIES

REWARD_SCALE = 100.0
"""Log-returns are multiplied by 100 so that a typical daily reward is of order 1 (good for PPO)."""

N_LEVELS = 5
"""Discrete(5): level k means a target exposure of k / 4 x the personality's position cap."""


class UnknownPersonality(ValueError):
    """A personality name that is not one of core.PERSONALITIES."""


@dataclass(frozen=True)
class Personality:
    """One agent personality: identity for the UI, position limit and reward parameters."""

    name: str
    """Machine name, one of core.PERSONALITIES."""
    label: str
    """Human label for the UI."""
    colour: str
    """Neon hex colour for charts."""
    marker: str
    """Plotly marker symbol name for this agent's trades."""
    position_cap: float
    """Largest fraction of equity the agent may hold in the asset (level 4)."""
    drawdown_penalty: float = 0.0
    """Weight of the deepening of the drawdown from the equity peak, per bar."""
    volatility_penalty: float = 0.0
    """Weight of the squared scaled equity log-return, per bar."""
    trend_bonus: float = 0.0
    """Weight of exposure x trend signal, per bar."""
    contrarian_bonus: float = 0.0
    """Weight of exposure x contrarian (RSI) signal, per bar."""

    def exposure(self, level: np.ndarray | int) -> np.ndarray:
        """Target exposure (fraction of equity) of action level(s) 0..4."""
        return np.asarray(level, dtype=float) / (N_LEVELS - 1) * self.position_cap

    @property
    def action_labels(self) -> tuple[str, ...]:
        """Human labels of the 5 actions, e.g. ('flat', '25%', '50%', '75%', '100%')."""
        labels = ["flat"]
        for k in range(1, N_LEVELS):
            labels.append(f"{100 * float(self.exposure(k)):g}%")
        return tuple(labels)


CONSERVATIVE = Personality(
    name="conservative",
    label="Conservative",
    colour="#00e5ff",
    marker="circle",
    position_cap=0.5,
    drawdown_penalty=0.05,
    volatility_penalty=0.02,
)
AGGRESSIVE = Personality(
    name="aggressive", label="Aggressive", colour="#ff2e88", marker="diamond", position_cap=1.0
)
MOMENTUM = Personality(
    name="momentum", label="Momentum", colour="#39ff14", marker="triangle-up", position_cap=1.0, trend_bonus=0.5
)
MEAN_REVERSION = Personality(
    name="mean_reversion",
    label="Mean-Reversion",
    colour="#ffd300",
    marker="square",
    position_cap=1.0,
    contrarian_bonus=1.0,
)

REGISTRY: dict[str, Personality] = {p.name: p for p in (CONSERVATIVE, AGGRESSIVE, MOMENTUM, MEAN_REVERSION)}
assert tuple(REGISTRY) == PERSONALITIES


def get_personality(name: str) -> Personality:
    """The Personality called `name`; raises UnknownPersonality listing the valid names."""
    try:
        return REGISTRY[name]
    except (KeyError, TypeError):
        raise UnknownPersonality(
            f"unknown personality {name!r}; choose one of: {', '.join(PERSONALITIES)}"
        ) from None


def resolve_personalities(names: Sequence[str] | str) -> tuple[Personality, ...]:
    """Personalities for a list of names (or 'all'); rejects unknown names and duplicates."""
    if isinstance(names, str):
        names = PERSONALITIES if names == "all" else (names,)
    out = tuple(get_personality(n) for n in names)
    if len({p.name for p in out}) != len(out):
        raise ValueError(f"each personality may appear once, got {list(names)}")
    if not out:
        raise ValueError(f"choose at least one personality of: {', '.join(PERSONALITIES)}")
    return out


@dataclass(frozen=True)
class RewardParams:
    """Reward parameters of several agents as arrays (one entry per agent) for the vectorised step."""

    drawdown_penalty: np.ndarray
    volatility_penalty: np.ndarray
    trend_bonus: np.ndarray
    contrarian_bonus: np.ndarray

    @classmethod
    def of(cls, personalities: Sequence[Personality]) -> RewardParams:
        return cls(
            drawdown_penalty=np.array([p.drawdown_penalty for p in personalities]),
            volatility_penalty=np.array([p.volatility_penalty for p in personalities]),
            trend_bonus=np.array([p.trend_bonus for p in personalities]),
            contrarian_bonus=np.array([p.contrarian_bonus for p in personalities]),
        )


def shaped_reward(
    params: RewardParams,
    log_return: np.ndarray,
    drawdown_increase: np.ndarray,
    exposure: np.ndarray,
    trend: np.ndarray | float,
    contrarian: np.ndarray | float,
) -> np.ndarray:
    """The module docstring's reward, vectorised over agents (last axis) and batches.

    Parameters
    ----------
    params: per-agent reward weights.
    log_return: log(equity_{t+1} / equity_t) per agent.
    drawdown_increase: max(dd_{t+1} - dd_t, 0) per agent, dd = 1 - equity / peak equity.
    exposure: the exposure each agent chose at bar t.
    trend: trend signal at bar t (broadcast over agents).
    contrarian: contrarian signal at bar t (broadcast over agents).
    """
    scaled = REWARD_SCALE * log_return
    return (
        scaled
        - params.drawdown_penalty * REWARD_SCALE * drawdown_increase
        - params.volatility_penalty * scaled * scaled
        + params.trend_bonus * exposure * trend
        + params.contrarian_bonus * exposure * contrarian
    )
