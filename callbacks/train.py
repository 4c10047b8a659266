"""Train page callbacks: training runs as a background job (bounded across workers, per session, queued with
its position, cancellable) that reports each personality's progress; the page re-attaches to it after
navigation; the finished run is listed with its model card and a link into the arena. No torch here: the
job trains in spawned processes (core.training), this process only reads JSON and .npz files."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from dash import Input, Output, State, ctx, no_update

from app import jobs
from callbacks import error_alert, failed, unexpected_error_alert
from callbacks import forecast as forecast_callbacks
from callbacks.jobs import job_error_handler, reattach
from core import PERSONALITIES, service
from layouts import fmt, ids
from layouts import train as page

KIND = "train"
PROCESSES = 2
"""Personalities trained at once in spawned processes, as `python -m core train` does by default."""
TRAIN_OVERRIDES: dict = {}
"""Extra TrainConfig fields for every web run (empty: the shipped hyperparameters; tests shrink them)."""
OHLCV = ["date", "open", "high", "low", "close", "volume"]
REUSED = ("This session trained exactly these agents before (same data, budget, seed and personalities): "
          "here is that run. Change the seed to train another.")


@dataclass
class TrainProgress(jobs.JobProgress):
    """A JobProgress that also carries each personality's core.training.AgentProgress (as dicts), so the job
    book keeps them and a page that comes back can redraw every bar."""

    agents: dict = field(default_factory=dict)


# ----------------------------------------------------------------------------------------------------
# inputs


def train_request(source, ticker, custom, upload, steps, seed, personalities) -> dict:
    """Validate the page's inputs into a job request (ValueError with a message for the page)."""
    from core.data import normalise_ticker
    from core.personalities import resolve_personalities

    choices = page.TIMESTEP_CHOICES
    try:
        steps = int(steps)
    except (TypeError, ValueError):
        steps = None
    if steps not in choices:
        offered = ", ".join(page.steps_label(s) for s in choices)
        raise ValueError(f"Choose one of the offered budgets ({offered} PPO steps per personality).")
    try:
        seed = int(seed if seed not in (None, "") else 0)
    except (TypeError, ValueError):
        seed = -1
    if not 0 <= seed <= 9999:
        raise ValueError("The seed must be a whole number from 0 to 9999.")
    names = [p.name for p in resolve_personalities(list(personalities or []))]
    request = {"source": source, "timesteps": steps, "seed": seed, "personalities": names}
    if source == "bundled":
        if ticker not in page.BUNDLED:
            raise ValueError(f"Pick a bundled ticker: {', '.join(page.BUNDLED)}.")
        return request | {"ticker": ticker}
    if source == "ticker":
        if not (custom or "").strip():
            raise ValueError("Type a ticker (e.g. MSFT), or pick another data source.")
        return request | {"ticker": normalise_ticker(custom)}
    if source == "file":
        if not (isinstance(upload, dict) and upload.get("name")):
            raise ValueError("Upload an OHLCV CSV first, or pick another data source.")
        return request | {"name": upload["name"]}
    raise ValueError("Pick where the data comes from: bundled snapshot, any ticker, or your CSV.")


def load_training_frame(request: dict, csv_text: str | None, live: bool):
    """(OHLCV frame, provenance): the bundled snapshot exactly, a ticker's live -> cache -> bundled chain, or
    the uploaded file."""
    if request["source"] == "bundled":
        return service.battle_data(request["ticker"])
    return forecast_callbacks.load_frame(request, csv_text, live)


def upload_outputs(contents, filename, max_mb):
    """(upload store, source line, alert, data source) after an upload: refused at once when it cannot be
    trained on (too few rows: says how many are needed)."""
    from core.runs import check_trainable

    if not contents:
        return (no_update,) * 4
    name = filename or "upload.csv"
    try:
        text = forecast_callbacks.decode_csv(contents, filename, max_mb)
        data = service.load_market_csv(text.encode("utf-8"), name)
        try:
            check_trainable(data.frame[OHLCV])
        except ValueError as exc:
            raise ValueError(f"Cannot train on {name}: {exc}.") from None
    except Exception as exc:  # noqa: BLE001
        return failed(exc, 4, 2, "reading the uploaded file")
    prov = data.provenance
    line = f"{name}: {prov.rows:,} bars, {prov.start} → {prov.end}."
    return {"name": name, "csv": text, "line": line}, line, None, "file"


