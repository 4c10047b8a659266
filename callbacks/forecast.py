"""Forecast page callbacks: the forecast runs as a background job (bounded, per session, cancellable);
the page re-attaches to it after navigation; the result is drawn from its JSON (no torch in this process)."""

from __future__ import annotations

from dash import Input, Output, State, ctx, no_update

from app import jobs
from callbacks import error_alert, failed, unexpected_error_alert
from callbacks.jobs import job_error_handler, progress_values, reattach
from core import service
from layouts import grid, ids
from layouts.forecast import HORIZON_MAX, HORIZON_MIN
from layouts.forecast_view import TABLE_COLUMNS, forecast_view, table_rows

KIND = "forecast"
EFFORT_OVERRIDES = {"quick": {"epochs": 10, "patience": 3}, "standard": {}, "thorough": {"epochs": 80, "patience": 10}}
"""The page's "training effort" choice -> ForecastConfig fields (bounded: users never type epochs)."""


def forecast_request(ticker, upload, horizon, effort, seed) -> dict:
    """Validate the page's inputs into a job request (raises ValueError with a message for the page)."""
    from core.forecast import ForecastConfig

    try:
        steps = int(horizon)
    except (TypeError, ValueError):
        raise ValueError(f"The horizon must be a whole number of bars from {HORIZON_MIN} to {HORIZON_MAX}.") from None
    if not HORIZON_MIN <= steps <= HORIZON_MAX:
        raise ValueError(f"The horizon must be from {HORIZON_MIN} to {HORIZON_MAX} bars, got {steps}.")
    try:
        seed = int(seed if seed is not None else 0)
    except (TypeError, ValueError):
        raise ValueError("The seed must be a whole number from 0 to 9999.") from None
    if not 0 <= seed <= 9999:
        raise ValueError("The seed must be a whole number from 0 to 9999.")
    if effort not in EFFORT_OVERRIDES:
        raise ValueError(f"Training effort must be one of {', '.join(EFFORT_OVERRIDES)}.")
    config = ForecastConfig(**{**ForecastConfig().to_dict(), "horizon": steps, "seed": seed,
                               **EFFORT_OVERRIDES[effort]})
    if upload and upload.get("name"):
        return {"source": "file", "name": upload["name"], "config": config.to_dict()}
    return {"source": "ticker", "ticker": (ticker or "AAPL").strip().upper(), "config": config.to_dict()}


def load_frame(request: dict, csv_text: str | None, live: bool):
    """(OHLCV frame, provenance) for a request: the uploaded file, or the ticker's data chain."""
    if request["source"] == "file":
        if not csv_text:
            raise ValueError("The uploaded file is no longer available; upload it again.")
        data = service.load_market_csv(csv_text.encode("utf-8"), request["name"])
    else:
        data = service.load_market(request["ticker"], live=live)
    frame = data.frame[["date", "open", "high", "low", "close", "volume"]]
    return frame, data.provenance


def forecast_work(request: dict, csv_text: str | None, settings):
    """The job body: load the data, run core.forecast with progress and cancel; JSON-safe result."""
    from core.forecast import ForecastCancelled, ForecastConfig, run_forecast

    def work(handle: jobs.JobHandle) -> dict:
        frame, provenance = load_frame(request, csv_text, settings.live_data)

        def progress(p) -> None:
            handle.report(jobs.JobProgress(fraction=float(p.fraction), label=p.stage, detail=p.message))

        try:
            result = run_forecast(frame, provenance=provenance, ticker=provenance.ticker,
                                  config=ForecastConfig.from_dict(request["config"]),
                                  cache_dir=forecast_cache_dir(settings), progress=progress,
                                  should_cancel=handle.should_cancel)
        except ForecastCancelled:
            raise jobs.JobCancelled() from None
        return {"token": handle.status.token, "forecast": result.to_json()}

    return work


def forecast_cache_dir(settings):
    return jobs.job_cache_dir(settings) / "forecasts"


