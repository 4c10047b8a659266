"""The battle across training seeds: shapes, the median seed, the band, the significance figures, and the
bootstrap test at the engine level (a known edge is found; pure noise is rejected at about the nominal rate)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from core import PERSONALITIES
from core.arena import cost_stress, run_battle
from core.indicators import add_indicators
from core.sim import Costs, simulate
from tests.core.test_arena import REPO, FakeRollout
from tests.core.test_arena import _fresh_cache as _fresh_cache  # noqa: F401 - autouse fixture shared with test_arena

SEEDS = (0, 1, 2, 3, 4)


@pytest.fixture(scope="module")
def aapl() -> pd.DataFrame:
    return add_indicators(pd.read_csv(REPO / "data" / "AAPL.csv", parse_dates=["date"]))


class SeededAgents:
    """Fake multi-seed agents: agent `name`, seed k holds target rule(name, k, t, frame) at bar t."""

    def __init__(self, rule, names=PERSONALITIES, seeds=SEEDS):
        self.rule, self.names, self.seeds = rule, tuple(names), tuple(seeds)
        self.cards: dict = {}
        self.warnings: list = []

    def rollout_seeds(self, frame, start, end, costs, cash0=100_000.0, shared_market=False):
        open_ = frame["open"].to_numpy()[start:end]
        close = frame["close"].to_numpy()[start:end]
        out = {}
        for k in self.seeds:
            out[k] = {}
            for name in self.names:
                targets = np.array([self.rule(name, k, t, frame) for t in range(start, end)], dtype=float)
                actions = np.rint(targets * 4).astype(int)
                out[k][name] = FakeRollout(targets, actions, np.eye(5)[actions],
                                           ("flat", "25%", "50%", "75%", "100%"),
                                           simulate(open_, close, targets, costs, cash0))
        return out


def _rsi_rule(name, k, t, frame):
    """Each seed a different RSI threshold: different trades, different returns."""
    rsi = frame["rsi"].iloc[t]
    return 1.0 if rsi < 40 + 5 * k + 3 * PERSONALITIES.index(name) else 0.0


def test_every_seed_battles_and_each_agent_shows_its_median_seed(aapl):
    res = run_battle(aapl, ticker="AAPL", agents=SeededAgents(_rsi_rule), test_start="2023-01-03")
    n = len(res.dates)
    agents = [c for c in res.contestants if c.kind == "agent"]
    assert [c.name for c in agents] == list(PERSONALITIES)
    for c in agents:
        assert c.seeds == list(SEEDS) and len(c.seed_runs) == 5
        returns = {r.seed: r.metrics["total_return"] for r in c.seed_runs}
        ranked = sorted(returns, key=lambda k: (returns[k], k))
        assert c.representative_seed == ranked[2]  # the median of five by total return
        chosen = next(r for r in c.seed_runs if r.seed == c.representative_seed)
        np.testing.assert_array_equal(c.equity, chosen.equity)  # the per-bar lists ARE the median seed's
        np.testing.assert_array_equal(c.positions, chosen.positions)
        assert c.metrics["total_return"] == chosen.metrics["total_return"] == c.metrics["total_return_median"]
        assert len(c.trades) == chosen.metrics["trades"]
        # the band holds every seed's equity at every bar and touches the extremes
        assert c.equity_low.shape == c.equity_high.shape == (n,)
        stacked = np.vstack([r.equity for r in c.seed_runs])
        assert (c.equity_low <= stacked).all() and (stacked <= c.equity_high).all()
        np.testing.assert_array_equal(c.equity_low, stacked.min(axis=0))
        np.testing.assert_array_equal(c.equity_high, stacked.max(axis=0))
        # seed summary: range and "beats buy-and-hold in k of 5 seeds"
        bh = res.contestant("buy_and_hold").metrics["total_return"]
        k = sum(r > bh for r in returns.values())
        assert c.metrics["seeds"] == 5 and c.metrics["seeds_beating_buy_and_hold"] == k
        assert c.seed_stats["label"] == f"beats buy-and-hold in {k} of 5 seeds"
        assert c.metrics["total_return_min"] == min(returns.values())
        assert c.metrics["total_return_max"] == max(returns.values())
        sharpes = [r.metrics["sharpe"] for r in c.seed_runs]
        assert c.metrics["sharpe_min"] == min(sharpes) and c.metrics["sharpe_max"] == max(sharpes)
        assert all(r.metrics["beats_buy_and_hold"] == (r.metrics["total_return"] > bh) for r in c.seed_runs)
        # significance of the median seed
        assert 0 < c.metrics["p_value_vs_buy_and_hold"] < 1
        assert c.significance["p_value"] == c.metrics["p_value_vs_buy_and_hold"] and c.significance["sentence"]
        assert 0 <= c.metrics["deflated_sharpe"] <= 1
        assert c.metrics["trivial"] in (None, "long", "flat", "buy_and_hold")
    assert res.deflated["n_trials"] == 20
    assert res.deflated_sentence.startswith("After 20 tries,")
    for c in res.contestants:
        if c.kind == "benchmark":
            assert c.seed_runs == [] and c.representative_seed is None and "p_value_vs_buy_and_hold" not in c.metrics


def test_an_even_number_of_seeds_shows_the_lower_middle_seed(aapl):
    res = run_battle(aapl, ticker="AAPL", agents=SeededAgents(_rsi_rule, seeds=(0, 1, 2, 3)),
                     test_start="2023-01-03")
    for c in (c for c in res.contestants if c.kind == "agent"):
        returns = {r.seed: r.metrics["total_return"] for r in c.seed_runs}
        assert c.representative_seed == sorted(returns, key=lambda k: (returns[k], k))[1]


def test_trivial_policies_are_flagged_with_their_code(aapl):
    def rule(name, k, t, frame):
        return {"conservative": 0.5, "aggressive": 1.0, "momentum": 0.0}.get(name, float(t % 7 < 3))

    res = run_battle(aapl, ticker="AAPL", agents=SeededAgents(rule), test_start="2024-01-02")
    codes = {c.name: c.metrics["trivial"] for c in res.contestants if c.kind == "agent"}
    # Conservative at its 50% cap is "always long" for it; Aggressive fully long; Momentum always flat
    assert codes == {"conservative": "long", "aggressive": "long", "momentum": "flat", "mean_reversion": None}
    assert "behaves like buy-and-hold" in res.contestant("aggressive").trivial["sentence"]
    assert res.contestant("mean_reversion").trivial["sentence"] is None


def test_a_window_too_short_for_the_tests_says_why(aapl):
    res = run_battle(aapl, ticker="AAPL", agents=SeededAgents(_rsi_rule), test_start="2026-09-01")
    assert len(res.dates) < 21
    assert "at least 21" in res.significance_note and res.deflated == {}
    for c in (c for c in res.contestants if c.kind == "agent"):
        assert np.isnan(c.metrics["p_value_vs_buy_and_hold"]) and c.metrics["trivial"] is None
    json.dumps(res.to_json_dict(), allow_nan=False)


def test_the_json_carries_seeds_band_and_significance(aapl):
    res = run_battle(aapl, ticker="AAPL", agents=SeededAgents(_rsi_rule), test_start="2024-01-02")
    payload = json.loads(json.dumps(res.to_json_dict(), allow_nan=False))
    n = len(payload["contestants"][0]["dates"])
    for c in payload["contestants"]:
        if c["kind"] != "agent":
            assert "seeds" not in c
            continue
        assert c["representative_seed"] in SEEDS
        assert [s["seed"] for s in c["seeds"]] == list(SEEDS)
        assert all({"total_return", "sharpe"} <= set(s["metrics"]) for s in c["seeds"])
        assert {"p_value_vs_buy_and_hold", "deflated_sharpe", "trivial"} <= set(c["metrics"])
        assert len(c["equity_band"]["low"]) == len(c["equity_band"]["high"]) == n
        assert c["seed_summary"]["median_seed"] == c["representative_seed"]
    assert payload["deflated_sharpe"]["n_trials"] == 20 and payload["deflated_sharpe"]["sentence"]


def test_the_bootstrap_finds_a_known_edge_through_the_battle():
    """An agent that knows tomorrow's move (an oracle: long only before an up day) has a real edge over
    buy-and-hold: its p-value is tiny and its edge survives the deflation over 5 tries."""
    frame = _synthetic(np.random.default_rng(7), 400, drift=0.0003)
    up = np.r_[frame["close"].to_numpy()[1:] > frame["close"].to_numpy()[:-1], False]

    def oracle(name, k, t, frame):
        return float(up[t]) if name == "momentum" else float((t + k) % 5 < 2)

    res = run_battle(frame, ticker="SYN", agents=SeededAgents(oracle, names=("momentum", "aggressive")),
                     costs=Costs(0, 0), test_start=str(frame["date"].iloc[150].date()))
    assert res.contestant("momentum").metrics["p_value_vs_buy_and_hold"] < 0.01
    assert res.deflated["best"].startswith("Momentum") and res.deflated["p_value"] < 0.05
    assert "unlikely to be luck" in res.deflated_sentence
    assert res.contestant("momentum").metrics["deflated_sharpe"] > 0.95


def test_on_pure_noise_the_battle_rejects_at_about_the_nominal_rate():
    """Driftless random walks and agents that flip coins: no agent has an edge, so p < 0.05 should happen
    about 5% of the time (6 markets x 30 agents = 180 p-values)."""
    rng = np.random.default_rng(11)
    names = tuple(f"coin_{i}" for i in range(30))
    p_values = []
    for _ in range(6):
        frame = _synthetic(rng, 420, drift=0.0)
        coins = {name: rng.random(len(frame)) < 0.5 for name in names}
        agents = SeededAgents(lambda name, k, t, frame, coins=coins: float(coins[name][t]), names=names, seeds=(0,))
        res = run_battle(frame, ticker="NOISE", agents=agents, costs=Costs(0, 0), use_cache=False,
                         test_start=str(frame["date"].iloc[120].date()))
        p_values += [c.metrics["p_value_vs_buy_and_hold"] for c in res.contestants if c.kind == "agent"]
    p = np.array(p_values)
    assert p.size == 180 and 0.0 < p.min() and p.max() < 1.0
    assert 0.01 <= np.mean(p < 0.05) <= 0.12
    assert 0.35 <= np.mean(p < 0.5) <= 0.65  # roughly uniform, not piled up at one end


def test_cost_stress_of_seeded_agents_uses_each_agents_median_seed(aapl):
    agents = SeededAgents(_rsi_rule)
    res = run_battle(aapl, ticker="AAPL", agents=agents, test_start="2024-01-02", costs=Costs(10, 0))
    # a fake without `rollout` gets the median seed through the battle only; cost_stress needs `rollout`
    agents.rollout = lambda frame, s, e, costs, cash0=100_000.0, shared_market=False: {
        name: by[_median(by, name)][name] for by in [agents.rollout_seeds(frame, s, e, costs, cash0)]
        for name in agents.names}
    stress = cost_stress(aapl, ticker="AAPL", agents=agents, test_start="2024-01-02", levels_bps=(0, 10))
    for c in (c for c in res.contestants if c.kind == "agent"):
        assert stress.returns.loc[c.name, 10.0] == pytest.approx(c.metrics["total_return"])


def _median(by_seed, name):
    from core.agents import median_seed

    return median_seed(by_seed, name)


def _synthetic(rng, n: int, drift: float) -> pd.DataFrame:
    """Daily bars of a random walk whose open is the previous close (no gaps)."""
    close = 100.0 * np.exp(np.cumsum(drift + 0.012 * rng.standard_normal(n)))
    open_ = np.r_[close[0], close[:-1]]
    frame = pd.DataFrame({
        "date": pd.bdate_range("2020-01-01", periods=n), "open": open_, "high": np.maximum(open_, close) * 1.001,
        "low": np.minimum(open_, close) * 0.999, "close": close, "volume": 1e6,
    })
    return add_indicators(frame)
