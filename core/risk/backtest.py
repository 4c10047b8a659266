"""One-day-ahead VaR backtest: rolling historical VaR forecasts, Kupiec, Christoffersen, Basel traffic light.

Forecasts (vectorised, no loop per day): for day t >= window, VaR_t is the historical VaR
(`core.risk.var.historical_var`'s definition: numpy's linear-interpolation quantile) of the `window`
returns r[t-window .. t-1] only; day t's own return never enters VaR_t. An exception is r_t < -VaR_t.
Observations T = number of forecast days (returns after the first `window`), x = exceptions, expected =
T x (1 - level).

- Kupiec proportion of failures (unconditional coverage), p = 1 - level, p_hat = x / T:
  LR_pof = -2 ln[ (1-p)^(T-x) p^x / ((1-p_hat)^(T-x) p_hat^x) ], chi-square with 1 df.
- Christoffersen independence, over the T-1 consecutive pairs of exception flags I_{t-1} -> I_t with
  counts n00, n01, n10, n11, pi01 = n01/(n00+n01), pi11 = n11/(n10+n11), pi = (n01+n11)/(T-1):
  LR_ind = -2 ln[ (1-pi)^(n00+n10) pi^(n01+n11) / ((1-pi01)^n00 pi01^n01 (1-pi11)^n10 pi11^n11) ],
  chi-square with 1 df; conditional coverage LR_cc = LR_pof + LR_ind (LR_pof over all T days), 2 df.
- Degenerate cases use 0 x ln(0) = 0 (the limit), so nothing is NaN: 0 exceptions gives
  LR_pof = -2 T ln(1-p) and LR_ind = 0 (p = 1); pi = 0 or 1, or a state never left (n10 + n11 = 0: the
  only exception is the last day) drops those terms; fewer than 2 forecast days means no pair, LR_ind = 0.
  p-values are exact chi-square tails: erfc(sqrt(LR/2)) for 1 df, exp(-LR/2) for 2 df. Float noise that
  would make an LR slightly negative is clipped to 0.
- Basel traffic light (at 99% only): exceptions in the last 250 forecast days, green 0-4, yellow 5-9,
  red 10 or more. With fewer than 250 forecast days the count covers what there is, and says so.
Tests are judged at 5% significance in the verdict sentences.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view

from core.risk._common import RiskDataError, _check_confidence, clean_returns

BACKTEST_WINDOW = 250
"""Returns in each VaR estimate (about one trading year), as in the Basel backtest."""
BASEL_DAYS = 250
BASEL_LEVEL = 0.99
SIGNIFICANCE = 0.05


def chi2_sf(x: float, df: int) -> float:
    """P(chi-square with df degrees of freedom > x), for df 1 or 2 (closed forms)."""
    x = max(float(x), 0.0)
    if df == 1:
        return math.erfc(math.sqrt(x / 2.0))
    if df == 2:
        return math.exp(-x / 2.0)
    raise ValueError(f"df must be 1 or 2, got {df}")


def _xlogy(k: float, q: float) -> float:
    return 0.0 if k == 0 else k * math.log(q)


def kupiec_pof(observations: int, exceptions: int, level: float) -> dict[str, float]:
    """Kupiec's proportion-of-failures test: {"lr", "p_value"} (module docstring; 0 exceptions allowed).

    :param observations: forecast days T (at least 1).
    :param exceptions: exceptions x, 0 <= x <= T.
    :param level: VaR confidence level (0.99).
    """
    p = _check_confidence(level)
    t, x = int(observations), int(exceptions)
    if t < 1 or not 0 <= x <= t:
        raise RiskDataError(f"Kupiec's test needs 0 <= exceptions <= observations >= 1; got {x} of {t}")
    p_hat = x / t
    lr = -2.0 * (_xlogy(t - x, 1 - p) + _xlogy(x, p) - _xlogy(t - x, 1 - p_hat) - _xlogy(x, p_hat))
    lr = max(lr, 0.0)
    return {"lr": lr, "p_value": chi2_sf(lr, 1)}


def transition_counts(flags) -> tuple[int, int, int, int]:
    """(n00, n01, n10, n11): consecutive pairs of exception flags, n_ij = days with I_{t-1}=i and I_t=j."""
    f = np.asarray(flags, dtype=bool).ravel()
    prev, cur = f[:-1], f[1:]
    n11 = int(np.count_nonzero(prev & cur))
    n10 = int(np.count_nonzero(prev & ~cur))
    n01 = int(np.count_nonzero(~prev & cur))
    return int(prev.size) - n11 - n10 - n01, n01, n10, n11


def christoffersen(flags, level: float) -> dict[str, float]:
    """Christoffersen's independence and conditional-coverage tests on a 0/1 exception sequence.

    Returns {"lr_ind", "p_ind", "lr_cc", "p_cc", "n00", "n01", "n10", "n11", "pi01", "pi11"}; pi01/pi11
    are NaN when their state never occurs as the first day of a pair (the LR needs no such term).

    :param flags: exception indicators I_t, oldest first (at least one).
    :param level: VaR confidence level.
    """
    f = np.asarray(flags, dtype=bool).ravel()
    n00, n01, n10, n11 = transition_counts(f)
    pairs = n00 + n01 + n10 + n11
    pi01 = n01 / (n00 + n01) if n00 + n01 else math.nan
    pi11 = n11 / (n10 + n11) if n10 + n11 else math.nan
    lr_ind = 0.0
    if pairs:
        pi = (n01 + n11) / pairs
        null = _xlogy(n00 + n10, 1 - pi) + _xlogy(n01 + n11, pi)
        alt = (_xlogy(n00, 1 - pi01) if n00 else 0.0) + (_xlogy(n01, pi01) if n01 else 0.0) \
            + (_xlogy(n10, 1 - pi11) if n10 else 0.0) + (_xlogy(n11, pi11) if n11 else 0.0)
        lr_ind = max(-2.0 * (null - alt), 0.0)
    lr_cc = kupiec_pof(f.size, int(f.sum()), level)["lr"] + lr_ind
    return {"lr_ind": lr_ind, "p_ind": chi2_sf(lr_ind, 1), "lr_cc": lr_cc, "p_cc": chi2_sf(lr_cc, 2),
            "n00": n00, "n01": n01, "n10": n10, "n11": n11, "pi01": pi01, "pi11": pi11}


def traffic_light(exceptions: int) -> str:
    """Basel zone of a 250-day, 99% VaR exception count: "green" 0-4, "yellow" 5-9, "red" 10+."""
    if exceptions < 0:
        raise ValueError(f"exceptions cannot be negative, got {exceptions}")
    return "green" if exceptions <= 4 else "yellow" if exceptions <= 9 else "red"


def rolling_var_forecasts(returns, levels=(0.99, 0.95), window: int = BACKTEST_WINDOW) -> dict[float, np.ndarray]:
    """One-day-ahead historical VaR for every day: out[level][t] from r[t-window .. t-1]; NaN for t < window.

    One sort of all windows (numpy sliding_window_view, sort along each row) serves every level; the
    quantile is then read off with numpy's own linear interpolation (`np.quantile`, method "linear"), so
    each forecast equals `historical_var(r[t-window:t], level)`.

    :param returns: finite simple returns, oldest first.
    :param levels: confidence levels.
    :param window: returns in each estimate (at least 20).
    """
    if window < 20:
        raise ValueError(f"a VaR backtest window needs at least 20 returns, got {window}")
    values = np.asarray(returns, dtype=float).ravel()
    n = values.size
    out = {level: np.full(n, np.nan) for level in levels}
    if n <= window:
        return out
    ordered = np.sort(sliding_window_view(values[:-1], window), axis=1)  # row i -> forecast of day i+window
    for level in levels:
        virtual = (window - 1) * _check_confidence(level)  # numpy's "linear" virtual index
        lo = int(math.floor(virtual))
        gamma = virtual - lo
        a, b = ordered[:, lo], ordered[:, min(lo + 1, window - 1)]
        diff = b - a
        quantile = a + diff * gamma if gamma < 0.5 else b - diff * (1 - gamma)  # numpy's _lerp
        out[level][window:] = -quantile + 0.0
    return out


def _pct(level: float) -> str:
    return f"{level * 100:g}%"


def _exceptions(n: int) -> str:
    return f"{n} exception" if n == 1 else f"{n} exceptions"


def _p(p: float) -> str:
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}" if p < 0.01 else f"p = {p:.2f}"


@dataclass
class VaRBacktest:
    """A rolling one-day-ahead VaR backtest at one level (module docstring for every definition)."""

    level: float
    window: int
    observations: int
    """Forecast days T."""
    exceptions: int
    expected: float
    kupiec: dict
    """{"lr", "p_value"}"""
    christoffersen: dict
    """{"lr_ind", "p_ind", "lr_cc", "p_cc", "n00", "n01", "n10", "n11", "pi01", "pi11"}"""
    var: object
    """VaR forecast for each (finite) return; NaN for the first `window`. A Series when dated."""
    flags: object
    """Exception flag for each (finite) return (False before the first forecast). A Series when dated."""
    exception_dates: list
    """Labels of the exception days (dates when known, else positions in the finite returns)."""
    n_dropped: int = 0
    """NaN/infinite returns dropped before backtesting (positions refer to the remaining returns)."""
    traffic_light: dict | None = None
    """At 99% only: {"exceptions", "zone", "days", "expected", "note"} over the last 250 forecast days."""
    notes: list[str] = field(default_factory=list)

    def verdict(self) -> str:
        """The backtest in plain words, e.g. "At 99%, 4 exceptions in the last 250 days where 2.5 were
        expected: green zone. ... Kupiec p = 0.36: the exception rate is consistent with 99%. Christoffersen
        p = 0.71: exceptions do not cluster."."""
        pct, x, t = _pct(self.level), self.exceptions, self.observations
        light = self.traffic_light
        if light is not None:
            text = (f"At {pct}, {_exceptions(light['exceptions'])} in the last {light['days']} days where "
                    f"{light['expected']:.1f} were expected: {light['zone']} zone.")
            if t > light["days"]:
                text += f" Over all {t:,} days, {_exceptions(x)} where {self.expected:.1f} were expected."
        else:
            text = f"At {pct}, {_exceptions(x)} in {t:,} days where {self.expected:.1f} were expected."
        kp = self.kupiec["p_value"]
        if kp >= SIGNIFICANCE:
            text += f" Kupiec {_p(kp)}: the exception rate is consistent with {pct}."
        elif x > self.expected:
            text += f" Kupiec {_p(kp)}: too many exceptions for {pct}: the VaR understates the risk."
        else:
            text += f" Kupiec {_p(kp)}: too few exceptions for {pct}: the VaR is conservative."
        c = self.christoffersen
        if c["n01"] + c["n11"] == 0:  # no exception after the first forecast day: LR_ind = 0 says nothing
            text += f" Christoffersen: {'no exceptions' if x == 0 else 'too few exceptions'}, so clustering " \
                    "cannot be tested."
        elif c["p_ind"] >= SIGNIFICANCE:
            text += f" Christoffersen {_p(c['p_ind'])}: exceptions do not cluster."
        elif c["n11"] and not c["pi11"] < c["pi01"]:
            text += f" Christoffersen {_p(c['p_ind'])}: exceptions cluster (one is likelier the day after one)."
        else:
            text += (f" Christoffersen {_p(c['p_ind'])}: exceptions are not independent (rarer the day "
                     "after one).")
        return text

    def summary(self) -> dict:
        """The scalar results (no per-day series), JSON-ready apart from NaN pi01/pi11 and labels."""
        return {"level": self.level, "window": self.window, "observations": self.observations,
                "exceptions": self.exceptions, "expected": self.expected, "kupiec": dict(self.kupiec),
                "christoffersen": dict(self.christoffersen), "traffic_light": self.traffic_light,
                "n_dropped": self.n_dropped, "notes": list(self.notes), "verdict": self.verdict()}


