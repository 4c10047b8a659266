"""Account simulation shared by the environment, the arena and the benchmarks: one set of trading rules.

Conventions (DESIGN.md, "Trading rules"):

- A decision taken at bar t (after its close) is a *target exposure* in [0, 1]: the fraction of equity
  to hold in the asset. It fills at bar t+1's open; a decision on the last bar never fills.
- An order is sent only when the target differs from the previous target ("level change"); while the
  level is unchanged the position drifts with the price (no rebalancing churn). NaN means "no new
  decision". Every account starts flat, in cash, at level 0.
- Buys pay open x (1 + slippage), sells receive open x (1 - slippage); commission is charged on the
  notional of every fill. Long-only, never negative cash: a buy is capped by the cash available.
- Equity at bar t = cash_t + units_t x close_t, after the fills at bar t's open.
- `whole_units=True` trades whole shares only (backtesting.py's convention); selling to 0 sells all.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

MAX_COST_BPS = 1000.0
"""Commission or slippage above 10% per fill is refused as absurd."""


@dataclass(frozen=True)
class Costs:
    """Trading costs in basis points of the traded notional."""

    commission_bps: float = 10.0
    """Commission per fill, on the notional of both buys and sells."""
    slippage_bps: float = 5.0
    """Adverse price move per fill: buys pay more, sells receive less."""

    def __post_init__(self) -> None:
        for name in ("commission_bps", "slippage_bps"):
            value = getattr(self, name)
            if not np.isfinite(value) or value < 0 or value > MAX_COST_BPS:
                raise ValueError(
                    f"{name} must be between 0 and {MAX_COST_BPS:g} basis points, got {value!r}"
                )

    @property
    def fee(self) -> float:
        return self.commission_bps / 1e4

    @property
    def slip(self) -> float:
        return self.slippage_bps / 1e4

    @property
    def total_bps(self) -> float:
        return self.commission_bps + self.slippage_bps


def rebalance(cash, units, target, open_price, costs: Costs, whole_units: bool = False, price_shift=0.0):
    """Fill orders that move accounts to `target` exposure at `open_price`; works on scalars or arrays.

    Parameters
    ----------
    cash, units: the accounts before the fill (arrays of equal shape, or scalars).
    target: the exposure wanted, in [0, 1] (same shape).
    open_price: the bar's open, before slippage and impact.
    costs: commission and slippage.
    whole_units: trade whole units only.
    price_shift: an extra relative price move applied to every fill (shared-market impact), e.g. +0.001.

    Returns (cash, units, traded, price, cost): traded is signed (+ buy, - sell), price the fill price,
    cost the commission plus slippage paid, in cash.
    """
    cash = np.asarray(cash, dtype=float)
    units = np.asarray(units, dtype=float)
    target = np.clip(np.asarray(target, dtype=float), 0.0, 1.0)
    mid = open_price * (1.0 + price_shift)
    equity = cash + units * mid
    delta_value = target * equity - units * mid
    buy = delta_value > 0
    buy_px = mid * (1.0 + costs.slip)
    sell_px = mid * (1.0 - costs.slip)
    affordable = np.maximum(cash, 0.0) / (buy_px * (1.0 + costs.fee))
    buy_qty = np.minimum(np.where(buy, delta_value / mid, 0.0), affordable)
    sell_qty = np.where(target <= 0.0, units, np.minimum(np.where(buy, 0.0, -delta_value / mid), units))
    if whole_units:
        buy_qty = np.floor(buy_qty + 1e-9)
        sell_qty = np.where(target <= 0.0, units, np.floor(sell_qty + 1e-9))
    buy_qty = np.maximum(buy_qty, 0.0)
    sell_qty = np.where(buy, 0.0, np.maximum(sell_qty, 0.0))
    notional = buy_qty * buy_px + sell_qty * sell_px
    commission = notional * costs.fee
    cash = cash - buy_qty * buy_px + sell_qty * sell_px - commission
    units = units + buy_qty - sell_qty
    traded = buy_qty - sell_qty
    price = np.where(buy, buy_px, sell_px)
    cost = commission + (buy_qty + sell_qty) * mid * costs.slip
    return cash, units, traded, price, cost


def rebalance_one(cash: float, units: float, target: float, open_price: float, fee: float, slip: float,
                  price_shift: float = 0.0, whole_units: bool = False) -> tuple[float, float, float, float, float]:
    """`rebalance` for ONE account in plain Python floats: the same operations in the same order, so the
    results are bit-identical (tests/core/test_sim.py and test_env.py compare them on random inputs), but
    without numpy's per-call overhead on tiny arrays, which dominated `simulate`'s event loop and the
    PettingZoo env's per-agent step. Arguments as `rebalance`, with the costs as fractions (fee, slip).
    """
    # Branches instead of min()/max() calls: this runs once per agent per env step (the hot path).
    target = 0.0 if target < 0.0 else (1.0 if target > 1.0 else target)
    mid = open_price * (1.0 + price_shift)
    equity = cash + units * mid
    delta_value = target * equity - units * mid
    buy = delta_value > 0
    buy_px = mid * (1.0 + slip)
    sell_px = mid * (1.0 - slip)
    if buy:
        affordable = (cash if cash > 0.0 else 0.0) / (buy_px * (1.0 + fee))
        buy_qty = delta_value / mid
        if affordable < buy_qty:
            buy_qty = affordable
        if whole_units:
            buy_qty = float(math.floor(buy_qty + 1e-9))
        if buy_qty < 0.0:
            buy_qty = 0.0
        sell_qty = 0.0
    else:
        buy_qty = 0.0
        if target <= 0.0:
            sell_qty = units
        else:
            sell_qty = -delta_value / mid
            if units < sell_qty:
                sell_qty = units
            if whole_units:
                sell_qty = float(math.floor(sell_qty + 1e-9))
        if sell_qty < 0.0:
            sell_qty = 0.0
    notional = buy_qty * buy_px + sell_qty * sell_px
    commission = notional * fee
    cash = cash - buy_qty * buy_px + sell_qty * sell_px - commission
    units = units + buy_qty - sell_qty
    price = buy_px if buy else sell_px
    cost = commission + (buy_qty + sell_qty) * mid * slip
    return cash, units, buy_qty - sell_qty, price, cost


@dataclass
class SimResult:
    """Per-bar account state and the list of fills of one contestant."""

    equity: np.ndarray
    """Equity at each bar's close."""
    cash: np.ndarray
    units: np.ndarray
    position: np.ndarray
    """Exposure at each close: units x close / equity."""
    levels: np.ndarray
    """The target level in force after each bar's decision (forward-filled targets, starting at 0)."""
    fill_bars: np.ndarray
    """Bar index of each fill (the bar after the decision)."""
    fill_qty: np.ndarray
    """Signed units of each fill (+ buy, - sell)."""
    fill_price: np.ndarray
    fill_cost: np.ndarray
    """Commission plus slippage of each fill, in cash."""


