"""Progress and cancel plumbing of a forecast run: the `ForecastProgress` payload a client receives and
the `Reporter` that run_forecast drives (non-decreasing fractions, a cancel check on every report)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass

from core.forecast.config import ForecastCancelled

STAGES: tuple[str, ...] = ("prepare", "backtest-fit", "calibrate", "backtest", "final-fit", "save", "done")


@dataclass(frozen=True)
class ForecastProgress:
    """What `progress` receives: when a stage starts (epoch None) and after every training epoch."""

    stage: str
    """One of STAGES: "prepare" | "backtest-fit" | "calibrate" | "backtest" | "final-fit" | "save" | "done"."""
    fraction: float
    """Share of the whole run done, 0..1, never decreasing."""
    message: str
    """One human line, e.g. "backtest fit: epoch 3/20, val loss 0.00291"."""
    epoch: int | None = None
    """The epoch just finished (fit stages only)."""
    epochs: int | None = None
    """Epochs planned for this fit (the most, for the early-stopped backtest fit)."""
    val_loss: float | None = None
    """Validation loss (MSE on scaled returns) of the backtest fit; None in the final fit."""

    def to_dict(self) -> dict:
        return asdict(self)


ProgressFn = Callable[[ForecastProgress], None]
CancelFn = Callable[[], bool]


class Reporter:
    """Sends ForecastProgress payloads to the client's hook and checks its cancel hook on every report."""

    def __init__(self, progress: ProgressFn | None, should_cancel: CancelFn | None) -> None:
        self.progress, self.should_cancel, self.done = progress, should_cancel, 0.0

    def __call__(self, stage: str, fraction: float, message: str, **epoch) -> None:
        self.check()
        self.done = max(self.done, min(fraction, 1.0))
        if self.progress is not None:
            self.progress(ForecastProgress(stage, self.done, message, **epoch))

    def check(self) -> None:
        """ForecastCancelled when the client asked to cancel."""
        if self.should_cancel is not None and self.should_cancel():
            raise ForecastCancelled("forecast cancelled")

    def epochs(self, stage: str, label: str, lo: float, hi: float):
        """An on_epoch hook for lstm.fit_lstm that maps epoch/epochs onto the fractions [lo, hi]."""

        def on_epoch(epoch: int, epochs: int, val_loss: float | None) -> None:
            loss = "" if val_loss is None else f", val loss {val_loss:.5f}"
            self(stage, lo + (hi - lo) * epoch / epochs, f"{label}: epoch {epoch}/{epochs}{loss}",
                 epoch=epoch, epochs=epochs, val_loss=val_loss)

        return on_epoch
