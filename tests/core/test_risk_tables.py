"""Drawdown episodes, underwater series, distribution statistics and the asset alignment of core.risk."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from core import risk

#                 0    1    2   3   4    5    6    7    8
EQUITY = np.array([100, 110, 99, 88, 110, 120, 108, 114, 90], dtype=float)


def test_underwater_keeps_the_input_kind():
    arr = risk.underwater(EQUITY)
    assert isinstance(arr, np.ndarray) and arr[3] == pytest.approx(-0.2) and arr[4] == 0.0
    dates = pd.bdate_range("2024-01-01", periods=EQUITY.size)
    series = risk.underwater(pd.Series(EQUITY, index=dates))
    assert isinstance(series, pd.Series) and series.index.equals(dates)
    assert risk.underwater(EQUITY, dates).index.equals(dates)


def test_worst_drawdowns_on_a_hand_made_curve():
    dates = pd.bdate_range("2024-01-01", periods=EQUITY.size)  # Mon 1 Jan .. Thu 11 Jan
    table = risk.worst_drawdowns(EQUITY, n=5, dates=dates)
    assert list(table.columns) == risk.DRAWDOWN_COLUMNS and len(table) == 2
    # deepest: peak 120 (bar 5, 8 Jan), trough 90 (bar 8, 11 Jan): -25%, still open at the last bar
    first = table.iloc[0]
    assert first["depth"] == pytest.approx(-0.25)
    assert (first["peak"], first["trough"], first["recovery"]) == ("2024-01-08", "2024-01-11", "not yet")
    assert first["length"] == 3 and not first["recovered"]
    # then: peak 110 (bar 1, 2 Jan), trough 88 (bar 3): -20%, back at 110 on bar 4 (5 Jan): 3 bars
    second = table.iloc[1]
    assert second["depth"] == pytest.approx(-0.2)
    assert (second["peak"], second["trough"], second["recovery"]) == ("2024-01-02", "2024-01-04", "2024-01-05")
    assert second["length"] == 3 and second["recovered"]
    # undated: bar positions; n limits the rows; a curve that only rises has none
    positions = risk.worst_drawdowns(EQUITY, n=1)
    assert len(positions) == 1 and positions.iloc[0][["peak", "trough"]].tolist() == [5, 8]
    assert risk.worst_drawdowns(np.arange(1.0, 10.0)).empty


def test_distribution_stats_with_nan_and_dates():
    dates = pd.bdate_range("2024-01-01", periods=6)
    r = pd.Series([0.01, np.nan, -0.03, 0.02, 0.0, 0.005], index=dates)
    stats = risk.distribution_stats(r, periods_per_year=252)
    clean = r.dropna()
    assert stats["count"] == 5 and stats["nan_dropped"] == 1
    assert stats["mean"] == pytest.approx(clean.mean()) and stats["volatility"] == pytest.approx(clean.std())
    assert stats["volatility_annualised"] == pytest.approx(clean.std() * math.sqrt(252))
    assert stats["skew"] == pytest.approx(clean.skew()) and stats["excess_kurtosis"] == pytest.approx(clean.kurt())
    assert (stats["best"], stats["best_date"]) == (0.02, "2024-01-04")
    assert (stats["worst"], stats["worst_date"]) == (-0.03, "2024-01-03")
    flat = risk.distribution_stats(np.zeros(5))
    assert flat["volatility"] == 0.0 and math.isnan(flat["skew"]) and flat["best_date"] == 0
    empty = risk.distribution_stats(np.array([np.nan]))
    assert empty["count"] == 0 and empty["nan_dropped"] == 1 and empty["best_date"] is None


def test_aligned_returns_fold_crypto_weekends_into_monday():
    days = pd.date_range("2024-01-04", "2024-01-09")  # Thu .. Tue, BTC every day
    btc = pd.Series([100.0, 110.0, 121.0, 133.1, 66.55, 70.0], index=days)
    stock_days = days[days.day_of_week < 5]  # Thu, Fri, Mon, Tue
    stock = pd.Series([10.0, 11.0, 12.1, 11.0], index=stock_days)
    aligned = risk.aligned_returns({"STOCK": stock, "BTC-USD": btc})
    assert list(aligned.index) == list(stock_days[1:]) and len(aligned) == 3  # common return days
    # Monday's BTC return runs from Friday's close (110) to Monday's (66.55): the weekend is folded in
    assert aligned.loc["2024-01-08", "BTC-USD"] == pytest.approx(66.55 / 110.0 - 1)
    assert aligned.loc["2024-01-08", "STOCK"] == pytest.approx(0.1)
    corr = risk.correlation_matrix(aligned)
    assert corr.shape == (2, 2) and corr.loc["STOCK", "STOCK"] == 1.0


def test_monthly_returns_of_a_longer_curve_match_pandas_resampling():
    dates = pd.bdate_range("2023-11-15", "2025-02-10")
    rng = np.random.default_rng(2)
    equity = 100 * np.cumprod(1 + rng.normal(0, 0.01, dates.size))
    table = risk.monthly_returns(dates, equity)
    month_end = pd.Series(equity, index=dates).resample("ME").last()
    expected = month_end.pct_change()
    expected.iloc[0] = month_end.iloc[0] / equity[0] - 1
    for stamp, value in expected.items():
        assert table.loc[stamp.year, risk.MONTH_NAMES[stamp.month - 1]] == pytest.approx(value)
    assert table.loc[2024, "Year"] == pytest.approx(month_end["2024-12"].iloc[0] / month_end["2023-12"].iloc[0] - 1)
    assert math.isnan(table.loc[2023, "Jan"]) and list(table.index) == [2023, 2024, 2025]