def decode_csv(contents: str, filename: str | None, max_mb: int) -> str:
    from callbacks.market import decode_upload

    raw = decode_upload(contents, filename, max_mb)
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValueError(f"{filename or 'The file'} is not UTF-8 text; save it as a UTF-8 CSV.") from None


def upload_outputs(contents, filename, max_mb):
    """(upload store, source line, alert) after a CSV upload; validated at once so a bad file never
    reaches a job."""
    if not contents:
        return no_update, no_update, no_update
    try:
        text = decode_csv(contents, filename, max_mb)
        data = service.load_market_csv(text.encode("utf-8"), filename or "upload.csv")
    except Exception as exc:  # noqa: BLE001
        return failed(exc, 3, 2, "reading the uploaded file")
    line = f"Using {filename}: {len(data.frame):,} bars, {data.provenance.start} to {data.provenance.end}."
    return {"name": filename or "upload.csv", "csv": text}, line, None


def export_table(which: str, result: dict | None, rows: list | None, column_state: list | None):
    """The backtest table exactly as shown (the grid's filter and sort), with what it is in the file."""
    if not result:
        return no_update
    fc = result["forecast"]
    bt = fc["backtest"]
    meta = {"ticker": fc["ticker"], "sample": "out-of-sample (rolling-origin backtest)",
            "backtest": f"{bt.get('start')}..{bt.get('end')}", "origins": fc["config"]["backtest_origins"],
            "horizon": fc["config"]["horizon"], "data_sha256": fc["data_sha256"]}
    name = grid.safe_file_stem("forecast_backtest", fc["ticker"], f"h{fc['config']['horizon']}",
                               f"seed{fc['config']['seed']}")
    return grid.export_download("xlsx" if which == ids.FC_XLSX else "csv", rows if rows is not None else
                                table_rows(fc), TABLE_COLUMNS, column_state, meta=meta, name=name)


