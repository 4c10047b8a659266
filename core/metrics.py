"""Performance metrics as pure functions over equity / return / fill arrays.

Conventions (every function documents its own edge cases):

- Returns are simple per-bar returns of the equity curve: r[t] = equity[t] / equity[t-1] - 1.
  NaN and infinite returns are dropped before any statistic (empyrical's nan-aware behaviour).
- Annualisation uses `periods_per_year`: 252 for stocks, 365 for crypto (core.data.periods_per_year).
- Standard deviations use ddof=1 (sample), like empyrical and quantstats. Risk-free rate is 0.
- Sharpe = mean(r) / std(r) x sqrt(periods_per_year). Degenerate cases: fewer than 2 returns -> NaN;
  zero variance (std below 1e-14) -> 0.0 when the mean is 0 too (e.g. the cash benchmark: no risk, no
  reward), else NaN (undefined).
- Sortino = mean(r) / downside deviation x sqrt(periods_per_year), downside deviation =
  sqrt(sum(min(r, 0)^2) / n) over all n returns (quantstats/empyrical with target 0). No losing bar:
  0.0 when the mean is 0, +inf when it is positive (empyrical's convention; JSON writes null).
- Max drawdown is a negative fraction: min over t of equity[t] / max(equity[..t]) - 1 (0.0 if never
  below a previous peak). Calmar = CAGR / |max drawdown|, NaN without a drawdown.
- Bootstrap CI of the Sharpe ratio: i.i.d. resampling of the returns with replacement (same length),
  `n_resamples` times (default 1000) from `numpy.random.default_rng(seed)` (default seed 0, so results
  are reproducible), 2.5% and 97.5% percentiles of the resampled Sharpe ratios. i.i.d. ignores
  autocorrelation: it is a rough band, not a test.
- Win rate: share of closed round trips with a positive P&L. A round trip starts at the fill that takes
  the account from 0 units to a position and ends at the fill that brings it back to 0 units; its P&L is
  the change in cash across it, i.e. net of every fill's commission and slippage in between. An open
  position at the end is not a closed round trip. No closed trip -> NaN.
- Turnover: total traded notional over the window / mean equity (total, not annualised: a buy and
  later sell of the whole account is about 2.0).
- Exposure: mean of the position (units x close / equity) over the bars.
"""

from __future__ import annotations

import math

import numpy as np

from core import risk
from core.risk import _finite
from core.sim import SimResult

ZERO_STD = 1e-14
"""Standard deviations below this are treated as zero (float noise on a flat equity curve)."""
DEFAULT_RESAMPLES = 1000
DEFAULT_SEED = 0


def _check_periods(periods_per_year: float) -> None:
    if not periods_per_year > 0:
        raise ValueError(
            f"periods_per_year must be positive (252 stocks, 365 crypto), got {periods_per_year}"
        )


