"""Rule-based benchmarks that meet the agents in the arena, as target-exposure arrays for core.sim.

Every benchmark is a pure, causal function: the value at bar i uses closes (and indicators) up to and
including bar i only, and is a *decision* in the sense of core.sim.simulate: a target exposure in [0, 1]
taken after bar i's close and filled at bar i+1's open, or NaN for "no new decision, keep the level".
The arena runs them through exactly the same simulator and costs as the agents.

Rules (exact):

- buy_and_hold: 1.0 at the window's first bar, NaN afterwards (fills at the second bar's open).
- cash: 0.0 at every bar (never trades; equity stays at the starting cash).
- sma_crossover: SMA 20 and SMA 50 of the close. A *strict* crossover at bar i's close, as in
  backtesting.py's `crossover`: fast[i-1] < slow[i-1] and fast[i] > slow[i] -> 1.0 (go long);
  fast[i-1] > slow[i-1] and fast[i] < slow[i] -> 0.0 (go flat); otherwise NaN. Equality on either bar is
  not a cross; bars where either SMA is NaN never cross.
- rsi_30_70: Wilder RSI 14. rsi[i] < 30 -> 1.0 (oversold: long); rsi[i] > 70 -> 0.0 (overbought:
  flat); 30 <= rsi[i] <= 70 or NaN -> NaN (keep the current level). Because core.sim only sends an order
  when the level changes, "is below 30" and "crosses below 30" give the same fills: the first bar below
  30 buys, later bars below 30 change nothing until a bar above 70 sells.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.indicators import rsi as rsi_indicator
from core.indicators import sma as sma_indicator
from core.sim import SimResult, simulate

SMA_FAST, SMA_SLOW = 20, 50
RSI_LOWER, RSI_UPPER = 30.0, 70.0


def buy_and_hold_targets(n_bars: int) -> np.ndarray:
    """1.0 at the first bar (buy at the second bar's open), then NaN (hold).

    :param n_bars: number of bars in the window.
    """
    targets = np.full(n_bars, np.nan)
    if n_bars:
        targets[0] = 1.0
    return targets


def cash_targets(n_bars: int) -> np.ndarray:
    """0.0 at every bar: the account stays in cash.

    :param n_bars: number of bars in the window.
    """
    return np.zeros(n_bars)


def crossover_targets(fast: np.ndarray, slow: np.ndarray) -> np.ndarray:
    """1.0 where `fast` strictly crosses above `slow` at a bar, 0.0 where it crosses below, else NaN.

    :param fast: the fast series (e.g. SMA 20), NaN during its warm-up.
    :param slow: the slow series (e.g. SMA 50), same length.
    """
    fast = np.asarray(fast, dtype=float)
    slow = np.asarray(slow, dtype=float)
    if fast.shape != slow.shape:
        raise ValueError("fast and slow must have the same length")
    targets = np.full(fast.shape, np.nan)
    if fast.size < 2:
        return targets
    with np.errstate(invalid="ignore"):  # NaN comparisons are False: no cross during warm-up
        up = (fast[:-1] < slow[:-1]) & (fast[1:] > slow[1:])
        down = (fast[:-1] > slow[:-1]) & (fast[1:] < slow[1:])
    targets[1:][up] = 1.0
    targets[1:][down] = 0.0
    return targets


def sma_crossover_targets(
    close: pd.Series | np.ndarray, fast: int = SMA_FAST, slow: int = SMA_SLOW
) -> np.ndarray:
    """SMA crossover decisions over a whole close series (see the module docstring for the rule).

    :param close: closing prices, oldest first.
    :param fast: window of the fast SMA.
    :param slow: window of the slow SMA; must be longer than `fast`.
    """
    if not 0 < fast < slow:
        raise ValueError(f"need 0 < fast < slow for an SMA crossover, got fast={fast}, slow={slow}")
    series = pd.Series(np.asarray(close, dtype=float))
    return crossover_targets(sma_indicator(series, fast).to_numpy(), sma_indicator(series, slow).to_numpy())


def rsi_threshold_targets(
    rsi_values: pd.Series | np.ndarray, lower: float = RSI_LOWER, upper: float = RSI_UPPER
) -> np.ndarray:
    """1.0 where RSI < lower, 0.0 where RSI > upper, NaN otherwise (see the module docstring).

    :param rsi_values: RSI in [0, 100] at each bar (NaN during warm-up).
    :param lower: oversold threshold: below it the strategy goes long.
    :param upper: overbought threshold: above it the strategy goes flat; must exceed `lower`.
    """
    if not 0 <= lower < upper <= 100:
        raise ValueError(f"need 0 <= lower < upper <= 100 for RSI thresholds, got {lower}, {upper}")
    values = np.asarray(rsi_values, dtype=float)
    targets = np.full(values.shape, np.nan)
    with np.errstate(invalid="ignore"):
        targets[values < lower] = 1.0
        targets[values > upper] = 0.0
    return targets


@dataclass(frozen=True)
class Benchmark:
    """A rule-based contestant: how to draw it and how it decides."""

    name: str
    """Identifier used in results, JSON and the CLI (e.g. "sma_crossover")."""
    label: str
    """Human name shown in the leaderboard."""
    colour: str
    """Neon hex colour of its equity line and markers in the web app."""
    symbol: str
    """Plotly marker symbol of its trades."""
    description: str
    """One line saying what the rule is."""
    decide: Callable[[pd.DataFrame, int, int], np.ndarray]
    """(frame, start, end) -> targets for bars start..end-1; may read rows before `start` (the past)."""


def _buy_and_hold(frame: pd.DataFrame, start: int, end: int) -> np.ndarray:
    return buy_and_hold_targets(end - start)


def _cash(frame: pd.DataFrame, start: int, end: int) -> np.ndarray:
    return cash_targets(end - start)


def _sma_crossover(frame: pd.DataFrame, start: int, end: int) -> np.ndarray:
    # SMAs over the whole history up to `end`: the bars before `start` are the past, so a cross at the
    # window's first bar is seen; nothing after end-1 is read.
    return sma_crossover_targets(frame["close"].to_numpy()[:end])[start:end]


def _rsi_30_70(frame: pd.DataFrame, start: int, end: int) -> np.ndarray:
    close = frame["close"].iloc[:end].reset_index(drop=True)
    values = frame["rsi"].to_numpy()[:end] if "rsi" in frame else rsi_indicator(close).to_numpy()
    return rsi_threshold_targets(values)[start:end]


BENCHMARKS: dict[str, Benchmark] = {
    b.name: b
    for b in (
        Benchmark(
            "buy_and_hold",
            "Buy & Hold",
            "#f5f5f5",
            "hexagon",
            "all in at the first bar, never sells",
            _buy_and_hold,
        ),
        Benchmark("cash", "Cash", "#8a8fa8", "x", "stays in cash, never trades", _cash),
        Benchmark(
            "sma_crossover",
            "SMA 20/50 Cross",
            "#b388ff",
            "pentagon",
            "long on a strict SMA20-over-SMA50 cross, flat on the cross back",
            _sma_crossover,
        ),
        Benchmark(
            "rsi_30_70",
            "RSI 30/70",
            "#ff9e40",
            "star",
            "long when RSI(14) < 30, flat when RSI(14) > 70",
            _rsi_30_70,
        ),
    )
}
"""The benchmarks by name, in display order."""


def benchmark_targets(name: str, frame: pd.DataFrame, start: int = 0, end: int | None = None) -> np.ndarray:
    """Decisions of benchmark `name` for bars start..end-1 of `frame` (an OHLCV frame, indicators optional).

    :param name: one of BENCHMARKS.
    :param frame: OHLCV frame (add_indicators output or plain OHLCV), oldest first.
    :param start: first bar of the window (position).
    :param end: one past the last bar (position); None for the end of the frame.
    """
    if name not in BENCHMARKS:
        raise ValueError(f"unknown benchmark {name!r}; choose from {', '.join(BENCHMARKS)}")
    end = len(frame) if end is None else end
    if not 0 <= start < end <= len(frame):
        raise ValueError(f"window [{start}, {end}) is outside the {len(frame)} bars of the data")
    return BENCHMARKS[name].decide(frame, start, end)


# ----------------------------------------------------------------------------------------------------
# Rule-based stand-ins for the four agents (the AgentSet interface of core.agents)


@dataclass
class RuleRollout:
    """Same fields as core.agents.Rollout: what one stand-in agent did over a window."""

    targets: np.ndarray
    actions: np.ndarray
    probs: np.ndarray
    action_labels: tuple[str, ...]
    result: SimResult


RULE_LEVELS = (0.0, 0.25, 0.5, 0.75, 1.0)
"""Action k of a rule agent means exposure RULE_LEVELS[k] x its cap (like the PPO agents' Discrete(5))."""


def _rule_levels(name: str, frame: pd.DataFrame, start: int, end: int) -> np.ndarray:
    rows = frame.iloc[:end]
    close = rows["close"].to_numpy(dtype=float)
    sma20 = rows["sma20"].to_numpy(dtype=float)
    rsi_values = rows["rsi"].to_numpy(dtype=float)
    hist = rows["macd_hist"].to_numpy(dtype=float)
    with np.errstate(invalid="ignore"):
        if name == "conservative":  # half in while above the SMA 20
            levels = np.where(close > sma20, 4, 0)
        elif name == "aggressive":  # all in while the MACD histogram is positive
            levels = np.where(hist > 0, 4, 1)
        elif name == "momentum":  # scale with the trend
            levels = np.where(close > sma20, np.where(hist > 0, 4, 3), np.where(hist > 0, 1, 0))
        else:  # mean reversion: graded by RSI
            levels = np.select(
                [rsi_values < 30, rsi_values < 45, rsi_values > 70, rsi_values > 55], [4, 3, 0, 1], 2
            )
    return levels[start:end].astype(int)


class RuleAgentSet:
    """Deterministic rule-based stand-ins for the four personalities, with the AgentSet interface.

    For the benchmark script and tests when no trained models exist: each "agent" maps causal indicators
    at bar t to one of five levels (see `_rule_levels`). They have no model cards and never model the
    shared-market price impact (fills at the plain open, like the benchmarks).

    :param names: which personalities to stand in for (subset of core.PERSONALITIES).
    """

    def __init__(self, names: tuple[str, ...] = ("conservative", "aggressive", "momentum", "mean_reversion")):
        self.names = tuple(names)
        self.cards: dict[str, dict] = {}
        self.warnings: list[str] = ["rule-based stand-in agents (no trained models)"]

    def rollout(
        self, frame, start: int, end: int, costs=None, cash0: float = 100_000.0, shared_market: bool = False
    ):
        """Decisions and accounts of every stand-in over bars start..end-1 (decision at t sees rows <= t)."""
        open_ = frame["open"].to_numpy(dtype=float)[start:end]
        close = frame["close"].to_numpy(dtype=float)[start:end]
        out = {}
        for name in self.names:
            cap = 0.5 if name == "conservative" else 1.0
            actions = _rule_levels(name, frame, start, end)
            targets = np.asarray(RULE_LEVELS)[actions] * cap
            labels = tuple("flat" if lv == 0 else f"{100 * lv * cap:g}%" for lv in RULE_LEVELS)
            probs = np.eye(len(RULE_LEVELS))[actions]
            result = simulate(open_, close, targets, costs, cash0)
            out[name] = RuleRollout(targets, actions, probs, labels, result)
        return out
