"""Glue between a page and the job framework (app.jobs): the progress outputs every job page shows, and
the poll that re-attaches a page to its session's running job after the user navigated away and back."""

from __future__ import annotations

from dataclasses import dataclass

from dash import no_update

from app.jobs import JobProgress, JobStatus


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
