"""The arena env: PettingZoo API, accounting == core.sim.simulate, invariants, features and scaler."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pettingzoo.test import parallel_api_test, parallel_seed_test

from core import PERSONALITIES
from core.env import OBS_DIM, ArenaCore, BatchArena, TradingArenaEnv
from core.features import (
    MARKET_FEATURES,
    FeatureScaler,
    contrarian_signal,
    first_valid_bar,
    market_features,
    trend_signal,
)
from core.indicators import WARMUP_BARS, add_indicators
from core.personalities import REGISTRY, RewardParams, shaped_reward
from core.sim import Costs, rebalance, rebalance_one, simulate

DATA = Path(__file__).resolve().parents[2] / "data"


@pytest.fixture(scope="module")
def aapl() -> pd.DataFrame:
    return add_indicators(pd.read_csv(DATA / "AAPL.csv").iloc[:900].reset_index(drop=True))


def _frame(close: np.ndarray) -> pd.DataFrame:
    close = np.asarray(close, dtype=float)
    return pd.DataFrame(
        {"date": pd.date_range("2020-01-01", periods=close.size), "open": close, "high": close * 1.01,
         "low": close * 0.99, "close": close, "volume": 1e6}
    )


def _play(env: TradingArenaEnv, actions: np.ndarray, seed: int = 0):
    """Step an env through an action array (steps, agents); return per-step equity, cash, units, obs."""
    obs, _ = env.reset(seed=seed)
    state = env.accounts()
    trace = {"equity": [state["equity"]], "cash": [state["cash"]], "units": [state["units"]],
             "obs": [np.stack([obs[a] for a in env.possible_agents])], "rewards": []}
    for row in actions:
        obs, rewards, _, trunc, _ = env.step({a: int(row[i]) for i, a in enumerate(env.possible_agents)})
        state = env.accounts()
        for key in ("equity", "cash", "units"):
            trace[key].append(state[key])
        trace["obs"].append(np.stack([obs[a] for a in env.possible_agents]))
        trace["rewards"].append([rewards[a] for a in env.possible_agents])
        if not env.agents:
            break
    return {k: np.asarray(v) for k, v in trace.items()}


# --- PettingZoo API ----------------------------------------------------------------------------


def test_parallel_api_test_passes(aapl):
    parallel_api_test(TradingArenaEnv(aapl, episode_bars=60), num_cycles=200)


def test_parallel_seed_test_passes(aapl):
    parallel_seed_test(lambda: TradingArenaEnv(aapl, episode_bars=60))


def test_spaces_and_agents(aapl):
    env = TradingArenaEnv(aapl)
    assert env.possible_agents == list(PERSONALITIES)
    assert env.agents == []
    obs, infos = env.reset(seed=3)
    assert env.agents == list(PERSONALITIES) and set(infos) == set(PERSONALITIES)
    for agent in env.agents:
        assert env.action_space(agent).n == 5
        assert env.observation_space(agent).shape == (OBS_DIM,)
        assert env.observation_space(agent) is env.observation_space(agent)  # cached
        assert env.observation_space(agent).contains(obs[agent])


def test_whole_window_episode_length_and_truncation(aapl):
    env = TradingArenaEnv(aapl, start=100, end=160)
    env.reset(seed=0)
    steps = 0
    while env.agents:
        _, _, term, trunc, _ = env.step({a: 2 for a in env.agents})
        steps += 1
        assert not any(term.values())
    assert steps == 59  # 60 bars: the decision on the last bar never fills
    assert all(trunc.values())
    with pytest.raises(RuntimeError, match="reset"):
        env.step({a: 0 for a in PERSONALITIES})


def test_same_seed_same_episode_different_seed_differs(aapl):
    actions = np.random.default_rng(1).integers(0, 5, size=(80, 4))
    a = _play(TradingArenaEnv(aapl, episode_bars=120), actions, seed=7)
    b = _play(TradingArenaEnv(aapl, episode_bars=120), actions, seed=7)
    c = _play(TradingArenaEnv(aapl, episode_bars=120), actions, seed=8)
    np.testing.assert_array_equal(a["obs"], b["obs"])
    np.testing.assert_array_equal(a["rewards"], b["rewards"])
    assert not np.array_equal(a["obs"][0], c["obs"][0])  # a different random start


# --- accounting ----------------------------------------------------------------------------------


def test_env_accounting_equals_simulate_exactly(aapl):
    start, end = 200, 500
    env = TradingArenaEnv(aapl, start=start, end=end)
    actions = np.random.default_rng(0).integers(0, 5, size=(end - start - 1, 4))
    trace = _play(env, actions)
    o, c = aapl["open"].to_numpy()[start:end], aapl["close"].to_numpy()[start:end]
    for i, name in enumerate(env.possible_agents):
        targets = np.append(REGISTRY[name].exposure(actions[:, i]), np.nan)
        res = simulate(o, c, targets, Costs())
        np.testing.assert_array_equal(trace["equity"][:, i], res.equity)
        np.testing.assert_array_equal(trace["cash"][:, i], res.cash)
        np.testing.assert_array_equal(trace["units"][:, i], res.units)
        assert res.fill_bars.size > 50  # random actions trade a lot: the comparison is not vacuous


@settings(max_examples=25, deadline=None)
@given(
    actions=st.lists(st.lists(st.integers(0, 4), min_size=4, max_size=4), min_size=5, max_size=60),
    commission=st.floats(0, 100),
    slippage=st.floats(0, 100),
    shared=st.booleans(),
)
def test_invariants_equity_cash_long_only(actions, commission, slippage, shared):
    close = 100 * np.exp(np.cumsum(np.sin(np.arange(120) * 0.7) * 0.03))
    env = TradingArenaEnv(_frame(close), start=40, end=40 + len(actions) + 1,
                          costs=Costs(commission, slippage), shared_market=shared)
    trace = _play(env, np.asarray(actions))
    closes = close[40 : 40 + len(trace["equity"])]
    np.testing.assert_allclose(trace["equity"], trace["cash"] + trace["units"] * closes[:, None], rtol=0, atol=0)
    assert (trace["cash"] >= -1e-9).all()
    assert (trace["units"] >= 0).all()
    assert np.isfinite(trace["obs"]).all() and (np.abs(trace["obs"]) <= 5).all()


def test_rewards_follow_the_personality_formulas(aapl):
    start = 300
    env = TradingArenaEnv(aapl, start=start, end=start + 40)
    actions = np.random.default_rng(2).integers(0, 5, size=(39, 4))
    trace = _play(env, actions)
    lr = np.log(trace["equity"][1:] / trace["equity"][:-1])
    trend = trend_signal(aapl)[start : start + 39]
    contrarian = contrarian_signal(aapl)[start : start + 39]
    idx = {n: i for i, n in enumerate(env.possible_agents)}
    np.testing.assert_allclose(trace["rewards"][:, idx["aggressive"]], 100 * lr[:, idx["aggressive"]], rtol=1e-12)
    i = idx["momentum"]
    expo = REGISTRY["momentum"].exposure(actions[:, i])
    np.testing.assert_allclose(trace["rewards"][:, i], 100 * lr[:, i] + 0.5 * expo * trend, rtol=1e-10, atol=1e-12)
    i = idx["mean_reversion"]
    expo = REGISTRY["mean_reversion"].exposure(actions[:, i])
    np.testing.assert_allclose(trace["rewards"][:, i], 100 * lr[:, i] + 1.0 * expo * contrarian, rtol=1e-10, atol=1e-12)
    i = idx["conservative"]
    peak = np.maximum.accumulate(trace["equity"][:, i])
    dd = 1 - trace["equity"][:, i] / peak
    want = 100 * lr[:, i] - 0.05 * 100 * np.maximum(np.diff(dd), 0) - 0.02 * (100 * lr[:, i]) ** 2
    np.testing.assert_allclose(trace["rewards"][:, i], want, rtol=1e-10, atol=1e-12)


def test_conservative_buys_at_most_half_of_equity(aapl):
    env = TradingArenaEnv(aapl, start=100, end=200)
    trace = _play(env, np.full((99, 4), 4))
    open1 = aapl["open"].to_numpy()[101]
    at_fill = trace["units"][1] * open1 / (trace["cash"][1] + trace["units"][1] * open1)
    assert at_fill[0] == pytest.approx(0.5, abs=0.002)  # the cap, up to the costs paid on the fill
    assert at_fill[1] > 0.99
    assert (trace["units"][2:] == trace["units"][1]).all()  # same level: no rebalancing churn


def test_shared_market_moves_the_fill_price_against_the_crowd(aapl):
    start = 300
    alone = TradingArenaEnv(aapl, start=start, end=start + 5, personalities=["aggressive"], shared_market=True)
    crowd = TradingArenaEnv(aapl, start=start, end=start + 5, shared_market=True, impact=0.05)
    alone.reset(seed=0)
    crowd.reset(seed=0)
    alone.step({"aggressive": 4})
    crowd.step({a: 4 for a in crowd.possible_agents})
    open1 = aapl["open"].to_numpy()[start + 1]
    _, price, _ = crowd.last_fills[0]
    # every agent buys from flat: net wanted notional / total equity = mean target exposure
    expected_shift = 0.05 * (0.5 + 1 + 1 + 1) / 4
    np.testing.assert_allclose(price, open1 * (1 + expected_shift) * (1 + Costs().slip))
    _, alone_price, _ = alone.last_fills[0]
    np.testing.assert_allclose(alone_price, open1 * (1 + 0.01 * 1.0) * (1 + Costs().slip))  # default impact
    assert crowd.accounts()["units"][1] < alone.accounts()["units"][0]  # paid more, got fewer units


def test_batch_arena_rows_equal_simulate(aapl):
    arena = BatchArena(aapl, n_envs=3, episode_bars=30, seed=4)
    arena.reset()
    starts = arena.starts.copy()
    actions = np.random.default_rng(5).integers(0, 5, size=(29, 3, 4))
    equity = [arena.core.equity.copy()]
    for k in range(28):
        _, _, done = arena.step(actions[k])
        assert not done.any()
        equity.append(arena.core.equity.copy())
    _, _, done = arena.step(actions[28])
    assert done.all()  # 30 bars -> 29 steps, then the rows restart
    equity = np.asarray(equity)
    o, c = aapl["open"].to_numpy(), aapl["close"].to_numpy()
    for b, s in enumerate(starts):
        for i, name in enumerate(PERSONALITIES):
            targets = REGISTRY[name].exposure(actions[:28, b, i])
            res = simulate(o[s : s + 29], c[s : s + 29], np.append(targets, np.nan))
            np.testing.assert_array_equal(equity[:, b, i], res.equity)


@settings(max_examples=300, deadline=None)
@given(
    cash=st.floats(0, 1e7) | st.just(0.0),
    units=st.floats(0, 1e5) | st.just(0.0),
    target=st.floats(-0.5, 1.5) | st.sampled_from([0.0, 0.125, 0.25, 0.375, 0.5, 0.75, 1.0]),
    open_price=st.floats(1e-3, 1e5),
    commission=st.floats(0, 1000),
    slippage=st.floats(0, 1000),
    shift=st.floats(-0.05, 0.05) | st.just(0.0),
)
def test_scalar_rebalance_is_core_sim_rebalance_bit_for_bit(cash, units, target, open_price, commission, slippage,
                                                            shift):
    costs = Costs(commission, slippage)
    want = rebalance(cash, units, target, open_price, costs, price_shift=shift)
    got = rebalance_one(cash, units, target, open_price, costs.fee, costs.slip, shift)
    for w, g in zip(want, got, strict=True):
        assert float(w) == g or (np.isnan(w) and np.isnan(g)), (want, got)


def test_pettingzoo_path_equals_the_array_core(aapl):
    """The env's per-agent hot path and ArenaCore (training, rollouts, BatchArena) agree on every step."""
    start, end = 300, 420
    env = TradingArenaEnv(aapl, start=start, end=end)
    core = ArenaCore(env.market, env.personalities, env.scalers, env.costs, env.cash0)
    actions = np.random.default_rng(9).integers(0, 5, size=(end - start - 1, 4))
    obs, _ = env.reset(seed=0)
    core_obs = core.reset(np.array([start]))[0]
    for row in actions:
        np.testing.assert_array_equal(np.stack([obs[a] for a in PERSONALITIES]), core_obs)
        obs, rewards, *_ = env.step(dict(zip(PERSONALITIES, row.tolist(), strict=True)))
        core_rewards = core.step(row[None, :])[0]
        core_obs = core.observe()[0]
        np.testing.assert_array_equal(env.accounts()["equity"], core.equity[0])
        np.testing.assert_allclose([rewards[a] for a in PERSONALITIES], core_rewards, rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(np.stack([obs[a] for a in PERSONALITIES]), core_obs)


def test_inlined_rewards_equal_shaped_reward(aapl):
    env = TradingArenaEnv(aapl, start=300, end=340)
    actions = np.random.default_rng(3).integers(0, 5, size=(39, 4))
    trace = _play(env, actions)
    params = RewardParams.of(env.personalities)
    lr = np.log(trace["equity"][1:] / trace["equity"][:-1])
    peak = np.maximum.accumulate(trace["equity"], axis=0)
    dd = 1 - trace["equity"] / peak
    expo = np.stack([REGISTRY[n].exposure(actions[:, i]) for i, n in enumerate(env.possible_agents)], axis=1)
    trend = trend_signal(aapl)[300:339, None]
    contrarian = contrarian_signal(aapl)[300:339, None]
    want = shaped_reward(params, lr, np.maximum(np.diff(dd, axis=0), 0), expo, trend, contrarian)
    np.testing.assert_allclose(trace["rewards"], want, rtol=1e-12, atol=1e-12)


def test_invalid_actions_are_refused_before_anything_moves(aapl):
    env = TradingArenaEnv(aapl, start=300, end=340)
    env.reset(seed=0)
    before = env.accounts()
    for bad in (5, -1, "2", None):
        with pytest.raises(ValueError, match="levels 0..4"):
            env.step({"conservative": 4, "aggressive": bad})
    after = env.accounts()
    for key in before:
        np.testing.assert_array_equal(before[key], after[key])
    assert env.bar == 300
    core = ArenaCore(env.market, env.personalities, env.scalers, env.costs, env.cash0)
    core.reset(np.array([300]))
    with pytest.raises(ValueError, match="levels 0..4"):
        core.step(np.array([[0, 1, 2, 7]]))


# --- bad arguments ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"start": 10}, "warm-up"),
        ({"personalities": ["bold"]}, "choose one of"),
        ({"episode_bars": 1}, "episode_bars"),
        ({"start": 100, "end": 101}, "at least 2 bars"),
        ({"impact": 0.2}, "shared_market=True"),
        ({"cash0": 0}, "cash0"),
        ({"render_mode": "human"}, "render_mode"),
        ({"personalities": ["momentum", "momentum"]}, "once"),
    ],
)
def test_bad_arguments_are_rejected_with_a_hint(aapl, kwargs, message):
    with pytest.raises(ValueError, match=message):
        TradingArenaEnv(aapl, **kwargs)


