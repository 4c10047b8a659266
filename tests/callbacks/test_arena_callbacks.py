"""Arena, replay and journal callbacks called directly, on the shipped AAPL agents (no browser)."""

from __future__ import annotations

import base64
import io
import shutil
from pathlib import Path

import pandas as pd
import pytest
from dash import no_update

from callbacks import arena, journal, replay
from core import PERSONALITIES, service
from layouts import ids

MODELS = Path(__file__).resolve().parents[2] / "models"
OOS = {"ticker": "AAPL", "window": "out-of-sample", "commission_bps": 10.0, "slippage_bps": 5.0}

needs_models = pytest.mark.skipif(not (MODELS / "AAPL").is_dir(), reason="shipped AAPL models not present")


def _text(component) -> str:
    return str(component)


@needs_models
def test_out_of_sample_battle_shows_every_agent_with_markers_and_a_leaderboard():
    tag, alert, kpis, candles, equity, rows, columns, spec, dates_disabled = arena.arena_outputs(
        "AAPL", "out-of-sample", None, None, 10, 5, MODELS)
    assert "OUT-OF-SAMPLE" in _text(tag) and "costs 10 + 5 bps" in _text(tag)
    marker_names = {t["name"] for t in candles["data"] if t.get("mode") == "markers"}
    for label in ("Conservative", "Aggressive", "Momentum", "Mean-Reversion"):
        assert any(name.startswith(label) for name in marker_names), label
    assert len(rows) == 8 and {r["type"] for r in rows} == {"agent", "benchmark"}
    assert all(r["beats"] in ("YES", "no", "—") for r in rows)
    returns = [r["total_return"] for r in rows]
    assert returns == sorted(returns, reverse=True)  # ranked by net return
    assert {c["id"] for c in columns} >= {"sharpe", "sharpe_ci", "max_drawdown", "costs_paid", "beats"}
    assert spec["window"] == "out-of-sample" and dates_disabled is True
    assert len(equity["data"]) == 1 + 8  # the market itself plus every contestant


@needs_models
def test_in_sample_view_is_labelled_in_sample():
    tag, *_ = arena.arena_outputs("AAPL", "in-sample", None, None, 10, 5, MODELS)
    assert "IN-SAMPLE" in _text(tag)


@pytest.mark.parametrize("commission, fragment", [(-5, "between 0 and"), (5000, "between 0 and"), (None, "must be numbers")])
def test_bad_costs_give_a_message_and_keep_the_view(commission, fragment):
    out = arena.arena_outputs("AAPL", "out-of-sample", None, None, commission, 5, MODELS)
    assert fragment in _text(out[1])
    assert out[3] is no_update and out[5] is no_update and out[7] is no_update


def test_custom_window_too_short_is_refused_clearly():
    out = arena.arena_outputs("AAPL", "custom", "2025-03-03", "2025-03-05", 10, 5, MODELS)
    assert "at least 10" in _text(out[1]) and out[3] is no_update


def test_ticker_without_models_runs_benchmarks_and_offers_training(tmp_path):
    out = arena.arena_outputs("TSLA", "out-of-sample", None, None, 10, 5, tmp_path)
    assert "python -m core train --ticker TSLA" in _text(out[1])
    assert {r["type"] for r in out[5]} == {"benchmark"} and len(out[5]) == 4


@needs_models
def test_corrupt_model_file_is_reported_and_nothing_crashes(tmp_path):
    shutil.copytree(MODELS / "AAPL", tmp_path / "AAPL")
    victim = next((tmp_path / "AAPL").glob("momentum.npz"))
    victim.write_bytes(b"not a numpy archive")
    service._AGENTS.clear()
    out = arena.arena_outputs("AAPL", "out-of-sample", None, None, 10, 5, tmp_path)
    assert "cannot be used" in _text(out[1]) and "python -m core train --ticker AAPL" in _text(out[1])
    assert {r["type"] for r in out[5]} == {"benchmark"}


@needs_models
def test_cost_stress_gives_returns_per_level_and_break_even_per_agent():
    figure, table = arena.stress_outputs(OOS, MODELS)
    assert [b["x"] for b in figure["data"]][0] == ["0 bps", "10 bps", "25 bps", "50 bps"]
    text = _text(table)
    for label in ("Conservative", "Aggressive", "Momentum", "Mean-Reversion"):
        assert label in text
    assert "buy-and-hold" in text


