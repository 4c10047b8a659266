"""Train page callbacks, called directly: inputs refused with clear messages before any job starts, uploads
checked for enough rows, per-personality progress lines, re-attach and cancel decisions, a job that fails
(message, slot freed, nothing written), and the run's views."""

from __future__ import annotations

import base64
import io

import pytest

import core.runs
from app.jobs import JobBoard, JobProgress, JobStatus, run_job
from app.settings import Settings
from callbacks import train
from core.training import AgentProgress, min_rows

SESSION = "sess-train-0123456789"


def _data_url(text: str) -> str:
    return "data:text/csv;base64," + base64.b64encode(text.encode()).decode()


def _csv(frame) -> str:
    buf = io.StringIO()
    frame.to_csv(buf, index=False)
    return buf.getvalue()


@pytest.mark.parametrize("steps, seed, personalities, message", [
    (1_000_000_000, 0, ["momentum"], "offered budgets \\(2k, 10k, 50k, 150k"),
    (3_000, 0, ["momentum"], "offered budgets"),
    ("lots", 0, ["momentum"], "offered budgets"),
    (2_000, -1, ["momentum"], "seed"),
    (2_000, "x", ["momentum"], "seed"),
    (2_000, 0, ["reckless"], "conservative, aggressive, momentum, mean_reversion"),
    (2_000, 0, [], "at least one"),
])
def test_bad_requests_are_refused_before_any_job(steps, seed, personalities, message):
    with pytest.raises(ValueError, match=message):
        train.train_request("bundled", "AAPL", "", None, steps, seed, personalities)


def test_requests_name_their_data_source():
    bundled = train.train_request("bundled", "TSLA", "", None, 10_000, 3, ["momentum", "aggressive"])
    assert bundled == {"source": "bundled", "ticker": "TSLA", "timesteps": 10_000, "seed": 3,
                       "personalities": ["momentum", "aggressive"]}
    assert train.train_request("ticker", "AAPL", " msft ", None, 2_000, 0, ["momentum"])["ticker"] == "MSFT"
    upload = train.train_request("file", "AAPL", "", {"name": "mine.csv", "csv": "x"}, 2_000, 0, ["momentum"])
    assert upload["name"] == "mine.csv" and "csv" not in upload  # the job book never holds the file
    with pytest.raises(ValueError, match="Type a ticker"):
        train.train_request("ticker", "AAPL", "  ", None, 2_000, 0, ["momentum"])
    with pytest.raises(ValueError, match="Upload an OHLCV CSV"):
        train.train_request("file", "AAPL", "", None, 2_000, 0, ["momentum"])
    with pytest.raises(ValueError, match="bundled ticker"):
        train.train_request("bundled", "../etc", "", None, 2_000, 0, ["momentum"])


def test_uploads_too_short_to_train_on_say_how_many_rows_are_needed(make_ohlcv):
    need = min_rows(0.2)
    store, line, alert, source = train.upload_outputs(_data_url(_csv(make_ohlcv(n=need - 1))), "short.csv", 5)
    assert f"at least {need} rows" in str(alert) and "short.csv" in str(alert)
    store, line, alert, source = train.upload_outputs(_data_url(_csv(make_ohlcv(n=need + 50))), "walk.csv", 5)
    assert store["name"] == "walk.csv" and f"{need + 50:,} bars" in line and alert is None and source == "file"
    binary = "data:application/octet-stream;base64," + base64.b64encode(b"\x00\x01PK" * 10).decode()
    assert "binary" in str(train.upload_outputs(binary, "x.zip", 5)[2])


