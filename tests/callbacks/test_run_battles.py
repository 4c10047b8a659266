"""A run trained in one browser tab fights in that tab's Arena, and Replay, Journal and Risk follow it; another
tab (or a shared link) gets the benchmarks and a message, never the run."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from callbacks import BattleSource, arena, journal, replay, risk
from core.runs import train_run

A, B = "sess-aaaaaaaa-0001", "sess-bbbbbbbb-0002"
TWO = ["conservative", "momentum"]
TINY = {"n_steps": 64, "n_envs": 2, "batch_size": 64, "n_epochs": 1, "episode_bars": 64}


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    from core.data import load_ohlcv

    frame = load_ohlcv("TSLA", live=False, use_cache=False)[0].iloc[:700].reset_index(drop=True)
    root = tmp_path_factory.mktemp("runs")
    info = train_run(root, A, frame=frame, ticker="TSLA", timesteps=128, seed=0, personalities=TWO, processes=1,
                     **TINY)
    settings = SimpleNamespace(models_dir=None, runs_dir=root)
    return settings, info


def _text(component) -> str:
    return str(component)


def test_the_arena_offers_the_tabs_runs_and_battles_the_picked_one(run):
    settings, info = run
    mine = BattleSource.of(settings, A)
    *_, agent_options, agents, _note = arena.restore_outputs({}, None, None, mine)
    assert [o["value"] for o in agent_options] == ["shipped", info.run_id]
    assert "TSLA" in agent_options[1]["label"] and "128 steps" in agent_options[1]["label"]
    assert agents == "shipped"
    # another tab sees the shipped agents only
    others = arena.restore_outputs({}, None, None, BattleSource.of(settings, B))[8]
    assert [o["value"] for o in others] == ["shipped"]

    tag, alert, _kpis, candles, spec, _dates, *_invalid, ticker_disabled = arena.arena_outputs(
        "AAPL", "out-of-sample", None, None, 10, 5, mine, False, None, info.run_id)
    assert ticker_disabled is True and alert is None
    assert spec["agents"] == info.run_id and spec["ticker"] == "TSLA"  # the run's ticker, not the control's
    rows = arena.board_outputs(spec, mine)[1]
    assert {r["name"] for r in rows if r["type"] == "agent"} == set(TWO)
    assert "OUT-OF-SAMPLE" in _text(tag)


def test_replay_journal_and_risk_follow_the_run_from_the_url(run):
    settings, info = run
    mine = BattleSource.of(settings, A)
    query = {"ticker": "TSLA", "agents": info.run_id}
    data, *_rest, alert, _box = replay.replay_outputs(query, None, mine)
    assert alert is None and {t["name"] for t in data["agents"]} == set(TWO)
    options, _header, rows, alert = journal.journal_outputs(query, None, [], "all", mine)
    assert alert is None and set(TWO) <= {o["value"] for o in options}
    assert {r["contestant"] for r in rows} >= set(TWO)
    spec, _tag, alert, options, *_ = risk.load_outputs(query, None, None, mine)
    assert alert is None and spec["agents"] == info.run_id and set(TWO) <= {o["value"] for o in options}


def test_another_tab_opening_the_link_gets_benchmarks_and_a_reason(run):
    settings, info = run
    query = {"ticker": "TSLA", "agents": info.run_id}
    for source in (BattleSource.of(settings, B), BattleSource.of(settings, None)):
        options, _header, rows, alert = journal.journal_outputs(query, None, [], "all", source)
        assert not set(TWO) & {o["value"] for o in options}
        assert "benchmarks only" in _text(alert)
    out = arena.arena_outputs("TSLA", "out-of-sample", None, None, 10, 5, BattleSource.of(settings, B), False,
                              None, info.run_id)
    assert "Benchmarks only" in _text(out[1]) and "No run" in _text(out[1])
    assert "/train?ticker=TSLA" in _text(out[1])
