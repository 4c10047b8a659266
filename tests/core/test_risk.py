"""Risk numbers: golden VaR/CVaR, canonical series, rolling VaR causality, tables, quantstats cross-check."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from core import risk

# ten returns, sorted: the 5% quantile sits 0.45 of the way from -5% to -3% (linear interpolation)
TEN = np.array([0.03, -0.05, 0.0, 0.06, -0.01, 0.01, 0.05, -0.03, 0.02, 0.04])
Z_05 = -1.6448536269514722  # standard normal 5% quantile


def test_golden_historical_var_and_cvar_are_positive_losses():
    assert risk.historical_var(TEN) == pytest.approx(0.041)
    assert risk.historical_cvar(TEN) == pytest.approx(0.05)  # only -5% lies at or below the quantile
    assert risk.historical_cvar(TEN) >= risk.historical_var(TEN)


def test_golden_parametric_var():
    # mean 0.012; squared deviations sum to 0.01116, sample variance 0.00124
    assert risk.parametric_var(TEN) == pytest.approx(-(0.012 + Z_05 * math.sqrt(0.00124)), rel=1e-12)


def test_canonical_series():
    flat = np.zeros(30)
    assert risk.historical_var(flat) == 0.0 and risk.historical_cvar(flat) == 0.0
    assert math.copysign(1.0, risk.historical_var(flat)) == 1.0  # no "-0.0" in tables
    gains = np.linspace(0.01, 0.02, 30)
    assert risk.historical_var(gains) < 0  # the 5% tail is a gain: no loss at that confidence
    losses = -np.linspace(0.01, 0.05, 30)
    assert risk.historical_var(losses) == pytest.approx(-np.quantile(losses, 0.05))
    # 30 returns: the 5% quantile lies between the 2nd and 3rd worst, so the tail holds the two worst
    assert risk.historical_cvar(losses) == pytest.approx(-np.sort(losses)[:2].mean())
    assert math.isnan(risk.historical_var([0.01]))
    assert risk.historical_var(np.append(TEN, [np.nan, np.inf])) == pytest.approx(0.041)  # NaN/inf dropped


def test_confidence_is_validated():
    with pytest.raises(ValueError, match="confidence"):
        risk.historical_var(TEN, confidence=95)


def test_rolling_var_is_causal_and_matches_the_point_estimate():
    rng = np.random.default_rng(0)
    r = rng.normal(0, 0.01, 300)
    rolled = risk.rolling_var(r, window=60)
    assert np.all(np.isnan(rolled[:59]))
    assert rolled[59] == pytest.approx(risk.historical_var(r[:60]))
    assert rolled[200] == pytest.approx(risk.historical_var(r[141:201]))
    changed = r.copy()
    changed[201:] *= 5
    np.testing.assert_array_equal(risk.rolling_var(changed, window=60)[:201], rolled[:201])
    with pytest.raises(ValueError, match="at least 20"):
        risk.rolling_var(r, window=5)


def test_monthly_returns_table():
    dates = pd.to_datetime(
        ["2024-01-30", "2024-01-31", "2024-02-28", "2024-02-29", "2024-03-29", "2025-01-02"]
    )
    equity = np.array([100.0, 110.0, 121.0, 99.0, 108.9, 217.8])
    table = risk.monthly_returns(dates, equity)
    assert list(table.columns)[:12] == list(risk.MONTH_NAMES) and table.columns[-1] == "Year"
    assert table.loc[2024, "Jan"] == pytest.approx(0.10)  # the first month compounds from its first bar
    assert table.loc[2024, "Feb"] == pytest.approx(99.0 / 110.0 - 1)
    assert table.loc[2024, "Mar"] == pytest.approx(0.10)
    assert math.isnan(table.loc[2024, "Apr"])
    assert table.loc[2025, "Jan"] == pytest.approx(1.0)
    assert table.loc[2024, "Year"] == pytest.approx(108.9 / 100.0 - 1)


def test_correlation_matrix_handles_a_constant_series():
    a = np.array([0.01, -0.02, 0.03, 0.0])
    corr = risk.correlation_matrix({"a": a, "b": 2 * a, "c": -a, "cash": np.zeros(4)})
    assert corr.loc["a", "b"] == pytest.approx(1.0) and corr.loc["a", "c"] == pytest.approx(-1.0)
    assert corr.loc["cash", "cash"] == 1.0 and math.isnan(corr.loc["a", "cash"])


def test_risk_table_has_one_row_per_contestant():
    table = risk.risk_table({"x": TEN, "y": -TEN})
    assert list(table["contestant"]) == ["x", "y"]
    assert table.loc[0, "var_hist"] == pytest.approx(0.041)


qs = pytest.importorskip("quantstats", reason="quantstats (test-only) is not installed")


@pytest.fixture(scope="module")
def sample_returns() -> pd.Series:
    rng = np.random.default_rng(42)
    values = rng.standard_t(df=4, size=750) * 0.012 + 4e-4
    return pd.Series(values, index=pd.bdate_range("2020-01-01", periods=750))


def test_var_and_cvar_agree_with_quantstats(sample_returns):
    r = sample_returns
    # quantstats reports losses as negative returns: our positive-loss numbers are their negatives
    assert risk.parametric_var(r.to_numpy()) == pytest.approx(
        -qs.stats.value_at_risk(r, confidence=0.95), rel=1e-9
    )
    assert risk.historical_cvar(r.to_numpy()) == pytest.approx(
        -qs.stats.cvar(r, confidence=0.95, method="historical"), rel=1e-9
    )
    assert risk.historical_var(r.to_numpy()) == pytest.approx(-r.quantile(0.05), rel=1e-12)
