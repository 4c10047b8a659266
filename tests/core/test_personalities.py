"""Personalities: identity, position caps, action labels and the shaped reward's golden values."""

from __future__ import annotations

import dataclasses
import re

import numpy as np
import pytest

from core import PERSONALITIES
from core.personalities import (
    REGISTRY,
    REWARD_SCALE,
    RewardParams,
    UnknownPersonality,
    get_personality,
    resolve_personalities,
    shaped_reward,
)


def test_registry_holds_the_four_personalities_in_display_order():
    assert tuple(REGISTRY) == PERSONALITIES
    colours = {p.colour for p in REGISTRY.values()}
    markers = {p.marker for p in REGISTRY.values()}
    assert len(colours) == 4 and len(markers) == 4
    assert all(re.fullmatch(r"#[0-9a-f]{6}", c) for c in colours)


def test_position_caps_and_action_labels():
    assert get_personality("conservative").position_cap == 0.5
    assert all(get_personality(n).position_cap == 1.0 for n in PERSONALITIES[1:])
    assert get_personality("aggressive").action_labels == ("flat", "25%", "50%", "75%", "100%")
    assert get_personality("conservative").action_labels == ("flat", "12.5%", "25%", "37.5%", "50%")
    np.testing.assert_array_equal(get_personality("conservative").exposure(np.arange(5)), [0, 0.125, 0.25, 0.375, 0.5])


def test_personality_is_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        get_personality("aggressive").position_cap = 2.0


def test_unknown_personality_lists_the_valid_ones():
    with pytest.raises(UnknownPersonality) as err:
        get_personality("yolo")
    assert all(name in str(err.value) for name in PERSONALITIES)
    assert isinstance(err.value, ValueError)


def test_resolve_all_and_reject_duplicates_and_empty():
    assert tuple(p.name for p in resolve_personalities("all")) == PERSONALITIES
    assert [p.name for p in resolve_personalities("momentum")] == ["momentum"]
    with pytest.raises(ValueError, match="once"):
        resolve_personalities(["momentum", "momentum"])
    with pytest.raises(ValueError, match="at least one"):
        resolve_personalities([])


def test_only_the_intended_terms_are_switched_on():
    c, a, m, r = (REGISTRY[n] for n in PERSONALITIES)
    assert c.drawdown_penalty > 0 and c.volatility_penalty > 0 and c.trend_bonus == c.contrarian_bonus == 0
    assert a.drawdown_penalty == a.volatility_penalty == a.trend_bonus == a.contrarian_bonus == 0
    assert m.trend_bonus > 0 and m.contrarian_bonus == m.drawdown_penalty == m.volatility_penalty == 0
    assert r.contrarian_bonus > 0 and r.trend_bonus == r.drawdown_penalty == r.volatility_penalty == 0


def test_shaped_reward_golden_values():
    params = RewardParams.of([REGISTRY[n] for n in PERSONALITIES])
    lr = np.array([0.01, 0.01, 0.01, 0.01])
    out = shaped_reward(params, lr, np.array([0.02, 0.02, 0.02, 0.02]), np.array([0.5, 1.0, 1.0, 1.0]),
                        trend=0.8, contrarian=-0.5)
    # conservative: 1 - 0.05 * 100 * 0.02 - 0.02 * 1**2 = 1 - 0.1 - 0.02
    np.testing.assert_allclose(out, [0.88, 1.0, 1.0 + 0.5 * 0.8, 1.0 - 0.5])


def test_shaped_reward_on_canonical_series():
    params = RewardParams.of([REGISTRY[n] for n in PERSONALITIES])
    flat = shaped_reward(params, np.zeros(4), np.zeros(4), np.zeros(4), trend=1.0, contrarian=1.0)
    np.testing.assert_array_equal(flat, 0.0)  # flat account, no move: nothing to reward
    loss = shaped_reward(params, np.full(4, -0.02), np.full(4, 0.02), np.ones(4), trend=0.0, contrarian=0.0)
    assert loss[0] < loss[1]  # conservative feels a loss more than aggressive
    np.testing.assert_allclose(loss[1], REWARD_SCALE * -0.02)
    nan = shaped_reward(params, np.full(4, np.nan), np.zeros(4), np.zeros(4), trend=0.0, contrarian=0.0)
    assert np.isnan(nan).all()  # NaN is never silently turned into a reward


def test_holding_against_the_signal_is_penalised():
    params = RewardParams.of([REGISTRY["momentum"], REGISTRY["mean_reversion"]])
    held = shaped_reward(params, np.zeros(2), np.zeros(2), np.ones(2), trend=-1.0, contrarian=-1.0)
    flat = shaped_reward(params, np.zeros(2), np.zeros(2), np.zeros(2), trend=-1.0, contrarian=-1.0)
    assert (held < flat).all()
