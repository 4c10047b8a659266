"""The committed models under models/: every seed complete, small, on the bundled data, in character on
their test period.

Character is judged on each card's TEST period only (bars never seen in training), with costs, for EVERY
training seed: Conservative holds less and draws down less than Aggressive; Momentum's position follows the
trend signal; Mean-Reversion's position moves against RSI.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from core import PERSONALITIES
from core.agents import load_agent_seeds
from core.env import TradingArenaEnv
from core.features import trend_signal
from core.indicators import add_indicators
from core.registry import library_versions, load_sb3, model_paths, models_root, seeds
from core.sim import Costs
from core.training import SHIPPED_SEEDS, SHIPPED_TICKERS, SHIPPED_TIMESTEPS

DATA = Path(__file__).resolve().parents[2] / "data"
MIN_CORRELATION = 0.3
MAX_SHIPPED_MB = 30


def max_drawdown(equity: np.ndarray) -> float:
    return float(np.max(1.0 - equity / np.maximum.accumulate(equity)))


@pytest.fixture(scope="module", params=SHIPPED_TICKERS)
def battle(request):
    """(ticker, frame with indicators, agents (every seed), test start, test end, {seed: rollouts}) on the
    card's test period."""
    ticker = request.param
    frame = add_indicators(pd.read_csv(DATA / f"{ticker}.csv"))
    agents = load_agent_seeds(ticker, models_root())
    test = agents.cards["aggressive"]["split"]["test"]
    start, end = test["first_bar"], test["end_bar"]
    return ticker, frame, agents, start, end, agents.rollout_seeds(frame, start, end, Costs())


def test_every_shipped_seed_exists_and_the_set_is_small():
    total = 0
    for ticker in SHIPPED_TICKERS:
        assert seeds(ticker, models_root()) == list(SHIPPED_SEEDS), f"{ticker}: run `make models`"
        for name in PERSONALITIES:
            for seed in SHIPPED_SEEDS:
                paths = model_paths(ticker, name, models_root(), seed)
                for path in (paths.zip, paths.npz, paths.card):
                    assert path.is_file(), f"{path} missing: run `make models`"
                    assert path.stat().st_size < 2_000_000
                    total += path.stat().st_size
        assert not list((models_root() / ticker).glob("*.*")), "single-file agents of the old layout are left"
    assert total < MAX_SHIPPED_MB * 1e6


def test_cards_match_the_bundled_data_and_this_install(battle):
    from core.data import load_ohlcv

    ticker, frame, agents, start, end, _ = battle
    _, prov = load_ohlcv(ticker, live=False, use_cache=False)
    assert agents.warnings == [] and agents.seeds == SHIPPED_SEEDS
    for key, card in agents.all_cards.items():
        name, seed = key.split("/seed")
        assert card["personality"] == name and card["ticker"] == ticker
        assert card["data"]["sha256"] == prov.sha256 and card["data"]["source"] == "bundled"
        assert card["seed"] == int(seed) and card["timesteps"] >= SHIPPED_TIMESTEPS
        assert card["versions"] == library_versions()
        assert card["split"]["test"]["first_bar"] == start and card["split"]["test"]["end_bar"] == end == len(frame)
        assert card["split"]["train"]["end_bar"] == start  # the test period was never trained on
        assert card["scaler"]["fit_rows"][1] <= start
        assert {"in_sample", "out_of_sample"} <= set(card["metrics"])


@pytest.mark.parametrize("seed", SHIPPED_SEEDS)
def test_conservative_holds_less_and_draws_down_less_than_aggressive(battle, seed):
    ticker, _, _, _, _, by_seed = battle
    cons, aggr = by_seed[seed]["conservative"].result, by_seed[seed]["aggressive"].result
    assert cons.position.mean() < aggr.position.mean(), (ticker, seed)
    assert max_drawdown(cons.equity) < max_drawdown(aggr.equity), (ticker, seed)


@pytest.mark.parametrize("seed", SHIPPED_SEEDS)
def test_momentum_position_follows_the_trend(battle, seed):
    ticker, frame, _, start, end, by_seed = battle
    trend = trend_signal(frame)[start:end]
    mom = by_seed[seed]["momentum"]
    assert np.corrcoef(mom.targets, trend)[0, 1] > MIN_CORRELATION, (ticker, seed)
    # the position actually held at the next close, too
    assert np.corrcoef(mom.result.position[1:], trend[:-1])[0, 1] > MIN_CORRELATION, (ticker, seed)


@pytest.mark.parametrize("seed", SHIPPED_SEEDS)
def test_mean_reversion_position_moves_against_rsi(battle, seed):
    ticker, frame, _, start, end, by_seed = battle
    rsi = frame["rsi"].to_numpy()[start:end]
    mr = by_seed[seed]["mean_reversion"]
    assert np.corrcoef(mr.targets, rsi)[0, 1] < -MIN_CORRELATION, (ticker, seed)
    assert np.corrcoef(mr.result.position[1:], rsi[:-1])[0, 1] < -MIN_CORRELATION, (ticker, seed)


@pytest.mark.parametrize("seed", SHIPPED_SEEDS)
def test_numpy_policies_equal_sb3_on_the_observations_of_the_battle(battle, seed):
    """Replay the battle through the PettingZoo env; SB3's deterministic predict picks the same actions."""
    ticker, frame, agents, start, end, by_seed = battle
    rollouts = by_seed[seed]
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
        sb3 = load_sb3(ticker, name, models_root(), seed)
        actions, _ = sb3.predict(seen[:, j], deterministic=True)
        np.testing.assert_array_equal(actions, rollouts[name].actions, err_msg=f"{ticker} {name} seed {seed}")
