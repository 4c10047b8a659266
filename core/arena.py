"""The battle arena: the agents and the rule-based benchmarks on one window, with one set of costs.

`run_battle` resolves the window, rolls the agents out through `AgentSet.rollout` (batched per bar, the
env's own accounting) and runs every benchmark through `core.sim.simulate` with the same costs and
starting cash, then computes each contestant's metrics (core.metrics, core.risk) and trade list.

Window (bar positions in `frame`, end exclusive):

- explicit `test_start` / `test_end` dates (inclusive) win;
- otherwise out-of-sample = the agents' test period read from their model cards (when several cards
  disagree, the intersection, so that no agent is judged on bars it trained on), else the last
  (1 - split) of the bars; `in_sample=True` = the training period from the cards, else the bars from the
  end of the indicator warm-up up to the split. The result's `sample` says which one it is, and a window
  that overlaps the agents' training period is always labelled "in-sample", with a warning.

Results are cached in a small thread-safe in-process LRU keyed by a hash of every input (frame content,
window, costs, cash, agents' model cards, benchmarks, flags). Cached results are shared: treat a
BattleResult as read-only.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from core import metrics as metrics_mod
from core.indicators import INDICATOR_COLUMNS, add_indicators
from core.sim import MAX_COST_BPS, Costs, SimResult, simulate
from core.strategies import BENCHMARKS, benchmark_targets

DEFAULT_BENCHMARKS: tuple[str, ...] = ("buy_and_hold", "cash", "sma_crossover", "rsi_30_70")
MIN_WINDOW_BARS = 10
"""Fewest bars a battle window may have: a decision fills on the next bar's open, and below ten bars the
metrics (volatility, Sharpe, VaR) are noise."""
SAMPLE_OUT, SAMPLE_IN = "out-of-sample", "in-sample"
CACHE_SIZE = 16


# ----------------------------------------------------------------------------------------------------
# results


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
            "contestants": [
                {
                    "name": c.name,
                    "label": c.label,
                    "kind": c.kind,
                    "metrics": {k: _json_number(v) for k, v in c.metrics.items()},
                    "dates": date_text,
                    "actions": list(c.actions),
                    "positions": [_json_number(v) for v in c.positions],
                    "equity": [_json_number(v) for v in c.equity],
                }
                for c in self.contestants
            ],
        }


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


# ----------------------------------------------------------------------------------------------------
# cache


class _LRU:
    """A small thread-safe LRU; values are computed outside the lock (two threads may compute once each)."""

    def __init__(self, maxsize: int) -> None:
        self.maxsize = maxsize
        self._data: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable):
        with self._lock:
            if key in self._data:
                self._data.move_to_end(key)
                return self._data[key]
        return None

    def put(self, key: Hashable, value: Any) -> None:
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self.maxsize:
                self._data.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._data)


_CACHE = _LRU(CACHE_SIZE)


def clear_cache() -> None:
    """Forget every cached battle (tests; after models are retrained in this process)."""
    _CACHE.clear()


def frame_hash(frame: pd.DataFrame) -> str:
    """sha256 of a frame's content (every column, row order included; the index is ignored)."""
    digest = hashlib.sha256()
    digest.update(",".join(map(str, frame.columns)).encode())
    digest.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    return digest.hexdigest()


def _agents_key(agents) -> str:
    if agents is None:
        return "none"
    cards = getattr(agents, "cards", None) or {}
    text = json.dumps(cards, sort_keys=True, default=str)
    # Without model cards nothing identifies the agents' weights: fall back on the object's identity.
    ident = "" if cards else f"id={id(agents)}"
    names = ",".join(getattr(agents, "names", ()))
    return hashlib.sha256(f"{type(agents).__qualname__}|{names}|{ident}|{text}".encode()).hexdigest()


# ----------------------------------------------------------------------------------------------------
# window


def _warmup_end(frame: pd.DataFrame) -> int:
    """First bar at which every indicator is defined (the frame's indicators may come from a longer past)."""
    cols = [c for c in INDICATOR_COLUMNS if c in frame]
    defined = frame[cols].notna().all(axis=1).to_numpy()
    hits = np.flatnonzero(defined)
    return int(hits[0]) if hits.size else len(frame)


def _parse_date(value) -> pd.Timestamp | None:
    if value is None or value == "":
        return None
    try:
        return pd.Timestamp(value).normalize().tz_localize(None)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"not a date: {value!r} (use YYYY-MM-DD)") from exc


