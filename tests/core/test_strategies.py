"""Benchmarks: exact rules on tiny series, causality, and the rule-based stand-in agents."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core import PERSONALITIES
from core.indicators import add_indicators
from core.sim import Costs, simulate
from core.strategies import (
    BENCHMARKS,
    RuleAgentSet,
    benchmark_targets,
    buy_and_hold_targets,
    cash_targets,
    crossover_targets,
    rsi_threshold_targets,
    sma_crossover_targets,
)

NAN = np.nan


@pytest.fixture(scope="module")
def aapl() -> pd.DataFrame:
    return add_indicators(pd.read_csv("data/AAPL.csv", parse_dates=["date"]))


def test_buy_and_hold_buys_once_at_the_first_bar():
    np.testing.assert_array_equal(buy_and_hold_targets(4), [1.0, NAN, NAN, NAN])
    assert buy_and_hold_targets(0).size == 0


def test_cash_is_always_flat():
    np.testing.assert_array_equal(cash_targets(3), [0.0, 0.0, 0.0])


def test_crossover_is_strict_on_both_bars():
    slow = np.full(5, 2.0)
    np.testing.assert_array_equal(
        crossover_targets(np.array([1.0, 3, 3, 1, 3]), slow), [NAN, 1.0, NAN, 0.0, 1.0]
    )
    # touching the slow line is not a cross, neither on the earlier nor on the later bar
    np.testing.assert_array_equal(crossover_targets(np.array([1.0, 2, 3]), np.full(3, 2.0)), [NAN, NAN, NAN])
    # NaN (warm-up) never crosses
    np.testing.assert_array_equal(
        crossover_targets(np.array([NAN, 1.0, 3]), np.full(3, 2.0)), [NAN, NAN, 1.0]
    )
    with pytest.raises(ValueError, match="same length"):
        crossover_targets(np.ones(3), np.ones(4))


def test_sma_crossover_on_a_v_shaped_series_buys_after_the_turn():
    close = np.concatenate([np.linspace(100, 50, 60), np.linspace(50, 120, 60)])
    targets = sma_crossover_targets(close)
    buys, sells = np.flatnonzero(targets == 1.0), np.flatnonzero(targets == 0.0)
    assert len(buys) == 1 and len(sells) == 0
    sma20 = pd.Series(close).rolling(20).mean().to_numpy()
    sma50 = pd.Series(close).rolling(50).mean().to_numpy()
    i = buys[0]
    assert sma20[i - 1] < sma50[i - 1] and sma20[i] > sma50[i]
    assert np.all(np.isnan(sma_crossover_targets(np.full(80, 10.0))))  # flat: never crosses
    with pytest.raises(ValueError, match="fast < slow"):
        sma_crossover_targets(close, fast=50, slow=20)


def test_rsi_rule_goes_long_below_30_flat_above_70_and_keeps_otherwise():
    rsi = np.array([NAN, 25.0, 50.0, 75.0, 30.0, 70.0, 29.99])
    np.testing.assert_array_equal(rsi_threshold_targets(rsi), [NAN, 1.0, NAN, 0.0, NAN, NAN, 1.0])
    with pytest.raises(ValueError, match="lower < upper"):
        rsi_threshold_targets(rsi, lower=70, upper=30)


def test_every_benchmark_has_a_distinct_style_from_the_agents():
    from core.personalities import REGISTRY

    agent_styles = {(p.colour.lower(), p.marker) for p in REGISTRY.values()}
    colours = {b.colour.lower() for b in BENCHMARKS.values()} | {c for c, _ in agent_styles}
    symbols = {b.symbol for b in BENCHMARKS.values()} | {m for _, m in agent_styles}
    assert len(colours) == len(BENCHMARKS) + len(REGISTRY)
    assert len(symbols) == len(BENCHMARKS) + len(REGISTRY)
    assert list(BENCHMARKS) == ["buy_and_hold", "cash", "sma_crossover", "rsi_30_70"]


@pytest.mark.parametrize("name", list(BENCHMARKS))
def test_benchmarks_are_causal(aapl, name):
    k = 2000
    changed = aapl[["date", "open", "high", "low", "close", "volume"]].copy()
    rng = np.random.default_rng(1)
    factor = rng.uniform(0.5, 1.5, len(changed) - k - 1)
    for col in ("open", "high", "low", "close"):
        changed.loc[k + 1 :, col] = changed.loc[k + 1 :, col].to_numpy() * factor
    changed = add_indicators(changed)
    start = 1500
    before = benchmark_targets(name, aapl, start, len(aapl))
    after = benchmark_targets(name, changed, start, len(changed))
    np.testing.assert_array_equal(before[: k + 1 - start], after[: k + 1 - start])


@pytest.mark.parametrize("name", ["cash", "sma_crossover", "rsi_30_70"])  # buy-and-hold starts at the window
def test_a_window_sees_the_same_decisions_as_the_whole_history(aapl, name):
    whole = benchmark_targets(name, aapl)
    np.testing.assert_array_equal(benchmark_targets(name, aapl, 3000, 3500), whole[3000:3500])


def test_rsi_benchmark_computes_rsi_when_the_frame_has_none(aapl):
    plain = aapl[["date", "open", "high", "low", "close", "volume"]]
    np.testing.assert_array_equal(
        benchmark_targets("rsi_30_70", plain, 100, 900), benchmark_targets("rsi_30_70", aapl, 100, 900)
    )


def test_benchmark_targets_rejects_unknown_names_and_bad_windows(aapl):
    with pytest.raises(ValueError, match="unknown benchmark 'hodl'"):
        benchmark_targets("hodl", aapl)
    with pytest.raises(ValueError, match="outside"):
        benchmark_targets("cash", aapl, 10, len(aapl) + 1)


def test_rule_agents_follow_the_agent_interface_and_their_accounts_match_simulate(aapl):
    agents = RuleAgentSet()
    assert agents.names == PERSONALITIES
    costs = Costs(10, 5)
    out = agents.rollout(aapl, 3000, 3300, costs)
    for name, r in out.items():
        assert r.targets.shape == (300,) and r.actions.shape == (300,) and r.probs.shape == (300, 5)
        np.testing.assert_allclose(r.probs.sum(axis=1), 1.0)
        assert np.all((r.targets >= 0) & (r.targets <= (0.5 if name == "conservative" else 1.0)))
        again = simulate(
            aapl["open"].to_numpy()[3000:3300], aapl["close"].to_numpy()[3000:3300], r.targets, costs
        )
        np.testing.assert_array_equal(r.result.equity, again.equity)
        assert r.action_labels[0] == "flat" and len(r.action_labels) == 5