def source_line(source, ticker, custom, upload) -> str:
    if source == "file":
        return (upload or {}).get("line") or "Upload an OHLCV CSV (date, open, high, low, close, volume)."
    if source == "ticker":
        symbol = (custom or "").strip().upper()
        return (f"{symbol}: loaded when you press Train (live when online, else the cached or bundled copy)."
                if symbol else "Type a ticker, e.g. MSFT.")
    try:
        _frame, prov = service.battle_data(ticker)
    except ValueError as exc:
        return str(exc)
    return f"{prov.ticker}: {prov.label}, {prov.rows:,} bars, {prov.start} → {prov.end}."


# ----------------------------------------------------------------------------------------------------
# progress: 4 bars + 4 detail lines + 1 status line


def _duration(seconds) -> str:
    s = int(round(float(seconds)))
    return f"{s} s" if s < 90 else f"{s // 60} min {s % 60:02d} s"


def agent_line(agent: dict | None) -> tuple[int, str, str]:
    """(bar value, bar label, detail line) of one personality's AgentProgress dict (None: not selected)."""
    if agent is None:
        return 0, "", "not selected"
    state, steps, total = agent.get("state", "waiting"), int(agent.get("steps", 0)), int(agent.get("total", 1))
    reward = agent.get("mean_reward")
    reward_text = f" · mean episode reward {fmt.fmt(reward, 'signed_ratio', 3)}" if reward is not None else ""
    if state == "waiting":
        return 0, "", "waiting for a free training process"
    if state == "starting":
        return 0, "", "starting a training process (loading PyTorch and the learner)…"
    if state == "done":
        return 100, "done", f"done · {steps:,} steps in {_duration(agent.get('elapsed_s', 0))}{reward_text}"
    pct = int(min(100, 100 * steps / max(1, total)))
    if state == "evaluating":
        return pct, f"{pct}%", f"{steps:,} steps · evaluating in- and out-of-sample{reward_text}"
    if not steps:
        return 0, "", "training: first rollout…"
    left = agent.get("remaining_s")
    left_text = f" · about {_duration(left)} left" if left is not None else ""
    return (pct, f"{pct}%", f"{min(steps, total):,} / {total:,} steps{reward_text} · "
                            f"{_duration(agent.get('elapsed_s', 0))} elapsed{left_text}")


def overall(agents: dict, processes: int = PROCESSES) -> tuple[float, float | None]:
    """(fraction of the whole job, estimated seconds left) from the personalities' progress."""
    if not agents:
        return 0.0, None
    fractions = [1.0 if a["state"] == "done" else min(1.0, a["steps"] / max(1, a["total"])) for a in agents.values()]
    rates = [a["steps"] / a["elapsed_s"] for a in agents.values() if a["state"] == "training" and a["steps"]
             and a["elapsed_s"] > 0]
    left_steps = sum(max(0, a["total"] - a["steps"]) for a in agents.values() if a["state"] != "done")
    busy = min(processes, sum(1 for a in agents.values() if a["state"] != "done")) or 1
    remaining = left_steps / (sum(rates) / len(rates) * busy) if rates else None
    return sum(fractions) / len(fractions), remaining


def progress_outputs(progress: jobs.JobProgress, names, memory: dict | None = None) -> tuple:
    """The 13 progress outputs (4 bar values, 4 bar labels, 4 detail lines, status line) for a progress report.

    `memory` keeps the last per-personality state across reports that carry none (queued, done, ...).
    """
    memory = {} if memory is None else memory
    agents = getattr(progress, "agents", None) or (progress.get("agents") if isinstance(progress, dict) else None)
    if agents:
        memory.update(agents)
    state = progress.get("state") if isinstance(progress, dict) else progress.state
    detail = progress.get("detail", "") if isinstance(progress, dict) else progress.detail
    lines = []
    for name in PERSONALITIES:
        if name not in names:
            lines.append(agent_line(None))
        elif state == "queued":
            lines.append((0, "", "queued"))
        elif state == "done":
            agent = {**memory.get(name, {"steps": 0, "total": 1, "elapsed_s": 0}), "state": "done"}
            lines.append(agent_line(agent))
        elif state in ("failed", "cancelled"):
            lines.append((0, "", state))
        else:
            lines.append(agent_line(memory.get(name, {"state": "waiting"})))
    values, labels, details = zip(*lines, strict=True)
    return (*values, *labels, *details, detail)


