"""Arena, replay and journal callbacks called directly, on the shipped AAPL agents (no browser)."""

from __future__ import annotations

import base64
import io
import shutil
from pathlib import Path

import numpy as np
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
    tag, alert, kpis, candles, spec, dates_disabled, *invalid, ticker_disabled = arena.arena_outputs(
        "AAPL", "out-of-sample", None, None, 10, 5, MODELS)
    assert invalid == [False, False] and ticker_disabled is False and spec["agents"] == "shipped"
    equity, rows, seeds, luck = arena.board_outputs(spec, MODELS)  # the second callback, on the spec store
    assert "OUT-OF-SAMPLE" in _text(tag) and "costs 10 + 5 bps" in _text(tag)
    marker_names = {t["name"] for t in candles["data"] if t.get("mode") == "markers"}
    for label in ("Conservative", "Aggressive", "Momentum", "Mean-Reversion"):
        assert any(name.startswith(label) for name in marker_names), label
    assert len(rows) == 8 and {r["type"] for r in rows} == {"agent", "benchmark"}
    assert all(r["beats"] in ("YES", "no", "—") for r in rows)
    returns = [r["total_return"] for r in rows]
    assert returns == sorted(returns, reverse=True)  # ranked by net return
    assert {"sharpe", "sharpe_ci_low", "sharpe_ci_high", "max_drawdown", "costs_paid", "beats"} <= set(rows[0])
    assert spec["window"] == "out-of-sample" and dates_disabled is True
    lines = [t for t in equity["data"] if t.get("showlegend") is not False]
    assert len(lines) == 1 + 8  # the market itself plus every contestant


def _values(y) -> np.ndarray:
    """A figure dict's numbers: plotly 6 writes numpy arrays as {"dtype", "bdata"} (base64)."""
    if isinstance(y, dict):
        return np.frombuffer(base64.b64decode(y["bdata"]), dtype=np.dtype(y["dtype"]))
    return np.asarray(y, dtype=float)


@needs_models
def test_the_arena_shows_each_personality_across_its_seeds_and_against_luck():
    spec = arena.arena_outputs("TSLA", "out-of-sample", None, None, 10, 5, MODELS)[4]
    equity, rows, seeds, luck = arena.board_outputs(spec, MODELS)
    result = service.run_arena(service.BattleSpec.from_dict(spec), models_dir=MODELS).result
    agents = {c.name: c for c in result.contestants if c.kind == "agent"}
    # a min-max band behind each agent's median-seed line, in the agent's legend group
    bands = [t for t in equity["data"] if t.get("fill") == "tonexty"]
    assert sorted(t["legendgroup"] for t in bands) == sorted(agents)
    for band in bands:
        c = agents[band["legendgroup"]]
        top, line = _values(band["y"]), _values(next(t for t in equity["data"] if t.get("name") == c.label)["y"])
        assert top.max() == pytest.approx(100 * float(np.max(c.equity_high)) / float(c.equity[0]), abs=0.06)
        assert np.all(line <= top + 0.05)  # the median seed's line runs inside its band
    # the seed table: median and range across 5 seeds, k of 5, p-value, the behaviour flag
    assert [r["name"] for r in seeds] == list(agents)
    for row in seeds:
        c = agents[row["name"]]
        returns = sorted(run.metrics["total_return"] for run in c.seed_runs)
        assert row["n_seeds"] == 5 and row["shown_seed"] == c.representative_seed
        assert row["return_min"] == pytest.approx(returns[0]) and row["return_max"] == pytest.approx(returns[-1])
        assert row["return_median"] == pytest.approx(returns[2])
        assert row["beats"] == f"{c.seed_stats['beats']} of 5"
        assert 0 <= row["p_value"] <= 1 and row["p_value"] == pytest.approx(c.significance["p_value"])
        assert row["behaviour"] == arena.BEHAVIOUR.get(c.trivial.get("code"), "—")
    text = _text(luck)
    assert result.deflated_sentence and result.deflated_sentence in text and "After 20 tries" in text
    assert "mean block length" in text
    for c in agents.values():
        if c.trivial.get("sentence"):
            assert c.trivial["sentence"] in text


@needs_models
def test_in_sample_view_is_labelled_in_sample():
    tag, *_ = arena.arena_outputs("AAPL", "in-sample", None, None, 10, 5, MODELS)
    assert "IN-SAMPLE" in _text(tag)


