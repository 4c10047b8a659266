"""Browser: training from the Train page is a background job that reports every personality's progress and
ends with the new run listed, its model card shown, a battle link, and agents that load for a battle;
Cancel mid-training leaves no process (the spawned trainers included) and no run folder."""

from __future__ import annotations

import psutil
import pytest
from dash.testing.wait import until

import callbacks.train as train_callbacks
import layouts.train as train_page
from app import create_app
from app.settings import Settings
from core import PERSONALITIES
from core.runs import RUN_ID_PATTERN, list_runs, load_run_agents, load_run_data
from tests.browser.conftest import severe_logs

PORT = 8073
TINY_PPO = {"n_steps": 64, "n_envs": 2, "batch_size": 64, "n_epochs": 1, "episode_bars": 64}
TINY, LONG = 256, 100_000


@pytest.fixture
def tiny_budgets(monkeypatch):
    # The job process is forked from this test process, so it sees these budgets too.
    monkeypatch.setattr(train_page, "TIMESTEP_CHOICES", (TINY, LONG))
    monkeypatch.setattr(train_callbacks, "TRAIN_OVERRIDES", TINY_PPO)
    monkeypatch.setattr(train_callbacks, "PROCESSES", 2)  # as the CLI: spawned trainers


@pytest.fixture
def settings(tmp_path):
    return Settings(live_data=False, job_cache_dir=tmp_path / "jobs")


def _processes() -> set[psutil.Process]:
    """Live (non-zombie) descendants of this test process, chromium aside."""
    return {p for p in psutil.Process().children(recursive=True)
            if "chrom" not in p.name() and p.status() != psutil.STATUS_ZOMBIE}


def _session(dash_duo) -> str:
    return dash_duo.driver.execute_script("return JSON.parse(window.sessionStorage.getItem('session-id'));")


def _click(dash_duo, selector: str) -> None:
    """Scroll the element to the middle of the (small) test window first, at once (Bootstrap scrolls smoothly)."""
    element = dash_duo.find_element(selector)
    dash_duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center', behavior: 'instant'});", element)
    element.click()


def _details(dash_duo) -> dict[str, str]:
    return {n: dash_duo.find_element(f"#tr-detail-{n}").text for n in PERSONALITIES}


def test_training_shows_each_personality_then_lists_a_run_ready_for_battle(dash_duo, tiny_budgets, settings):
    from core.arena import run_battle

    dash_duo.start_server(create_app(settings), port=PORT)
    dash_duo.wait_for_page(url=f"{dash_duo.server_url}/train?ticker=TSLA")
    dash_duo.wait_for_element("#tr-run", timeout=10)
    dash_duo.wait_for_contains_text("#tr-source-line", "TSLA: bundled snapshot", timeout=15)
    assert dash_duo.find_element(f"#tr-steps input[value='{TINY}']").is_selected()
    _click(dash_duo, "#tr-run")
    seen: dict[str, set[str]] = {n: set() for n in PERSONALITIES}

    def all_done() -> bool:
        for name, text in _details(dash_duo).items():
            seen[name].add(text)
        return "Done in" in dash_duo.find_element("#tr-status").text

    until(all_done, 150, poll=0.1)
    for name in PERSONALITIES:
        lines = seen[name]
        assert any(t.startswith("done · ") and "steps in" in t for t in lines), (name, lines)
        assert any(("waiting" in t or "starting" in t or "/ 256 steps" in t) for t in lines), (name, lines)
        assert dash_duo.find_element(f"#tr-bar-{name} .progress-bar").get_attribute("aria-valuenow") == "100"

    until(lambda: len(dash_duo.find_elements("#tr-runs .ag-center-cols-container .ag-row")) == 1, 15)
    until(lambda: "Battle" in dash_duo.find_element("#tr-battle-link").text
          and "disabled" not in dash_duo.find_element("#tr-battle-link").get_attribute("class"), 15)
    href = dash_duo.find_element("#tr-battle-link").get_attribute("href")
    run_id = href.rsplit("agents=", 1)[1]
    assert href.endswith(f"/arena?ticker=TSLA&agents={run_id}") and RUN_ID_PATTERN.match(run_id)
    info = dash_duo.find_element("#tr-run-info").text
    assert run_id in info and "seed 0" in info and "Test period (out-of-sample)" in info
    until(lambda: len(dash_duo.find_elements("#tr-metrics .ag-center-cols-container .ag-row")) == 8, 15)  # 4 agents x 2 periods

    session = _session(dash_duo)
    assert [r.run_id for r in list_runs(settings.runs_dir, session)] == [run_id]
    frame, provenance = load_run_data(settings.runs_dir, run_id, session)
    agents = load_run_agents(settings.runs_dir, run_id, session, provenance.sha256)
    result = run_battle(frame, ticker=agents.ticker, provenance=provenance, agents=agents)
    assert {c.name for c in result.contestants} >= set(PERSONALITIES) and result.sample == "out-of-sample"
    assert not dash_duo.find_element("#tr-run").get_attribute("disabled")

    # the new agents fight in this tab's Arena at once, and the battle follows them to the Journal
    _click(dash_duo, "#tr-battle-link")
    dash_duo.wait_for_contains_text("#arn-agents", f"Your run {run_id[:6]}", timeout=30)
    until(lambda: "Momentum" in dash_duo.find_element("#arn-leaderboard").text, 30)
    assert "OUT-OF-SAMPLE" in dash_duo.find_element("#arn-sample-tag").text
    assert f"agents={run_id}" in dash_duo.find_element("#nav-link-journal").get_attribute("href")
    assert severe_logs(dash_duo) == []


def test_cancel_mid_training_leaves_no_process_and_no_run(dash_duo, tiny_budgets, settings):
    dash_duo.start_server(create_app(settings), port=PORT)
    dash_duo.wait_for_page(url=f"{dash_duo.server_url}/train")
    dash_duo.wait_for_element("#tr-run", timeout=10)
    before = _processes()
    _click(dash_duo, f"#tr-steps input[value='{LONG}']")
    _click(dash_duo, "#tr-run")
    until(lambda: any(f"/ {LONG:,} steps" in t for t in _details(dash_duo).values()), 90, poll=0.2)
    job = _processes() - before
    assert len(job) >= 4  # the job process, the manager and two spawned trainers

    _click(dash_duo, "#tr-cancel")
    dash_duo.wait_for_contains_text("#tr-status", "Cancelled", timeout=15)
    until(lambda: not (_processes() - before), 20)  # the whole tree is gone, trainers included
    assert not any(RUN_ID_PATTERN.match(p.name) for p in settings.runs_dir.iterdir())  # no run folder
    assert list_runs(settings.runs_dir, _session(dash_duo)) == []
    assert [p.name for p in settings.runs_dir.iterdir() if p.name != ".lock"] == []  # the listing swept the rest
    until(lambda: not dash_duo.find_element("#tr-run").get_attribute("disabled"), 10)
    assert severe_logs(dash_duo) == []