def test_too_short_frame_names_the_minimum():
    with pytest.raises(ValueError, match="at least"):
        TradingArenaEnv(_frame(np.linspace(10, 20, WARMUP_BARS + 1)))


# --- features and scaler -----------------------------------------------------------------------------


def test_features_nan_in_warmup_then_finite(aapl):
    feats = market_features(aapl)
    assert feats.shape == (len(aapl), len(MARKET_FEATURES))
    assert np.isnan(feats[: WARMUP_BARS]).any(axis=1).all()
    assert np.isfinite(feats[WARMUP_BARS:]).all()
    assert first_valid_bar(feats) == WARMUP_BARS


def test_features_of_a_flat_series_are_zero():
    feats = market_features(_frame(np.full(80, 50.0)))[WARMUP_BARS:]
    for name in ("close_sma20", "macd_close", "macd_hist_close", "log_ret_1d", "log_ret_5d", "vol_20d", "sma20_slope"):
        np.testing.assert_allclose(feats[:, MARKET_FEATURES.index(name)], 0.0, atol=1e-12)


def test_feature_golden_values_on_a_geometric_series():
    close = 100 * 1.01 ** np.arange(60)
    feats = market_features(_frame(close))
    row = feats[50]
    np.testing.assert_allclose(row[MARKET_FEATURES.index("log_ret_1d")], np.log(1.01))
    np.testing.assert_allclose(row[MARKET_FEATURES.index("log_ret_5d")], 5 * np.log(1.01))
    np.testing.assert_allclose(row[MARKET_FEATURES.index("vol_20d")], 0.0, atol=1e-12)
    np.testing.assert_allclose(row[MARKET_FEATURES.index("sma20_slope")], 1.01**5 - 1)
    sma = close[31:51].mean()
    np.testing.assert_allclose(row[MARKET_FEATURES.index("close_sma20")], close[50] / sma - 1)
    # a steady trend: the SMA slope half saturates (tanh(5)), the MACD histogram half is near 0
    assert 0.45 < trend_signal(_frame(close))[50] <= 1.0
    assert -1.0 <= trend_signal(_frame(close[::-1]))[50] < -0.3


