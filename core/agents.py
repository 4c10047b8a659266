"""Trained agents for battles: load the numpy policies of a ticker and roll them through a window.

Inference is torch-free (core.policy.NumpyPolicy from .npz + model card): the web app imports this
module, never SB3. Actions are deterministic (argmax).

- `load_agents(ticker[, seed=k])` -> AgentSet: one training seed of the four agents (default: the lowest
  seed they all have);
- `load_agent_seeds(ticker[, seeds=...])` -> AgentSeeds: every seed (what core.arena.run_battle and
  core.service battle; `agent_seeds[k]` is seed k's AgentSet);
- both roll out through `run_policy_seeds`: all seeds x agents in one batched pass per bar.
"""

from __future__ import annotations

import json
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
from core.registry import card_warnings, load_policy, validate_seed, validate_ticker
from core.registry import seeds as registry_seeds
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
    rewards: np.ndarray | None = None
    """(n - 1,) the personality's shaped reward of each step (what it was trained on), or None."""


class PolicyStack:
    """K numpy actors evaluated together: row k of a (K, obs_dim) batch goes through policy k.

    Policies of one architecture (layer shapes and activation) are stacked into (K, in, out) weight
    tensors, so a forward pass is one batched matmul per layer for all K (the battle's agents x seeds);
    mixed architectures fall back to one forward per policy. Each row's result is the same float32
    arithmetic as `NumpyPolicy.logits` on that row.
    """

    def __init__(self, policies: Sequence[NumpyPolicy]) -> None:
        self.policies = list(policies)
        if not self.policies:
            raise ValueError("a policy stack needs at least one policy")
        first = self.policies[0]
        shapes = [tuple(w.shape for w in p.weights) for p in self.policies]
        self.stacked = all(s == shapes[0] for s in shapes) and all(
            p.activation == first.activation for p in self.policies
        )
        self.n_actions = first.n_actions
        if self.stacked:
            self.weights = [np.stack([p.weights[i] for p in self.policies]) for i in range(len(first.weights))]
            self.biases = [np.stack([p.biases[i] for p in self.policies])[:, None, :] for i in range(len(first.biases))]
            self._act = first._act

    def probs(self, obs: np.ndarray) -> np.ndarray:
        """(K, n_actions) action probabilities, row k from policy k on obs[k]."""
        if not self.stacked:
            return np.stack([p.probs(o) for p, o in zip(self.policies, obs, strict=True)])
        x = np.asarray(obs, dtype=np.float32)[:, None, :]
        for w, b in zip(self.weights[:-1], self.biases[:-1], strict=True):
            x = self._act(np.matmul(x, w) + b)
        z = (np.matmul(x, self.weights[-1]) + self.biases[-1])[:, 0, :].astype(np.float64)
        z = z - z.max(axis=-1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(axis=-1, keepdims=True)


def run_policy_seeds(
    market: Market,
    personalities: Sequence[Personality],
    policies: Sequence[Sequence[NumpyPolicy]],
    scalers: Sequence[FeatureScaler],
    start: int,
    end: int,
    costs: Costs,
    cash0: float = 100_000.0,
    shared_market: bool = False,
) -> list[dict[str, Rollout]]:
    """Roll S sets of deterministic policies (one set per training seed) through bars [start, end) at once.

    The S sets are S independent arenas on the same bars (one batch row each, every account flat at
    `start`): each seed's agents trade only with each other (a shared market moves the fills of the agents
    of one seed), so row s is exactly what `run_policies` gives for set s alone. Everything that does not
    depend on the seed (prices, scaled features, the window) is shared, and each bar's decisions of all
    S x A agents are one batched forward pass (`PolicyStack`).

    Parameters
    ----------
    market: precomputed prices and features (core.env.Market).
    personalities: the A agents, in order.
    policies: S sequences of A NumpyPolicy (policies[s][j]: seed s's agent j).
    scalers: one FeatureScaler per agent (the same for every seed: fit on the same training rows).
    start: first bar (at or after the indicator warm-up).
    end: one past the last bar.
    costs: commission and slippage.
    cash0: starting cash.
    shared_market: agents' order flow moves the fill price.

    Returns one {name: Rollout} per seed, in the order of `policies`.
    """
    if start < market.first_valid:
        raise ValueError(
            f"start bar {start} is inside the indicator warm-up: the first usable bar is {market.first_valid}"
        )
    if end > market.n_bars or end - start < 2:
        raise ValueError(f"window [{start}, {end}) must hold at least 2 bars within {market.n_bars}")
    s_count, a = len(policies), len(personalities)
    if s_count < 1 or any(len(row) != a for row in policies):
        raise ValueError(f"give one policy per agent ({a}) for each seed")
    core = ArenaCore(market, personalities, scalers, costs, cash0, shared_market)
    stack = PolicyStack([p for row in policies for p in row])
    n = end - start
    actions = np.zeros((n, s_count, a), dtype=np.int64)
    probs = np.zeros((n, s_count, a, stack.n_actions))
    rewards = np.zeros((max(n - 1, 0), s_count, a))
    cash = np.empty((n, s_count, a))
    units = np.empty((n, s_count, a))
    fills: list[tuple[int, np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []
    obs = core.reset(np.full(s_count, start))
    cash[0], units[0] = core.cash, core.units
    for i in range(n):
        p = stack.probs(obs.reshape(s_count * a, -1)).reshape(s_count, a, -1)
        probs[i] = p
        actions[i] = p.argmax(axis=-1)
        if i == n - 1:
            break  # a decision on the last bar never fills
        rewards[i] = core.step(actions[i])
        cash[i + 1], units[i + 1] = core.cash, core.units
        if core.last_fill is not None:
            changed, traded, price, cost = core.last_fill
            fills.append((i + 1, changed & (traded != 0.0), traded, price, cost))
        obs = core.observe()
    close = market.close[start:end]
    out: list[dict[str, Rollout]] = []
    for s in range(s_count):
        seed_out = {}
        for j, pers in enumerate(personalities):
            fb = [(bar, traded[s, j], price[s, j], cost[s, j]) for bar, mask, traded, price, cost in fills if mask[s, j]]
            targets = pers.exposure(actions[:, s, j])
            equity = cash[:, s, j] + units[:, s, j] * close
            position = np.divide(units[:, s, j] * close, equity, out=np.zeros(n), where=equity > 0)
            result = SimResult(
                equity=equity,
                cash=cash[:, s, j].copy(),
                units=units[:, s, j].copy(),
                position=position,
                levels=targets.copy(),
                fill_bars=np.asarray([f[0] for f in fb], dtype=int),
                fill_qty=np.asarray([f[1] for f in fb], dtype=float),
                fill_price=np.asarray([f[2] for f in fb], dtype=float),
                fill_cost=np.asarray([f[3] for f in fb], dtype=float),
            )
            seed_out[pers.name] = Rollout(
                targets=targets,
                actions=actions[:, s, j].copy(),
                probs=probs[:, s, j].copy(),
                action_labels=pers.action_labels,
                result=result,
                rewards=rewards[:, s, j].copy(),
            )
        out.append(seed_out)
    return out


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

    One seed of `run_policy_seeds` (the same code, so a battle of many seeds and one of a single seed
    agree exactly).

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
    return run_policy_seeds(market, personalities, [policies], scalers, start, end, costs, cash0, shared_market)[0]


class _Rollouts:
    """The battle interface shared by AgentSet (one seed) and AgentSeeds (several): `rollout_seeds` rolls
    every seed out in one batched pass, `rollout` gives each agent's median seed (the only one of a set)."""

    names: tuple[str, ...]

    def _members(self) -> list[AgentSet]:
        raise NotImplementedError

    def rollout_seeds(
        self,
        frame: pd.DataFrame,
        start: int,
        end: int,
        costs: Costs,
        cash0: float = 100_000.0,
        shared_market: bool = False,
    ) -> dict[int, dict[str, Rollout]]:
        """{seed: {name: Rollout}}: every agent's decisions over bars [start, end) of `frame`, for every seed.

        Parameters
        ----------
        frame: OHLCV frame with indicator columns (added when missing).
        start: first bar; accounts start flat with cash0 here; must be after the indicator warm-up.
        end: one past the last bar (exclusive).
        costs: commission and slippage.
        cash0: starting cash of every agent.
        shared_market: agents' net order flow moves fill prices (then simulate() no longer reproduces it).
        """
        return _rollout_sets(self._members(), frame, start, end, costs, cash0, shared_market)

    def rollout(
        self,
        frame: pd.DataFrame,
        start: int,
        end: int,
        costs: Costs,
        cash0: float = 100_000.0,
        shared_market: bool = False,
    ) -> dict[str, Rollout]:
        """{name: Rollout} of each agent's median seed by total return at these costs (`rollout_seeds`'
        parameters; an AgentSet's one seed)."""
        by_seed = self.rollout_seeds(frame, start, end, costs, cash0, shared_market)
        return {name: by_seed[median_seed(by_seed, name)][name] for name in self.names}


@dataclass
class AgentSet(_Rollouts):
    """The trained agents of one ticker and one training seed, ready to battle on any window of its data."""

    ticker: str
    names: tuple[str, ...]
    cards: dict[str, dict]
    policies: dict[str, NumpyPolicy]
    warnings: list[str] = field(default_factory=list)
    """Data-hash or library-version drift since training (show them; results may differ)."""
    seed: int = 0
    """The training seed of these agents."""

    @property
    def seeds(self) -> tuple[int, ...]:
        return (self.seed,)

    def _members(self) -> list[AgentSet]:
        return [self]

    def scaler(self, name: str) -> FeatureScaler:
        return FeatureScaler.from_dict(self.cards[name]["scaler"])


def _rollout_sets(sets, frame, start, end, costs, cash0, shared_market) -> dict[int, dict[str, Rollout]]:
    """{seed: rollouts} of several AgentSets with the same agents: one batched run per group of seeds that
    share their scalers (normally all of them)."""
    market = Market.from_frame(frame)
    names = sets[0].names
    personalities = [get_personality(n) for n in names]
    groups: dict[str, list] = {}
    for agent_set in sets:
        key = json.dumps([agent_set.cards[n]["scaler"] for n in names], sort_keys=True, default=str)
        groups.setdefault(key, []).append(agent_set)
    out: dict[int, dict[str, Rollout]] = {}
    for members in groups.values():
        scalers = [members[0].scaler(n) for n in names]
        rolled = run_policy_seeds(
            market, personalities, [[m.policies[n] for n in names] for m in members], scalers,
            int(start), int(end), costs, cash0, shared_market,
        )
        out.update({m.seed: r for m, r in zip(members, rolled, strict=True)})
    return {m.seed: out[m.seed] for m in sets}


@dataclass
class AgentSeeds(_Rollouts):
    """Several training seeds of the same agents of one ticker: what the arena battles.

    It has AgentSet's battle interface: `names`, `warnings`, `cards` (the first seed's, by name),
    `all_cards` (every seed's, keyed "<name>/seed<k>": the battle window and the cache key use them all),
    `rollout` (each agent's MEDIAN seed by total return at the given costs, as `core.significance.
    seed_summary` picks it: the lower middle one for an even count) and `rollout_seeds` ({seed: rollouts},
    all seeds in one batched run). `sets[seed]` is that seed's AgentSet.
    """

    ticker: str
    names: tuple[str, ...]
    sets: dict[int, AgentSet]
    warnings: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.sets:
            raise ValueError("AgentSeeds needs at least one seed")
        for seed, agent_set in self.sets.items():
            if agent_set.names != self.names or agent_set.seed != seed:
                raise ValueError(f"seed {seed}'s agents do not match {self.names}")

    @property
    def seeds(self) -> tuple[int, ...]:
        return tuple(self.sets)

    @property
    def cards(self) -> dict[str, dict]:
        return self.sets[self.seeds[0]].cards

    @property
    def all_cards(self) -> dict[str, dict]:
        return {f"{n}/seed{seed}": s.cards[n] for seed, s in self.sets.items() for n in self.names}

    def __getitem__(self, seed: int) -> AgentSet:
        return self.sets[seed]

    def __len__(self) -> int:
        return len(self.sets)

    def _members(self) -> list[AgentSet]:
        return list(self.sets.values())

    def scaler(self, name: str) -> FeatureScaler:
        return self.sets[self.seeds[0]].scaler(name)


def median_seed(by_seed: dict[int, dict[str, Rollout]], name: str) -> int:
    """The seed whose total return of agent `name` is the median (even count: the lower middle one, ties
    in seed order), the rule of core.significance.seed_summary."""
    returns = sorted(
        (float(r[name].result.equity[-1] / r[name].result.equity[0]), i, seed)
        for i, (seed, r) in enumerate(by_seed.items())
    )
    return returns[(len(returns) - 1) // 2][2]


def load_agents(
    ticker: str,
    models_dir: str | Path | None = None,
    personalities: Sequence[str] = PERSONALITIES,
    data_sha256: str | None = None,
    seed: int | None = None,
) -> AgentSet:
    """Load one seed's numpy policies and cards of `ticker` (ModelMissing / ModelCorrupt say what to do).

    Parameters
    ----------
    ticker: market symbol, e.g. 'AAPL'.
    models_dir: models root (default: core.registry.models_root()).
    personalities: which agents to load.
    data_sha256: sha256 of the data about to be used; a mismatch with the card adds a warning.
    seed: the training seed; None: the lowest seed that every personality has.
    """
    symbol = validate_ticker(ticker)
    names = tuple(get_personality(n).name for n in personalities)
    if seed is None:
        found = registry_seeds(symbol, models_dir, names)
        seed = found[0] if found else 0  # none: loading seed 0 raises ModelMissing with the hint
    seed = validate_seed(seed)
    cards, policies, warnings = {}, {}, []
    for name in names:
        policy, card = load_policy(symbol, name, models_dir, seed)
        policies[name], cards[name] = policy, card
        warnings.extend(card_warnings(card, data_sha256))
    return AgentSet(ticker=symbol, names=names, cards=cards, policies=policies, warnings=warnings, seed=seed)


def load_agent_seeds(
    ticker: str,
    models_dir: str | Path | None = None,
    personalities: Sequence[str] = PERSONALITIES,
    data_sha256: str | None = None,
    seeds: Sequence[int] | None = None,
) -> AgentSeeds:
    """Every training seed of `ticker`'s agents (or the given seeds) as AgentSeeds: what the arena battles.

    `ticker`, `models_dir`, `personalities` and `data_sha256` as in `load_agents` (a warning is given once for
    all seeds); `seeds`: which seeds, None for every seed that all the personalities have (ModelMissing when
    there is none).
    """
    symbol = validate_ticker(ticker)
    names = tuple(get_personality(n).name for n in personalities)
    wanted = registry_seeds(symbol, models_dir, names) if seeds is None else [validate_seed(s) for s in seeds]
    if not wanted:
        wanted = [0]  # loading seed 0 raises ModelMissing with the hint
    if len(set(wanted)) != len(wanted):
        raise ValueError(f"each seed may appear once, got {list(wanted)}")
    sets = {seed: load_agents(symbol, models_dir, names, data_sha256, seed) for seed in wanted}
    warnings = list(dict.fromkeys(w for s in sets.values() for w in s.warnings))
    return AgentSeeds(ticker=symbol, names=names, sets=sets, warnings=warnings)
