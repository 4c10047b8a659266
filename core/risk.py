"""Risk numbers over simple daily returns: VaR, CVaR, rolling VaR, monthly returns, correlations.

Sign convention: VaR and CVaR are reported as *positive numbers meaning losses* (0.021 = "a 2.1% loss").
A series whose 5% tail is a gain gives a negative VaR (no loss at that confidence).

- Historical VaR 95: minus the 5% quantile of the returns, with numpy's default linear interpolation
  between order statistics (the same as pandas' `Series.quantile`).
- Historical CVaR 95 (expected shortfall): minus the mean of the returns at or below that quantile
  (quantstats' `cvar(method="historical")` definition), so CVaR >= VaR always.
- Parametric VaR 95: minus (mean + z_0.05 x standard deviation), z from the normal distribution,
  standard deviation with ddof=1 (quantstats' `value_at_risk`).

NaN and infinite returns are dropped before computing; fewer than 2 usable returns give NaN.
"""

from __future__ import annotations

from statistics import NormalDist

import numpy as np
import pandas as pd

MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _finite(returns) -> np.ndarray:
    values = np.asarray(returns, dtype=float).ravel()
    return values[np.isfinite(values)]


def _check_confidence(confidence: float) -> float:
    if not 0.5 <= confidence < 1.0:
        raise ValueError(f"confidence must be in [0.5, 1), e.g. 0.95; got {confidence!r}")
    return 1.0 - confidence


def historical_var(returns, confidence: float = 0.95) -> float:
    """Historical Value at Risk as a positive loss fraction.

    :param returns: simple per-period returns (NaN ignored).
    :param confidence: confidence level, 0.95 for VaR 95.
    """
    alpha = _check_confidence(confidence)
    values = _finite(returns)
    if values.size < 2:
        return float("nan")
    return float(-np.quantile(values, alpha)) + 0.0  # + 0.0 turns -0.0 into 0.0


def historical_cvar(returns, confidence: float = 0.95) -> float:
    """Historical Conditional VaR (expected shortfall) as a positive loss fraction.

    :param returns: simple per-period returns (NaN ignored).
    :param confidence: confidence level, 0.95 for CVaR 95.
    """
    alpha = _check_confidence(confidence)
    values = _finite(returns)
    if values.size < 2:
        return float("nan")
    threshold = np.quantile(values, alpha)
    return float(-values[values <= threshold].mean()) + 0.0


def parametric_var(returns, confidence: float = 0.95) -> float:
    """Gaussian (variance-covariance) Value at Risk as a positive loss fraction.

    :param returns: simple per-period returns (NaN ignored).
    :param confidence: confidence level, 0.95 for VaR 95.
    """
    alpha = _check_confidence(confidence)
    values = _finite(returns)
    if values.size < 2:
        return float("nan")
    z = NormalDist().inv_cdf(alpha)
    return float(-(values.mean() + z * values.std(ddof=1))) + 0.0


def rolling_var(returns, window: int = 60, confidence: float = 0.95) -> np.ndarray:
    """Historical VaR over a trailing window ending at each bar (causal); NaN until `window` returns exist.

    :param returns: simple per-period returns, oldest first.
    :param window: number of trailing returns in each estimate (at least 20).
    :param confidence: confidence level.
    """
    alpha = _check_confidence(confidence)
    if window < 20:
        raise ValueError(f"a rolling VaR window needs at least 20 returns, got {window}")
    series = pd.Series(np.asarray(returns, dtype=float))
    # pandas' rolling quantile interpolates linearly, like np.quantile in historical_var
    return (-series.rolling(window, min_periods=window).quantile(alpha, interpolation="linear")).to_numpy()


def monthly_returns(dates, equity) -> pd.DataFrame:
    """Compounded return of each calendar month: a year x month table (columns Jan..Dec, then "Year").

    A month's return is its last equity over the previous month's last equity (the first month of the
    series uses its first equity as the base), minus 1. Months without data are NaN. "Year" compounds
    the year's months.

    :param dates: the bar dates.
    :param equity: equity at each bar's close.
    """
    equity_series = pd.Series(np.asarray(equity, dtype=float), index=pd.DatetimeIndex(dates))
    if equity_series.empty:
        return pd.DataFrame(columns=[*MONTH_NAMES, "Year"], dtype=float)
    month_end = equity_series.groupby(equity_series.index.to_period("M")).last()
    base = month_end.shift(1)
    base.iloc[0] = equity_series.iloc[0]
    returns = month_end / base - 1.0
    table = pd.DataFrame(
        {"year": returns.index.year, "month": returns.index.month, "ret": returns.to_numpy()}
    ).pivot(index="year", columns="month", values="ret")
    table = table.reindex(columns=range(1, 13))
    table.columns = list(MONTH_NAMES)
    table["Year"] = (1.0 + table[list(MONTH_NAMES)].fillna(0.0)).prod(axis=1) - 1.0
    table.index.name = "year"
    return table


def correlation_matrix(returns_by_name: dict[str, np.ndarray]) -> pd.DataFrame:
    """Pearson correlation of the contestants' per-period returns (pairwise over finite values).

    A contestant whose returns never vary (e.g. cash) has no defined correlation: its row and column
    are NaN except the diagonal, which is 1.0 by convention.

    :param returns_by_name: name -> returns array, all of the same length.
    """
    frame = pd.DataFrame({name: np.asarray(r, dtype=float) for name, r in returns_by_name.items()})
    corr = frame.corr(method="pearson")
    for name in corr.columns:
        corr.loc[name, name] = 1.0
    return corr


def risk_table(returns_by_name: dict[str, np.ndarray], confidence: float = 0.95) -> pd.DataFrame:
    """One row per contestant: historical VaR, CVaR and parametric VaR (positive = loss).

    :param returns_by_name: name -> per-period returns.
    :param confidence: confidence level.
    """
    rows = [
        {
            "contestant": name,
            "var_hist": historical_var(r, confidence),
            "cvar_hist": historical_cvar(r, confidence),
            "var_param": parametric_var(r, confidence),
        }
        for name, r in returns_by_name.items()
    ]
    return pd.DataFrame(rows, columns=["contestant", "var_hist", "cvar_hist", "var_param"])
