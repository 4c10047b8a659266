"""Run registry (core.runs): a run is written whole or not at all, belongs to one session, loads only by id,
feeds the arena, and the disk stays bounded. Budgets are tiny (128 PPO steps per personality)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

import core.training
from core.personalities import UnknownPersonality
from core.runs import (
    MAX_RUN_TIMESTEPS,
    RUN_ID_PATTERN,
    RunError,
    RunNotFound,
    list_runs,
    load_run,
    load_run_agents,
    load_run_data,
    prune,
    run_card,
    sweep,
    train_run,
)
from core.training import InsufficientData, TrainingCancelled, min_rows

A, B = "sess-aaaaaaaa-0001", "sess-bbbbbbbb-0002"
TINY = {"n_steps": 64, "n_envs": 2, "batch_size": 64, "n_epochs": 1, "episode_bars": 64}
TWO = ["conservative", "momentum"]


@pytest.fixture(scope="module")
def frame():
    from core.data import load_ohlcv

    return load_ohlcv("AAPL", live=False, use_cache=False)[0].iloc[:700].reset_index(drop=True)


def _train(root, session, frame, **extra):
    kwargs = {"ticker": "AAPL", "timesteps": 128, "seed": 0, "personalities": TWO, "processes": 1} | TINY | extra
    return train_run(root, session, frame=frame, **kwargs)


def _entries(root) -> list[str]:
    return sorted(p.name for p in root.iterdir() if p.name != ".lock")


@pytest.fixture(scope="module")
def trained(tmp_path_factory, frame):
    root = tmp_path_factory.mktemp("runs")
    return root, _train(root, A, frame)


def test_a_run_is_one_complete_private_folder(trained):
    root, info = trained
    assert RUN_ID_PATTERN.match(info.run_id) and not info.reused
    assert _entries(root) == [info.run_id]  # no staging folder left behind
    folder = root / info.run_id
    assert sorted(p.name for p in (folder / "models" / "AAPL").iterdir()) == TWO
    for name in TWO:
        assert sorted(p.name for p in (folder / "models" / "AAPL" / name).iterdir()) == [
            "seed0.json", "seed0.npz", "seed0.zip"]
    assert info.seeds == (0,) and "seed 0" in info.label
    assert oct(root.stat().st_mode & 0o777) == "0o700"
    record = json.loads((folder / "run.json").read_text())
    assert A not in json.dumps(record)  # the owner is stored as a hash, never the session id
    assert record["personalities"] == TWO and record["timesteps"] == 128 and record["config"]["n_envs"] == 2
    assert set(record["agents"]["momentum"]) >= {"in_sample", "out_of_sample", "wall_time_s"}
    assert info.data["sha256"] == record["data"]["sha256"] and info.data["rows"] == 700


def test_only_the_owner_lists_and_loads_a_run(trained):
    root, info = trained
    assert [r.run_id for r in list_runs(root, A)] == [info.run_id]
    assert list_runs(root, B) == []
    agents = load_run_agents(root, info.run_id, A)
    assert agents.names == tuple(TWO) and agents.ticker == "AAPL"
    for loader in (load_run_agents, load_run, run_card, load_run_data):
        with pytest.raises(RunNotFound, match="No run .* in this browser session"):
            loader(root, info.run_id, B)  # another session's run: nothing, same answer as absent
        with pytest.raises(RunNotFound, match="No run"):
            loader(root, "0123456789abcdef", A)  # forged id
        with pytest.raises(RunNotFound, match="not a run id"):
            loader(root, "../" + info.run_id, A)  # never a path
    with pytest.raises(RunError, match="session"):
        list_runs(root, "x")


def test_run_card_and_data_describe_the_run(trained):
    root, info = trained
    card = run_card(root, info.run_id, A)
    assert card["run"]["run_id"] == info.run_id and set(card["cards"]) == set(TWO)
    momentum = card["cards"]["momentum"]
    assert momentum["seed"] == 0 and momentum["config"]["timesteps"] == 128
    assert {"in_sample", "out_of_sample"} <= set(momentum["metrics"])
    assert "buy_hold_return" in momentum["metrics"]["out_of_sample"]
    frame, provenance = load_run_data(root, info.run_id, A)
    assert len(frame) == 700 and provenance.sha256 == info.data["sha256"]


def test_the_arena_battles_a_run_and_refuses_a_foreign_one(trained):
    from core.arena import run_battle
    from core.service import BattleSpec, arena_cost_stress, run_arena

    root, info = trained
    frame, provenance = load_run_data(root, info.run_id, A)
    agents = load_run_agents(root, info.run_id, A, data_sha256=provenance.sha256)
    result = run_battle(frame, ticker="AAPL", provenance=provenance, agents=agents)
    assert {"conservative", "momentum"} <= {c.name for c in result.contestants}
    spec = BattleSpec(ticker="TSLA", agents=info.run_id)
    view = run_arena(spec, runs_dir=root, session=A)
    assert view.agents_ready and view.spec.ticker == "AAPL" and view.agents_message == ""
    assert view.spec.agents == info.run_id
    assert len(view.result.dates) == card_test_bars(root, info.run_id)  # the run's own out-of-sample window
    foreign = run_arena(spec, runs_dir=root, session=B)
    assert not foreign.agents_ready and "No run" in foreign.agents_message and foreign.spec.ticker == "TSLA"
    sessionless = run_arena(spec)  # e.g. a shared link opened elsewhere: no session, no runs folder
    assert not sessionless.agents_ready and "browser tab that trained them" in sessionless.agents_message
    assert run_arena(BattleSpec(ticker="AAPL")).agents_ready  # without a run: the shipped agents, as before
    stress = arena_cost_stress(spec, runs_dir=root, session=A)
    assert set(stress.break_even) == set(TWO) and "momentum" in stress.returns.index


def card_test_bars(root, run_id) -> int:
    return run_card(root, run_id, A)["cards"]["momentum"]["split"]["test"]["bars"]


def test_the_same_request_returns_the_finished_run(trained, frame, monkeypatch):
    root, info = trained
    monkeypatch.setattr(core.training, "train_all_agents", lambda *a, **k: pytest.fail("must not train again"))
    again = _train(root, A, frame)
    assert again.reused and again.run_id == info.run_id
    with pytest.raises(pytest.fail.Exception):  # another seed is another run: it would train
        _train(root, A, frame, seed=1)


def test_cancel_or_failure_leaves_nothing(tmp_path, frame, monkeypatch):
    with pytest.raises(TrainingCancelled):
        _train(tmp_path, A, frame, cancel=lambda: True)
    assert _entries(tmp_path) == []

    def boom(*_args, **kwargs):
        (kwargs["out_dir"] / "AAPL").mkdir(parents=True)  # something half-written ...
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(core.training, "train_all_agents", boom)
    with pytest.raises(RuntimeError, match="disk on fire"):
        _train(tmp_path, A, frame)
    assert _entries(tmp_path) == []  # ... is gone with its staging folder


@pytest.mark.parametrize("extra, error, message", [
    ({"timesteps": MAX_RUN_TIMESTEPS + 1}, RunError, "1 to 150,000 steps"),
    ({"timesteps": 0}, RunError, "1 to 150,000 steps"),
    ({"timesteps": 10**12}, RunError, "per personality"),
    ({"seed": -1}, RunError, "seed"),
    ({"seeds": [0, 0]}, RunError, "different seeds"),
    ({"seeds": list(range(6))}, RunError, "1 to 5"),
    ({"seeds": []}, RunError, "1 to 5"),
    ({"seeds": [1, -2]}, RunError, "seed"),
    ({"personalities": ["reckless"]}, UnknownPersonality, "conservative"),
    ({"personalities": []}, ValueError, "at least one"),
])
def test_bad_requests_are_refused_before_training(tmp_path, frame, extra, error, message):
    with pytest.raises(error, match=message):
        _train(tmp_path, A, frame, **extra)
    assert _entries(tmp_path) == []


def test_the_shipped_models_folder_is_never_a_runs_root(frame):
    from core.registry import models_root

    with pytest.raises(RunError, match="never written"):
        _train(models_root() / "runs", A, frame)


def test_too_short_data_says_how_many_rows_are_needed(tmp_path, frame):
    need = min_rows(0.2)
    with pytest.raises(InsufficientData, match=f"at least {need} rows"):
        _train(tmp_path, A, frame.iloc[: need - 1])


def _fake_run(root, run_id: str, created: float) -> None:
    folder = root / run_id
    folder.mkdir(parents=True)
    (folder / "run.json").write_text(json.dumps({"run_id": run_id, "created": created, "owner": "x"}))


def test_prune_removes_the_oldest_runs_first(tmp_path):
    for i in range(5):
        _fake_run(tmp_path, f"{i:016x}", created=1000.0 + i)
    (tmp_path / "abcdefabcdefabcd").mkdir()  # an unreadable run folder goes too
    assert sorted(prune(tmp_path, 3)) == ["0000000000000000", "0000000000000001", "abcdefabcdefabcd"]
    assert _entries(tmp_path) == ["0000000000000002", "0000000000000003", "0000000000000004"]


def test_sweep_removes_what_killed_jobs_left(tmp_path):
    import socket

    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    host = socket.gethostname()
    (tmp_path / f".staging-{host}-{dead.pid}-0badc0de").mkdir()
    (tmp_path / f".staging-{host}-{os.getpid()}-0000abcd").mkdir()  # a live job: kept
    old = tmp_path / ".staging-otherhost-1-12345678"
    old.mkdir()
    os.utime(old, (time.time() - 7 * 3600,) * 2)  # another host's, stale: removed
    (tmp_path / ".trash-123").mkdir()
    assert sweep(tmp_path) == 3
    assert _entries(tmp_path) == [f".staging-{host}-{os.getpid()}-0000abcd"]


def test_two_sessions_training_at_once_each_see_only_their_own(tmp_path, frame):
    with ThreadPoolExecutor(2) as pool:
        a, b = pool.map(lambda s: _train(tmp_path, s, frame, personalities=["aggressive"]), [A, B])
    assert a.run_id != b.run_id  # same data and config, two owners: two runs
    assert [r.run_id for r in list_runs(tmp_path, A)] == [a.run_id]
    assert [r.run_id for r in list_runs(tmp_path, B)] == [b.run_id]
    with pytest.raises(RunNotFound):
        load_run_agents(tmp_path, b.run_id, A)


def test_a_run_with_several_seeds_trains_each_and_battles_them_all(tmp_path, frame):
    from core.service import BattleSpec, run_arena

    reports = []
    info = _train(tmp_path, A, frame, seeds=[3, 1], personalities=["momentum"], report=reports.append)
    assert info.seeds == (3, 1) and info.seed == 3 and "seeds 3, 1" in info.label
    folder = tmp_path / info.run_id / "models" / "AAPL" / "momentum"
    assert sorted(p.name for p in folder.glob("*.json")) == ["seed1.json", "seed3.json"]
    card = run_card(tmp_path, info.run_id, A)
    assert card["cards"]["momentum"]["seed"] == 3 and set(card["seed_cards"]["momentum"]) == {1, 3}
    assert set(info.agents["momentum"]["seeds"]) == {"1", "3"}
    agents = load_run_agents(tmp_path, info.run_id, A)
    assert agents.seeds == (3, 1)
    view = run_arena(BattleSpec(ticker="AAPL", agents=info.run_id), runs_dir=tmp_path, session=A)
    (momentum,) = [c for c in view.result.contestants if c.kind == "agent"]
    assert sorted(momentum.seeds) == [1, 3] and momentum.representative_seed in (1, 3)
    # the per-personality progress sums the seeds: one bar per personality, as the Train page draws them
    assert {r.personality for r in reports} == {"momentum"}
    assert reports[0].total == 2 * 128 and reports[-1].state == "done" and reports[-1].steps == 2 * 128
    # a different seed set is a different run
    assert _train(tmp_path, A, frame, seeds=[1, 3], personalities=["momentum"]).run_id != info.run_id