def target_levels(targets: np.ndarray) -> np.ndarray:
    """Forward-fill decisions (NaN = keep) from an initial level of 0."""
    t = np.asarray(targets, dtype=float).copy()
    if t.size and np.isnan(t[0]):
        t[0] = 0.0
    idx = np.where(np.isnan(t), 0, np.arange(t.size))
    np.maximum.accumulate(idx, out=idx)
    return t[idx]


def simulate(
    open_: np.ndarray,
    close: np.ndarray,
    targets: np.ndarray,
    costs: Costs | None = None,
    cash0: float = 100_000.0,
    whole_units: bool = False,
) -> SimResult:
    """Run one account through the bars; `targets[t]` is the decision at bar t's close (NaN = keep).

    Event-driven: only bars where the level changes are visited in Python; between fills the holdings
    are constant, so equity is a vectorised cash + units x close over each segment.
    """
    costs = costs or Costs()
    open_ = np.asarray(open_, dtype=float)
    close = np.asarray(close, dtype=float)
    n = close.size
    if open_.size != n or len(targets) != n:
        raise ValueError("open, close and targets must have the same length")
    if cash0 <= 0:
        raise ValueError(f"starting cash must be positive, got {cash0}")
    levels = target_levels(targets)
    prev = np.concatenate(([0.0], levels[:-1]))
    events = np.flatnonzero(levels != prev)
    events = events[events < n - 1]  # an order on the last bar never fills
    cash_arr, units_arr = np.empty(n), np.empty(n)
    fb, fq, fp, fc = [], [], [], []
    cash, units, start = float(cash0), 0.0, 0
    for t in events:
        f = t + 1
        cash_arr[start:f], units_arr[start:f] = cash, units
        c, u, q, p, k = rebalance_one(cash, units, float(levels[t]), float(open_[f]), costs.fee, costs.slip,
                                      whole_units=whole_units)
        if q != 0.0:
            fb.append(f)
            fq.append(float(q))
            fp.append(float(p))
            fc.append(float(k))
        cash, units, start = float(c), float(u), f
    cash_arr[start:], units_arr[start:] = cash, units
    equity = cash_arr + units_arr * close
    position = np.divide(units_arr * close, equity, out=np.zeros(n), where=equity > 0)
    return SimResult(
        equity=equity,
        cash=cash_arr,
        units=units_arr,
        position=position,
        levels=levels,
        fill_bars=np.asarray(fb, dtype=int),
        fill_qty=np.asarray(fq),
        fill_price=np.asarray(fp),
        fill_cost=np.asarray(fc),
    )
