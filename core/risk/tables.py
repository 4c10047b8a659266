"""Drawdown, monthly, distribution and correlation tables over equity curves and daily simple returns.

- Underwater series: core.metrics.drawdown_series (equity / running peak - 1, <= 0).
- A drawdown episode runs from a peak (the last bar at the running maximum) through the bars below it to
  the recovery: the first bar back at or above that peak. Depth is the trough's drawdown (negative),
  length is in bars from peak to recovery, or from peak to the last bar when it has not recovered yet.
- Monthly returns compound within each calendar month (see `monthly_returns`).
- Distribution statistics use the sample standard deviation (ddof=1) and the bias-adjusted skew and
  excess kurtosis (pandas' / quantstats' estimators); NaN/inf returns are dropped and counted.
- Correlations are Pearson, over the aligned returns (`correlation_matrix`); assets that trade on
  different calendars are aligned by `aligned_returns`.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from core.risk._common import clean_returns, moments
from core.risk.var import historical_cvar, historical_var, parametric_var

MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
NOT_YET = "not yet"
DRAWDOWN_COLUMNS = ["depth", "peak", "trough", "recovery", "length", "recovered"]


def _label(value):
    if isinstance(value, (pd.Timestamp, dt.date, np.datetime64)):
        return pd.Timestamp(value).strftime("%Y-%m-%d")
    return value.item() if isinstance(value, np.generic) else value


def underwater(equity, dates=None):
    """Drawdown at each bar (equity / running peak - 1, <= 0): a Series on `dates` (or the Series' own
    index) when given one, else an ndarray.

    :param equity: equity (or price) at each bar's close.
    :param dates: optional labels of the bars.
    """
    from core.metrics import drawdown_series  # lazy: core.metrics imports core.risk

    values = drawdown_series(np.asarray(equity, dtype=float))
    if dates is not None:
        return pd.Series(values, index=pd.Index(dates), name="drawdown")
    if isinstance(equity, pd.Series):
        return pd.Series(values, index=equity.index, name="drawdown")
    return values


def worst_drawdowns(equity, n: int = 5, dates=None) -> pd.DataFrame:
    """The `n` deepest drawdown episodes, deepest first: columns DRAWDOWN_COLUMNS.

    depth is negative (-0.2 = 20% below the peak); peak, trough and recovery are dates (YYYY-MM-DD) when
    the bars are dated (`dates` or a Series index), else bar positions; recovery is "not yet" for an
    episode still open at the last bar; length counts bars from the peak to the recovery (or to the last
    bar). NaN equity bars count as no drawdown.

    :param equity: equity (or price) at each bar's close.
    :param n: how many episodes at most.
    :param dates: optional labels of the bars.
    """
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    dd = np.asarray(underwater(np.asarray(equity, dtype=float)), dtype=float)
    dd = np.where(np.isfinite(dd), dd, 0.0)
    labels = pd.Index(dates) if dates is not None else equity.index if isinstance(equity, pd.Series) else None
    edges = np.diff(np.concatenate(([0], (dd < 0).astype(np.int8), [0])))
    starts, stops = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)  # stop = first bar back up
    if starts.size == 0:
        return pd.DataFrame(columns=DRAWDOWN_COLUMNS)
    # min from one episode's start to the next's: the bars in between are at a peak (0), so it is the depth
    depths = np.minimum.reduceat(dd, starts)
    def at(k: int):
        return _label(labels[k]) if labels is not None else k

    rows = []
    for i in np.argsort(depths, kind="stable")[:n]:
        s, e = int(starts[i]), int(stops[i])
        peak, trough = s - 1, s + int(np.argmin(dd[s:e]))
        recovered = e < dd.size
        rows.append({"depth": float(depths[i]), "peak": at(peak), "trough": at(trough),
                     "recovery": at(e) if recovered else NOT_YET,
                     "length": (e if recovered else dd.size - 1) - peak, "recovered": recovered})
    return pd.DataFrame(rows, columns=DRAWDOWN_COLUMNS)


def monthly_returns(dates, equity) -> pd.DataFrame:
    """Compounded return of each calendar month: a year x month table (columns Jan..Dec, then "Year").

    A month's return is its last equity over the previous month's last equity (the first month of the
    series uses its first equity as the base), minus 1. Months without data are NaN. "Year" compounds
    the year's months. Dates must be ascending (as every bar series in core is).

    :param dates: the bar dates.
    :param equity: equity at each bar's close.
    """
    columns = [*MONTH_NAMES, "Year"]
    index = pd.DatetimeIndex(dates)
    eq = np.asarray(equity, dtype=float)
    if eq.size == 0:
        return pd.DataFrame(columns=columns, dtype=float)
    months = index.year.to_numpy() * 12 + index.month.to_numpy() - 1
    last = np.flatnonzero(np.r_[months[1:] != months[:-1], True])  # each month's last bar
    month_end = eq[last]
    returns = month_end / np.r_[eq[0], month_end[:-1]] - 1.0
    years = np.unique(months[last] // 12)
    grid = np.full((years.size, 12), np.nan)
    grid[np.searchsorted(years, months[last] // 12), months[last] % 12] = returns
    year = np.prod(1.0 + np.nan_to_num(grid), axis=1) - 1.0
    table = pd.DataFrame(np.column_stack([grid, year]), index=pd.Index(years, name="year"), columns=columns)
    return table


def distribution_stats(returns, dates=None, periods_per_year: float = 252) -> dict:
    """Summary of a return distribution: count, NaN dropped, mean, volatility (daily and annualised),
    skew, excess kurtosis, best and worst day with their dates (positions when undated).

    Keys: count, nan_dropped, mean, volatility, volatility_annualised, skew, excess_kurtosis, best,
    best_date, worst, worst_date. Statistics that need more returns than there are are NaN (dates None).

    :param returns: simple per-period returns (ndarray or Series).
    :param dates: optional labels of the returns (default: the Series index).
    :param periods_per_year: annualisation (252 stocks, 365 crypto).
    """
    values, labels, dropped = clean_returns(returns, dates)
    mean, std, skew, kurt = moments(values)
    out = {"count": int(values.size), "nan_dropped": dropped, "mean": mean, "volatility": std,
           "volatility_annualised": std * float(np.sqrt(periods_per_year)), "skew": skew,
           "excess_kurtosis": kurt, "best": np.nan, "best_date": None, "worst": np.nan, "worst_date": None}
    if values.size:
        hi, lo = int(np.argmax(values)), int(np.argmin(values))
        out.update(best=float(values[hi]), worst=float(values[lo]),
                   best_date=_label(labels[hi]) if labels is not None else hi,
                   worst_date=_label(labels[lo]) if labels is not None else lo)
    return out


def correlation_matrix(returns_by_name) -> pd.DataFrame:
    """Pearson correlation of named, aligned return series (pairwise over finite values).

    A series whose returns never vary (e.g. cash) has no defined correlation: its row and column are NaN
    except the diagonal, which is 1.0 by convention.

    :param returns_by_name: name -> returns array (all the same length), or a DataFrame of columns.
    """
    frame = pd.DataFrame({name: np.asarray(r, dtype=float) for name, r in returns_by_name.items()})
    corr = frame.corr(method="pearson")
    for name in corr.columns:
        corr.loc[name, name] = 1.0
    return corr


def aligned_returns(closes_by_name: dict) -> pd.DataFrame:
    """Daily simple returns of several assets on their common dates (one column per asset).

    Method: inner-join the closes on date (the dates every asset has a close for), then take returns of
    the aligned closes. An asset that also trades on other days (crypto on weekends) thus contributes its
    close on each common date, and its move over a weekend is folded into Monday's return instead of being
    dropped. The number of common return days is len(result) (common close dates minus one).

    :param closes_by_name: name -> close prices as a Series indexed by date.
    """
    frame = pd.concat({name: pd.Series(s, dtype=float) for name, s in closes_by_name.items()},
                      axis=1, join="inner").sort_index()
    return frame.pct_change(fill_method=None).iloc[1:]


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
