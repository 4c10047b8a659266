"""Battle results: `ContestantResult` (one contestant's decisions, account, trades and metrics) and
`BattleResult` (everything one battle produced, read by the arena, replay, risk and journal pages), plus
the helpers that make a result JSON-safe for `python -m core battle --json` (non-finite numbers become
null, dates ISO strings). Cached results are shared: treat a BattleResult as read-only.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from core import metrics as metrics_mod
from core.sim import Costs, SimResult


@dataclass
class SeedRun:
    """One training seed of an agent over the battle window."""

    seed: int | None
    """The training seed (None for agents without seeds, e.g. rule-based stand-ins)."""
    metrics: dict[str, Any]
    """core.metrics.performance_summary of this seed's account, plus "beats_buy_and_hold"."""
    equity: np.ndarray
    """Equity at each bar's close."""
    positions: np.ndarray
    """Exposure at each bar's close."""


@dataclass
class ContestantResult:
    """One contestant's battle: per-bar decisions and account, its trades and its metrics."""

    name: str
    """Identifier: a personality (core.PERSONALITIES) or a benchmark name (core.strategies.BENCHMARKS)."""
    label: str
    """Human name for the leaderboard."""
    kind: str
    """"agent" or "benchmark"."""
    colour: str
    """Hex colour for its lines and markers."""
    symbol: str
    """Plotly marker symbol of its trades."""
    actions: list[str]
    """The decision taken at each bar, as a label ("hold" = no new decision for benchmarks)."""
    targets: np.ndarray
    """The target exposure decided at each bar (NaN = no new decision)."""
    positions: np.ndarray
    """Exposure (units x close / equity) at each bar's close."""
    equity: np.ndarray
    """Equity at each bar's close."""
    trades: pd.DataFrame
    """Every fill with its decision context (see `trades_frame`)."""
    metrics: dict[str, Any]
    """core.metrics.performance_summary plus "beats_buy_and_hold"."""
    sim: SimResult
    """The full account simulation (cash, units, levels, fills)."""
    probs: np.ndarray | None = None
    """Agents only: the policy's action probabilities at each bar, shape (bars, actions)."""
    action_labels: tuple[str, ...] = ()
    """Agents only: labels of the action indices."""
    representative_seed: int | None = None
    """Agents only: the training seed whose decisions, equity, positions and trades these are: the median
    seed by total return (core.significance.seed_summary's rule; even count: the lower middle one)."""
    seed_runs: list[SeedRun] = field(default_factory=list)
    """Agents only: every training seed's metrics and equity, in seed order (one entry without seeds)."""
    equity_low: np.ndarray | None = None
    """Agents only: per bar, the lowest equity of any seed (the band's lower edge)."""
    equity_high: np.ndarray | None = None
    """Agents only: per bar, the highest equity of any seed (the band's upper edge)."""
    seed_stats: dict[str, Any] = field(default_factory=dict)
    """Agents only: core.significance.seed_summary over the seeds: "stats" ({"total_return"|"sharpe":
    {"median", "min", "max", "n"}}), "median_seed", "beats" (k), "beats_seeds", "n_seeds" and "label"
    ("beats buy-and-hold in k of n seeds")."""
    significance: dict[str, Any] = field(default_factory=dict)
    """Agents only: core.significance.sharpe_difference_test of the representative seed against
    buy-and-hold (one-sided, H0: Sharpe <= buy-and-hold's): "p_value", "difference", "ci_low", "ci_high",
    ...; plus "sentence". Empty when the window is too short (see BattleResult.significance_note)."""
    trivial: dict[str, Any] = field(default_factory=dict)
    """Agents only: core.significance.trivial_policy of the representative seed: "trivial" (bool), "kind",
    "code" (None, "long", "flat" or "buy_and_hold"), "sentence" (None when not trivial), shares."""

    @property
    def seeds(self) -> list[int | None]:
        """The training seeds behind this contestant (empty for benchmarks)."""
        return [run.seed for run in self.seed_runs]

    @property
    def returns(self) -> np.ndarray:
        """Simple per-bar returns of the equity curve (length bars - 1)."""
        return metrics_mod.simple_returns(self.equity)


