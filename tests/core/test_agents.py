"""AgentSet: torch-free loading, rollouts reproduced exactly by core.sim.simulate, clear refusals."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from core import PERSONALITIES
from core.agents import Rollout, load_agents
from core.features import FeatureScaler, market_features
from core.indicators import WARMUP_BARS, add_indicators
from core.registry import ModelMissing, library_versions, save_agent
from core.sim import Costs, simulate
from tests.core.test_registry import random_policy

DATA = Path(__file__).resolve().parents[2] / "data"


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return add_indicators(pd.read_csv(DATA / "AAPL.csv").iloc[:1200].reset_index(drop=True))


@pytest.fixture()
def models(tmp_path: Path, frame) -> Path:
    scaler = FeatureScaler.fit(market_features(frame), WARMUP_BARS, 900)
    for i, name in enumerate(PERSONALITIES):
        card = {
            "card_version": 1, "ticker": "AAPL", "personality": name, "data": {"sha256": "f" * 64},
            "split": {"test": {"first_bar": 900, "end_bar": 1200}}, "config": {}, "scaler": scaler.to_dict(),
            "versions": library_versions(),
        }
        save_agent("AAPL", name, card=card, policy=random_policy(seed=i), root=tmp_path)
    return tmp_path


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
