"""The rolling one-day-ahead VaR backtest: worked Kupiec / Christoffersen examples, degenerate cases,
causality, the vectorised forecasts against a slow loop, the Basel traffic light and the verdicts."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from core import risk


def test_kupiec_worked_example():
    # T = 250 days, x = 5 exceptions at 99% (p = 0.01), p_hat = 5/250 = 0.02:
    # LR_pof = -2 ln[(0.99^245 0.01^5) / ((1 - 0.02)^245 0.02^5)]
    #        = -2 [245 ln(0.99/0.98) + 5 ln(0.01/0.02)] = -2 [2.487327 - 3.465736] = 1.956810
    # p = P(chi2_1 > 1.956810) = erfc(sqrt(1.956810 / 2)) = 0.161855
    out = risk.kupiec_pof(250, 5, 0.99)
    assert out["lr"] == pytest.approx(1.956809788, rel=1e-9)
    assert out["p_value"] == pytest.approx(0.161854917, rel=1e-8)


def test_kupiec_degenerate_cases():
    # x = 0: p_hat = 0, and 0 ln 0 = 0, so LR = -2 T ln(1 - p) = -500 ln 0.99 = 5.025168, p = 0.02498
    zero = risk.kupiec_pof(250, 0, 0.99)
    assert zero["lr"] == pytest.approx(5.025167927, rel=1e-9) and zero["p_value"] == pytest.approx(0.0249815, rel=1e-5)
    # x = T: LR = -2 T ln p (finite); exactly the expected rate: LR = 0, p = 1
    assert risk.kupiec_pof(3, 3, 0.99)["lr"] == pytest.approx(-2 * 3 * math.log(0.01))
    assert risk.kupiec_pof(100, 1, 0.99) == {"lr": 0.0, "p_value": 1.0}
    with pytest.raises(ValueError):
        risk.kupiec_pof(0, 0, 0.99)


def test_christoffersen_worked_example():
    # I = 0 0 1 1 1 0 0 0 0 1 0 0 (T = 12, x = 4); the 11 consecutive pairs:
    # 00 01 11 11 10 00 00 00 01 10 00 -> n00 = 5, n01 = 2, n10 = 2, n11 = 2
    # pi01 = 2/7, pi11 = 2/4, pi = 4/11
    # LR_ind = -2 [7 ln(7/11) + 4 ln(4/11) - 5 ln(5/7) - 2 ln(2/7) - 2 ln(1/2) - 2 ln(1/2)] = 0.499647, p = 0.47966
    # LR_pof (T=12, x=4, 99%) = -2 [8 ln .99 + 4 ln .01 - 8 ln(8/12) - 4 ln(4/12)] = 21.725827
    # LR_cc = 22.225474, p (chi2, 2 df) = exp(-LR_cc / 2) = 1.4921e-05
    flags = np.array([0, 0, 1, 1, 1, 0, 0, 0, 0, 1, 0, 0], dtype=bool)
    assert risk.transition_counts(flags) == (5, 2, 2, 2)
    out = risk.christoffersen(flags, 0.99)
    assert out["lr_ind"] == pytest.approx(0.499647341, rel=1e-8)
    assert out["p_ind"] == pytest.approx(0.479655118, rel=1e-8)
    assert out["lr_cc"] == pytest.approx(22.225474164, rel=1e-9)
    assert out["p_cc"] == pytest.approx(1.492105759e-05, rel=1e-8)
    assert out["pi01"] == pytest.approx(2 / 7) and out["pi11"] == pytest.approx(0.5)


@pytest.mark.parametrize(
    "flags, counts",
    [
        ([0] * 20, (19, 0, 0, 0)),  # no exception: pi = 0
        ([1] * 5, (0, 0, 0, 4)),  # only exceptions: pi = 1
        ([0] * 9 + [1], (8, 1, 0, 0)),  # the only exception is the last day: state 1 never left
        ([1], (0, 0, 0, 0)),  # one day: no consecutive pair
    ],
)
def test_christoffersen_degenerate_cases_give_numbers_not_nan(flags, counts):
    out = risk.christoffersen(np.array(flags, dtype=bool), 0.99)
    assert risk.transition_counts(flags) == counts
    for key in ("lr_ind", "p_ind", "lr_cc", "p_cc"):
        assert math.isfinite(out[key]), key
    assert out["lr_ind"] == pytest.approx(0.0, abs=1e-12) and out["p_ind"] == pytest.approx(1.0)


@pytest.mark.parametrize("count, zone", [(0, "green"), (4, "green"), (5, "yellow"), (9, "yellow"),
                                         (10, "red"), (25, "red")])
def test_traffic_light_boundaries(count, zone):
    assert risk.traffic_light(count) == zone


def slow_forecasts(r: np.ndarray, level: float, window: int) -> np.ndarray:
    """Reference: one np.quantile per day over the previous `window` returns."""
    out = np.full(r.size, np.nan)
    for t in range(window, r.size):
        out[t] = -np.quantile(r[t - window : t], 1 - level)
    return out


@pytest.mark.parametrize("seed", [0, 1])
def test_vectorised_backtest_equals_a_slow_loop(seed):
    rng = np.random.default_rng(seed)
    r = rng.standard_t(4, 700) * 0.01
    for window in (250, 60):
        bts = risk.var_backtests(r, levels=(0.99, 0.95, 0.975), window=window)
        for level, bt in bts.items():
            slow = slow_forecasts(r, level, window)
            np.testing.assert_allclose(bt.var, slow, rtol=1e-13, atol=0)
            np.testing.assert_array_equal(bt.flags, r < -np.nan_to_num(slow, nan=np.inf))
            assert bt.exceptions == int(np.sum(r[window:] < -slow[window:]))
            assert bt.observations == r.size - window


def test_forecast_never_uses_the_day_it_forecasts():
    rng = np.random.default_rng(5)
    r = rng.normal(0, 0.01, 400)
    base = risk.var_backtest(r, 0.99)
    t = 300
    # the day-ahead forecast is the trailing VaR of the window ending the day before
    assert base.var[t] == pytest.approx(risk.rolling_var(r, 250, 0.99)[t - 1], rel=1e-12)
    crashed = r.copy()
    crashed[t] = -0.5  # perturb r_t: VaR_t unchanged, and it becomes an exception
    after = risk.var_backtest(crashed, 0.99)
    np.testing.assert_array_equal(after.var[: t + 1], base.var[: t + 1])
    assert after.flags[t]
    earlier = r.copy()
    earlier[t - 1] = -0.5  # perturb r_{t-1}: it is in VaR_t's window, so VaR_t moves
    assert risk.var_backtest(earlier, 0.99).var[t] > base.var[t]


def test_backtest_reports_counts_dates_and_the_traffic_light():
    rng = np.random.default_rng(11)
    dates = pd.bdate_range("2020-01-01", periods=600)
    r = pd.Series(rng.normal(0, 0.01, 600), index=dates)
    r.iloc[[450, 451, 452]] = -0.08  # three exceptions in a row, inside the last 250 days
    r.iloc[10] = np.nan
    bt = risk.var_backtest(r, 0.99)
    assert bt.n_dropped == 1 and bt.observations == 599 - 250
    assert isinstance(bt.var, pd.Series) and bt.var.index.equals(r.dropna().index)
    assert bt.expected == pytest.approx(349 * 0.01)
    assert set(r.index[[450, 451, 452]]) <= set(bt.exception_dates)
    assert bt.traffic_light["days"] == 250 and bt.traffic_light["exceptions"] >= 3
    assert bt.christoffersen["n11"] >= 2
    assert risk.var_backtest(r, 0.95).traffic_light is None  # the Basel zones are for 99%


def test_backtest_needs_window_plus_one_returns():
    with pytest.raises(risk.RiskDataError, match="needs at least 251 returns; this window has 250"):
        risk.var_backtest(np.zeros(250))
    short = risk.var_backtest(np.random.default_rng(0).normal(0, 0.01, 300), 0.99)
    assert "only 50 forecast days" in short.traffic_light["note"]


def _backtest(x: int, t: int = 250, level: float = 0.99, clustered: bool = False) -> risk.VaRBacktest:
    """A backtest object with x exceptions among t days (spread out, or all in a row)."""
    flags = np.zeros(t, dtype=bool)
    flags[np.arange(x) if clustered else np.linspace(0, t - 1, x).astype(int)] = True
    return risk.VaRBacktest(
        level=level, window=250, observations=t, exceptions=x, expected=t * (1 - level),
        kupiec=risk.kupiec_pof(t, x, level), christoffersen=risk.christoffersen(flags, level),
        var=np.zeros(t), flags=flags, exception_dates=[],
        traffic_light={"exceptions": x, "zone": risk.traffic_light(x), "days": t, "expected": t * 0.01,
                       "note": ""} if level == 0.99 else None,
    )


def test_verdict_wordings():
    good = _backtest(4).verdict()
    assert good.startswith("At 99%, 4 exceptions in the last 250 days where 2.5 were expected: green zone.")
    assert "the exception rate is consistent with 99%" in good and "exceptions do not cluster" in good
    bad = _backtest(12, clustered=True).verdict()
    assert "red zone" in bad and "too many exceptions for 99%: the VaR understates the risk" in bad
    assert "exceptions cluster" in bad
    assert "1 exception in" in _backtest(1).verdict()
    assert "too few exceptions for 95%: the VaR is conservative" in _backtest(2, 500, 0.95).verdict()
    assert "clustering cannot be tested" in _backtest(0).verdict()
