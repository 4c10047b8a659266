"""The Risk page's facade: everything the page shows about one battle, and the bundled assets' correlation.

    report = battle_risk(core.service.run_arena(spec).result)        # RiskReport, cached per battle
    report.var_table                # DataFrame: contestant, label, method, level, var, cvar, n_returns, note
    report.contestant("momentum")   # ContestantRisk: stats, histogram, backtests, underwater, drawdowns, ...
    report.to_json_dict()           # plain lists and dicts (NaN -> None), for a dcc.Store or a JSON cache
    asset_correlation()             # AssetCorrelation of AAPL, TSLA, BTC-USD (bundled data, cached)

Every number comes from core.risk (conventions in its module docstrings): returns are each contestant's
daily simple equity returns over the battle window; VaR/CVaR are positive loss fractions. Problems that
only limit what can be shown (a window too short for the backtest, a contestant that never moves) become
notes, never errors; a bad request (unknown contestant, bad level) raises RiskDataError (a ValueError).
Cached reports and their frames are shared between callers: treat them as read-only.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from core import risk
from core.lru import LRU
from core.metrics import ZERO_STD
from core.risk import RiskDataError, VaRBacktest

HIST_BINS = 60
"""Histogram bins, shared by every contestant of a report (same edges, so the bars can be overlaid)."""
WORST_DRAWDOWNS = 5
_REPORTS = LRU(maxsize=16)


def level_key(level: float) -> str:
    """The JSON key of a confidence level: 0.99 -> "99", 0.975 -> "97.5"."""
    return f"{level * 100:g}"


def _iso(labels) -> list[str]:
    return pd.DatetimeIndex(labels).strftime("%Y-%m-%d").tolist()


def _num(value):
    from core.arena.results import _json_number

    return _json_number(value)


def _safe(value):
    from core.arena.results import _json_safe

    return _json_safe(value)


def _floats(values) -> list:
    array = np.asarray(values, dtype=float)
    return [v if np.isfinite(v) else None for v in array.tolist()]


def _frame_records(frame: pd.DataFrame) -> list[dict]:
    return [{k: _safe(v) for k, v in row.items()} for row in frame.to_dict(orient="records")]


def backtest_json(bt: VaRBacktest) -> dict:
    """A backtest's summary plus its per-day series (VaR forecasts, exception dates), JSON-safe."""
    out = _safe(bt.summary())
    out["var"] = _floats(bt.var)
    labels = bt.exception_dates
    dated = bool(labels) and isinstance(labels[0], (pd.Timestamp, np.datetime64))
    out["exception_dates"] = _iso(labels) if dated else _safe(list(labels))
    return out


@dataclass
class ContestantRisk:
    """One contestant's risk figures over the battle window."""

    name: str
    label: str
    kind: str
    colour: str
    returns: pd.Series
    """Daily simple returns, indexed by date (the window's dates after the first)."""
    stats: dict
    """core.risk.distribution_stats: count, nan_dropped, mean, volatility, volatility_annualised, skew,
    excess_kurtosis, best, best_date, worst, worst_date."""
    histogram: dict
    """{"edges": [HIST_BINS + 1 floats], "counts": [HIST_BINS ints]}: the same edges for every contestant."""
    backtests: dict[float, VaRBacktest]
    """level -> rolling one-day-ahead VaR backtest; empty when it cannot run (see backtest_note)."""
    backtest_note: str
    underwater: pd.Series
    """Drawdown at each bar (<= 0), indexed by the window's dates."""
    drawdowns: pd.DataFrame
    """The worst drawdown episodes: depth, peak, trough, recovery (or "not yet"), length, recovered."""
    monthly: pd.DataFrame
    """Year x (Jan..Dec, Year) compounded monthly returns."""

    def to_json_dict(self) -> dict:
        monthly = self.monthly
        return {
            "name": self.name, "label": self.label, "kind": self.kind, "colour": self.colour,
            "stats": _safe(self.stats),
            "dates": _iso(self.returns.index), "returns": _floats(self.returns),
            "histogram": _safe(self.histogram),
            "backtests": {level_key(lv): backtest_json(bt) for lv, bt in self.backtests.items()},
            "backtest_note": self.backtest_note,
            "underwater": {"dates": _iso(self.underwater.index), "values": _floats(self.underwater)},
            "drawdowns": _frame_records(self.drawdowns),
            "monthly": {"years": [int(y) for y in monthly.index], "columns": list(monthly.columns),
                        "values": [_floats(row) for row in monthly.to_numpy()]},
        }


