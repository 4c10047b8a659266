"""Our SMA 20/50 crossover through core.sim vs the same strategy in backtesting.py 0.6.6 (a peer as truth).

Mapping of backtesting.py's conventions onto ours:
- trade_on_close=False: a market order placed in next() at bar i's close fills at bar i+1's open (ours);
- commission=0.001 is charged on entry and again on exit, on the fill's notional (our commission_bps=10
  per fill), spread 0 (our slippage 0);
- buy() with no size takes the largest whole number of units that cash / (price x (1 + commission))
  allows (our whole_units=True sizing); position.close() sells everything;
- crossover() is strict on both bars (our crossover_targets); long-only: cross up -> buy, cross down ->
  close; exclusive_orders=True (irrelevant long-only); finalize_trades=False: the last open trade stays
  open and equity is marked at the last close, as ours.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from core.sim import Costs, simulate
from core.strategies import sma_crossover_targets

backtesting = pytest.importorskip("backtesting", reason="backtesting.py (test-only) is not installed")
from backtesting import Backtest, Strategy  # noqa: E402
from backtesting.lib import crossover  # noqa: E402


def _sma(values, n):
    return pd.Series(values).rolling(n).mean().to_numpy()


class SmaCrossLongOnly(Strategy):
    fast = 20
    slow = 50

    def init(self):
        self.sma_fast = self.I(_sma, self.data.Close, self.fast)
        self.sma_slow = self.I(_sma, self.data.Close, self.slow)

    def next(self):
        if crossover(self.sma_fast, self.sma_slow):
            self.buy()
        elif crossover(self.sma_slow, self.sma_fast):
            self.position.close()


@pytest.fixture(scope="module")
def aapl() -> pd.DataFrame:
    return pd.read_csv("data/AAPL.csv", parse_dates=["date"])


@pytest.fixture(scope="module")
def peer(aapl):
    data = aapl.rename(columns=str.capitalize).set_index("Date")
    bt = Backtest(
        data,
        SmaCrossLongOnly,
        cash=100_000,
        commission=0.001,
        spread=0.0,
        trade_on_close=False,
        exclusive_orders=True,
        finalize_trades=False,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "some trades remain open": expected, see finalize_trades
        return bt.run()


@pytest.fixture(scope="module")
def ours(aapl):
    targets = sma_crossover_targets(aapl["close"].to_numpy())
    return simulate(
        aapl["open"].to_numpy(),
        aapl["close"].to_numpy(),
        targets,
        Costs(commission_bps=10, slippage_bps=0),
        100_000.0,
        whole_units=True,
    )


def test_same_trades_entry_and_exit_bars_and_sizes(peer, ours):
    trades = peer["_trades"]
    buys = ours.fill_bars[ours.fill_qty > 0]
    sells = ours.fill_bars[ours.fill_qty < 0]
    assert len(trades) == 46 and len(buys) == 47 and len(sells) == 46  # the 47th position is still open
    np.testing.assert_array_equal(buys[:46], trades["EntryBar"].to_numpy())
    np.testing.assert_array_equal(sells, trades["ExitBar"].to_numpy())
    np.testing.assert_array_equal(ours.fill_qty[ours.fill_qty > 0][:46], trades["Size"].to_numpy())
    np.testing.assert_allclose(
        ours.fill_price[ours.fill_qty > 0][:46], trades["EntryPrice"].to_numpy(), rtol=1e-12
    )
    np.testing.assert_allclose(ours.fill_price[ours.fill_qty < 0], trades["ExitPrice"].to_numpy(), rtol=1e-12)
    assert len(ours.fill_bars) == 93


def test_same_final_equity_and_equity_curve(peer, ours):
    final = peer["Equity Final [$]"]
    assert abs(ours.equity[-1] - final) / final < 1e-6
    assert final == pytest.approx(745_768.90, abs=0.01)
    curve = peer["_equity_curve"]["Equity"].to_numpy()
    np.testing.assert_allclose(ours.equity, curve, rtol=1e-9)


def test_same_commissions_paid(peer, ours):
    # backtesting.py books both legs' commission on each closed trade; ours books each fill's
    closed = peer["_trades"]["Commission"].sum()
    open_leg = ours.fill_cost[-1]  # the open 47th position's entry commission
    assert ours.fill_cost.sum() == pytest.approx(closed + open_leg, rel=1e-9)