def status_line(what: str, agents: dict, elapsed: float) -> str:
    fraction, left = overall(agents)
    tail = f" · about {_duration(left)} left" if left is not None else ""
    return f"Training on {what}: {fraction:.0%} · {_duration(elapsed)} elapsed{tail}"


def train_work(request: dict, csv_text: str | None, settings):
    """The job body: load the data, train the run (core.runs.train_run), report every personality."""
    from core.runs import train_run
    from core.training import TrainingCancelled

    names = request["personalities"]

    def work(handle: jobs.JobHandle) -> dict:
        agents = {n: {"personality": n, "total": request["timesteps"], "steps": 0, "state": "waiting",
                      "mean_reward": None, "elapsed_s": 0.0, "remaining_s": None} for n in names}
        started = time.monotonic()

        def send(line: str, force: bool = False) -> None:
            handle.report(TrainProgress(fraction=overall(agents)[0], label="training", detail=line,
                                        agents={k: dict(v) for k, v in agents.items()}), force=force)

        send("Loading the data…", force=True)
        frame, provenance = load_training_frame(request, csv_text, settings.live_data)
        what = f"{provenance.ticker} ({provenance.label})"
        count = f"{len(names)} personalit{'y' if len(names) == 1 else 'ies'}"
        send(f"Starting {count} on {what}, {min(PROCESSES, len(names))} at a time…", force=True)

        def report(agent) -> None:
            agents[agent.personality] = agent.to_dict()
            send(status_line(what, agents, time.monotonic() - started),
                 force=agent.state != "training" or not agent.steps)

        try:
            info = train_run(settings.runs_dir, handle.session, frame=frame, provenance=provenance,
                             timesteps=request["timesteps"], seed=request["seed"], personalities=names,
                             processes=PROCESSES, report=report, cancel=handle.should_cancel,
                             max_runs=settings.max_runs, **TRAIN_OVERRIDES)
        except TrainingCancelled:
            raise jobs.JobCancelled() from None
        return {"token": handle.status.token, "run": info.to_dict()}

    return work


# ----------------------------------------------------------------------------------------------------
# runs


def runs_outputs(session, result, current, settings, triggered) -> tuple:
    """(runs grid rows, picker options, picked run id) for the session."""
    try:
        runs = service.session_runs(settings.runs_dir, session) if session else []
    except ValueError:
        runs = []
    options = [{"label": r.label, "value": r.run_id} for r in runs]
    known = {r.run_id for r in runs}
    fresh = (result or {}).get("run", {}).get("run_id") if triggered == ids.TR_RESULT else None
    pick = fresh if fresh in known else current if current in known else (runs[0].run_id if runs else None)
    return page.run_rows([r.to_dict() for r in runs]), options, pick


def run_outputs(run_id, session, settings) -> tuple:
    """(run card, metric rows, battle link href, battle link class) of the picked run."""
    from core.runs import RunError, run_card

    disabled = "btn btn-outline-info btn-sm disabled"
    if not run_id:
        return no_update, [], "/arena", disabled
    try:
        card = run_card(settings.runs_dir, run_id, session)
    except RunError as exc:
        return error_alert(str(exc), "warning"), [], "/arena", disabled
    return page.run_info(card), page.metric_rows(card), page.battle_href(card["run"]), "btn btn-info btn-sm"


