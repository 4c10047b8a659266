"""AgentSet: torch-free loading, rollouts reproduced exactly by core.sim.simulate, clear refusals."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from core import PERSONALITIES
from core.agents import AgentSeeds, PolicyStack, Rollout, load_agent_seeds, load_agents, median_seed
from core.features import FeatureScaler, market_features
from core.indicators import WARMUP_BARS, add_indicators
from core.registry import ModelMissing, library_versions, save_agent
from core.sim import Costs, simulate
from tests.core.test_registry import random_policy

DATA = Path(__file__).resolve().parents[2] / "data"


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return add_indicators(pd.read_csv(DATA / "AAPL.csv").iloc[:1200].reset_index(drop=True))


def _save_seeds(root: Path, frame, seeds=(0,)) -> Path:
    scaler = FeatureScaler.fit(market_features(frame), WARMUP_BARS, 900)
    for seed in seeds:
        for i, name in enumerate(PERSONALITIES):
            card = {
                "card_version": 1, "ticker": "AAPL", "personality": name, "seed": seed, "data": {"sha256": "f" * 64},
                "split": {"test": {"first_bar": 900, "end_bar": 1200}}, "config": {}, "scaler": scaler.to_dict(),
                "versions": library_versions(),
            }
            save_agent("AAPL", name, card=card, policy=random_policy(seed=10 * seed + i), root=root, seed=seed)
    return root


@pytest.fixture()
def models(tmp_path: Path, frame) -> Path:
    return _save_seeds(tmp_path, frame)


def test_rollout_shapes_and_labels(models, frame):
    agents = load_agents("AAPL", models)
    assert agents.names == PERSONALITIES and agents.warnings == []
    rollouts = agents.rollout(frame, 900, 1200, Costs())
    assert set(rollouts) == set(PERSONALITIES)
    for r in rollouts.values():
        assert isinstance(r, Rollout)
        assert r.targets.shape == r.actions.shape == (300,)
        assert r.probs.shape == (300, 5)
        np.testing.assert_allclose(r.probs.sum(axis=1), 1.0)
        np.testing.assert_array_equal(r.actions, r.probs.argmax(axis=1))  # deterministic = argmax
        assert len(r.action_labels) == 5 and r.action_labels[0] == "flat"
        assert ((r.targets >= 0) & (r.targets <= 1)).all()
        assert r.result.equity.shape == (300,)
    assert rollouts["conservative"].targets.max() <= 0.5


def test_simulate_reproduces_every_rollout_exactly(models, frame):
    costs = Costs(commission_bps=7, slippage_bps=3)
    rollouts = load_agents("AAPL", models).rollout(frame, 950, 1200, costs, cash0=50_000)
    o, c = frame["open"].to_numpy()[950:1200], frame["close"].to_numpy()[950:1200]
    traded = 0
    for r in rollouts.values():
        res = simulate(o, c, r.targets, costs, 50_000)
        for field in ("equity", "cash", "units", "position", "levels", "fill_bars", "fill_qty", "fill_price", "fill_cost"):
            np.testing.assert_array_equal(getattr(r.result, field), getattr(res, field), err_msg=field)
        traded += res.fill_bars.size
    assert traded > 0  # the random policies do trade: the comparison is not vacuous


def test_rollout_is_deterministic(models, frame):
    agents = load_agents("AAPL", models)
    a = agents.rollout(frame, 900, 1100, Costs())
    b = agents.rollout(frame, 900, 1100, Costs())
    for name in PERSONALITIES:
        np.testing.assert_array_equal(a[name].actions, b[name].actions)
        np.testing.assert_array_equal(a[name].result.equity, b[name].result.equity)


def test_shared_market_changes_fills_only(models, frame):
    agents = load_agents("AAPL", models)
    alone = agents.rollout(frame, 900, 1100, Costs())
    shared = agents.rollout(frame, 900, 1100, Costs(), shared_market=True)
    moved = [not np.array_equal(alone[n].result.fill_price, shared[n].result.fill_price) for n in PERSONALITIES
             if alone[n].result.fill_bars.size]
    assert any(moved)


def test_start_inside_warmup_is_refused(models, frame):
    with pytest.raises(ValueError, match="warm-up"):
        load_agents("AAPL", models).rollout(frame, 10, 200, Costs())


def test_window_past_the_data_is_refused(models, frame):
    with pytest.raises(ValueError, match="at least 2 bars"):
        load_agents("AAPL", models).rollout(frame, 1100, 5000, Costs())


def test_missing_ticker_raises_model_missing(models):
    with pytest.raises(ModelMissing, match="python -m core train --ticker TSLA"):
        load_agents("TSLA", models)


def test_data_hash_drift_is_reported(models):
    agents = load_agents("AAPL", models, personalities=["momentum"], data_sha256="0" * 64)
    assert agents.names == ("momentum",)
    assert len(agents.warnings) == 1 and "different data" in agents.warnings[0]


def test_loading_agents_does_not_import_torch(models, frame):
    import subprocess

    code = (
        "import sys; from core.agents import load_agents; from core.sim import Costs; import pandas as pd;"
        f"a = load_agents('AAPL', {str(models)!r});"
        "print('torch' in sys.modules, 'stable_baselines3' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parents[2], env={"PYTHONPATH": "."})
    assert out.stdout.split() == ["False", "False"]


def test_every_seed_rolled_out_at_once_equals_each_seed_alone(tmp_path, frame):
    """The batched pass over seeds x agents gives each seed exactly its own single-seed rollout."""
    root = _save_seeds(tmp_path, frame, seeds=(4, 0, 2))
    agents = load_agent_seeds("AAPL", root)
    assert isinstance(agents, AgentSeeds) and agents.seeds == (0, 2, 4) and len(agents) == 3
    assert set(agents.all_cards) == {f"{n}/seed{k}" for n in PERSONALITIES for k in (0, 2, 4)}
    for shared in (False, True):
        costs = Costs(commission_bps=7, slippage_bps=3)
        together = agents.rollout_seeds(frame, 950, 1200, costs, cash0=50_000, shared_market=shared)
        assert list(together) == [0, 2, 4]
        for seed in (0, 2, 4):
            alone = load_agents("AAPL", root, seed=seed).rollout(frame, 950, 1200, costs, 50_000, shared)
            assert agents[seed].seed == seed
            for name in PERSONALITIES:
                a, b = together[seed][name], alone[name]
                np.testing.assert_array_equal(a.actions, b.actions)
                np.testing.assert_array_equal(a.probs, b.probs)
                np.testing.assert_array_equal(a.rewards, b.rewards)
                for field in ("equity", "cash", "units", "fill_bars", "fill_qty", "fill_price", "fill_cost"):
                    np.testing.assert_array_equal(getattr(a.result, field), getattr(b.result, field), err_msg=field)
    assert not np.array_equal(together[0]["momentum"].actions, together[2]["momentum"].actions)


def test_agent_seeds_rollout_is_each_agents_median_seed(tmp_path, frame):
    root = _save_seeds(tmp_path, frame, seeds=(0, 1, 2, 3))
    agents = load_agent_seeds("AAPL", root)
    by_seed = agents.rollout_seeds(frame, 900, 1200, Costs())
    median = agents.rollout(frame, 900, 1200, Costs())
    for name in PERSONALITIES:
        finals = {k: r[name].result.equity[-1] for k, r in by_seed.items()}
        ranked = sorted(finals, key=lambda k: (finals[k], k))
        assert median_seed(by_seed, name) == ranked[1]  # four seeds: the lower of the two middle ones
        np.testing.assert_array_equal(median[name].result.equity, by_seed[ranked[1]][name].result.equity)
    assert load_agent_seeds("AAPL", root, seeds=[3, 1]).seeds == (3, 1)
    with pytest.raises(ModelMissing, match="seed 9"):
        load_agent_seeds("AAPL", root, seeds=[9])
    with pytest.raises(ValueError, match="once"):
        load_agent_seeds("AAPL", root, seeds=[1, 1])


def test_load_agents_takes_the_lowest_seed_by_default(tmp_path, frame):
    root = _save_seeds(tmp_path, frame, seeds=(7, 3))
    assert load_agents("AAPL", root).seed == 3 and load_agents("AAPL", root, seed=7).seed == 7


def test_policy_stack_equals_each_policy_and_handles_mixed_shapes():
    rng = np.random.default_rng(0)
    same = [random_policy(seed=k) for k in range(5)]
    obs = rng.normal(size=(5, 14)).astype(np.float32)
    stacked = PolicyStack(same)
    assert stacked.stacked
    np.testing.assert_allclose(stacked.probs(obs), np.stack([p.probs(o) for p, o in zip(same, obs, strict=True)]),
                               rtol=1e-6)
    from core.policy import NumpyPolicy

    other = NumpyPolicy([rng.normal(size=(14, 8)), rng.normal(size=(8, 5))], [np.zeros(8), np.zeros(5)])
    mixed = PolicyStack([same[0], other])
    assert not mixed.stacked
    np.testing.assert_array_equal(mixed.probs(obs[:2]), np.stack([same[0].probs(obs[0]), other.probs(obs[1])]))
