"""Glue between a page and the job framework (app.jobs): the progress outputs every job page shows, and
the poll that re-attaches a page to its session's running job after the user navigated away and back."""

from __future__ import annotations

from dataclasses import dataclass

from dash import no_update, set_props

from app.jobs import JOB_LOST, JobProgress, JobStatus, queue_unreachable
from callbacks import error_alert, unexpected_error_alert

QUEUE_DOWN = ("The job queue (Redis) cannot be reached. Your job may still finish: come back to this page in a "
              "minute, or try again.")


def job_error_handler(n_outputs: int, alert_at: int, what: str, status_id: str | None = None):
    """`on_error=` for a job page's background callback.

    The callback body turns every failure of the job itself into an alert (run_job); what is left reaches
    this handler: a job whose worker died (Celery mode, app.jobs.JOB_LOST) or a job queue (Redis) that
    cannot be reached. Either ends as an alert at output `alert_at` (and a status line that says so), never
    a server error, never a page that polls forever.
    """

    def handler(exc: Exception):
        if JOB_LOST in str(exc):
            line, alert = JOB_LOST, error_alert(JOB_LOST)
        elif queue_unreachable(exc):
            line, alert = QUEUE_DOWN, error_alert(QUEUE_DOWN, "warning")
        else:
            line, alert = "Failed.", unexpected_error_alert(exc, what)
        if status_id:
            set_props(status_id, {"children": line})
        out = [no_update] * n_outputs
        out[alert_at] = alert
        return tuple(out)

    return handler


def progress_values(progress: JobProgress) -> tuple:
    """(bar value, bar label, status line) for a JobProgress."""
    pct = progress.percent()
    label = "queued" if progress.state == "queued" else f"{pct}%"
    return pct, label, progress.detail


@dataclass
class Reattach:
    """What a page's poll shows for its session's latest job of one kind.

    Fields are Dash outputs (or no_update): poll_disabled, bar value, bar label, status line, result,
    alert message (a str or None), run_disabled, cancel_disabled.
    """

    poll_disabled: object
    value: object
    label: object
    status: object
    result: object
    alert: object
    run_disabled: object
    cancel_disabled: object

    def outputs(self) -> tuple:
        return (self.poll_disabled, self.value, self.label, self.status, self.result, self.alert,
                self.run_disabled, self.cancel_disabled)


def reattach(status: JobStatus | None, *, first_call: bool, shown_token: str | None) -> Reattach:
    """Decide what the page shows for `status`.

    :param status: the job book's entry for this session and kind (None: never ran a job here).
    :param first_call: the page has just been opened (the poll's first tick).
    :param shown_token: the token of the result already on screen (so it is not sent twice).
    """
    keep = no_update
    if status is None:
        return Reattach(True, keep, keep, keep, keep, None, keep, keep)
    if status.active:
        progress = JobProgress(**{k: v for k, v in status.progress.items() if k in JobProgress.__dataclass_fields__})
        value, label, line = progress_values(progress) if status.progress else (0, "", "Starting...")
        return Reattach(False, value, label, line, keep, None, True, False)
    if status.state == "done":
        result = status.result_ref if status.result_ref and shown_token != status.token else keep
        line = "Done." if first_call else "Done: the result below is your last run."
        return Reattach(True, 100, "100%", line, result, None, False, True)
    # failed or cancelled: say so only if the user was watching it, not on every later page visit
    message = status.message if not first_call else None
    return Reattach(True, 0, "", status.message if not first_call else keep, keep, message, False, True)