def register(app, settings) -> None:
    board = jobs.job_board(settings)

    @app.callback(
        Output(ids.FC_RESULT, "data"),
        Output(ids.FC_ALERT, "children"),
        Input(ids.FC_RUN, "n_clicks"),
        State(ids.SESSION, "data"),
        State(ids.FC_TICKER, "value"),
        State(ids.FC_UPLOAD_STORE, "data"),
        State(ids.FC_HORIZON, "value"),
        State(ids.FC_EFFORT, "value"),
        State(ids.FC_SEED, "value"),
        background=True,
        progress=[Output(ids.FC_PROGRESS, "value"), Output(ids.FC_PROGRESS, "label"),
                  Output(ids.FC_STATUS, "children")],
        running=[(Output(ids.FC_RUN, "disabled"), True, False),
                 (Output(ids.FC_CANCEL, "disabled"), False, True)],
        cancel=[Input(ids.FC_CANCEL, "n_clicks")],
        prevent_initial_call=True,
        interval=500,
        on_error=job_error_handler(2, 1, "running the forecast", ids.FC_STATUS),
    )
    def _run(set_progress, _clicks, session, ticker, upload, horizon, effort, seed):
        # The session id is an argument, hence part of Dash's job cache key: same inputs in two
        # sessions -> two jobs (STACK.md pitfall 3).
        try:
            request = forecast_request(ticker, upload, horizon, effort, seed)
            state, value = jobs.run_job(
                board, session=session, kind=KIND, request=request,
                set_progress=lambda p: set_progress(progress_values(p)),
                work=forecast_work(request, (upload or {}).get("csv"), settings))
        except Exception as exc:  # noqa: BLE001 - bad input or bug: an alert, never a trace
            return failed(exc, 2, 1, "starting the forecast")
        if state == "done":
            return value, None
        set_progress((0, "", value))
        return no_update, error_alert(value, "warning" if state == "cancelled" else "danger")

    @app.callback(
        Output(ids.FC_POLL, "disabled"),
        Output(ids.FC_PROGRESS, "value", allow_duplicate=True),
        Output(ids.FC_PROGRESS, "label", allow_duplicate=True),
        Output(ids.FC_STATUS, "children", allow_duplicate=True),
        Output(ids.FC_RESULT, "data", allow_duplicate=True),
        Output(ids.FC_ALERT, "children", allow_duplicate=True),
        Output(ids.FC_RUN, "disabled", allow_duplicate=True),
        Output(ids.FC_CANCEL, "disabled", allow_duplicate=True),
        Input(ids.FC_POLL, "n_intervals"),
        Input(ids.SESSION, "data"),
        State(ids.FC_RESULT, "data"),
        prevent_initial_call="initial_duplicate",
    )
    def _poll(n_intervals, session, shown):
        # Runs once when the page opens (and then only while re-attached to a job started earlier).
        try:
            view = reattach(board.status(session, KIND), first_call=not n_intervals,
                            shown_token=(shown or {}).get("token"))
        except Exception as exc:  # noqa: BLE001
            unexpected_error_alert(exc, "checking your forecast job")
            return (True,) + (no_update,) * 7
        out = list(view.outputs())
        out[5] = error_alert(view.alert, "warning") if view.alert else no_update
        return tuple(out)

    @app.callback(
        Output(ids.FC_STATUS, "children", allow_duplicate=True),
        Output(ids.FC_POLL, "disabled", allow_duplicate=True),
        Input(ids.FC_CANCEL, "n_clicks"),
        State(ids.SESSION, "data"),
        prevent_initial_call=True,
    )
    def _cancel(_clicks, session):
        # Dash kills the job it started from this page itself (cancel= above); a job the page
        # re-attached to after navigation is stopped through the board's cancel flag. Either way the
        # poll then reads the job book until it says "cancelled", and the page says so.
        status = board.status(session, KIND)
        if status is not None and status.active:
            board.request_cancel(status.token)
            return "Cancelling...", False
        return no_update, no_update

    @app.callback(
        Output(ids.FC_UPLOAD_STORE, "data"),
        Output(ids.FC_SOURCE, "children"),
        Output(ids.FC_ALERT, "children", allow_duplicate=True),
        Input(ids.FC_UPLOAD, "contents"),
        State(ids.FC_UPLOAD, "filename"),
        prevent_initial_call=True,
    )
    def _upload(contents, filename):
        return upload_outputs(contents, filename, settings.max_upload_mb)

    @app.callback(
        Output(ids.FC_UPLOAD_STORE, "data", allow_duplicate=True),
        Output(ids.FC_SOURCE, "children", allow_duplicate=True),
        Input(ids.FC_TICKER, "value"),
        prevent_initial_call=True,
    )
    def _ticker_clears_upload(_ticker):
        return None, ""

    @app.callback(
        Output(ids.FC_SAMPLE_TAG, "children"),
        Output(ids.FC_VERDICT, "children"),
        Output(ids.FC_KPIS, "children"),
        Output(ids.FC_CHART, "figure"),
        Output(ids.FC_BACKTEST_CHART, "figure"),
        Output(ids.FC_TABLE, "rowData"),
        Output(ids.FC_CARD, "children"),
        Input(ids.FC_RESULT, "data"),
        prevent_initial_call=True,
    )
    def _render(result):
        if not result:
            return (no_update,) * 7
        try:
            return forecast_view(result["forecast"])
        except Exception as exc:  # noqa: BLE001
            alert = unexpected_error_alert(exc, "drawing the forecast")
            return (no_update, alert) + (no_update,) * 5

    @app.callback(
        Output(ids.FC_DOWNLOAD, "data"),
        Input(ids.FC_CSV, "n_clicks"),
        Input(ids.FC_XLSX, "n_clicks"),
        State(ids.FC_RESULT, "data"),
        State(ids.FC_TABLE, "virtualRowData"),
        State(ids.FC_TABLE, "columnState"),
        prevent_initial_call=True,
    )
    def _download(_csv, _xlsx, result, rows, column_state):
        try:
            return export_table(ctx.triggered_id, result, rows, column_state)
        except Exception as exc:  # noqa: BLE001
            unexpected_error_alert(exc, "preparing the forecast download")
            return no_update