def simple_returns(equity) -> np.ndarray:
    """Per-bar simple returns of an equity curve (length n-1); a non-positive previous equity gives NaN.

    :param equity: equity at each bar's close.
    """
    eq = np.asarray(equity, dtype=float)
    if eq.size < 2:
        return np.empty(0)
    prev = eq[:-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(prev > 0, eq[1:] / prev - 1.0, np.nan)


def total_return(equity) -> float:
    """Last equity over first equity, minus 1; NaN for an empty curve or a non-positive start.

    :param equity: equity at each bar's close.
    """
    eq = np.asarray(equity, dtype=float)
    if eq.size == 0 or not eq[0] > 0:
        return float("nan")
    return float(eq[-1] / eq[0] - 1.0)


def cagr(equity, periods_per_year: float = 252) -> float:
    """Compound annual growth rate over the n-1 periods of the curve; NaN with fewer than 2 bars.

    :param equity: equity at each bar's close.
    :param periods_per_year: bars per year (252 stocks, 365 crypto).
    """
    _check_periods(periods_per_year)
    eq = np.asarray(equity, dtype=float)
    if eq.size < 2 or not eq[0] > 0:
        return float("nan")
    growth = eq[-1] / eq[0]
    if growth <= 0:
        return -1.0
    return float(growth ** (periods_per_year / (eq.size - 1)) - 1.0)


def annualised_volatility(returns, periods_per_year: float = 252) -> float:
    """Sample standard deviation of the returns x sqrt(periods_per_year); NaN with fewer than 2 returns.

    :param returns: per-period simple returns.
    :param periods_per_year: bars per year.
    """
    _check_periods(periods_per_year)
    r = _finite(returns)
    if r.size < 2:
        return float("nan")
    return float(r.std(ddof=1) * math.sqrt(periods_per_year))


def sharpe_ratio(returns, periods_per_year: float = 252) -> float:
    """Annualised Sharpe ratio with a zero risk-free rate (degenerate cases in the module docstring).

    :param returns: per-period simple returns.
    :param periods_per_year: bars per year.
    """
    _check_periods(periods_per_year)
    r = _finite(returns)
    if r.size < 2:
        return float("nan")
    mean, std = r.mean(), r.std(ddof=1)
    if std < ZERO_STD:
        return 0.0 if abs(mean) < ZERO_STD else float("nan")
    return float(mean / std * math.sqrt(periods_per_year))


def sharpe_confidence_intervals(
    returns_matrix,
    periods_per_year: float = 252,
    *,
    n_resamples: int = DEFAULT_RESAMPLES,
    seed: int = DEFAULT_SEED,
    level: float = 0.95,
) -> np.ndarray:
    """Bootstrap percentile intervals of the Sharpe ratios of several aligned return series at once.

    Every column is resampled with the SAME bootstrap draws (a paired bootstrap: the contestants of one
    battle are compared on the same resampled days). Implementation: the draws are turned into a count
    matrix (how often each day is drawn in each resample), so the resampled means and variances of all
    columns are one matrix product instead of one gather per column; results equal resampling each column
    with the same draws, up to float rounding.

    :param returns_matrix: (n, k) finite simple returns, one column per series.
    :param periods_per_year: bars per year.
    :param n_resamples: number of bootstrap resamples (at least 100).
    :param seed: seed of the numpy Generator, for reproducible intervals.
    :param level: coverage of the interval (0.95 -> 2.5% and 97.5% percentiles).
    :returns: (k, 2) array of (low, high); NaN for a column with fewer than 2 returns.
    """
    _check_periods(periods_per_year)
    if n_resamples < 100:
        raise ValueError(f"use at least 100 bootstrap resamples, got {n_resamples}")
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level}")
    r = np.asarray(returns_matrix, dtype=float)
    if r.ndim == 1:
        r = r[:, None]
    n, k = r.shape
    out = np.full((k, 2), np.nan)
    if n < 2 or k == 0:
        return out
    if not np.all(np.isfinite(r)):
        raise ValueError("returns must be finite for the bootstrap; drop NaN/inf first")
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, n, size=(n_resamples, n))
    mean = np.empty((n_resamples, k))
    sumsq = np.empty((n_resamples, k))
    # Centre each column first: the variance is shift-invariant and the centred sums lose no precision
    # (a constant column gives exactly 0 variance).
    centre = r.mean(axis=0)
    rc = r - centre
    both = np.concatenate([rc, rc * rc], axis=1)
    chunk = 200  # bounds the count matrix to chunk x n floats
    for lo in range(0, n_resamples, chunk):
        block = draws[lo : lo + chunk]
        rows = block.shape[0]
        counts = np.bincount((block + n * np.arange(rows)[:, None]).ravel(), minlength=rows * n)
        sums = counts.reshape(rows, n).astype(float) @ both
        mean[lo : lo + rows], sumsq[lo : lo + rows] = sums[:, :k] / n, sums[:, k:]
    var = np.maximum(sumsq - n * mean * mean, 0.0) / (n - 1)
    std = np.sqrt(var)
    mean = mean + centre
    with np.errstate(divide="ignore", invalid="ignore"):
        ratios = np.where(std < ZERO_STD, np.where(np.abs(mean) < ZERO_STD, 0.0, np.nan), mean / std)
    ratios *= math.sqrt(periods_per_year)
    tail = (1.0 - level) / 2.0 * 100.0
    for j in range(k):
        col = ratios[:, j][np.isfinite(ratios[:, j])]
        if col.size:
            out[j] = np.percentile(col, [tail, 100.0 - tail])
    return out


