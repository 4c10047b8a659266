"""The committed models under models/: complete, small, on the bundled data, in character on their test period.

Character is judged on each card's TEST period only (bars never seen in training), with costs:
Conservative holds less and draws down less than Aggressive; Momentum's position follows the trend signal;
Mean-Reversion's position moves against RSI.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from core import PERSONALITIES
from core.agents import load_agents
from core.env import TradingArenaEnv
from core.features import trend_signal
from core.indicators import add_indicators
from core.registry import library_versions, load_sb3, model_paths, models_root
from core.sim import Costs
from core.training import SHIPPED_TICKERS, SHIPPED_TIMESTEPS

DATA = Path(__file__).resolve().parents[2] / "data"
MIN_CORRELATION = 0.3


def max_drawdown(equity: np.ndarray) -> float:
    return float(np.max(1.0 - equity / np.maximum.accumulate(equity)))


@pytest.fixture(scope="module", params=SHIPPED_TICKERS)
def battle(request):
    """(ticker, frame with indicators, agents, test start, test end, rollouts) on the card's test period."""
    ticker = request.param
    frame = add_indicators(pd.read_csv(DATA / f"{ticker}.csv"))
    agents = load_agents(ticker, models_root())
    test = agents.cards["aggressive"]["split"]["test"]
    start, end = test["first_bar"], test["end_bar"]
    return ticker, frame, agents, start, end, agents.rollout(frame, start, end, Costs())


def test_every_shipped_file_exists_and_is_small():
    for ticker in SHIPPED_TICKERS:
        for name in PERSONALITIES:
            paths = model_paths(ticker, name, models_root())
            for path in (paths.zip, paths.npz, paths.card):
                assert path.is_file(), f"{path} missing: run `make models`"
                assert path.stat().st_size < 2_000_000


def test_cards_match_the_bundled_data_and_this_install(battle):
    from core.data import load_ohlcv

    ticker, frame, agents, start, end, _ = battle
    _, prov = load_ohlcv(ticker, live=False, use_cache=False)
    assert agents.warnings == []
    for name, card in agents.cards.items():
        assert card["personality"] == name and card["ticker"] == ticker
        assert card["data"]["sha256"] == prov.sha256 and card["data"]["source"] == "bundled"
        assert card["seed"] == 0 and card["timesteps"] >= SHIPPED_TIMESTEPS
        assert card["versions"] == library_versions()
        assert card["split"]["test"]["first_bar"] == start and card["split"]["test"]["end_bar"] == end == len(frame)
        assert card["split"]["train"]["end_bar"] == start  # the test period was never trained on
        assert card["scaler"]["fit_rows"][1] <= start
        assert {"in_sample", "out_of_sample"} <= set(card["metrics"])


def test_conservative_holds_less_and_draws_down_less_than_aggressive(battle):
    ticker, _, _, _, _, rollouts = battle
    cons, aggr = rollouts["conservative"].result, rollouts["aggressive"].result
    assert cons.position.mean() < aggr.position.mean(), ticker
    assert max_drawdown(cons.equity) < max_drawdown(aggr.equity), ticker


def test_momentum_position_follows_the_trend(battle):
    ticker, frame, _, start, end, rollouts = battle
    trend = trend_signal(frame)[start:end]
    mom = rollouts["momentum"]
    assert np.corrcoef(mom.targets, trend)[0, 1] > MIN_CORRELATION, ticker
    # the position actually held at the next close, too
    assert np.corrcoef(mom.result.position[1:], trend[:-1])[0, 1] > MIN_CORRELATION, ticker


def test_mean_reversion_position_moves_against_rsi(battle):
    ticker, frame, _, start, end, rollouts = battle
    rsi = frame["rsi"].to_numpy()[start:end]
    mr = rollouts["mean_reversion"]
    assert np.corrcoef(mr.targets, rsi)[0, 1] < -MIN_CORRELATION, ticker
    assert np.corrcoef(mr.result.position[1:], rsi[:-1])[0, 1] < -MIN_CORRELATION, ticker


def test_numpy_policies_equal_sb3_on_the_observations_of_the_battle(battle):
    """Replay the battle through the PettingZoo env; SB3's deterministic predict picks the same actions."""
    ticker, frame, agents, start, end, rollouts = battle
    env = TradingArenaEnv(frame, start=start, end=end, scalers={n: agents.scaler(n) for n in PERSONALITIES})
    obs, _ = env.reset(seed=0)
    seen = []
    for i in range(end - start):
        seen.append(np.stack([obs[a] for a in PERSONALITIES]))
        if i == end - start - 1:
            break
        obs, *_ = env.step({a: int(rollouts[a].actions[i]) for a in PERSONALITIES})
    seen = np.asarray(seen)
    for j, name in enumerate(PERSONALITIES):
        sb3 = load_sb3(ticker, name, models_root())
        actions, _ = sb3.predict(seen[:, j], deterministic=True)
        np.testing.assert_array_equal(actions, rollouts[name].actions, err_msg=f"{ticker} {name}")
