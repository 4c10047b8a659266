"""Trained agents for battles: load the numpy policies of a ticker and roll them through a window.

Inference is torch-free (core.policy.NumpyPolicy from .npz + model card): the web app imports this
module, never SB3. Actions are deterministic (argmax), one numpy forward per agent per bar.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from core import PERSONALITIES
from core.env import ArenaCore, Market
from core.features import FeatureScaler
from core.personalities import Personality, get_personality
from core.policy import NumpyPolicy
from core.registry import card_warnings, load_policy, validate_ticker
from core.sim import Costs, SimResult


@dataclass
class Rollout:
    """One agent's decisions over a window and the env's own accounting of them."""

    targets: np.ndarray
    """(n,) exposure level decided at each bar of the window, in [0, 1]."""
    actions: np.ndarray
    """(n,) int action index chosen at each bar."""
    probs: np.ndarray
    """(n, n_actions) the policy's action probabilities at each bar."""
    action_labels: tuple[str, ...]
    """Human labels of the actions, e.g. ('flat', '25%', ...)."""
    result: SimResult
    """The env's own accounting over the window (fills include shared-market impact when on)."""


def run_policies(
    market: Market,
    personalities: Sequence[Personality],
    policies: Sequence[NumpyPolicy],
    scalers: Sequence[FeatureScaler],
    start: int,
    end: int,
    costs: Costs,
    cash0: float = 100_000.0,
    shared_market: bool = False,
) -> dict[str, Rollout]:
    """Roll deterministic policies through bars [start, end) of a market; accounts start flat at `start`.

    Parameters
    ----------
    market: precomputed prices and features (core.env.Market).
    personalities: the agents, in order.
    policies: one NumpyPolicy per agent.
    scalers: one FeatureScaler per agent (from its model card: fit on its training rows).
    start: first bar (at or after the indicator warm-up).
    end: one past the last bar.
    costs: commission and slippage.
    cash0: starting cash.
    shared_market: agents' order flow moves the fill price.
    """
    if start < market.first_valid:
        raise ValueError(
            f"start bar {start} is inside the indicator warm-up: the first usable bar is {market.first_valid}"
        )
    if end > market.n_bars or end - start < 2:
        raise ValueError(f"window [{start}, {end}) must hold at least 2 bars within {market.n_bars}")
    core = ArenaCore(market, personalities, scalers, costs, cash0, shared_market)
    n, a = end - start, len(personalities)
    n_actions = policies[0].n_actions
    actions = np.zeros((n, a), dtype=np.int64)
    probs = np.zeros((n, a, n_actions))
    cash = np.empty((n, a))
    units = np.empty((n, a))
    fills: list[list[tuple[int, float, float, float]]] = [[] for _ in range(a)]
    obs = core.reset(np.array([start]))[0]
    cash[0], units[0] = core.cash[0], core.units[0]
    for i in range(n):
        for j, policy in enumerate(policies):
            act, p = policy.act(obs[j])
            actions[i, j] = act
            probs[i, j] = p
        if i == n - 1:
            break  # a decision on the last bar never fills
        core.step(actions[i][None, :])
        cash[i + 1], units[i + 1] = core.cash[0], core.units[0]
        if core.last_fill is not None:
            changed, traded, price, cost = (x[0] for x in core.last_fill)
            for j in np.flatnonzero(changed & (traded != 0.0)):
                fills[j].append((i + 1, float(traded[j]), float(price[j]), float(cost[j])))
        obs = core.observe()[0]
    close = market.close[start:end]
    out = {}
    for j, pers in enumerate(personalities):
        targets = pers.exposure(actions[:, j])
        equity = cash[:, j] + units[:, j] * close
        position = np.divide(units[:, j] * close, equity, out=np.zeros(n), where=equity > 0)
        fb = fills[j]
        result = SimResult(
            equity=equity,
            cash=cash[:, j].copy(),
            units=units[:, j].copy(),
            position=position,
            levels=targets.copy(),
            fill_bars=np.asarray([f[0] for f in fb], dtype=int),
            fill_qty=np.asarray([f[1] for f in fb]),
            fill_price=np.asarray([f[2] for f in fb]),
            fill_cost=np.asarray([f[3] for f in fb]),
        )
        out[pers.name] = Rollout(
            targets=targets,
            actions=actions[:, j].copy(),
            probs=probs[:, j].copy(),
            action_labels=pers.action_labels,
            result=result,
        )
    return out


@dataclass
class AgentSet:
    """The trained agents of one ticker, ready to battle on any window of its data."""

    ticker: str
    names: tuple[str, ...]
    cards: dict[str, dict]
    policies: dict[str, NumpyPolicy]
    warnings: list[str] = field(default_factory=list)
    """Data-hash or library-version drift since training (show them; results may differ)."""

    def scaler(self, name: str) -> FeatureScaler:
        return FeatureScaler.from_dict(self.cards[name]["scaler"])

    def rollout(
        self,
        frame: pd.DataFrame,
        start: int,
        end: int,
        costs: Costs,
        cash0: float = 100_000.0,
        shared_market: bool = False,
    ) -> dict[str, Rollout]:
        """Every agent's decisions over bars [start, end) of `frame` (add_indicators(ohlcv)).

        Parameters
        ----------
        frame: OHLCV frame with indicator columns (added when missing).
        start: first bar; accounts start flat with cash0 here; must be after the indicator warm-up.
        end: one past the last bar (exclusive).
        costs: commission and slippage.
        cash0: starting cash of every agent.
        shared_market: agents' net order flow moves fill prices (then simulate() no longer reproduces it).
        """
        market = Market.from_frame(frame)
        personalities = [get_personality(n) for n in self.names]
        return run_policies(
            market,
            personalities,
            [self.policies[n] for n in self.names],
            [self.scaler(n) for n in self.names],
            int(start),
            int(end),
            costs,
            cash0,
            shared_market,
        )


def load_agents(
    ticker: str,
    models_dir: str | Path | None = None,
    personalities: Sequence[str] = PERSONALITIES,
    data_sha256: str | None = None,
) -> AgentSet:
    """Load the numpy policies and cards of `ticker` (ModelMissing / ModelCorrupt say what to do).

    Parameters
    ----------
    ticker: market symbol, e.g. 'AAPL'.
    models_dir: models root (default: core.registry.models_root()).
    personalities: which agents to load.
    data_sha256: sha256 of the data about to be used; a mismatch with the card adds a warning.
    """
    symbol = validate_ticker(ticker)
    names = tuple(get_personality(n).name for n in personalities)
    cards, policies, warnings = {}, {}, []
    for name in names:
        policy, card = load_policy(symbol, name, models_dir)
        policies[name], cards[name] = policy, card
        warnings.extend(card_warnings(card, data_sha256))
    return AgentSet(ticker=symbol, names=names, cards=cards, policies=policies, warnings=warnings)