def sharpe_confidence_interval(
    returns,
    periods_per_year: float = 252,
    *,
    n_resamples: int = DEFAULT_RESAMPLES,
    seed: int = DEFAULT_SEED,
    level: float = 0.95,
) -> tuple[float, float]:
    """Bootstrap percentile interval of one series' Sharpe ratio (see the module docstring).

    :param returns: per-period simple returns (NaN dropped).
    :param periods_per_year: bars per year.
    :param n_resamples: number of bootstrap resamples (at least 100).
    :param seed: seed of the numpy Generator, for reproducible intervals.
    :param level: coverage of the interval (0.95 -> 2.5% and 97.5% percentiles).
    """
    low, high = sharpe_confidence_intervals(
        _finite(returns)[:, None], periods_per_year, n_resamples=n_resamples, seed=seed, level=level
    )[0]
    return float(low), float(high)


def sortino_ratio(returns, periods_per_year: float = 252) -> float:
    """Annualised Sortino ratio with a 0 target (degenerate cases in the module docstring).

    :param returns: per-period simple returns.
    :param periods_per_year: bars per year.
    """
    _check_periods(periods_per_year)
    r = _finite(returns)
    if r.size < 2:
        return float("nan")
    downside = math.sqrt(float(np.sum(np.minimum(r, 0.0) ** 2)) / r.size)
    mean = float(r.mean())
    if downside < ZERO_STD:
        return 0.0 if abs(mean) < ZERO_STD else (math.inf if mean > 0 else float("nan"))
    return mean / downside * math.sqrt(periods_per_year)


def drawdown_series(equity) -> np.ndarray:
    """Drawdown at each bar: equity / running peak - 1 (<= 0); NaN equity propagates as NaN.

    :param equity: equity at each bar's close.
    """
    eq = np.asarray(equity, dtype=float)
    peak = np.fmax.accumulate(eq) if eq.size else eq
    with np.errstate(divide="ignore", invalid="ignore"):
        return eq / peak - 1.0


def max_drawdown(equity) -> float:
    """Worst drawdown as a negative fraction (-0.25 = a 25% fall from a peak); 0.0 if none, NaN if empty.

    :param equity: equity at each bar's close.
    """
    dd = _finite(drawdown_series(equity))
    if dd.size == 0:
        return float("nan")
    return float(min(dd.min(), 0.0))


def calmar_ratio(equity, periods_per_year: float = 252) -> float:
    """CAGR / |max drawdown|; NaN when there is no drawdown.

    :param equity: equity at each bar's close.
    :param periods_per_year: bars per year.
    """
    mdd = max_drawdown(equity)
    if not mdd < 0:
        return float("nan")
    return float(cagr(equity, periods_per_year) / abs(mdd))


def round_trip_pnls(units, cash) -> np.ndarray:
    """P&L of each closed round trip (flat -> position -> flat), from per-bar units and cash.

    :param units: units held at each bar (after that bar's fill).
    :param cash: cash at each bar (after that bar's fill).
    """
    units = np.asarray(units, dtype=float)
    cash = np.asarray(cash, dtype=float)
    if units.shape != cash.shape:
        raise ValueError("units and cash must have the same length")
    holding = units > 0
    prev_holding = np.concatenate(([False], holding[:-1]))
    opens = np.flatnonzero(holding & ~prev_holding)
    closes = np.flatnonzero(~holding & prev_holding)
    pnls = []
    for close_bar in closes:
        open_bar = opens[opens < close_bar].max()
        # units are 0 before the opening fill and after the closing one: equity == cash at both ends
        before = cash[open_bar - 1] if open_bar > 0 else np.nan
        pnls.append(cash[close_bar] - before)
    return np.asarray(pnls, dtype=float)