def test_each_personality_gets_its_own_progress_line():
    agents = {
        "conservative": AgentProgress("conservative", 2000, 1024, "training", 0.0123, 2.0, 2.0).to_dict(),
        "aggressive": AgentProgress("aggressive", 2000, state="starting").to_dict(),
        "momentum": AgentProgress("momentum", 2000, 2048, "done", -1.5, 4.0, 0.0).to_dict(),
    }
    progress = train.TrainProgress(0.5, "training", "Training on AAPL", agents=agents)
    out = train.progress_outputs(progress, ["conservative", "aggressive", "momentum"])
    values, labels, details, status = out[:4], out[4:8], out[8:12], out[12]
    assert values == (51, 0, 100, 0) and labels == ("51%", "", "done", "")
    assert details[0] == "1,024 / 2,000 steps · mean episode reward +0.012 · 2 s elapsed · about 2 s left"
    assert "starting a training process" in details[1]
    assert details[2].startswith("done · 2,048 steps") and details[3] == "not selected"
    assert status == "Training on AAPL"
    queued = train.progress_outputs(JobProgress(0, "queued", "Queued: 1 job ahead of yours", "queued"), ["momentum"])
    assert queued[10] == "queued" and queued[12].startswith("Queued: 1 job ahead")
    memory = {}
    train.progress_outputs(progress, ["momentum"], memory)
    done = train.progress_outputs(JobProgress(1.0, "done", "Done in 9.0 s.", "done"), ["momentum"], memory)
    assert done[2] == 100 and done[10].startswith("done · 2,048 steps") and done[12] == "Done in 9.0 s."


def test_overall_progress_and_time_left():
    agents = {"a": {"state": "training", "steps": 500, "total": 1000, "elapsed_s": 5.0},
              "b": {"state": "waiting", "steps": 0, "total": 1000, "elapsed_s": 0.0}}
    fraction, left = train.overall(agents, processes=2)
    assert fraction == 0.25 and left == pytest.approx(1500 / (100 * 2))


def _status(state: str, **extra) -> JobStatus:
    return JobStatus(token="t" * 32, kind="train", state=state, request={"personalities": ["momentum"]}, **extra)


def test_poll_reattaches_to_a_running_job_and_shows_a_finished_run():
    progress = {"fraction": 0.3, "label": "training", "detail": "Training on AAPL: 30%", "state": "running",
                "agents": {"momentum": AgentProgress("momentum", 2000, 600, "training", 0.1, 3.0, 7.0).to_dict()}}
    out = train.poll_outputs(_status("running", progress=progress), first_call=True, shown=None)
    assert out[0] is False and out[3] == 30 and out[11].startswith("600 / 2,000 steps") and out[13] == "Training on AAPL: 30%"
    assert out[16:] == (True, False)  # Train disabled, Cancel enabled
    result = {"token": "t" * 32, "run": {"run_id": "0" * 16, "agents": {"momentum": {"timesteps": 2048,
                                                                                     "wall_time_s": 5.0}}}}
    done = train.poll_outputs(_status("done", result_ref=result), first_call=True, shown=None)
    assert done[0] is True and done[3] == 100 and done[14] == result and done[16:] == (False, True)
    assert train.poll_outputs(_status("done", result_ref=result), first_call=True, shown={"token": "t" * 32})[14] \
        is not result  # already on screen: not sent again
    failed = train.poll_outputs(_status("failed", message="boom"), first_call=False, shown=None)
    assert "boom" in str(failed[15]) and failed[11] == "failed"


def test_cancel_marks_the_job_cancelled_at_once(tmp_path):
    board = JobBoard(tmp_path, max_jobs=1)
    assert train.cancel_job(board, SESSION) == (train.no_update,) * 13  # nothing to cancel
    status = _status("running")
    board.try_acquire(status.token, session=SESSION, kind="train")  # a live job holds a slot
    board.record(SESSION, status)
    out = train.cancel_job(board, SESSION)
    assert "nothing was kept" in out[12] and out[10] == "cancelled" and out[8] == "not selected"
    status = board.status(SESSION, "train")
    assert status.state == "cancelled" and board.cancel_requested(status.token)


@pytest.fixture
def settings(tmp_path):
    return Settings(live_data=False, job_cache_dir=tmp_path / "jobs")