@needs_models
@pytest.mark.parametrize("which", [ids.ARN_BOARD_CSV, ids.ARN_BOARD_XLSX])
def test_leaderboard_download_reads_back(which):
    payload = arena.export_leaderboard(which, OOS, MODELS)
    raw = base64.b64decode(payload["content"])
    table = pd.read_csv(io.BytesIO(raw)) if which == ids.ARN_BOARD_CSV else pd.read_excel(io.BytesIO(raw))
    assert len(table) == 8 and set(table["sample"]) == {"out-of-sample"}
    assert pd.api.types.is_float_dtype(table["total_return"])


@needs_models
def test_replay_payload_carries_bars_agents_and_fixed_axes():
    data, slider_max, marks, value, header, alert = replay.replay_outputs(OOS, MODELS)
    assert alert is None and value == 0
    n = len(data["dates"])
    assert slider_max == n - 1 and all(len(data[k]) == n for k in ("open", "high", "low", "close"))
    assert [a["name"] for a in data["agents"]] == list(PERSONALITIES)
    for agent in data["agents"]:
        assert len(agent["equity"]) == n and len(agent["position"]) == n and len(agent["actions"]) == n
        assert all(0 <= int(k) < n and side in ("buy", "sell") for k, (side, *_r) in agent["fills"].items())
    assert data["layout"]["xaxis"]["autorange"] is False and "OUT-OF-SAMPLE" in _text(header)


@needs_models
def test_journal_lists_every_fill_and_filters_by_side():
    options, header, summary, rows, columns, alert, tips = journal.journal_outputs(OOS, [], "all", MODELS)
    assert len(tips) == len(rows)
    _view, full = journal.battle_journal(OOS, MODELS)
    assert len(rows) == len(full) > 0
    assert {o["value"] for o in options} >= set(PERSONALITIES)
    buys = journal.journal_outputs(OOS, [], "buy", MODELS)[3]
    assert buys and all(r["side"] == "buy" for r in buys)
    momentum = journal.journal_outputs(OOS, ["momentum"], "all", MODELS)[3]
    assert momentum and {r["label"] for r in momentum} == {"Momentum"}


@needs_models
@pytest.mark.parametrize("which", [ids.JRN_CSV, ids.JRN_XLSX])
def test_journal_download_has_the_filtered_rows(which):
    payload = journal.export_journal(which, OOS, ["aggressive", "sma_crossover"], "all", MODELS)
    raw = base64.b64decode(payload["content"])
    table = pd.read_csv(io.BytesIO(raw)) if which == ids.JRN_CSV else pd.read_excel(io.BytesIO(raw))
    shown = journal.journal_outputs(OOS, ["aggressive", "sma_crossover"], "all", MODELS)[3]
    assert len(table) == len(shown) > 0
    assert set(table["contestant"]) <= {"aggressive", "sma_crossover"}
    assert pd.api.types.is_float_dtype(table["price"])


def test_a_bug_shows_a_reference_never_a_stack_trace(monkeypatch):
    def boom(*_a, **_k):
        raise RuntimeError("internal detail that must not leak")

    monkeypatch.setattr(service, "run_arena", boom)
    for out, alert in ((arena.arena_outputs("AAPL", "out-of-sample", None, None, 10, 5), 1),
                       (replay.replay_outputs(OOS), 5), (journal.journal_outputs(OOS, [], "all"), 5)):
        text = _text(out[alert])
        assert "Reference" in text and "internal detail" not in text and "Traceback" not in text
        assert all(o is no_update for i, o in enumerate(out) if i != alert and o is not True and o is not False)


@needs_models
def test_shared_market_mode_changes_the_agents_fills_and_says_so():
    plain = arena.arena_outputs("AAPL", "out-of-sample", None, None, 10, 5, MODELS, False)
    shared = arena.arena_outputs("AAPL", "out-of-sample", None, None, 10, 5, MODELS, True)
    assert "shared market" in _text(shared[0]) and "shared market" not in _text(plain[0])
    assert shared[7]["shared_market"] is True
    agents = {r["contestant"]: r["total_return"] for r in plain[5] if r["type"] == "agent"}
    agents_shared = {r["contestant"]: r["total_return"] for r in shared[5] if r["type"] == "agent"}
    assert agents != agents_shared  # price impact moved some fills
    bench = {r["contestant"]: r["total_return"] for r in plain[5] if r["type"] == "benchmark"}
    assert bench == {r["contestant"]: r["total_return"] for r in shared[5] if r["type"] == "benchmark"}
