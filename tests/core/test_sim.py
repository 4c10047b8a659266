"""Property tests of the shared account simulator core/sim.py (hypothesis)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.sim import Costs, rebalance, simulate, target_levels

PRICE = st.floats(min_value=0.5, max_value=500.0, allow_nan=False, allow_infinity=False)
TARGET = st.one_of(st.just(float("nan")), st.sampled_from([0.0, 0.25, 0.5, 0.75, 1.0]), st.floats(0.0, 1.0))
COSTS = st.builds(
    Costs,
    commission_bps=st.floats(min_value=0.0, max_value=100.0),
    slippage_bps=st.floats(min_value=0.0, max_value=100.0),
)


@st.composite
def markets(draw, min_bars: int = 2, max_bars: int = 40):
    n = draw(st.integers(min_value=min_bars, max_value=max_bars))
    open_ = np.array(draw(st.lists(PRICE, min_size=n, max_size=n)))
    close = np.array(draw(st.lists(PRICE, min_size=n, max_size=n)))
    targets = np.array(draw(st.lists(TARGET, min_size=n, max_size=n)))
    return open_, close, targets


SETTINGS = settings(max_examples=80, deadline=None)


@SETTINGS
@given(markets(), COSTS, st.booleans(), st.floats(min_value=100.0, max_value=1e7))
def test_equity_is_cash_plus_units_times_close_at_every_bar(market, costs, whole, cash0):
    open_, close, targets = market
    r = simulate(open_, close, targets, costs, cash0, whole_units=whole)
    np.testing.assert_allclose(r.equity, r.cash + r.units * close, rtol=1e-12, atol=0)
    assert r.equity[0] == pytest.approx(cash0)  # the first decision fills at bar 1 at the earliest


@SETTINGS
@given(markets(), COSTS, st.booleans())
def test_cash_and_units_never_negative_and_position_within_bounds(market, costs, whole):
    open_, close, targets = market
    r = simulate(open_, close, targets, costs, 100_000.0, whole_units=whole)
    # an all-in buy leaves cash at 0 up to float rounding relative to the account's value at the fill's open
    # (hypothesis found -1.2e-4 of cash on an account worth 8e11 at a wild open: 1.5e-16 of it)
    at_open = np.concatenate(([100_000.0], np.abs(r.cash[:-1]) + r.units[:-1] * open_[1:]))
    assert np.all(r.cash >= -1e-12 * np.maximum(at_open, 100_000.0))
    assert np.all(r.units >= 0.0)
    assert np.all(r.position >= 0.0) and np.all(r.position <= 1.0 + 1e-9)
    if whole:
        np.testing.assert_array_equal(r.units, np.round(r.units))


@SETTINGS
@given(markets(), COSTS, st.booleans())
def test_no_fill_on_the_last_bars_decision(market, costs, whole):
    open_, close, targets = market
    base = simulate(open_, close, targets, costs, whole_units=whole)
    for last in (0.0, 1.0, 0.5, float("nan")):
        changed = targets.copy()
        changed[-1] = last
        other = simulate(open_, close, changed, costs, whole_units=whole)
        np.testing.assert_array_equal(other.equity, base.equity)
        np.testing.assert_array_equal(other.fill_bars, base.fill_bars)
    assert np.all(base.fill_bars >= 1) and np.all(base.fill_bars <= len(close) - 1)


@SETTINGS
@given(markets(), COSTS)
def test_fills_happen_only_the_bar_after_a_level_change(market, costs):
    open_, close, targets = market
    r = simulate(open_, close, targets, costs)
    levels = target_levels(targets)
    changed = np.flatnonzero(levels != np.concatenate(([0.0], levels[:-1])))
    assert set((r.fill_bars - 1).tolist()) <= set(changed.tolist())
    # costs are never negative and never exceed the traded notional
    notional = np.abs(r.fill_qty) * r.fill_price
    assert np.all(r.fill_cost >= 0) and np.all(r.fill_cost <= notional + 1e-9)


@SETTINGS
@given(
    st.integers(min_value=2, max_value=60),
    PRICE,
    st.lists(TARGET, min_size=60, max_size=60),
    st.booleans(),
)
def test_zero_costs_and_constant_price_keep_equity_constant(n, price, targets, whole):
    flat = np.full(n, price)
    r = simulate(flat, flat, np.array(targets[:n]), Costs(0.0, 0.0), 100_000.0, whole_units=whole)
    np.testing.assert_allclose(r.equity, 100_000.0, rtol=1e-12)


@SETTINGS
@given(markets(min_bars=3), COSTS)
def test_decisions_after_bar_k_do_not_change_the_account_up_to_k(market, costs):
    open_, close, targets = market
    k = len(close) // 2
    base = simulate(open_, close, targets, costs)
    other_targets = targets.copy()
    other_targets[k:] = 1.0 - np.nan_to_num(other_targets[k:], nan=0.0)
    other = simulate(open_, close, other_targets, costs)
    # a decision at bar k fills at bar k+1: bars 0..k are untouched
    np.testing.assert_array_equal(base.equity[: k + 1], other.equity[: k + 1])


def test_costs_reject_negative_and_absurd_values():
    with pytest.raises(ValueError, match="commission_bps"):
        Costs(commission_bps=-1.0)
    with pytest.raises(ValueError, match="slippage_bps"):
        Costs(slippage_bps=5000.0)
    with pytest.raises(ValueError, match="commission_bps"):
        Costs(commission_bps=float("nan"))


def _reference(open_, close, targets, costs, cash0, whole):
    """Bar-by-bar accounting with the vectorised `rebalance` (the environment's path), for comparison."""
    levels = target_levels(targets)
    cash, units, prev = cash0, 0.0, 0.0
    equity = np.empty(len(close))
    for t in range(len(close)):
        if t > 0 and levels[t - 1] != prev:
            cash, units, *_ = rebalance(
                np.array([cash]), np.array([units]), np.array([levels[t - 1]]), open_[t], costs, whole
            )
            cash, units = float(cash[0]), float(units[0])
        if t > 0:
            prev = levels[t - 1]
        equity[t] = cash + units * close[t]
    return equity


@SETTINGS
@given(markets(), COSTS, st.booleans())
def test_simulate_is_bit_identical_to_bar_by_bar_vectorised_rebalance(market, costs, whole):
    open_, close, targets = market
    r = simulate(open_, close, targets, costs, 100_000.0, whole_units=whole)
    np.testing.assert_array_equal(r.equity, _reference(open_, close, targets, costs, 100_000.0, whole))