def _run(board, settings, request, csv_text=None):
    return run_job(board, session=SESSION, kind="train", request=request, set_progress=lambda p: None,
                   work=train.train_work(request, csv_text, settings), poll_seconds=0.01)


def test_a_job_that_raises_shows_its_message_frees_its_slot_and_writes_nothing(settings, monkeypatch):
    board = JobBoard(settings.job_cache_dir / "board", max_jobs=1)
    request = train.train_request("bundled", "AAPL", "", None, 2_000, 0, ["momentum"])

    def half_then_bug(*_args, **kwargs):
        (kwargs["out_dir"] / "AAPL").mkdir(parents=True)  # a half-written run ...
        raise RuntimeError("bug in training")

    monkeypatch.setattr(core.training, "train_all_agents", half_then_bug)
    state, message = _run(board, settings, request)
    assert state == "failed" and "Reference:" in message and "bug" not in message
    assert board.running() == 0 and board.try_acquire("next")[0]  # the slot is free
    board.release("next")
    assert [p.name for p in settings.runs_dir.iterdir() if p.name != ".lock"] == []  # ... is gone
    assert board.status(SESSION, "train").state == "failed"


def test_a_too_short_csv_fails_in_the_job_with_the_row_count(settings, make_ohlcv):
    board = JobBoard(settings.job_cache_dir / "board", max_jobs=1)
    request = train.train_request("file", "AAPL", "", {"name": "short.csv"}, 2_000, 0, ["momentum"])
    state, message = _run(board, settings, request, _csv(make_ohlcv(n=200)))
    assert state == "failed" and f"at least {min_rows(0.2)} rows" in message
    assert board.running() == 0


def test_run_views_show_the_card_and_the_battle_link():
    from layouts import train as page

    run = {"run_id": "0123456789abcdef", "ticker": "BTC-USD", "personalities": ["momentum"], "timesteps": 2000,
           "seed": 1, "created": 1_700_000_000.0, "wall_time_s": 12.5,
           "data": {"label": "bundled snapshot, as of 2025-11-29", "rows": 900, "sha256": "ab" * 32},
           "agents": {"momentum": {"out_of_sample": {"total_return": 0.1, "buy_hold_return": 0.3}}}}
    assert page.battle_href(run) == "/arena?ticker=BTC-USD&agents=0123456789abcdef"
    rows = page.run_rows([run])
    assert rows[0]["oos_mean"] == 0.1 and rows[0]["agents"] == "Momentum"
    metrics = {"total_return": 0.1, "buy_hold_return": 0.3, "max_drawdown": 0.2, "buy_hold_max_drawdown": 0.3,
               "exposure": 0.5, "trades": 4, "costs_paid": 10.0, "bars": 100}
    card = {"run": run, "cards": {"momentum": {
        "metrics": {"in_sample": metrics, "out_of_sample": {**metrics, "total_return": 0.4}}, "wall_time_s": 3.0,
        "config": {"learning_rate": 3e-4, "n_envs": 4, "n_steps": 256, "batch_size": 256, "n_epochs": 5,
                   "gamma": 0.9, "gae_lambda": 0.9, "ent_coef": 0.01, "clip_range": 0.2, "net_arch": [64, 64],
                   "episode_bars": 256, "commission_bps": 10.0, "slippage_bps": 5.0, "cash0": 100000.0},
        "split": {"train": {"start": "2020-01-01", "end": "2022-01-01", "bars": 500},
                  "test": {"start": "2022-01-02", "end": "2023-01-01", "bars": 125}},
        "versions": {"torch": "2.13.0"}}}}
    assert [(r["period"], r["beats"]) for r in page.metric_rows(card)] == [("out-of-sample", "YES"),
                                                                          ("in-sample", "no")]
    text = str(page.run_info(card))
    for needle in ("0123456789abcdef", "bundled snapshot", "2022-01-02", "seed 1", "gamma 0.9", "torch 2.13.0",
                   "12.5 s wall time"):
        assert needle in text