@pytest.mark.parametrize("commission, fragment", [(-5, "between 0 and"), (5000, "between 0 and"), (None, "must be numbers")])
def test_bad_costs_give_a_message_and_keep_the_view(commission, fragment):
    out = arena.arena_outputs("AAPL", "out-of-sample", None, None, commission, 5, MODELS)
    assert fragment in _text(out[1])
    assert out[3] is no_update and out[4] is no_update
    assert out[6] is True and out[7] is False  # the rejected input is styled invalid


def test_custom_window_too_short_is_refused_clearly():
    out = arena.arena_outputs("AAPL", "custom", "2025-03-03", "2025-03-05", 10, 5, MODELS)
    assert "at least 10" in _text(out[1]) and out[3] is no_update


def test_ticker_without_models_runs_benchmarks_and_offers_training(tmp_path):
    out = arena.arena_outputs("TSLA", "out-of-sample", None, None, 10, 5, tmp_path)
    assert "python -m core train --ticker TSLA" in _text(out[1])
    assert "/train?ticker=TSLA" in str(out[1])  # a link to the Train page, preset to this ticker
    rows = arena.board_outputs(out[4], tmp_path)[1]
    assert {r["type"] for r in rows} == {"benchmark"} and len(rows) == 4


@needs_models
def test_corrupt_model_file_is_reported_and_nothing_crashes(tmp_path):
    shutil.copytree(MODELS / "AAPL", tmp_path / "AAPL")
    victim = next((tmp_path / "AAPL").rglob("*.npz"))  # models/<TICKER>/<personality>[/seed].npz
    victim.write_bytes(b"not a numpy archive")
    service._AGENTS.clear()
    out = arena.arena_outputs("AAPL", "out-of-sample", None, None, 10, 5, tmp_path)
    assert "cannot be used" in _text(out[1]) and "python -m core train --ticker AAPL" in _text(out[1])
    assert {r["type"] for r in arena.board_outputs(out[4], tmp_path)[1]} == {"benchmark"}


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
    assert pd.api.types.is_float_dtype(table["Return (%)"])
    assert {"commission_bps", "slippage_bps", "shared_market", "window"} <= set(table.columns)
    assert {"Sharpe 95% CI low", "Sharpe 95% CI high"} <= set(table.columns)
    assert "AAPL_out-of-sample_20230801_20260925_c10-s5bps" in payload["filename"]


@needs_models
def test_leaderboard_export_holds_the_rows_and_columns_the_grid_shows():
    rows = arena.leaderboard_rows(service.run_arena(service.BattleSpec(), models_dir=MODELS).result)
    shown = sorted(rows, key=lambda r: r["sharpe"])[:3]  # the grid sorted by Sharpe and (say) filtered
    state = [{"colId": "contestant"}, {"colId": "sharpe"}, {"colId": "total_return"}, {"colId": "cagr", "hide": True}]
    payload = arena.export_leaderboard(ids.ARN_BOARD_CSV, {**OOS, "shared_market": True}, MODELS, shown, state)
    table = pd.read_csv(io.BytesIO(base64.b64decode(payload["content"])))
    assert list(table.columns)[-3:] == ["Contestant", "Sharpe", "Return (%)"]
    assert list(table["Contestant"]) == [r["contestant"] for r in shown]
    assert table["shared_market"].all() and "shared" in payload["filename"]


@needs_models
def test_one_number_reads_the_same_on_board_and_in_replay():
    from layouts import fmt

    result = service.run_arena(service.BattleSpec(), models_dir=MODELS).result
    row = next(r for r in arena.leaderboard_rows(result) if r["contestant"] == "Conservative")
    payload = replay.replay_payload(result)
    agent = next(a for a in payload["agents"] if a["label"] == "Conservative")
    assert fmt.signed_pct(row["total_return"]) == fmt.signed_pct(agent["equity"][-1] / payload["cash0"] - 1)


@needs_models
def test_replay_payload_carries_bars_agents_and_fixed_axes():
    data, slider_max, marks, value, header, alert, box = replay.replay_outputs(OOS, None, MODELS)
    assert alert is None and value == 0 and box == 1  # the box is one-based
    assert "median of 5 training seeds" in _text(header) and "Conservative seed" in _text(header)
    assert len(data["context"]["dates"]) == replay.CONTEXT_BARS  # grey bars before the window
    assert data["context"]["dates"][-1] < data["dates"][0]
    n = len(data["dates"])
    assert slider_max == n - 1 and all(len(data[k]) == n for k in ("open", "high", "low", "close"))
    assert [a["name"] for a in data["agents"]] == list(PERSONALITIES)
    for agent in data["agents"]:
        assert len(agent["equity"]) == n and len(agent["position"]) == n and len(agent["actions"]) == n
        assert all(0 <= int(k) < n and side in ("buy", "sell") for k, (side, *_r) in agent["fills"].items())
    assert data["layout"]["xaxis"]["autorange"] is False and "OUT-OF-SAMPLE" in _text(header)