@dataclass
class RiskReport:
    """Everything the Risk page shows about one battle (see the module docstring)."""

    ticker: str
    sample: str
    """"out-of-sample" or "in-sample", from the battle."""
    test_start: str
    test_end: str
    periods_per_year: int
    levels: tuple[float, ...]
    window: int
    """Returns in each backtest VaR estimate."""
    contestants: list[ContestantRisk]
    var_table: pd.DataFrame
    """One row per contestant x method x level: contestant, label, method, level, var, cvar, n_returns,
    note (var and cvar positive loss fractions; methods core.risk.METHODS)."""
    correlation: pd.DataFrame
    """Pearson correlation of the contestants' daily returns (names as index and columns)."""
    notes: list[str] = field(default_factory=list)
    cache_key: str = ""

    def contestant(self, name: str) -> ContestantRisk:
        for c in self.contestants:
            if c.name == name:
                return c
        raise RiskDataError(f"no contestant {name!r}; have {', '.join(c.name for c in self.contestants)}")

    def backtest_table(self) -> pd.DataFrame:
        """One row per contestant x level with a backtest: observations, exceptions, expected, Kupiec and
        Christoffersen p-values, Basel zone (99% only) and the verdict sentence."""
        rows = []
        for c in self.contestants:
            for level, bt in c.backtests.items():
                light = bt.traffic_light or {}
                rows.append({"contestant": c.name, "label": c.label, "level": level,
                             "observations": bt.observations, "exceptions": bt.exceptions,
                             "expected": bt.expected, "kupiec_p": bt.kupiec["p_value"],
                             "christoffersen_p_ind": bt.christoffersen["p_ind"],
                             "christoffersen_p_cc": bt.christoffersen["p_cc"],
                             "zone": light.get("zone", ""), "verdict": bt.verdict()})
        return pd.DataFrame(rows, columns=["contestant", "label", "level", "observations", "exceptions",
                                           "expected", "kupiec_p", "christoffersen_p_ind",
                                           "christoffersen_p_cc", "zone", "verdict"])

    def underwater_frame(self) -> pd.DataFrame:
        """Every contestant's underwater series: index the window's dates, one column per name."""
        return pd.DataFrame({c.name: c.underwater for c in self.contestants})

    def to_json_dict(self) -> dict[str, Any]:
        """The whole report as plain JSON-safe lists and dicts (levels keyed "95", "99")."""
        corr = self.correlation
        labels = {c.name: c.label for c in self.contestants}
        return {
            "ticker": self.ticker, "sample": self.sample, "test_start": self.test_start,
            "test_end": self.test_end, "periods_per_year": self.periods_per_year,
            "levels": list(self.levels), "window": self.window, "methods": dict(risk.METHOD_LABELS),
            "var_table": _frame_records(self.var_table),
            "backtest_table": _frame_records(self.backtest_table()),
            "contestants": [c.to_json_dict() for c in self.contestants],
            "correlation": {"names": list(corr.columns), "labels": [labels[n] for n in corr.columns],
                            "matrix": [_floats(row) for row in corr.to_numpy()]},
            "notes": list(self.notes), "cache_key": self.cache_key,
        }


def _pick(result, contestants) -> list:
    if contestants is None:
        return list(result.contestants)
    if not contestants:
        raise RiskDataError("choose at least one contestant")
    have = {c.name: c for c in result.contestants}
    missing = [n for n in contestants if n not in have]
    if missing:
        raise RiskDataError(f"no contestant {', '.join(map(repr, missing))}; have {', '.join(have)}")
    return [have[n] for n in dict.fromkeys(contestants)]


def _backtests(returns: pd.Series, levels, window: int, memo: dict):
    values = returns.to_numpy()
    finite = values[np.isfinite(values)]
    if finite.size >= 2 and finite.std(ddof=1) < ZERO_STD:
        return {}, "returns never vary: there is no VaR to backtest"
    key = values.tobytes()  # contestants with identical returns (e.g. fully invested) share one backtest
    if key not in memo:
        try:
            memo[key] = (risk.var_backtests(returns, levels=levels, window=window), "")
        except RiskDataError as exc:
            memo[key] = ({}, str(exc))
    return memo[key]


def _compute(result, chosen, levels, window) -> RiskReport:
    dates = pd.DatetimeIndex(result.dates)
    returns = {c.name: pd.Series(c.returns, index=dates[1:], name=c.name) for c in chosen}
    pooled = np.concatenate([r.to_numpy() for r in returns.values()]) if returns else np.empty(0)
    pooled = pooled[np.isfinite(pooled)]
    edges = np.histogram_bin_edges(pooled, bins=HIST_BINS) if pooled.size else np.linspace(-0.01, 0.01,
                                                                                          HIST_BINS + 1)
    memo: dict = {}
    people, notes = [], []
    for c in chosen:
        r = returns[c.name]
        backtests, note = _backtests(r, levels, window, memo)
        if note:
            notes.append(f"{c.label}: {note}")
        counts, _ = np.histogram(r.to_numpy()[np.isfinite(r.to_numpy())], bins=edges)
        people.append(ContestantRisk(
            name=c.name, label=c.label, kind=c.kind, colour=c.colour, returns=r,
            stats=risk.distribution_stats(r, periods_per_year=result.periods_per_year),
            histogram={"edges": edges.tolist(), "counts": counts.tolist()},
            backtests=backtests, backtest_note=note,
            underwater=risk.underwater(c.equity, dates),
            drawdowns=risk.worst_drawdowns(c.equity, WORST_DRAWDOWNS, dates),
            monthly=risk.monthly_returns(dates, c.equity),
        ))
    table = risk.var_table(returns, levels)
    table.insert(1, "label", table["contestant"].map({c.name: c.label for c in chosen}))
    return RiskReport(
        ticker=result.ticker, sample=result.sample, test_start=str(result.test_start),
        test_end=str(result.test_end), periods_per_year=int(result.periods_per_year),
        levels=tuple(levels), window=window, contestants=people, var_table=table,
        correlation=risk.correlation_matrix({n: r.to_numpy() for n, r in returns.items()}),
        notes=list(result.warnings) + notes, cache_key=result.cache_key,  # warnings say "in-sample" too
    )