def register(app, settings) -> None:
    board = jobs.job_board(settings)
    bar_values = [Output(f"{ids.TR_BAR}{n}", "value") for n in PERSONALITIES]
    bar_labels = [Output(f"{ids.TR_BAR}{n}", "label") for n in PERSONALITIES]
    details = [Output(f"{ids.TR_DETAIL}{n}", "children") for n in PERSONALITIES]

    def dup(outputs):
        return [Output(o.component_id, o.component_property, allow_duplicate=True) for o in outputs]

    @app.callback(
        Output(ids.TR_RESULT, "data"),
        Output(ids.TR_ALERT, "children"),
        Input(ids.TR_RUN, "n_clicks"),
        State(ids.SESSION, "data"),
        State(ids.TR_SOURCE, "value"),
        State(ids.TR_TICKER, "value"),
        State(ids.TR_CUSTOM, "value"),
        State(ids.TR_UPLOAD_STORE, "data"),
        State(ids.TR_STEPS, "value"),
        State(ids.TR_SEED, "value"),
        State(ids.TR_PERSONALITIES, "value"),
        background=True,
        progress=[*bar_values, *bar_labels, *details, Output(ids.TR_STATUS, "children")],
        running=[(Output(ids.TR_RUN, "disabled"), True, False),
                 (Output(ids.TR_CANCEL, "disabled"), False, True)],
        cancel=[Input(ids.TR_CANCEL, "n_clicks")],
        prevent_initial_call=True,
        interval=500,
        on_error=job_error_handler(2, 1, "training the agents", ids.TR_STATUS),
    )
    def _run(set_progress, _clicks, session, source, ticker, custom, upload, steps, seed, personalities):
        # The session id is an argument, hence part of Dash's job cache key (STACK.md pitfall 3).
        names, memory = list(personalities or []), {}
        try:
            request = train_request(source, ticker, custom, upload, steps, seed, personalities)
            names = request["personalities"]
            state, value = jobs.run_job(
                board, session=session, kind=KIND, request=request,
                set_progress=lambda p: set_progress(progress_outputs(p, names, memory)),
                work=train_work(request, (upload or {}).get("csv"), settings))
        except Exception as exc:  # noqa: BLE001 - bad input or bug: an alert, never a trace
            return failed(exc, 2, 1, "starting the training")
        if state == "done":
            return value, (error_alert(REUSED, "info") if value["run"].get("reused") else None)
        set_progress(progress_outputs(jobs.JobProgress(0.0, state, value, state=state), names))
        return no_update, error_alert(value, "warning" if state == "cancelled" else "danger")

    @app.callback(
        Output(ids.TR_POLL, "disabled"),
        *dup(bar_values), *dup(bar_labels), *dup(details),
        Output(ids.TR_STATUS, "children", allow_duplicate=True),
        Output(ids.TR_RESULT, "data", allow_duplicate=True),
        Output(ids.TR_ALERT, "children", allow_duplicate=True),
        Output(ids.TR_RUN, "disabled", allow_duplicate=True),
        Output(ids.TR_CANCEL, "disabled", allow_duplicate=True),
        Input(ids.TR_POLL, "n_intervals"),
        Input(ids.SESSION, "data"),
        State(ids.TR_RESULT, "data"),
        prevent_initial_call="initial_duplicate",
    )
    def _poll(n_intervals, session, shown):
        # Runs once when the page opens (and then only while re-attached to a job started earlier).
        try:
            status = board.status(session, KIND)
            return poll_outputs(status, first_call=not n_intervals, shown=shown)
        except Exception as exc:  # noqa: BLE001
            unexpected_error_alert(exc, "checking your training job")
            return (True,) + (no_update,) * 17

    @app.callback(
        *dup(bar_values), *dup(bar_labels), *dup(details),
        Output(ids.TR_STATUS, "children", allow_duplicate=True),
        Input(ids.TR_CANCEL, "n_clicks"),
        State(ids.SESSION, "data"),
        prevent_initial_call=True,
    )
    def _cancel(_clicks, session):
        return cancel_job(board, session)

    @app.callback(
        Output(ids.TR_UPLOAD_STORE, "data"),
        Output(ids.TR_SOURCE_LINE, "children", allow_duplicate=True),
        Output(ids.TR_ALERT, "children", allow_duplicate=True),
        Output(ids.TR_SOURCE, "value", allow_duplicate=True),
        Input(ids.TR_UPLOAD, "contents"),
        State(ids.TR_UPLOAD, "filename"),
        prevent_initial_call=True,
    )
    def _upload(contents, filename):
        return upload_outputs(contents, filename, settings.max_upload_mb)

    @app.callback(
        Output(ids.TR_SOURCE, "value"),
        Input(ids.TR_TICKER, "value"),
        Input(ids.TR_CUSTOM, "value"),
        prevent_initial_call=True,
    )
    def _follow_choice(_ticker, custom):
        if ctx.triggered_id == ids.TR_CUSTOM:
            return "ticker" if (custom or "").strip() else no_update
        return "bundled"

    @app.callback(
        Output(ids.TR_SOURCE_LINE, "children"),
        Input(ids.TR_SOURCE, "value"),
        Input(ids.TR_TICKER, "value"),
        Input(ids.TR_CUSTOM, "value"),
        Input(ids.TR_UPLOAD_STORE, "data"),
    )
    def _source_line(source, ticker, custom, upload):
        try:
            return source_line(source, ticker, custom, upload)
        except Exception as exc:  # noqa: BLE001
            unexpected_error_alert(exc, "describing the training data")
            return ""

    @app.callback(
        Output(ids.TR_RUNS, "rowData"),
        Output(ids.TR_RUN_PICK, "options"),
        Output(ids.TR_RUN_PICK, "value"),
        Input(ids.SESSION, "data"),
        Input(ids.TR_RESULT, "data"),
        Input(ids.TR_RUN, "disabled"),  # a job ended (or was cancelled): list again, which sweeps its leftovers
        State(ids.TR_RUN_PICK, "value"),
    )
    def _runs(session, result, _running, current):
        try:
            return runs_outputs(session, result, current, settings, ctx.triggered_id)
        except Exception as exc:  # noqa: BLE001
            unexpected_error_alert(exc, "listing your runs")
            return no_update, no_update, no_update

    @app.callback(
        Output(ids.TR_RUN_INFO, "children"),
        Output(ids.TR_METRICS, "rowData"),
        Output(ids.TR_BATTLE_LINK, "href"),
        Output(ids.TR_BATTLE_LINK, "className"),
        Input(ids.TR_RUN_PICK, "value"),
        State(ids.SESSION, "data"),
    )
    def _show_run(run_id, session):
        try:
            return run_outputs(run_id, session, settings)
        except Exception as exc:  # noqa: BLE001
            return unexpected_error_alert(exc, "reading the run's model card"), [], "/arena", no_update


