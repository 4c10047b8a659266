"""Metrics: golden values on hand-computed series, canonical series, and a quantstats cross-check."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from core import metrics as m
from core.sim import Costs, simulate

# equity 100 -> 110 -> 99 -> 108.9: returns +10%, -10%, +10%
EQUITY = np.array([100.0, 110.0, 99.0, 108.9])
RETURNS = np.array([0.1, -0.1, 0.1])


def test_simple_returns_and_total_return():
    np.testing.assert_allclose(m.simple_returns(EQUITY), RETURNS, rtol=1e-12)
    assert m.total_return(EQUITY) == pytest.approx(0.089)
    assert m.simple_returns([5.0]).size == 0
    assert math.isnan(m.total_return([]))


def test_golden_sharpe_sortino_volatility():
    # mean 1/30, sample variance 1/75: Sharpe = (1/30) * sqrt(75) * sqrt(252) = sqrt(21)
    assert m.sharpe_ratio(RETURNS, 252) == pytest.approx(math.sqrt(21.0), rel=1e-12)
    # downside deviation sqrt(0.01 / 3): Sortino = (1/30) / sqrt(1/300) * sqrt(252) = sqrt(84)
    assert m.sortino_ratio(RETURNS, 252) == pytest.approx(math.sqrt(84.0), rel=1e-12)
    assert m.annualised_volatility(RETURNS, 252) == pytest.approx(math.sqrt(252.0 / 75.0), rel=1e-12)


def test_golden_drawdown_cagr_calmar():
    assert m.max_drawdown(EQUITY) == pytest.approx(-0.1)
    np.testing.assert_allclose(m.drawdown_series(EQUITY), [0.0, 0.0, -0.1, -0.01], atol=1e-12)
    # three periods with 3 periods a year = one year: CAGR is the total return
    assert m.cagr(EQUITY, periods_per_year=3) == pytest.approx(0.089)
    assert m.cagr(EQUITY, periods_per_year=6) == pytest.approx(1.089**2 - 1)
    assert m.calmar_ratio(EQUITY, periods_per_year=3) == pytest.approx(0.89)


def test_flat_series_is_zero_risk_zero_reward():
    flat = np.full(50, 100_000.0)
    r = m.simple_returns(flat)
    assert m.sharpe_ratio(r) == 0.0
    assert m.sortino_ratio(r) == 0.0
    assert m.annualised_volatility(r) == 0.0
    assert m.max_drawdown(flat) == 0.0
    assert math.isnan(m.calmar_ratio(flat))  # no drawdown: undefined
    assert m.sharpe_confidence_interval(r) == (0.0, 0.0)


def test_constant_nonzero_return_has_an_undefined_sharpe():
    r = np.full(30, 0.001)
    assert math.isnan(m.sharpe_ratio(r))
    assert m.sortino_ratio(r) == math.inf  # gains only: empyrical's convention


def test_all_negative_series():
    r = np.full(10, -0.01) + np.linspace(0, 1e-3, 10)
    equity = 100 * np.cumprod(np.concatenate(([1.0], 1 + r)))
    assert m.sharpe_ratio(r) < 0 and m.sortino_ratio(r) < 0
    assert m.total_return(equity) < 0 and m.cagr(equity) < 0 and m.calmar_ratio(equity) < 0
    assert m.max_drawdown(equity) == pytest.approx(equity[-1] / equity[0] - 1)


def test_nan_returns_are_dropped():
    with_nan = np.array([0.1, np.nan, -0.1, np.inf, 0.1])
    assert m.sharpe_ratio(with_nan, 252) == pytest.approx(math.sqrt(21.0))
    assert m.sortino_ratio(with_nan, 252) == pytest.approx(math.sqrt(84.0))
    assert math.isnan(m.sharpe_ratio([np.nan, 0.1]))  # one usable return is not enough
    assert math.isnan(m.max_drawdown([]))


def test_bad_periods_per_year_is_rejected():
    with pytest.raises(ValueError, match="periods_per_year"):
        m.sharpe_ratio(RETURNS, 0)


def test_win_rate_counts_closed_round_trips_net_of_costs():
    #          bar: 0    1    2    3    4    5    6    7    8
    units = np.array([0, 1.0, 2.0, 0, 0, 1.0, 1.0, 0, 3.0])
    cash = np.array([100.0, 0, -1, 105, 105, 5, 5, 90, 10])
    np.testing.assert_allclose(
        m.round_trip_pnls(units, cash), [5.0, -15.0]
    )  # the open trip at bar 8 is not closed
    assert m.win_rate(units, cash) == 0.5
    assert math.isnan(m.win_rate(np.zeros(5), np.full(5, 100.0)))


def test_turnover_and_exposure():
    assert m.turnover([10.0, -10.0], [100.0, 110.0], [1000.0, 1050.0, 1100.0]) == pytest.approx(
        2100.0 / 1050.0
    )
    assert m.exposure([0.0, 0.5, 1.0, np.nan]) == pytest.approx(0.5)


def test_bootstrap_ci_is_seeded_contains_the_estimate_and_batches_like_single_series():
    rng = np.random.default_rng(3)
    r = rng.normal(5e-4, 0.01, 500)
    low, high = m.sharpe_confidence_interval(r, seed=7)
    assert (low, high) == m.sharpe_confidence_interval(r, seed=7)
    assert (low, high) != m.sharpe_confidence_interval(r, seed=8)
    assert low < m.sharpe_ratio(r) < high
    # i.i.d. returns: the band's width is about 2 x 1.96 x sqrt(252 / n) (the Sharpe's standard error)
    assert (high - low) == pytest.approx(2 * 1.96 * math.sqrt(252 / 500), rel=0.15)
    other = rng.normal(0, 0.02, 500)
    both = m.sharpe_confidence_intervals(np.column_stack([r, other]), seed=7)
    np.testing.assert_allclose(both[0], (low, high), rtol=1e-9)
    np.testing.assert_allclose(both[1], m.sharpe_confidence_interval(other, seed=7), rtol=1e-9)
    # the count-matrix implementation equals an explicit resampling with the same draws
    draws = np.random.default_rng(7).integers(0, 500, size=(1000, 500))
    samples = r[draws]
    explicit = np.percentile(samples.mean(axis=1) / samples.std(axis=1, ddof=1) * math.sqrt(252), [2.5, 97.5])
    np.testing.assert_allclose((low, high), explicit, rtol=1e-9)
    with pytest.raises(ValueError, match="at least 100"):
        m.sharpe_confidence_interval(r, n_resamples=10)


def test_performance_summary_of_a_simulated_account():
    close = np.array([10.0, 11, 12, 11, 13, 14, 12, 15])
    targets = np.array([1.0, np.nan, 0.0, 1.0, np.nan, np.nan, np.nan, np.nan])
    open_ = np.concatenate(([10.0], close[:-1]))  # gapless: each open is the previous close
    result = simulate(open_, close, targets, Costs(0, 0), 1000.0)
    s = m.performance_summary(result, 252)
    assert set(s) == set(m.METRIC_LABELS)
    # buys at bar 1's open (10), sells at bar 3's open (12), buys at bar 4's open (11), holds to 15
    assert s["final_equity"] == pytest.approx(1000 * 12 / 10 * 15 / 11)
    assert s["trades"] == 3 and s["round_trips"] == 1 and s["win_rate"] == 1.0
    assert s["costs_paid"] == 0.0
    assert s["exposure"] == pytest.approx(np.mean(result.position))


qs = pytest.importorskip("quantstats", reason="quantstats (test-only) is not installed")


@pytest.fixture(scope="module")
def sample_returns() -> pd.Series:
    rng = np.random.default_rng(42)
    values = rng.standard_t(df=4, size=750) * 0.012 + 4e-4
    return pd.Series(values, index=pd.bdate_range("2020-01-01", periods=750))


def test_sharpe_sortino_volatility_agree_with_quantstats(sample_returns):
    r = sample_returns
    assert m.sharpe_ratio(r.to_numpy(), 252) == pytest.approx(qs.stats.sharpe(r, periods=252), rel=1e-9)
    assert m.sortino_ratio(r.to_numpy(), 252) == pytest.approx(qs.stats.sortino(r, periods=252), rel=1e-9)
    assert m.annualised_volatility(r.to_numpy(), 252) == pytest.approx(
        qs.stats.volatility(r, periods=252), rel=1e-9
    )
    assert m.sharpe_ratio(r.to_numpy(), 365) == pytest.approx(qs.stats.sharpe(r, periods=365), rel=1e-9)


def test_max_drawdown_agrees_with_quantstats(sample_returns):
    equity = 100_000 * (1 + sample_returns).cumprod()
    assert m.max_drawdown(equity.to_numpy()) == pytest.approx(qs.stats.max_drawdown(equity), rel=1e-9)