@dataclass
class BattleResult:
    """Everything one battle produced; the arena, replay, risk and journal pages all read this."""

    ticker: str
    test_start: dt.date
    """Date of the window's first bar."""
    test_end: dt.date
    """Date of the window's last bar."""
    cost_bps: float
    """Total cost per fill in basis points (commission + slippage)."""
    costs: Costs
    sample: str
    """"out-of-sample" or "in-sample" (relative to the agents' training period)."""
    periods_per_year: int
    provenance: dict[str, Any]
    warnings: list[str]
    dates: pd.DatetimeIndex
    """Dates of the window's bars."""
    open: np.ndarray
    close: np.ndarray
    contestants: list[ContestantResult]
    start: int = 0
    """Position of the window's first bar in the frame."""
    end: int = 0
    """Position one past the window's last bar in the frame."""
    cash0: float = 100_000.0
    shared_market: bool = False
    indicators: pd.DataFrame = field(default_factory=pd.DataFrame)
    """rsi, sma20, macd, macd_signal, macd_hist over the window (for charts)."""
    cache_key: str = ""
    """Hash of every input: equal keys mean equal results."""
    deflated: dict[str, Any] = field(default_factory=dict)
    """The best agent x seed over all tries against buy-and-hold: core.significance.deflated_sharpe_of_best
    ("best", "n_trials", "dsr", "p_value", "sharpe_annualised", "expected_max_sharpe_annualised", ...),
    empty with fewer than 2 tries or a too short window."""
    deflated_sentence: str = ""
    """One sentence on it, e.g. "After 20 tries, no agent's edge over buy-and-hold is distinguishable from
    luck (best p = 0.23)."; or why it was not computed; "" without agents."""
    significance_note: str = ""
    """Why the significance figures are missing ("" when they were computed)."""
    private: bool = False
    """Computed from one user's trained run: caches keep it in this process (never the shared store)."""

    def contestant(self, name: str) -> ContestantResult:
        """The contestant called `name`."""
        for c in self.contestants:
            if c.name == name:
                return c
        raise KeyError(f"no contestant {name!r}; have {', '.join(c.name for c in self.contestants)}")

    def returns_by_name(self) -> dict[str, np.ndarray]:
        """Per-bar simple returns of every contestant, by name."""
        return {c.name: c.returns for c in self.contestants}

    def leaderboard(self) -> pd.DataFrame:
        """One row per contestant (name, label, kind, then every metric), best total return first."""
        rows = [{"name": c.name, "label": c.label, "kind": c.kind, **c.metrics} for c in self.contestants]
        table = pd.DataFrame(rows)
        return table.sort_values("total_return", ascending=False, kind="stable").reset_index(drop=True)

    def to_json_dict(self) -> dict[str, Any]:
        """The JSON of `python -m core battle --json`: JSON-safe (non-finite numbers become null)."""
        date_text = [d.strftime("%Y-%m-%d") for d in self.dates]
        return {
            "ticker": self.ticker,
            "test_start": self.test_start.isoformat(),
            "test_end": self.test_end.isoformat(),
            "cost_bps": _json_number(self.cost_bps),
            "commission_bps": _json_number(self.costs.commission_bps),
            "slippage_bps": _json_number(self.costs.slippage_bps),
            "sample": self.sample,
            "periods_per_year": self.periods_per_year,
            "cash0": _json_number(self.cash0),
            "shared_market": self.shared_market,
            "provenance": _json_safe(self.provenance),
            "warnings": list(self.warnings),
            "contestants": [_contestant_json(c, date_text) for c in self.contestants],
            "deflated_sharpe": _json_safe(self.deflated) | {"sentence": self.deflated_sentence or None},
            "significance_note": self.significance_note or None,
        }


def _contestant_json(c: ContestantResult, date_text: list[str]) -> dict[str, Any]:
    out = {
        "name": c.name,
        "label": c.label,
        "kind": c.kind,
        "metrics": {k: _json_safe(v) for k, v in c.metrics.items()},
        "dates": date_text,
        "actions": list(c.actions),
        "positions": [_json_number(v) for v in c.positions],
        "equity": [_json_number(v) for v in c.equity],
    }
    if c.kind == "agent":
        out["representative_seed"] = c.representative_seed
        out["seeds"] = [{"seed": r.seed, "metrics": _json_safe(r.metrics)} for r in c.seed_runs]
        out["equity_band"] = {
            "low": [] if c.equity_low is None else [_json_number(v) for v in c.equity_low],
            "high": [] if c.equity_high is None else [_json_number(v) for v in c.equity_high],
        }
        out["seed_summary"] = _json_safe(c.seed_stats)
        out["significance"] = _json_safe(c.significance)
        out["trivial_policy"] = _json_safe(c.trivial)
    return out


def _json_number(value):
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    value = float(value)
    return value if np.isfinite(value) else None


def _json_safe(value):
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if isinstance(value, (float, int, np.floating, np.integer, bool, np.bool_)):
        return _json_number(value)
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, (dt.date, pd.Timestamp)):
        return value.isoformat()
    return str(value)
