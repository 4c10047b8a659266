"""A training job whose process dies mid-way (killed, out of memory): its spawned trainers die with it, the
job book reports it failed, its slot is free at once and it leaves no run (RELIABILITY #4)."""

from __future__ import annotations

import multiprocessing
import os
import signal

import psutil
import pytest
from dash.testing.wait import until

from app.jobs import JobBoard, run_job
from app.settings import Settings
from callbacks import train
from core.runs import list_runs

SESSION = "sess-dies-0123456789"
pytestmark = pytest.mark.slow


def _job(settings, request):
    board = JobBoard(settings.job_cache_dir / "board", max_jobs=1, lease_seconds=3)
    run_job(board, session=SESSION, kind="train", request=request, set_progress=lambda p: None,
            work=train.train_work(request, None, settings))


def _training(board) -> bool:
    status = board.status(SESSION, "train")
    agents = (status.progress or {}).get("agents", {}) if status else {}
    return any(a["state"] == "training" and a["steps"] > 0 for a in agents.values())


def test_a_job_process_that_dies_takes_its_trainers_along_and_leaves_nothing(tmp_path, monkeypatch):
    monkeypatch.setattr(train, "PROCESSES", 2)
    monkeypatch.setattr(train, "TRAIN_OVERRIDES", {"n_steps": 64, "n_envs": 2, "batch_size": 64, "n_epochs": 1,
                                                    "episode_bars": 64})
    settings = Settings(live_data=False, job_cache_dir=tmp_path / "jobs")
    request = train.train_request("bundled", "AAPL", "", None, 150_000, 0, ["aggressive", "momentum"])
    proc = multiprocessing.get_context("fork").Process(target=_job, args=(settings, request))
    proc.start()
    board = JobBoard(settings.job_cache_dir / "board", max_jobs=1, lease_seconds=3)
    try:
        until(lambda: _training(board), 120)
        trainers = psutil.Process(proc.pid).children(recursive=True)
        assert len(trainers) >= 3  # the manager and two spawned trainers
        os.kill(proc.pid, signal.SIGKILL)  # the job process dies mid-training
        proc.join(10)
        until(lambda: not any(p.is_running() and p.status() != psutil.STATUS_ZOMBIE for p in trainers), 20)
    finally:
        if proc.is_alive():
            proc.kill()
    status = board.status(SESSION, "train")
    assert status.state == "failed" and "went away" in status.message
    assert board.try_acquire("next")[0]  # its slot is free
    assert list_runs(settings.runs_dir, SESSION) == []  # no run, and the listing swept its staging folder
    assert [p.name for p in settings.runs_dir.iterdir() if p.name != ".lock"] == []