def poll_outputs(status, *, first_call: bool, shown: dict | None) -> tuple:
    """The poll's 18 outputs: poll disabled, 13 progress outputs, result, alert, run/cancel disabled."""
    view = reattach(status, first_call=first_call, shown_token=(shown or {}).get("token"))
    alert = error_alert(view.alert, "warning") if view.alert else no_update
    tail = (view.result, alert, view.run_disabled, view.cancel_disabled)
    if status is None:
        return (view.poll_disabled,) + (no_update,) * 13 + tail
    names = list(status.request.get("personalities", []))
    if status.active:
        bars = progress_outputs(status.progress or {"state": "running", "detail": "Starting…"}, names)
        return (view.poll_disabled, *bars[:-1], view.status) + tail
    if status.state == "done":
        agents = (status.result_ref or {}).get("run", {}).get("agents", {})
        memory = {n: {"steps": a.get("timesteps", 0), "total": a.get("timesteps", 1),
                      "elapsed_s": a.get("wall_time_s", 0)} for n, a in agents.items()}
        bars = progress_outputs({"state": "done", "detail": ""}, names, memory)
        return (view.poll_disabled, *bars[:-1], view.status) + tail
    if first_call:  # an old failure or cancel: say nothing, leave the page idle
        return (view.poll_disabled,) + (no_update,) * 13 + tail
    bars = progress_outputs({"state": status.state, "detail": ""}, names)
    return (view.poll_disabled, *bars[:-1], view.status) + tail


def cancel_job(board: jobs.JobBoard, session) -> tuple:
    """Stop the session's training job; the 13 progress outputs say so. Dash kills a job this page started
    itself (cancel= above, with its spawned training processes); a job the page re-attached to stops through
    the board's cancel flag. The job book says "cancelled" at once (no wait for a killed job's lease)."""
    status = board.status(session, KIND)
    if status is None or not status.active:
        return (no_update,) * 13
    board.request_cancel(status.token)
    status.state, status.message = "cancelled", "Cancelled: nothing was kept."
    board.record(session, status)
    return progress_outputs({"state": "cancelled", "detail": "Cancelled: the training stopped and nothing was kept."},
                            status.request.get("personalities", []))
