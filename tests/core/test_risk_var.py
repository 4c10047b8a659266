"""VaR / CVaR by method: Gaussian CVaR and Cornish-Fisher by hand, canonical series, notes, quantstats."""

from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np
import pandas as pd
import pytest

from core import risk

TEN = np.array([0.03, -0.05, 0.0, 0.06, -0.01, 0.01, 0.05, -0.03, 0.02, 0.04])
Z_05 = -1.6448536269514722  # standard normal 5% quantile
Z_01 = -2.3263478740408408  # standard normal 1% quantile
PHI = NormalDist().pdf


def test_gaussian_cvar_by_hand():
    # mean 0.012, sample variance 0.00124 (see test_risk.py); CVaR = -(mu - sigma phi(z) / alpha)
    sigma = math.sqrt(0.00124)
    assert risk.parametric_cvar(TEN) == pytest.approx(-(0.012 - sigma * PHI(Z_05) / 0.05), rel=1e-12)
    assert risk.parametric_cvar(TEN, 0.99) == pytest.approx(-(0.012 - sigma * PHI(Z_01) / 0.01), rel=1e-12)
    assert risk.parametric_cvar(TEN) > risk.parametric_var(TEN)


def test_cornish_fisher_by_hand():
    # deviations from the mean 0.012: 0.018 -0.062 -0.012 0.048 -0.022 -0.002 0.038 -0.042 0.008 0.028
    # sums of their powers: d^2 0.01116, d^3 -0.00013104, d^4 2.626032e-05; n = 10
    n, s2, s3, s4 = 10, 0.01116, -0.00013104, 2.626032e-05
    m2, m3, m4 = s2 / n, s3 / n, s4 / n
    skew = m3 / m2**1.5 * math.sqrt(n * (n - 1)) / (n - 2)  # bias-adjusted G1 = -0.41681
    kurt = ((n + 1) * (m4 / m2**2 - 3) + 6) * (n - 1) / ((n - 2) * (n - 3))  # bias-adjusted G2 = -0.61178
    assert skew == pytest.approx(-0.4168107009, rel=1e-9) and kurt == pytest.approx(-0.6117759279, rel=1e-9)
    z = Z_05
    z_cf = z + (z**2 - 1) * skew / 6 + (z**3 - 3 * z) * kurt / 24 - (2 * z**3 - 5 * z) * skew**2 / 36
    assert z_cf == pytest.approx(-1.7724180392, rel=1e-9)
    sigma = math.sqrt(0.00124)
    assert risk.cornish_fisher_var(TEN) == pytest.approx(-(0.012 + z_cf * sigma), rel=1e-12)  # 0.050413
    # CVaR: closed-form tail mean of the CF quantile
    bracket = 1 + z * skew / 6 + (z**2 - 1) * kurt / 24 - (2 * z**2 - 1) * skew**2 / 36
    assert risk.cornish_fisher_cvar(TEN) == pytest.approx(-(0.012 - sigma * PHI(z) / 0.05 * bracket), rel=1e-12)


def test_cornish_fisher_tail_mean_is_the_integral_of_the_cf_quantile():
    # convention check: (1/alpha) x integral over (0, alpha) of z_cf(u) du, by the midpoint rule
    for alpha, s, k in ((0.05, -0.4, 1.5), (0.01, 0.3, 3.0), (0.05, 0.0, 0.0)):
        u = (np.arange(20_000) + 0.5) / 20_000 * alpha
        z = np.array([NormalDist().inv_cdf(x) for x in u])
        z_cf = z + (z**2 - 1) * s / 6 + (z**3 - 3 * z) * k / 24 - (2 * z**3 - 5 * z) * s * s / 36
        assert risk.cornish_fisher_tail_mean(alpha, s, k) == pytest.approx(z_cf.mean(), rel=1e-3)


def test_cornish_fisher_reduces_to_gaussian_without_skew_and_kurtosis():
    for alpha in (0.05, 0.01):
        z = NormalDist().inv_cdf(alpha)
        assert risk.cornish_fisher_z(alpha, 0.0, 0.0) == z
        assert risk.cornish_fisher_tail_mean(alpha, 0.0, 0.0) == pytest.approx(-PHI(z) / alpha, rel=1e-15)


@pytest.mark.parametrize("method", risk.METHODS)
def test_flat_series_has_zero_var_and_a_note(method):
    for level in (0.95, 0.99):
        res = risk.var_cvar(np.zeros(40), level, method)
        assert res.var == 0.0 and res.cvar == 0.0 and math.copysign(1.0, res.var) == 1.0
        assert "never vary" in res.note
    assert "Cornish-Fisher = Gaussian" in risk.var_cvar(np.zeros(40), 0.99, "cornish_fisher").note