def win_rate(units, cash) -> float:
    """Share of closed round trips with a positive P&L; NaN when no round trip was closed.

    :param units: units held at each bar.
    :param cash: cash at each bar.
    """
    pnls = _finite(round_trip_pnls(units, cash))
    if pnls.size == 0:
        return float("nan")
    return float(np.mean(pnls > 0))


def turnover(fill_qty, fill_price, equity) -> float:
    """Total traded notional / mean equity (not annualised).

    :param fill_qty: signed units of each fill.
    :param fill_price: fill price of each fill.
    :param equity: equity at each bar's close.
    """
    eq = _finite(equity)
    if eq.size == 0 or not eq.mean() > 0:
        return float("nan")
    notional = float(np.sum(np.abs(np.asarray(fill_qty, dtype=float)) * np.asarray(fill_price, dtype=float)))
    return notional / float(eq.mean())


def exposure(position) -> float:
    """Mean position (fraction of equity in the asset) over the bars; NaN if empty.

    :param position: position at each bar's close, in [0, 1].
    """
    pos = _finite(position)
    return float(pos.mean()) if pos.size else float("nan")


METRIC_LABELS: dict[str, str] = {
    "total_return": "Total return",
    "cagr": "CAGR",
    "volatility": "Volatility (ann.)",
    "sharpe": "Sharpe",
    "sharpe_ci_low": "Sharpe CI 2.5%",
    "sharpe_ci_high": "Sharpe CI 97.5%",
    "sortino": "Sortino",
    "max_drawdown": "Max drawdown",
    "calmar": "Calmar",
    "win_rate": "Win rate",
    "trades": "Trades (fills)",
    "round_trips": "Round trips",
    "exposure": "Exposure",
    "turnover": "Turnover",
    "costs_paid": "Costs paid",
    "var_95": "VaR 95 (hist.)",
    "cvar_95": "CVaR 95 (hist.)",
    "var_95_parametric": "VaR 95 (param.)",
    "final_equity": "Final equity",
}
"""Every key of `performance_summary`, with its leaderboard label, in display order."""


def performance_summary(
    result: SimResult,
    periods_per_year: float = 252,
    *,
    n_resamples: int = DEFAULT_RESAMPLES,
    seed: int = DEFAULT_SEED,
    sharpe_ci: tuple[float, float] | None = None,
) -> dict[str, float | int]:
    """All leaderboard metrics of one simulated account (keys and labels: METRIC_LABELS).

    :param result: the account's per-bar state and fills (core.sim.SimResult).
    :param periods_per_year: bars per year (252 stocks, 365 crypto).
    :param n_resamples: bootstrap resamples for the Sharpe interval.
    :param seed: seed of the bootstrap.
    :param sharpe_ci: a precomputed (low, high) interval (e.g. from `sharpe_confidence_intervals` over
        all contestants at once); computed here when None.
    """
    equity = result.equity
    returns = simple_returns(equity)
    ci_low, ci_high = sharpe_ci or sharpe_confidence_interval(
        returns, periods_per_year, n_resamples=n_resamples, seed=seed
    )
    return {
        "total_return": total_return(equity),
        "cagr": cagr(equity, periods_per_year),
        "volatility": annualised_volatility(returns, periods_per_year),
        "sharpe": sharpe_ratio(returns, periods_per_year),
        "sharpe_ci_low": ci_low,
        "sharpe_ci_high": ci_high,
        "sortino": sortino_ratio(returns, periods_per_year),
        "max_drawdown": max_drawdown(equity),
        "calmar": calmar_ratio(equity, periods_per_year),
        "win_rate": win_rate(result.units, result.cash),
        "trades": int(result.fill_bars.size),
        "round_trips": int(round_trip_pnls(result.units, result.cash).size),
        "exposure": exposure(result.position),
        "turnover": turnover(result.fill_qty, result.fill_price, equity),
        "costs_paid": float(np.sum(result.fill_cost)),
        "var_95": risk.historical_var(returns, 0.95),
        "cvar_95": risk.historical_cvar(returns, 0.95),
        "var_95_parametric": risk.parametric_var(returns, 0.95),
        "final_equity": float(equity[-1]) if equity.size else float("nan"),
    }
