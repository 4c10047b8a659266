"""core.forecast without torch: config validation, the bar plan, the NYSE calendar, metrics, DM, conformal."""

from __future__ import annotations

import dataclasses
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from core.forecast import ForecastConfig, ForecastInputError, InsufficientData, future_dates, nyse_holidays
from core.forecast.config import make_plan
from core.forecast.conformal import band, conformal_quantiles, coverage, log_scores
from core.forecast.scores import diebold_mariano, directional_accuracy, mase, naive_scale, verdict
from core.forecast.windows import make_windows

REPO = Path(__file__).resolve().parents[2]


def test_import_does_not_load_torch():
    code = (
        "import sys, core.forecast, core.cli.forecast; "
        "core.forecast.ForecastConfig(horizon=30).to_dict(); "
        "assert 'torch' not in sys.modules, 'torch was imported'; print('ok')"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr


# --- config -----------------------------------------------------------------------------------------------


def test_config_defaults_round_trip_and_frozen():
    config = ForecastConfig()
    assert (config.window, config.horizon, config.backtest_origins) == (60, 30, 8)
    assert ForecastConfig.from_dict(config.to_dict()) == config
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.horizon = 5  # type: ignore[misc]
    with pytest.raises(ForecastInputError, match="unknown forecast setting"):
        ForecastConfig.from_dict({"horizon": 30, "colour": "red"})


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"horizon": 0}, "horizon must be between 1 and 120 bars, got 0"),
        ({"horizon": 10000}, "horizon must be between 1 and 120 bars, got 10000"),
        ({"window": 2}, "window must be between 5 and 250 bars, got 2"),
        ({"window": 1000}, "window must be between 5 and 250 bars"),
        ({"val_fraction": 0.9}, "val_fraction must be between 0.05 and 0.5"),
        ({"epochs": 0}, "epochs must be between 1 and 1000"),
        ({"calibration_origins": 5}, "a 95% split-conformal band needs at least 19 calibration forecasts"),
        ({"horizon": 2.5}, "horizon must be a whole number"),
        ({"learning_rate": float("nan")}, "learning_rate must be a finite number"),
    ],
)
def test_config_rejects_bad_values_with_a_hint(kwargs, message):
    with pytest.raises(ForecastInputError) as info:
        ForecastConfig(**kwargs)
    assert message in str(info.value)
    assert isinstance(info.value, ValueError)


def test_too_few_rows_says_the_minimum():
    config = ForecastConfig()
    with pytest.raises(InsufficientData) as info:
        make_plan(212, config)
    text = str(info.value)
    assert text.startswith("212 rows are too few: a 30-day forecast with a 60-bar window and 8 backtest origins")
    assert f"needs at least {config.min_rows()} rows" in text
    make_plan(config.min_rows(), config)  # exactly the minimum is enough


@pytest.mark.parametrize("n_extra", [0, 1, 37])
def test_plan_orders_the_parts(n_extra):
    config = ForecastConfig(window=10, horizon=5, backtest_origins=3, calibration_origins=19, calibration_step=2,
                            min_train_windows=20)
    n = config.min_rows() + n_extra
    plan = make_plan(n, config)
    h = config.horizon
    assert plan.backtest[-1] + h == n - 1  # the last origin's horizon ends at the last bar
    assert np.all(np.diff(plan.backtest) == h)  # non-overlapping backtest horizons
    assert plan.calibration[-1] + h <= plan.backtest[0]  # calibration targets are known at the first origin
    assert np.all(np.diff(plan.calibration) == config.calibration_step)
    x, _ = make_windows(np.zeros(plan.train_end), config.window, h)  # the training part's returns
    assert len(x) >= config.min_windows() and (n_extra or len(x) == config.min_windows())


# --- calendar ---------------------------------------------------------------------------------------------

NYSE_2026 = ["01-01", "01-19", "02-16", "04-03", "05-25", "06-19", "07-03", "09-07", "11-26", "12-25"]
NYSE_2027 = ["01-01", "01-18", "02-15", "03-26", "05-31", "06-18", "07-05", "09-06", "11-25", "12-24"]


@pytest.mark.parametrize(("year", "days"), [(2026, NYSE_2026), (2027, NYSE_2027)])
def test_nyse_holidays_known_years(year, days):
    got = nyse_holidays(f"{year}-01-01", f"{year}-12-31")
    assert [d.strftime("%m-%d") for d in got] == days


def test_saturday_new_year_is_not_observed_on_friday_and_juneteenth_starts_2022():
    days = set(nyse_holidays("2021-01-01", "2022-12-31").strftime("%Y-%m-%d"))
    assert "2021-12-31" not in days and "2022-01-01" not in days  # Saturday Jan 1 2022: no holiday at all
    assert "2021-12-24" in days  # Christmas on a Saturday: observed Friday
    assert "2021-06-18" not in days and "2022-06-20" in days  # Juneteenth 2022 (Sunday) -> Monday


def test_future_dates_skip_weekends_thanksgiving_christmas_and_new_year():
    dates = future_dates("2026-11-20", 30, every_day=False)
    assert len(dates) == 30 and dates[0] == pd.Timestamp("2026-11-23")
    text = set(dates.strftime("%Y-%m-%d"))
    assert {"2026-11-26", "2026-12-25", "2027-01-01"}.isdisjoint(text)
    assert "2026-11-27" in text and "2026-12-24" in text and "2026-12-31" in text
    assert (dates.day_of_week < 5).all()
    expected = pd.bdate_range("2026-11-23", "2027-01-08")
    expected = expected[~expected.isin(pd.to_datetime(["2026-11-26", "2026-12-25", "2027-01-01"]))]
    assert list(dates) == list(expected[:30])