def _traffic_light(flags: np.ndarray) -> dict:
    days = min(BASEL_DAYS, flags.size)
    count = int(flags[-days:].sum()) if days else 0
    note = "" if days == BASEL_DAYS else f"only {days} forecast days; the Basel zones assume {BASEL_DAYS}"
    return {"exceptions": count, "zone": traffic_light(count), "days": days,
            "expected": days * (1 - BASEL_LEVEL), "note": note}


def var_backtests(returns, levels=(0.99, 0.95), window: int = BACKTEST_WINDOW, dates=None) -> dict:
    """Rolling one-day-ahead historical VaR backtests at several levels, sharing one sort of the windows.

    :param returns: simple daily returns (ndarray or Series; NaN/inf dropped first and counted).
    :param levels: confidence levels; the 99% one also gets the Basel traffic light.
    :param window: returns in each VaR estimate (default 250).
    :param dates: labels of the returns (default: the Series index, if any).
    :returns: level -> VaRBacktest. Raises RiskDataError with fewer than window + 1 finite returns.
    """
    values, labels, dropped = clean_returns(returns, dates)
    if values.size < window + 1:
        raise RiskDataError(f"the VaR backtest needs at least {window + 1} returns; this window has "
                            f"{values.size}")
    forecasts = rolling_var_forecasts(values, levels, window)
    out = {}
    for level in levels:
        var = forecasts[level]
        flags = values < -var  # NaN forecasts compare False
        tested = flags[window:]
        t, x = tested.size, int(tested.sum())
        positions = np.flatnonzero(flags)
        stamps = list(labels[positions]) if labels is not None else positions.tolist()
        is_basel = math.isclose(level, BASEL_LEVEL)
        notes = [f"{dropped} NaN/infinite return(s) dropped"] if dropped else []
        if is_basel and t < BASEL_DAYS:
            notes.append(f"only {t} forecast days; the Basel zones assume {BASEL_DAYS}")
        var_out = pd.Series(var, index=labels, name="var") if labels is not None else var
        flags_out = pd.Series(flags, index=labels, name="exception") if labels is not None else flags
        out[level] = VaRBacktest(
            level=level, window=window, observations=t, exceptions=x, expected=t * (1 - level),
            kupiec=kupiec_pof(t, x, level), christoffersen=christoffersen(tested, level),
            var=var_out, flags=flags_out, exception_dates=stamps, n_dropped=dropped,
            traffic_light=_traffic_light(tested) if is_basel else None, notes=notes,
        )
    return out


def var_backtest(returns, level: float = 0.99, window: int = BACKTEST_WINDOW, dates=None) -> VaRBacktest:
    """One rolling one-day-ahead historical VaR backtest (see `var_backtests`).

    :param returns: simple daily returns (ndarray or Series; NaN/inf dropped first and counted).
    :param level: confidence level.
    :param window: returns in each VaR estimate.
    :param dates: labels of the returns (default: the Series index, if any).
    """
    return var_backtests(returns, (level,), window, dates)[level]