def test_contrarian_signal_is_graded_and_saturates():
    frame = pd.DataFrame({"rsi": [10.0, 30.0, 40.0, 50.0, 60.0, 70.0, 95.0, np.nan], "sma20": 1.0, "macd": 0.0,
                          "macd_signal": 0.0, "macd_hist": 0.0, "close": 1.0})
    np.testing.assert_allclose(contrarian_signal(frame)[:7], [1, 1, 0.5, 0, -0.5, -1, -1])
    assert np.isnan(contrarian_signal(frame)[7])


def test_scaler_uses_training_rows_only_and_clips(aapl):
    feats = market_features(aapl)
    scaler = FeatureScaler.fit(feats, 40, 400)
    np.testing.assert_allclose(scaler.mean, feats[40:400].mean(axis=0))
    moved = feats.copy()
    moved[400:] *= 1000  # rows outside the training range cannot change the scaler
    np.testing.assert_array_equal(FeatureScaler.fit(moved, 40, 400).mean, scaler.mean)
    assert np.abs(scaler.transform(moved[400:])).max() == pytest.approx(5.0)
    again = FeatureScaler.from_dict(scaler.to_dict())
    np.testing.assert_array_equal(again.transform(feats[50:60]), scaler.transform(feats[50:60]))
    with pytest.raises(ValueError, match="warm-up"):
        FeatureScaler.fit(feats, 0, 100)


def test_scaler_of_a_flat_feature_does_not_divide_by_zero():
    feats = np.column_stack([np.ones(10)] * len(MARKET_FEATURES))
    scaler = FeatureScaler.fit(feats, 0, 10)
    np.testing.assert_array_equal(scaler.transform(feats), 0.0)