def test_all_negative_series_loses_at_every_level():
    losses = -np.linspace(0.01, 0.05, 30)
    for method in risk.METHODS:
        res = risk.var_cvar(losses, 0.95, method)
        assert res.var > 0 and res.cvar >= res.var - 1e-12, method
    assert risk.var_cvar(losses, 0.99).var == pytest.approx(-np.quantile(losses, 0.01))


def test_nan_is_dropped_and_counted():
    noisy = pd.Series(np.append(TEN, [np.nan, np.inf, np.nan]))
    res = risk.var_cvar(noisy, 0.95, "historical")
    assert res.n_returns == 10 and res.n_dropped == 3 and "3 NaN/infinite" in res.note
    assert res.var == pytest.approx(0.041)
    assert risk.var_cvar(noisy, 0.95, "cornish_fisher").var == pytest.approx(risk.cornish_fisher_var(TEN))


def test_too_short_series_gives_nan_and_says_what_is_needed():
    res = risk.var_cvar([0.01, -0.02, 0.0], 0.99, "cornish_fisher")
    assert math.isnan(res.var) and "needs at least 4 returns; this series has 3" in res.note
    assert math.isnan(risk.var_cvar([0.01], 0.95, "parametric").var)
    # 10 returns at 99%: less than one return in the 1% tail
    assert "less than one lies in the 1% tail" in risk.var_cvar(TEN, 0.99).note
    with pytest.raises(ValueError, match="method must be one of"):
        risk.var_cvar(TEN, 0.95, "monte_carlo")


def test_cornish_fisher_outside_its_range_is_flagged():
    rng = np.random.default_rng(3)
    spiky = np.where(rng.random(500) < 0.01, -0.5, rng.normal(0, 0.001, 500))  # huge skew and kurtosis
    assert "treat with caution" in risk.var_cvar(spiky, 0.95, "cornish_fisher").note


def test_var_table_has_every_name_method_and_level():
    table = risk.var_table({"x": TEN, "cash": np.zeros(10)})
    assert list(table.columns) == ["contestant", "method", "level", "var", "cvar", "n_returns", "note"]
    assert len(table) == 2 * 3 * 2
    row = table[(table.contestant == "x") & (table.method == "historical") & (table.level == 0.95)].iloc[0]
    assert row["var"] == pytest.approx(0.041) and row["n_returns"] == 10


def test_ten_day_scaling_carries_its_label():
    value, label = risk.scale_to_horizon(0.02, 10)
    assert value == pytest.approx(0.02 * math.sqrt(10)) and "square-root-of-time" in label and "10-day" in label


qs = pytest.importorskip("quantstats", reason="quantstats (test-only) is not installed")


@pytest.fixture(scope="module")
def fat_tailed() -> pd.Series:
    rng = np.random.default_rng(7)
    return pd.Series(rng.standard_t(df=3, size=1000) * 0.015 + 3e-4, index=pd.bdate_range("2019-01-01", periods=1000))


@pytest.mark.parametrize("level", [0.95, 0.99])
def test_historical_and_gaussian_agree_with_quantstats(fat_tailed, level):
    r = fat_tailed
    # Convention difference: quantstats returns losses as negative returns; ours are positive losses.
    assert risk.parametric_var(r, level) == pytest.approx(-qs.stats.value_at_risk(r, confidence=level), rel=1e-9)
    assert risk.parametric_cvar(r, level) == pytest.approx(
        -qs.stats.cvar(r, confidence=level, method="parametric"), rel=1e-9)
    assert risk.historical_cvar(r, level) == pytest.approx(
        -qs.stats.cvar(r, confidence=level, method="historical"), rel=1e-12)
    # quantstats has no historical VaR function; its historical CVaR's threshold is pandas' quantile, ours too
    assert risk.historical_var(r, level) == pytest.approx(-r.quantile(1 - level), rel=1e-12)


def test_moments_agree_with_quantstats(fat_tailed):
    mean, std, skew, kurt = risk.moments(fat_tailed.to_numpy())
    assert skew == pytest.approx(qs.stats.skew(fat_tailed), rel=1e-9)
    assert kurt == pytest.approx(qs.stats.kurtosis(fat_tailed), rel=1e-9)  # both excess kurtosis
    assert std == pytest.approx(fat_tailed.std(), rel=1e-12)
