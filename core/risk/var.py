"""Value at Risk and expected shortfall (CVaR) of daily simple returns: historical, Gaussian, Cornish-Fisher.

Every figure is a *positive loss fraction* (0.021 = "a 2.1% loss"); a series whose tail is a gain gives a
negative VaR. `confidence` is the VaR level (0.95, 0.99); alpha = 1 - confidence is the tail probability.
NaN and infinite returns are dropped first (`var_cvar` reports how many). mu is the mean and sigma the
sample standard deviation (ddof=1) of the returns; z = Phi^-1(alpha) (negative); phi is the normal pdf.

- Historical: VaR = -q_alpha, the empirical alpha-quantile with numpy's default linear interpolation
  (= pandas `Series.quantile`); CVaR = -mean(returns at or below q_alpha) (quantstats'
  `cvar(method="historical")`), so CVaR >= VaR.
- Parametric (Gaussian): VaR = -(mu + z sigma) (quantstats' `value_at_risk`);
  CVaR = -(mu - sigma phi(z) / alpha) (quantstats' `cvar(method="parametric")`).
- Cornish-Fisher: the Gaussian quantile corrected for the skew S and excess kurtosis K (bias-adjusted
  sample estimators, see `core.risk._common.moments`):
  z_cf = z + (z^2 - 1) S/6 + (z^3 - 3z) K/24 - (2z^3 - 5z) S^2/36, VaR = -(mu + z_cf sigma).
  CVaR convention: the mean of the Cornish-Fisher quantile function over the tail,
  CVaR = -(mu + sigma (1/alpha) integral_0^alpha z_cf(u) du), which in closed form (Hermite polynomials:
  integral_-inf^z He_n(t) phi(t) dt = -He_{n-1}(z) phi(z)) is
  CVaR = -(mu - sigma phi(z)/alpha [1 + z S/6 + (z^2 - 1) K/24 - (2z^2 - 1) S^2/36]).
  This is exactly the expected shortfall of the distribution whose quantiles are z_cf; it is not the
  Boudt-Peterson-Croux "modified ES" (an Edgeworth-density approximation), which gives different numbers.
  With S = K = 0 both figures equal the Gaussian ones. The expansion is only a distribution while z_cf is
  increasing in z over the tail; when it is not (very large |S| or K) `var_cvar` adds a note.
- Returns that never vary (cash): sigma = 0, so every method gives VaR = CVaR = -mu (0 for cash); skew
  and kurtosis are undefined and Cornish-Fisher falls back to the Gaussian figure, with a note.

Minimum data: 2 returns for the historical and Gaussian figures, 4 for Cornish-Fisher (the kurtosis
estimator); fewer give NaN (and a note from `var_cvar`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np
import pandas as pd

from core.risk._common import _check_confidence, _finite, clean_returns, moments, zero_std

METHODS = ("historical", "parametric", "cornish_fisher")
METHOD_LABELS = {"historical": "Historical", "parametric": "Gaussian", "cornish_fisher": "Cornish-Fisher"}
MIN_RETURNS = {"historical": 2, "parametric": 2, "cornish_fisher": 4}
_NORMAL = NormalDist()


def _figures(method: str, values: np.ndarray, alpha: float) -> tuple[float, float]:
    """(VaR, CVaR) of finite `values` (enough of them for `method`) at tail probability alpha."""
    if method == "historical":
        threshold = np.quantile(values, alpha)
        return -threshold, -values[values <= threshold].mean()
    if method == "parametric":
        mean, std = values.mean(), values.std(ddof=1)
        z = _NORMAL.inv_cdf(alpha)
        return -(mean + z * std), -(mean - std * _NORMAL.pdf(z) / alpha)
    mean, std, skew, kurt = moments(values)
    if std < zero_std():  # no variation: skew and kurtosis undefined, the Gaussian figure (-mu)
        skew, kurt = 0.0, 0.0
    return (-(mean + cornish_fisher_z(alpha, skew, kurt) * std),
            -(mean + cornish_fisher_tail_mean(alpha, skew, kurt) * std))


def _one(returns, confidence: float, method: str, which: int) -> float:
    alpha = _check_confidence(confidence)
    values = _finite(returns)
    if values.size < MIN_RETURNS[method]:
        return float("nan")
    return float(_figures(method, values, alpha)[which]) + 0.0  # + 0.0 turns -0.0 into 0.0


def historical_var(returns, confidence: float = 0.95) -> float:
    """Historical VaR: minus the empirical (1 - confidence) quantile, linear interpolation; positive = loss.

    :param returns: simple per-period returns (NaN ignored).
    :param confidence: confidence level, 0.95 for VaR 95.
    """
    return _one(returns, confidence, "historical", 0)


def historical_cvar(returns, confidence: float = 0.95) -> float:
    """Historical CVaR (expected shortfall): minus the mean of the returns at or below the VaR quantile.

    :param returns: simple per-period returns (NaN ignored).
    :param confidence: confidence level, 0.95 for CVaR 95.
    """
    return _one(returns, confidence, "historical", 1)


def parametric_var(returns, confidence: float = 0.95) -> float:
    """Gaussian VaR: -(mu + z sigma), z = Phi^-1(1 - confidence), sigma with ddof=1; positive = loss.

    :param returns: simple per-period returns (NaN ignored).
    :param confidence: confidence level, 0.95 for VaR 95.
    """
    return _one(returns, confidence, "parametric", 0)


def parametric_cvar(returns, confidence: float = 0.95) -> float:
    """Gaussian CVaR (expected shortfall): -(mu - sigma phi(z) / alpha); positive = loss.

    :param returns: simple per-period returns (NaN ignored).
    :param confidence: confidence level, 0.95 for CVaR 95.
    """
    return _one(returns, confidence, "parametric", 1)


def cornish_fisher_var(returns, confidence: float = 0.95) -> float:
    """Cornish-Fisher (modified) VaR: -(mu + z_cf sigma); positive = loss (module docstring).

    :param returns: simple per-period returns (NaN ignored); at least 4 are needed.
    :param confidence: confidence level, 0.95 for VaR 95.
    """
    return _one(returns, confidence, "cornish_fisher", 0)


def cornish_fisher_cvar(returns, confidence: float = 0.95) -> float:
    """Cornish-Fisher CVaR: minus the mean of mu + sigma z_cf(u) over the tail u in (0, alpha) (module
    docstring: the exact tail integral of the Cornish-Fisher quantile, not the Boudt et al. modified ES).

    :param returns: simple per-period returns (NaN ignored); at least 4 are needed.
    :param confidence: confidence level, 0.95 for CVaR 95.
    """
    return _one(returns, confidence, "cornish_fisher", 1)


def cornish_fisher_z(alpha: float, skew: float, excess_kurtosis: float) -> float:
    """The Cornish-Fisher alpha-quantile of a standardised distribution with this skew and excess kurtosis.

    :param alpha: tail probability (0.01 for the 99% VaR).
    :param skew: skewness S.
    :param excess_kurtosis: excess kurtosis K (0 for the normal distribution).
    """
    z = _NORMAL.inv_cdf(alpha)
    s, k = skew, excess_kurtosis
    return z + (z * z - 1) * s / 6 + (z**3 - 3 * z) * k / 24 - (2 * z**3 - 5 * z) * s * s / 36


def cornish_fisher_tail_mean(alpha: float, skew: float, excess_kurtosis: float) -> float:
    """(1/alpha) x the integral of the Cornish-Fisher quantile over (0, alpha), in closed form.

    Equals -phi(z)/alpha (the standard normal tail mean) when skew = excess kurtosis = 0.

    :param alpha: tail probability.
    :param skew: skewness S.
    :param excess_kurtosis: excess kurtosis K.
    """
    z = _NORMAL.inv_cdf(alpha)
    s, k = skew, excess_kurtosis
    bracket = 1 + z * s / 6 + (z * z - 1) * k / 24 - (2 * z * z - 1) * s * s / 36
    return -_NORMAL.pdf(z) / alpha * bracket


def _cf_is_monotone(alpha: float, skew: float, excess_kurtosis: float) -> bool:
    """Whether z_cf increases with z over the tail z <= Phi^-1(alpha) (checked on a grid down to z = -8)."""
    z = np.linspace(-8.0, _NORMAL.inv_cdf(alpha), 200)
    s, k = skew, excess_kurtosis
    slope = 1 + z * s / 3 + (3 * z * z - 3) * k / 24 - (6 * z * z - 5) * s * s / 36
    return bool(np.all(slope > 0))


@dataclass(frozen=True)
class VaRResult:
    """One VaR/CVaR pair with what it was computed from."""

    method: str
    level: float
    var: float
    """Positive loss fraction (NaN when there are too few returns)."""
    cvar: float
    n_returns: int
    """Finite returns used."""
    n_dropped: int
    """NaN/infinite returns dropped."""
    note: str = ""
    """Empty, or what the reader should know (too few returns, zero variance, ...)."""


def var_cvar(returns, confidence: float = 0.95, method: str = "historical") -> VaRResult:
    """VaR and CVaR by one method, with the count of returns used and dropped and a note when it matters.

    :param returns: simple per-period returns (ndarray or Series; NaN/inf dropped and counted).
    :param confidence: confidence level (0.95, 0.99).
    :param method: "historical", "parametric" (Gaussian) or "cornish_fisher".
    """
    if method not in MIN_RETURNS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}; got {method!r}")
    alpha = _check_confidence(confidence)
    values, _, dropped = clean_returns(returns)
    n = values.size
    notes = [f"{dropped} NaN/infinite return(s) dropped"] if dropped else []
    need = MIN_RETURNS[method]
    if n < need:
        notes.append(f"{METHOD_LABELS[method]} VaR needs at least {need} returns; this series has {n}")
        return VaRResult(method, confidence, math.nan, math.nan, n, dropped, "; ".join(notes))
    var, cvar = (float(v) + 0.0 for v in _figures(method, values, alpha))
    _, std, skew, kurt = moments(values)
    if std < zero_std():
        notes.append("returns never vary: no risk beyond the mean return"
                     + ("; skew and kurtosis undefined, Cornish-Fisher = Gaussian"
                        if method == "cornish_fisher" else ""))
    elif method == "historical" and n * alpha < 1:
        notes.append(f"only {n} returns: less than one lies in the {alpha:.0%} tail, so the figure is "
                     "interpolated towards the worst return")
    elif method == "cornish_fisher" and not _cf_is_monotone(alpha, skew, kurt):
        notes.append(f"skew {skew:.2f} and excess kurtosis {kurt:.2f} are outside the range where the "
                     "Cornish-Fisher expansion is a distribution: treat with caution")
    return VaRResult(method, confidence, var, cvar, n, dropped, "; ".join(notes))


VAR_TABLE_COLUMNS = ["contestant", "method", "level", "var", "cvar", "n_returns", "note"]


def var_table(returns_by_name: dict, levels=(0.95, 0.99), methods=METHODS) -> pd.DataFrame:
    """One row per name x method x level: columns VAR_TABLE_COLUMNS (var and cvar positive = loss).

    :param returns_by_name: name -> simple returns (ndarray or Series).
    :param levels: confidence levels.
    :param methods: any of METHODS, in display order.
    """
    rows = []
    for name, returns in returns_by_name.items():
        for method in methods:
            for level in levels:
                res = var_cvar(returns, level, method)
                rows.append({"contestant": name, "method": method, "level": level, "var": res.var,
                             "cvar": res.cvar, "n_returns": res.n_returns, "note": res.note})
    return pd.DataFrame(rows, columns=VAR_TABLE_COLUMNS)


def scale_to_horizon(one_day: float, days: int = 10) -> tuple[float, str]:
    """A 1-day VaR/CVaR scaled to `days` days by the square root of time, with the label to show with it.

    sqrt(days) scaling assumes independent, identically distributed daily returns with zero mean; it is a
    convention (Basel's 10-day figure), not a forecast.

    :param one_day: the 1-day figure.
    :param days: horizon in trading days (at least 1).
    """
    if days < 1:
        raise ValueError(f"days must be at least 1, got {days}")
    return one_day * math.sqrt(days), f"{days}-day, square-root-of-time scaled from 1-day (x{math.sqrt(days):.2f})"


def rolling_var(returns, window: int = 60, confidence: float = 0.95) -> np.ndarray:
    """Historical VaR over a trailing window ending at each bar (that bar included, causal); NaN until
    `window` returns exist. For one-day-ahead forecasts (window ending the day before) see `var_backtest`.

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