def test_future_dates_every_day_for_crypto():
    dates = future_dates("2026-12-30", 5, every_day=True)
    assert list(dates.strftime("%Y-%m-%d")) == ["2026-12-31", "2027-01-01", "2027-01-02", "2027-01-03", "2027-01-04"]


# --- metrics ----------------------------------------------------------------------------------------------


def test_mase_by_hand():
    scale = naive_scale([1.0, 2.0, 4.0, 7.0])  # |1|, |2|, |3| -> 2
    assert scale == 2.0
    assert mase([8.0, 10.0], [7.0, 7.0], scale) == pytest.approx(1.0)  # errors 1 and 3 -> mean 2 / 2
    # one scale per origin (row)
    assert mase([[2.0, 2.0], [4.0, 4.0]], [[1.0, 1.0], [2.0, 2.0]], [1.0, 4.0]) == pytest.approx(0.75)


def test_directional_accuracy_by_hand():
    # from 10: forecast up, up, down; realised up, down, up -> 1 hit of 3
    assert directional_accuracy(10.0, [11.0, 9.0, 12.0], [10.5, 10.5, 9.0]) == pytest.approx(1 / 3)
    # two origins with their own last close
    acc = directional_accuracy([10.0, 20.0], [[11.0, 12.0], [19.0, 21.0]], [[10.1, 9.0], [19.5, 19.5]])
    assert acc == pytest.approx(2 / 4)
    # a forecast of no change has no direction: a flat step is a miss, an all-flat forecast is n/a
    assert directional_accuracy(10.0, [11.0, 12.0], [10.0, 11.0]) == pytest.approx(0.5)
    assert math.isnan(directional_accuracy(10.0, [11.0, 9.0], [10.0, 10.0]))


def test_diebold_mariano_one_step_by_hand():
    e1, e2 = np.array([1.0, 2.0, 3.0, 4.0]), np.ones(4)
    # d = e1^2 - e2^2 = [0, 3, 8, 15]: mean 6.5, variance (biased) 32.25, DM = 6.5 / sqrt(32.25 / 4)
    raw = 6.5 / math.sqrt(32.25 / 4)
    stat, p = diebold_mariano(e1, e2, horizon=1, hln=False)
    assert stat == pytest.approx(raw) and p == pytest.approx(2 * stats.norm.sf(raw))
    stat, p = diebold_mariano(e1, e2, horizon=1)  # HLN: * sqrt((n + 1 - 2) / n), Student t with 3 df
    assert stat == pytest.approx(raw * math.sqrt(3 / 4)) and stat == pytest.approx(1.98248, abs=1e-5)
    assert p == pytest.approx(2 * stats.t.sf(raw * math.sqrt(3 / 4), 3))
    back, p_back = diebold_mariano(e2, e1, horizon=1)
    assert back == pytest.approx(-stat) and p_back == pytest.approx(p)


def test_diebold_mariano_two_step_uses_the_lag_one_autocovariance():
    d = np.array([1.0, 3.0, 2.0, 5.0, 4.0, 6.0])
    e1, e2 = np.sqrt(d + 1.0), np.ones(6)  # e1^2 - e2^2 = d
    c = d - d.mean()
    var = (c @ c) / 6 + 2 * (c[1:] @ c[:-1]) / 6
    expected = d.mean() / math.sqrt(var / 6) * math.sqrt((6 + 1 - 4 + 2 * 1 / 6) / 6)
    stat, p = diebold_mariano(e1, e2, horizon=2)
    assert stat == pytest.approx(expected)
    assert p == pytest.approx(2 * stats.t.sf(abs(expected), 5))
    assert diebold_mariano(np.ones(5), np.ones(5), horizon=3) == (0.0, 1.0)  # equal forecasts


def test_verdict_wording():
    worse = verdict("AAPL", 1.07, 1.0, 0.8, 0.41)
    assert worse == (
        "On AAPL the LSTM's MASE is 1.07 (naive 1.00) and the Diebold-Mariano p-value 0.41: "
        "it does not beat the naive forecast."
    )
    assert "significantly at the 5% level" in verdict("AAPL", 0.8, 1.0, -3.0, 0.01)
    assert "but not significantly" in verdict("AAPL", 0.95, 1.0, -0.5, 0.6)
    assert "significantly worse" in verdict("AAPL", 1.3, 1.0, 3.0, 0.01)


# --- conformal --------------------------------------------------------------------------------------------


def test_conformal_band_covers_iid_errors_at_its_level():
    rng = np.random.default_rng(7)
    horizon = 3
    forecast = np.full((20_000, horizon), 100.0)
    cal_actual = 100.0 * np.exp(rng.normal(0.0, 0.02, (199, horizon)))
    test_actual = 100.0 * np.exp(rng.normal(0.0, 0.02, forecast.shape))
    scores = log_scores(cal_actual, forecast[:199])
    for level in (0.8, 0.95):
        lower, upper = band(forecast, conformal_quantiles(scores, level))
        assert abs(coverage(test_actual, lower, upper) - level) < 0.03
        assert np.all(lower < 100.0) and np.all(upper > 100.0)
        assert np.allclose(lower * upper, 100.0**2)  # symmetric in log-price


def test_conformal_quantile_rank_and_too_few_scores():
    scores = np.arange(1.0, 11.0)[:, None]  # 10 scores: 1..10
    assert conformal_quantiles(scores, 0.8)[0] == 9.0  # ceil(11 * 0.8) = 9th smallest
    assert np.isinf(conformal_quantiles(scores, 0.95)[0])  # ceil(11 * 0.95) = 11 > 10: unbounded