@needs_models
def test_journal_lists_every_fill_and_filters_by_side():
    options, header, rows, alert = journal.journal_outputs(None, OOS, [], "all", MODELS)
    _view, full = journal.battle_journal(OOS, MODELS)
    assert len(rows) == len(full) > 0
    assert {o["value"] for o in options} >= set(PERSONALITIES)
    assert "median of 5 training seeds" in _text(header)
    buys = journal.journal_outputs(None, OOS, [], "buy", MODELS)[2]
    assert buys and all(r["side"] == "buy" for r in buys)
    momentum = journal.journal_outputs(None, OOS, ["momentum"], "all", MODELS)[2]
    assert momentum and {r["label"] for r in momentum} == {"Momentum"}
    tsla = journal.journal_outputs({"ticker": "TSLA", "window": "in-sample"}, OOS, [], "all", MODELS)
    assert "TSLA" in _text(tsla[1]) and "IN-SAMPLE" in _text(tsla[1])  # the URL wins over the session


@needs_models
@pytest.mark.parametrize("which", [ids.JRN_CSV, ids.JRN_XLSX])
def test_journal_download_has_the_filtered_rows(which):
    shown = journal.journal_outputs(None, OOS, ["aggressive", "sma_crossover"], "all", MODELS)[2]
    shown = [r for r in shown if r["side"] == "sell"][::-1]  # the grid's own filter and sort
    payload = journal.export_journal(which, OOS, shown, None, MODELS)
    raw = base64.b64decode(payload["content"])
    table = pd.read_csv(io.BytesIO(raw)) if which == ids.JRN_CSV else pd.read_excel(io.BytesIO(raw))
    assert len(table) == len(shown) > 0
    assert list(table["Contestant"]) == [r["label"] for r in shown] and set(table["Side"]) == {"sell"}
    assert pd.api.types.is_float_dtype(table["Price"])
    assert "filtered" in payload["filename"] and "c10-s5bps" in payload["filename"]


@needs_models
def test_replay_fills_download_stops_at_the_bar_on_screen():
    payload = replay.export_fills(ids.RPL_CSV, OOS, 99, MODELS)
    table = pd.read_csv(io.BytesIO(base64.b64decode(payload["content"])))
    assert len(table) > 0 and table["Fill date"].max() <= table["up_to_date"].iloc[0]
    assert set(table["up_to_bar"]) == {100} and "upto-" in payload["filename"]


def test_a_bug_shows_a_reference_never_a_stack_trace(monkeypatch):
    def boom(*_a, **_k):
        raise RuntimeError("internal detail that must not leak")

    monkeypatch.setattr(service, "run_arena", boom)
    for out, alert in ((arena.arena_outputs("AAPL", "out-of-sample", None, None, 10, 5), 1),
                       (replay.replay_outputs(None, OOS), 5), (journal.journal_outputs(None, OOS, [], "all"), 3)):
        text = _text(out[alert])
        assert "Reference" in text and "internal detail" not in text and "Traceback" not in text
        assert all(o is no_update for i, o in enumerate(out) if i != alert and o is not True and o is not False)


@needs_models
def test_shared_market_mode_changes_the_agents_fills_and_says_so():
    plain = arena.arena_outputs("AAPL", "out-of-sample", None, None, 10, 5, MODELS, False)
    shared = arena.arena_outputs("AAPL", "out-of-sample", None, None, 10, 5, MODELS, True)
    assert "shared market" in _text(shared[0]) and "shared market" not in _text(plain[0])
    assert shared[4]["shared_market"] is True
    plain_rows, shared_rows = arena.board_outputs(plain[4], MODELS)[1], arena.board_outputs(shared[4], MODELS)[1]
    agents = {r["contestant"]: r["total_return"] for r in plain_rows if r["type"] == "agent"}
    agents_shared = {r["contestant"]: r["total_return"] for r in shared_rows if r["type"] == "agent"}
    assert agents != agents_shared  # price impact moved some fills
    bench = {r["contestant"]: r["total_return"] for r in plain_rows if r["type"] == "benchmark"}
    assert bench == {r["contestant"]: r["total_return"] for r in shared_rows if r["type"] == "benchmark"}
