"""Cost stress and break-even cost: `cost_stress` re-runs the agents and the benchmarks on one window at
several total costs per fill and tabulates their net total returns (`CostStress`); for each agent it
finds where its edge over buy-and-hold vanishes (`BreakEven`: crosses / never beats / beats at every
tested cost), refining a crossing by bisection (`_bisect`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from core import metrics as metrics_mod
from core.arena.battle import DEFAULT_BENCHMARKS, _check_benchmarks, _prepare_frame, agent_cards
from core.arena.window import resolve_window
from core.sim import MAX_COST_BPS, Costs, simulate
from core.strategies import BENCHMARKS, benchmark_targets

BREAK_EVEN_CROSSES = "crosses"
BREAK_EVEN_NEVER = "never_beats"
BREAK_EVEN_ALWAYS = "beats_at_all_tested"


@dataclass(frozen=True)
class BreakEven:
    """Where an agent's edge over buy-and-hold vanishes as costs rise.

    Definition: at a total cost c per fill (bps, all commission), edge(c) = the agent's net total return
    - buy-and-hold's net total return, both re-run on the same window at cost c (the agent's decisions
    may change with c because it sees its own account). State:

    - "beats_at_all_tested": edge > 0 at every tested level (the break-even is above the highest);
    - "never_beats": edge <= 0 at every tested level (it does not beat buy-and-hold even at the lowest);
    - "crosses": the sign of edge changes between two tested levels; `cost_bps` is the first such
      crossing, refined by bisection to `tolerance_bps` (the cost at which edge reaches 0).
    """

    contestant: str
    state: str
    cost_bps: float | None
    """The break-even cost per fill in bps ("crosses" only; None otherwise)."""

    def describe(self, highest_bps: float, lowest_bps: float) -> str:
        """A sentence for the UI / CLI."""
        if self.state == BREAK_EVEN_CROSSES:
            return f"beats buy-and-hold below ~{self.cost_bps:.1f} bps per fill"
        if self.state == BREAK_EVEN_ALWAYS:
            return f"beats buy-and-hold at every tested cost (up to {highest_bps:g} bps)"
        return f"never beats buy-and-hold, even at {lowest_bps:g} bps"


@dataclass
class CostStress:
    """Each contestant's net total return at each tested cost, and each agent's break-even cost."""

    levels_bps: tuple[float, ...]
    returns: pd.DataFrame
    """Index: contestant names; columns: the cost levels (bps); values: net total return."""
    break_even: dict[str, BreakEven]

    def table(self) -> pd.DataFrame:
        """The returns table with a break-even column (text) for display and export."""
        out = self.returns.copy()
        out.columns = [f"return @ {c:g} bps" for c in self.levels_bps]
        hi, lo = max(self.levels_bps), min(self.levels_bps)
        out["break_even"] = [
            self.break_even[n].describe(hi, lo) if n in self.break_even else "" for n in out.index
        ]
        out.index.name = "contestant"
        return out.reset_index()


def _check_levels(levels_bps: Sequence[float]) -> tuple[float, ...]:
    levels = tuple(sorted({float(v) for v in levels_bps}))
    if len(levels) < 2:
        raise ValueError("give at least two distinct cost levels, e.g. (0, 10, 25, 50)")
    if levels[0] < 0 or levels[-1] > MAX_COST_BPS or not all(np.isfinite(levels)):
        raise ValueError(f"cost levels must be between 0 and {MAX_COST_BPS:g} bps, got {list(levels_bps)}")
    return levels


def cost_stress(
    frame: pd.DataFrame,
    *,
    ticker: str,
    test_start=None,
    test_end=None,
    split: float = 0.8,
    cash0: float = 100_000.0,
    agents=None,
    benchmarks: Sequence[str] = DEFAULT_BENCHMARKS,
    shared_market: bool = False,
    in_sample: bool = False,
    levels_bps: Sequence[float] = (0, 10, 25, 50),
    tolerance_bps: float = 0.1,
) -> CostStress:
    """Total return of every contestant at each cost level and each agent's break-even cost (BreakEven).

    Each level c is the total cost per fill, charged as Costs(commission_bps=c, slippage_bps=0) (the
    CLI's --cost-bps mapping).

    :param frame: OHLCV frame (indicators added when missing).
    :param ticker: the instrument's name.
    :param test_start: first date of the window, or None for the default (as run_battle).
    :param test_end: last date of the window, or None.
    :param split: default split when there are no dates or cards.
    :param cash0: starting cash.
    :param agents: an AgentSeeds (each agent's return at a cost is its median seed's there), an AgentSet, or
        None (then there is no break-even to find).
    :param benchmarks: benchmark names in the table (buy-and-hold is always computed as the yardstick).
    :param shared_market: agents' order flow moves their fills.
    :param in_sample: use the training period by default.
    :param levels_bps: the cost levels to tabulate (at least two, 0..1000 bps).
    :param tolerance_bps: precision of the bisection for the break-even cost.
    """
    levels = _check_levels(levels_bps)
    if not tolerance_bps > 0:
        raise ValueError(f"tolerance_bps must be positive, got {tolerance_bps}")
    names = _check_benchmarks(benchmarks)
    frame = _prepare_frame(frame)
    cards = agent_cards(agents)
    window = resolve_window(
        frame, test_start=test_start, test_end=test_end, split=split, in_sample=in_sample, cards=cards
    )
    start, end = window.start, window.end
    open_ = frame["open"].to_numpy(dtype=float)[start:end]
    close = frame["close"].to_numpy(dtype=float)[start:end]
    bench_names = names if "buy_and_hold" in names else (*names, "buy_and_hold")
    bench_targets = {b: benchmark_targets(b, frame, start, end) for b in bench_names}
    memo: dict[float, dict[str, float]] = {}

    def returns_at(cost: float) -> dict[str, float]:
        if cost not in memo:
            costs = Costs(commission_bps=cost, slippage_bps=0.0)
            out = {}
            if agents is not None:
                rollouts = agents.rollout(frame, start, end, costs, cash0=cash0, shared_market=shared_market)
                for name in getattr(agents, "names", tuple(rollouts)):
                    out[name] = metrics_mod.total_return(rollouts[name].result.equity)
            for b, targets in bench_targets.items():
                out[b] = metrics_mod.total_return(simulate(open_, close, targets, costs, cash0).equity)
            memo[cost] = out
        return memo[cost]

    table = {c: returns_at(c) for c in levels}
    shown = [n for n in table[levels[0]] if n in names or n not in BENCHMARKS]
    returns = pd.DataFrame({c: [table[c][n] for n in shown] for c in levels}, index=shown)
    agent_names = [n for n in shown if n not in BENCHMARKS]

    def edge(name: str, cost: float) -> float:
        r = returns_at(cost)
        return r[name] - r["buy_and_hold"]

    break_even = {}
    for name in agent_names:
        edges = [edge(name, c) for c in levels]
        positive = [e > 0 for e in edges]
        if all(positive):
            break_even[name] = BreakEven(name, BREAK_EVEN_ALWAYS, None)
        elif not any(positive):
            break_even[name] = BreakEven(name, BREAK_EVEN_NEVER, None)
        else:
            i = next(k for k in range(len(levels) - 1) if positive[k] != positive[k + 1])
            break_even[name] = BreakEven(
                name,
                BREAK_EVEN_CROSSES,
                _bisect(lambda c, n=name: edge(n, c), levels[i], levels[i + 1], tolerance_bps),
            )
    return CostStress(levels_bps=levels, returns=returns, break_even=break_even)


def _bisect(f: Callable[[float], float], low: float, high: float, tolerance: float) -> float:
    """A root of f in [low, high] where f(low) and f(high) have different signs (> 0 vs <= 0)."""
    low_positive = f(low) > 0
    while high - low > tolerance:
        mid = 0.5 * (low + high)
        if (f(mid) > 0) == low_positive:
            low = mid
        else:
            high = mid
    # linear interpolation inside the last bracket: closer to the true zero than its midpoint
    f_low, f_high = f(low), f(high)
    if f_low != f_high:
        return float(np.clip(low - f_low * (high - low) / (f_high - f_low), low, high))
    return 0.5 * (low + high)