def _looks_like_date(value) -> bool:
    if not isinstance(value, str) or len(value) < 8 or "-" not in value:
        return False
    try:
        pd.Timestamp(value)
    except (ValueError, TypeError):
        return False
    return True


def _flatten(card: Any, prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    if isinstance(card, dict):
        for key, value in card.items():
            out.update(_flatten(value, f"{prefix}.{key}" if prefix else str(key)))
    elif isinstance(card, (list, tuple)) and len(card) == 2 and all(_looks_like_date(v) for v in card):
        out[f"{prefix}.start"], out[f"{prefix}.end"] = card
    else:
        out[prefix] = card
    return out


def card_period(card: dict, which: str) -> tuple[pd.Timestamp, pd.Timestamp] | None:
    """The (first, last) dates of a model card's "train" or "test" period, read defensively.

    Accepts the shapes a card may use: `test_start`/`test_end`, `test: {start, end}`,
    `test_range: [start, end]`, `split: {test_start, ...}`, `dates: {test: {...}}`, ...: any key path that
    mentions `which` and ends in start/first/from (resp. end/last/to) holding a date string.

    :param card: a model card (parsed JSON).
    :param which: "train" or "test".
    """
    starts, ends = [], []
    for path, value in _flatten(card).items():
        if not _looks_like_date(value):
            continue
        parts = path.lower().replace("-", "_").split(".")
        if "metric" in path.lower() or not any(which in p for p in parts):
            continue
        last = parts[-1]
        if any(last.endswith(s) for s in ("start", "first", "from", "begin")):
            starts.append(pd.Timestamp(value))
        elif any(last.endswith(s) for s in ("end", "last", "to", "stop")):
            ends.append(pd.Timestamp(value))
    if not starts or not ends:
        return None
    return min(starts).normalize(), max(ends).normalize()


@dataclass(frozen=True)
class Window:
    """A resolved battle window."""

    start: int
    """Position of the first bar."""
    end: int
    """Position one past the last bar."""
    sample: str
    warnings: tuple[str, ...] = ()


def resolve_window(
    frame: pd.DataFrame,
    *,
    test_start=None,
    test_end=None,
    split: float = 0.8,
    in_sample: bool = False,
    cards: dict[str, dict] | None = None,
) -> Window:
    """Turn dates / split / model cards into bar positions and check the window (see the module docstring).

    :param frame: the market frame with a `date` column (indicators added).
    :param test_start: first date of the window (inclusive), or None.
    :param test_end: last date of the window (inclusive), or None.
    :param split: fraction of bars before the default test window, used without dates or cards.
    :param in_sample: default to the training period instead of the test period.
    :param cards: the agents' model cards by name (may be empty).
    """
    if not 0.0 < split < 1.0:
        raise ValueError(f"split must be between 0 and 1 (e.g. 0.8 = last 20% is the test set), got {split}")
    n = len(frame)
    if n == 0:
        raise ValueError("the data has no bars")
    dates = pd.DatetimeIndex(pd.to_datetime(frame["date"]))
    warmup = _warmup_end(frame)
    warnings: list[str] = []
    cards = cards or {}
    train_periods = [p for p in (card_period(c, "train") for c in cards.values()) if p]
    test_periods = [p for p in (card_period(c, "test") for c in cards.values()) if p]
    train_last = max((p[1] for p in train_periods), default=None)

    def position_from(date: pd.Timestamp) -> int:
        return int(dates.searchsorted(date, side="left"))

    def position_after(date: pd.Timestamp) -> int:
        return int(dates.searchsorted(date, side="right"))

    # defaults
    periods = train_periods if in_sample else test_periods
    if periods:
        first = max(p[0] for p in periods)
        last = min(p[1] for p in periods)
        if len({p for p in periods}) > 1:
            warnings.append(
                f"the agents' model cards give different {'training' if in_sample else 'test'} periods; "
                f"using their common part {first:%Y-%m-%d} to {last:%Y-%m-%d}"
            )
        start, end = max(position_from(first), warmup if in_sample else 0), position_after(last)
    elif in_sample:
        start, end = warmup, int(n * split)
    else:
        start, end = int(n * split), n

    begin, finish = _parse_date(test_start), _parse_date(test_end)
    if begin is not None and finish is not None and begin > finish:
        raise ValueError(f"test start {begin:%Y-%m-%d} is after test end {finish:%Y-%m-%d}")
    if begin is not None:
        if begin > dates[-1]:
            raise ValueError(
                f"test start {begin:%Y-%m-%d} is after the last bar of the data ({dates[-1]:%Y-%m-%d})"
            )
        start = position_from(begin)
        if finish is None:
            end = n
    if finish is not None:
        if finish < dates[0]:
            raise ValueError(
                f"test end {finish:%Y-%m-%d} is before the first bar of the data ({dates[0]:%Y-%m-%d})"
            )
        end = position_after(finish)

    if start < warmup:
        first_ok = dates[warmup] if warmup < n else None
        where = (
            f"bar {warmup} ({first_ok:%Y-%m-%d})" if first_ok is not None else "none: the data is too short"
        )
        raise ValueError(
            f"the window starts on {dates[min(start, n - 1)]:%Y-%m-%d}, inside the indicator warm-up; "
            f"the first usable bar is {where}"
        )
    if end - start < MIN_WINDOW_BARS:
        raise ValueError(
            f"the window has {max(end - start, 0)} bar(s); a battle needs at least {MIN_WINDOW_BARS} "
            "(a decision fills on the next bar's open)"
        )

    sample = SAMPLE_IN if in_sample else SAMPLE_OUT
    if not in_sample and train_last is not None and dates[start] <= train_last:
        sample = SAMPLE_IN
        warnings.append(
            f"the window starts on {dates[start]:%Y-%m-%d}, inside the agents' training period (up to "
            f"{train_last:%Y-%m-%d}): these results are in-sample"
        )
    if in_sample:
        warnings.append("in-sample: the agents trained on these bars; judge them on the test window")
    return Window(start=start, end=end, sample=sample, warnings=tuple(warnings))


# ----------------------------------------------------------------------------------------------------
# contestants


def _periods_per_year(ticker: str, frame: pd.DataFrame) -> int:
    try:
        from core.data import periods_per_year
    except ImportError:  # core.data not there yet: weekend bars mean a 7-day market
        weekdays = pd.to_datetime(frame["date"]).dt.dayofweek
        return 365 if bool((weekdays >= 5).any()) or ticker.upper().endswith("-USD") else 252
    return max(int(periods_per_year(ticker)), int(periods_per_year(frame)))


def _level_labels(targets: np.ndarray) -> list[str]:
    """ "hold" (NaN: no new decision), "long" (1.0), "flat" (0.0) or the level in percent."""
    targets = np.asarray(targets, dtype=float)
    labels = np.where(np.isnan(targets), "hold", np.where(targets >= 1.0, "long", "flat")).astype(object)
    partial = np.flatnonzero((targets > 0.0) & (targets < 1.0))
    labels[partial] = [f"{100 * v:g}%" for v in targets[partial]]
    return labels.tolist()


def _finite_or_zero(values: np.ndarray) -> np.ndarray:
    # equity stays positive in the simulator, so this only guards the bootstrap against a broken rollout
    return np.where(np.isfinite(values), values, 0.0)


def _probs_text(labels: Sequence[str], probs: np.ndarray) -> str:
    return " | ".join(f"{label} {p:.2f}" for label, p in zip(labels, probs, strict=False))


def trades_frame(
    sim: SimResult,
    window: pd.DataFrame,
    actions: Sequence[str],
    *,
    probs: np.ndarray | None = None,
    action_labels: Sequence[str] = (),
) -> pd.DataFrame:
    """Every fill of one account with the context of the decision that caused it.

    Columns: date (fill bar), decision_date (the bar before: the decision's close), side ("buy"/"sell"),
    quantity (units, positive), price (fill price incl. slippage and impact), value (quantity x price),
    cost (commission + slippage in cash), position_after, equity_after, decision (the action label),
    close, rsi, sma20, macd (at the decision bar), probabilities (agents: "label p | ..."; "" otherwise).

    :param sim: the account's simulation over the window.
    :param window: the window's rows of the frame (date, close, indicators), positions aligned with sim.
    :param actions: the decision label at each bar of the window.
    :param probs: agents: action probabilities per bar.
    :param action_labels: agents: labels of the probability columns.
    """
    fills = sim.fill_bars.astype(int)
    decision = fills - 1
    qty = sim.fill_qty
    dates = pd.to_datetime(window["date"]).to_numpy()

    def at_decision(column: str) -> np.ndarray:
        return (
            window[column].to_numpy(dtype=float)[decision]
            if column in window
            else np.full(len(fills), np.nan)
        )

    prob_text = (
        [_probs_text(action_labels, probs[d]) for d in decision] if probs is not None else [""] * len(fills)
    )
    return pd.DataFrame(
        {
            "date": dates[fills],
            "decision_date": dates[decision],
            "side": np.where(qty > 0, "buy", "sell"),
            "quantity": np.abs(qty),
            "price": sim.fill_price,
            "value": np.abs(qty) * sim.fill_price,
            "cost": sim.fill_cost,
            "position_after": sim.position[fills],
            "equity_after": sim.equity[fills],
            "decision": [actions[d] for d in decision],
            "close": at_decision("close"),
            "rsi": at_decision("rsi"),
            "sma20": at_decision("sma20"),
            "macd": at_decision("macd"),
            "probabilities": prob_text,
        },
        columns=[
            "date",
            "decision_date",
            "side",
            "quantity",
            "price",
            "value",
            "cost",
            "position_after",
            "equity_after",
            "decision",
            "close",
            "rsi",
            "sma20",
            "macd",
            "probabilities",
        ],
    )


def _agent_style(name: str) -> tuple[str, str, str]:
    try:
        from core.personalities import get_personality

        p = get_personality(name)
        return p.label, p.colour, p.marker
    except (ImportError, ValueError):
        return name.replace("_", " ").title(), "#00e5ff", "circle"


def _check_rollout(name: str, rollout, n: int) -> None:
    for attr in ("targets", "actions"):
        if len(getattr(rollout, attr)) != n:
            raise ValueError(f"agent {name}'s rollout has {len(getattr(rollout, attr))} {attr} for {n} bars")
    if len(rollout.result.equity) != n:
        raise ValueError(f"agent {name}'s rollout accounts for {len(rollout.result.equity)} bars, not {n}")


def _build(
    name, label, kind, colour, symbol, targets, sim, actions, window, ppy, probs=None, action_labels=()
) -> ContestantResult:
    # metrics are filled in afterwards, with one bootstrap shared by every contestant
    return ContestantResult(
        name=name,
        label=label,
        kind=kind,
        colour=colour,
        symbol=symbol,
        actions=list(actions),
        targets=np.asarray(targets, dtype=float),
        positions=sim.position,
        equity=sim.equity,
        trades=trades_frame(sim, window, actions, probs=probs, action_labels=action_labels),
        metrics={},
        sim=sim,
        probs=None if probs is None else np.asarray(probs, dtype=float),
        action_labels=tuple(action_labels),
    )


def _check_benchmarks(benchmarks: Sequence[str]) -> tuple[str, ...]:
    names = tuple(benchmarks)
    unknown = [b for b in names if b not in BENCHMARKS]
    if unknown:
        raise ValueError(f"unknown benchmark(s) {', '.join(unknown)}; choose from {', '.join(BENCHMARKS)}")
    if len(set(names)) != len(names):
        raise ValueError(f"each benchmark may appear once, got {list(names)}")
    return names


def _prepare_frame(frame: pd.DataFrame) -> pd.DataFrame:
    missing = [c for c in ("date", "open", "high", "low", "close") if c not in frame]
    if missing:
        raise ValueError(f"the frame lacks column(s) {', '.join(missing)}; pass core.data.load_ohlcv's frame")
    if not all(c in frame for c in INDICATOR_COLUMNS):
        frame = add_indicators(frame)
    return frame.reset_index(drop=True)


# ----------------------------------------------------------------------------------------------------
# the battle


def run_battle(
    frame: pd.DataFrame,
    *,
    ticker: str,
    provenance=None,
    test_start: dt.date | str | None = None,
    test_end: dt.date | str | None = None,
    split: float = 0.8,
    costs: Costs | None = None,
    cash0: float = 100_000.0,
    agents=None,
    benchmarks: Sequence[str] = DEFAULT_BENCHMARKS,
    shared_market: bool = False,
    in_sample: bool = False,
    periods_per_year: int | None = None,
    seed: int = 0,
    use_cache: bool = True,
) -> BattleResult:
    """Battle the agents and the benchmarks on one window with one set of costs.

    :param frame: OHLCV frame (core.data.load_ohlcv), with or without indicators (added when missing).
    :param ticker: the instrument's name (for labels, annualisation and the cache key).
    :param provenance: core.data.Provenance or its dict, carried into the result.
    :param test_start: first date of the window (inclusive); None for the default window.
    :param test_end: last date of the window (inclusive); None for the default.
    :param split: without dates or model cards, the window is the bars after this fraction.
    :param costs: commission and slippage per fill (default core.sim.Costs(): 10 + 5 bps).
    :param cash0: starting cash of every contestant.
    :param agents: an AgentSet (core.agents.load_agents), or None for benchmarks only.
    :param benchmarks: names from core.strategies.BENCHMARKS, in display order.
    :param shared_market: the agents' net order flow moves their fill prices (see core.env); benchmarks
        always trade at the unmoved price.
    :param in_sample: default to the agents' training period (the result says "in-sample").
    :param periods_per_year: override annualisation (default: 365 for crypto, 252 otherwise).
    :param seed: seed of the Sharpe bootstrap.
    :param use_cache: reuse a cached result for identical inputs.
    """
    costs = Costs() if costs is None else costs
    if not np.isfinite(cash0) or cash0 <= 0:
        raise ValueError(f"starting cash must be a positive amount, got {cash0!r}")
    names = _check_benchmarks(benchmarks)
    frame = _prepare_frame(frame)
    prov = provenance.to_dict() if hasattr(provenance, "to_dict") else dict(provenance or {})
    cards = dict(getattr(agents, "cards", {}) or {}) if agents is not None else {}
    window = resolve_window(
        frame, test_start=test_start, test_end=test_end, split=split, in_sample=in_sample, cards=cards
    )
    ppy = int(periods_per_year) if periods_per_year else _periods_per_year(ticker, frame)
    key = hashlib.sha256(
        json.dumps(
            [
                frame_hash(frame),
                ticker,
                window.start,
                window.end,
                window.sample,
                costs.commission_bps,
                costs.slippage_bps,
                cash0,
                _agents_key(agents),
                names,
                shared_market,
                ppy,
                seed,
            ],
            default=str,
        ).encode()
    ).hexdigest()
    if use_cache:
        cached = _CACHE.get(key)
        if cached is not None:
            return cached
    result = _battle(frame, ticker, prov, window, costs, cash0, agents, names, shared_market, ppy, seed)
    result.cache_key = key
    if use_cache:
        _CACHE.put(key, result)
    return result


def _battle(
    frame, ticker, prov, window, costs, cash0, agents, names, shared_market, ppy, seed
) -> BattleResult:
    start, end = window.start, window.end
    rows = frame.iloc[start:end].reset_index(drop=True)
    open_, close = rows["open"].to_numpy(dtype=float), rows["close"].to_numpy(dtype=float)
    n = end - start
    warnings = list(window.warnings)
    contestants: list[ContestantResult] = []

    if agents is None:
        warnings.append("no agents: benchmarks only")
    else:
        warnings.extend(getattr(agents, "warnings", []) or [])
        rollouts = agents.rollout(frame, start, end, costs, cash0=cash0, shared_market=shared_market)
        for name in getattr(agents, "names", tuple(rollouts)):
            rollout = rollouts[name]
            _check_rollout(name, rollout, n)
            labels = tuple(rollout.action_labels)
            actions = [labels[int(a)] if 0 <= int(a) < len(labels) else str(int(a)) for a in rollout.actions]
            label, colour, symbol = _agent_style(name)
            contestants.append(
                _build(
                    name,
                    label,
                    "agent",
                    colour,
                    symbol,
                    rollout.targets,
                    rollout.result,
                    actions,
                    rows,
                    ppy,
                    probs=rollout.probs,
                    action_labels=labels,
                )
            )

    # Buy-and-hold is the yardstick of "beats_buy_and_hold" even when it is not shown.
    bench_names = names if "buy_and_hold" in names else (*names, "buy_and_hold")
    for name in bench_names:
        spec = BENCHMARKS[name]
        targets = benchmark_targets(name, frame, start, end)
        sim = simulate(open_, close, targets, costs, cash0)
        contestants.append(
            _build(
                name,
                spec.label,
                "benchmark",
                spec.colour,
                spec.symbol,
                targets,
                sim,
                _level_labels(targets),
                rows,
                ppy,
            )
        )
    # One paired bootstrap for every contestant's Sharpe interval: same resampled days, one matrix product.
    intervals = metrics_mod.sharpe_confidence_intervals(
        np.column_stack([_finite_or_zero(c.returns) for c in contestants]), ppy, seed=seed
    )
    for c, (low, high) in zip(contestants, intervals, strict=True):
        c.metrics = metrics_mod.performance_summary(
            c.sim, ppy, seed=seed, sharpe_ci=(float(low), float(high))
        )
    bh_return = next(c for c in contestants if c.name == "buy_and_hold").metrics["total_return"]
    for c in contestants:
        c.metrics["beats_buy_and_hold"] = bool(
            c.name != "buy_and_hold" and c.metrics["total_return"] > bh_return
        )
    contestants = [c for c in contestants if c.kind == "agent" or c.name in names]

    dates = pd.DatetimeIndex(pd.to_datetime(rows["date"]))
    return BattleResult(
        ticker=ticker,
        test_start=dates[0].date(),
        test_end=dates[-1].date(),
        cost_bps=costs.total_bps,
        costs=costs,
        sample=window.sample,
        periods_per_year=ppy,
        provenance=prov,
        warnings=warnings,
        dates=dates,
        open=open_,
        close=close,
        contestants=contestants,
        start=start,
        end=end,
        cash0=float(cash0),
        shared_market=shared_market,
        indicators=rows[[c for c in INDICATOR_COLUMNS if c in rows]].copy(),
    )


# ----------------------------------------------------------------------------------------------------
# cost stress and break-even cost

BREAK_EVEN_CROSSES = "crosses"
BREAK_EVEN_NEVER = "never_beats"
BREAK_EVEN_ALWAYS = "beats_at_all_tested"


@dataclass(frozen=True)
class BreakEven:
    """Where an agent's edge over buy-and-hold vanishes as costs rise.

    Definition: at a total cost c per fill (bps, all commission), edge(c) = the agent's net total return
    - buy-and-hold's net total return, both re-run on the same window at cost c (the agent's decisions
    may change with c because it sees its own account). State:

    - "beats_at_all_tested": edge > 0 at every tested level (the break-even is above the highest);
    - "never_beats": edge <= 0 at every tested level (it does not beat buy-and-hold even at the lowest);
    - "crosses": the sign of edge changes between two tested levels; `cost_bps` is the first such
      crossing, refined by bisection to `tolerance_bps` (the cost at which edge reaches 0).
    """

    contestant: str
    state: str
    cost_bps: float | None
    """The break-even cost per fill in bps ("crosses" only; None otherwise)."""

    def describe(self, highest_bps: float, lowest_bps: float) -> str:
        """A sentence for the UI / CLI."""
        if self.state == BREAK_EVEN_CROSSES:
            return f"beats buy-and-hold below ~{self.cost_bps:.1f} bps per fill"
        if self.state == BREAK_EVEN_ALWAYS:
            return f"beats buy-and-hold at every tested cost (up to {highest_bps:g} bps)"
        return f"never beats buy-and-hold, even at {lowest_bps:g} bps"


@dataclass
class CostStress:
    """Each contestant's net total return at each tested cost, and each agent's break-even cost."""

    levels_bps: tuple[float, ...]
    returns: pd.DataFrame
    """Index: contestant names; columns: the cost levels (bps); values: net total return."""
    break_even: dict[str, BreakEven]

    def table(self) -> pd.DataFrame:
        """The returns table with a break-even column (text) for display and export."""
        out = self.returns.copy()
        out.columns = [f"return @ {c:g} bps" for c in self.levels_bps]
        hi, lo = max(self.levels_bps), min(self.levels_bps)
        out["break_even"] = [
            self.break_even[n].describe(hi, lo) if n in self.break_even else "" for n in out.index
        ]
        out.index.name = "contestant"
        return out.reset_index()


def _check_levels(levels_bps: Sequence[float]) -> tuple[float, ...]:
    levels = tuple(sorted({float(v) for v in levels_bps}))
    if len(levels) < 2:
        raise ValueError("give at least two distinct cost levels, e.g. (0, 10, 25, 50)")
    if levels[0] < 0 or levels[-1] > MAX_COST_BPS or not all(np.isfinite(levels)):
        raise ValueError(f"cost levels must be between 0 and {MAX_COST_BPS:g} bps, got {list(levels_bps)}")
    return levels


def cost_stress(
    frame: pd.DataFrame,
    *,
    ticker: str,
    test_start=None,
    test_end=None,
    split: float = 0.8,
    cash0: float = 100_000.0,
    agents=None,
    benchmarks: Sequence[str] = DEFAULT_BENCHMARKS,
    shared_market: bool = False,
    in_sample: bool = False,
    levels_bps: Sequence[float] = (0, 10, 25, 50),
    tolerance_bps: float = 0.1,
) -> CostStress:
    """Total return of every contestant at each cost level and each agent's break-even cost (BreakEven).

    Each level c is the total cost per fill, charged as Costs(commission_bps=c, slippage_bps=0) (the
    CLI's --cost-bps mapping).

    :param frame: OHLCV frame (indicators added when missing).
    :param ticker: the instrument's name.
    :param test_start: first date of the window, or None for the default (as run_battle).
    :param test_end: last date of the window, or None.
    :param split: default split when there are no dates or cards.
    :param cash0: starting cash.
    :param agents: an AgentSet, or None (then there is no break-even to find).
    :param benchmarks: benchmark names in the table (buy-and-hold is always computed as the yardstick).
    :param shared_market: agents' order flow moves their fills.
    :param in_sample: use the training period by default.
    :param levels_bps: the cost levels to tabulate (at least two, 0..1000 bps).
    :param tolerance_bps: precision of the bisection for the break-even cost.
    """
    levels = _check_levels(levels_bps)
    if not tolerance_bps > 0:
        raise ValueError(f"tolerance_bps must be positive, got {tolerance_bps}")
    names = _check_benchmarks(benchmarks)
    frame = _prepare_frame(frame)
    cards = dict(getattr(agents, "cards", {}) or {}) if agents is not None else {}
    window = resolve_window(
        frame, test_start=test_start, test_end=test_end, split=split, in_sample=in_sample, cards=cards
    )
    start, end = window.start, window.end
    open_ = frame["open"].to_numpy(dtype=float)[start:end]
    close = frame["close"].to_numpy(dtype=float)[start:end]
    bench_names = names if "buy_and_hold" in names else (*names, "buy_and_hold")
    bench_targets = {b: benchmark_targets(b, frame, start, end) for b in bench_names}
    memo: dict[float, dict[str, float]] = {}

    def returns_at(cost: float) -> dict[str, float]:
        if cost not in memo:
            costs = Costs(commission_bps=cost, slippage_bps=0.0)
            out = {}
            if agents is not None:
                rollouts = agents.rollout(frame, start, end, costs, cash0=cash0, shared_market=shared_market)
                for name in getattr(agents, "names", tuple(rollouts)):
                    out[name] = metrics_mod.total_return(rollouts[name].result.equity)
            for b, targets in bench_targets.items():
                out[b] = metrics_mod.total_return(simulate(open_, close, targets, costs, cash0).equity)
            memo[cost] = out
        return memo[cost]

    table = {c: returns_at(c) for c in levels}
    shown = [n for n in table[levels[0]] if n in names or n not in BENCHMARKS]
    returns = pd.DataFrame({c: [table[c][n] for n in shown] for c in levels}, index=shown)
    agent_names = [n for n in shown if n not in BENCHMARKS]

    def edge(name: str, cost: float) -> float:
        r = returns_at(cost)
        return r[name] - r["buy_and_hold"]

    break_even = {}
    for name in agent_names:
        edges = [edge(name, c) for c in levels]
        positive = [e > 0 for e in edges]
        if all(positive):
            break_even[name] = BreakEven(name, BREAK_EVEN_ALWAYS, None)
        elif not any(positive):
            break_even[name] = BreakEven(name, BREAK_EVEN_NEVER, None)
        else:
            i = next(k for k in range(len(levels) - 1) if positive[k] != positive[k + 1])
            break_even[name] = BreakEven(
                name,
                BREAK_EVEN_CROSSES,
                _bisect(lambda c, n=name: edge(n, c), levels[i], levels[i + 1], tolerance_bps),
            )
    return CostStress(levels_bps=levels, returns=returns, break_even=break_even)


def _bisect(f: Callable[[float], float], low: float, high: float, tolerance: float) -> float:
    """A root of f in [low, high] where f(low) and f(high) have different signs (> 0 vs <= 0)."""
    low_positive = f(low) > 0
    while high - low > tolerance:
        mid = 0.5 * (low + high)
        if (f(mid) > 0) == low_positive:
            low = mid
        else:
            high = mid
    # linear interpolation inside the last bracket: closer to the true zero than its midpoint
    f_low, f_high = f(low), f(high)
    if f_low != f_high:
        return float(np.clip(low - f_low * (high - low) / (f_high - f_low), low, high))
    return 0.5 * (low + high)