def battle_risk(
    result,
    contestants: list[str] | None = None,
    levels=(0.95, 0.99),
    *,
    window: int = risk.BACKTEST_WINDOW,
    use_cache: bool = True,
) -> RiskReport:
    """The risk report of a battle (core.arena.BattleResult, e.g. core.service.run_arena(spec).result).

    :param result: the battle.
    :param contestants: names to include, in display order (default: all, in the battle's order).
    :param levels: VaR confidence levels (each in [0.5, 1)).
    :param window: returns in each backtest VaR estimate (the backtest needs window + 1 returns).
    :param use_cache: reuse the report of an identical request (keyed by the battle's cache_key).
    """
    levels = tuple(float(lv) for lv in levels)
    if not levels:
        raise RiskDataError("give at least one VaR level, e.g. 0.95")
    for level in levels:
        if not 0.5 <= level < 1.0:
            raise RiskDataError(f"a VaR level must be in [0.5, 1), e.g. 0.95; got {level!r}")
    chosen = _pick(result, contestants)
    key = (result.cache_key, tuple(c.name for c in chosen), levels, window)
    if not (use_cache and result.cache_key):
        return _compute(result, chosen, levels, window)
    return _REPORTS.get_or_compute(key, lambda: _compute(result, chosen, levels, window))


def clear_cache() -> None:
    """Forget the cached reports (tests, benchmarks)."""
    _REPORTS.clear()


# ----------------------------------------------------------------------------------------------------
# the bundled assets


@dataclass(frozen=True)
class AssetCorrelation:
    """Correlation of the bundled assets' daily returns on their common dates (core.risk.aligned_returns:
    closes inner-joined on date, then returns, so a crypto weekend move lands in Monday's return)."""

    tickers: tuple[str, ...]
    matrix: pd.DataFrame
    returns: pd.DataFrame
    """The aligned daily returns the matrix is computed from (one column per ticker)."""
    n_common: int
    """Common return days (common close dates minus one)."""
    start: str
    end: str
    sha256: dict
    method: str = ("closes inner-joined on common dates, then simple returns: a crypto weekend move is "
                   "folded into Monday's return")

    def to_json_dict(self) -> dict:
        return {"tickers": list(self.tickers), "matrix": [_floats(row) for row in self.matrix.to_numpy()],
                "n_common": self.n_common, "start": self.start, "end": self.end, "sha256": dict(self.sha256),
                "method": self.method}


@functools.lru_cache(maxsize=4)
def _asset_correlation(tickers: tuple[str, ...]) -> AssetCorrelation:
    from core.data import load_ohlcv

    closes, hashes = {}, {}
    for ticker in tickers:
        frame, provenance = load_ohlcv(ticker, live=False, use_cache=False)
        closes[ticker] = pd.Series(frame["close"].to_numpy(), index=pd.DatetimeIndex(frame["date"]))
        hashes[ticker] = provenance.sha256
    aligned = risk.aligned_returns(closes)
    if len(aligned) < 2:
        raise RiskDataError(f"{', '.join(tickers)} share fewer than 3 dates: no correlation to show")
    return AssetCorrelation(
        tickers=tickers, matrix=risk.correlation_matrix(aligned), returns=aligned, n_common=len(aligned),
        start=aligned.index[0].strftime("%Y-%m-%d"), end=aligned.index[-1].strftime("%Y-%m-%d"),
        sha256=hashes,
    )


def asset_correlation(tickers=None) -> AssetCorrelation:
    """Correlation matrix of the bundled assets (default AAPL, TSLA, BTC-USD) on the bundled snapshots only
    (no network), cached per process.

    :param tickers: bundled tickers to include (at least two).
    """
    from core.data import BUNDLED_TICKERS, normalise_ticker

    names = tuple(dict.fromkeys(normalise_ticker(t) for t in (tickers or BUNDLED_TICKERS)))
    if len(names) < 2:
        raise RiskDataError("a correlation needs at least two tickers")
    return _asset_correlation(names)
