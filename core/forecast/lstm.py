"""The LSTM forecaster (imports torch: only run.py / store.py load this module, inside the job).

Model: the last `window` min-max-scaled daily log returns (one feature per step; see windows.py for why
returns) -> an LSTM (`num_layers` x `hidden_size`) -> its last hidden state -> dropout -> one linear layer
that emits all `horizon` scaled log returns at once (direct multi-horizon output: one pass per forecast
and no feedback of the model's own errors, unlike a recursive one-step model). Loss: mean squared error
on the scaled returns; Adam.

Training (`fit_lstm`): the scaler is fit on the returns of the closes given (the training part only).
With validation, the last `val_fraction` of the windows (the END of the training part) are held out for
early stopping; the H-1 windows just before them are dropped (purged) so that no training target
overlaps a validation target. Training stops after `patience` epochs without a better validation loss
and keeps the best epoch's weights. Without validation (the final refit on all data) it runs a given
number of epochs. Deterministic on CPU: one thread and a fixed seed for the weights, dropout and batch
order (the CPU LSTM, linear and Adam kernels are deterministic with one thread; a test runs it twice).
`torch.use_deterministic_algorithms` is not called: it imports torch._inductor, 2 s of every job.
"""

from __future__ import annotations

import contextlib
import copy
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn

from core.forecast import windows
from core.forecast.config import ForecastCancelled, ForecastConfig

EpochFn = Callable[[int, int, float | None], None]
"""on_epoch(epoch, epochs, val_loss or None): called after every epoch."""


class ReturnLSTM(nn.Module):
    """LSTM over a window of scaled returns -> `horizon` scaled returns (direct output)."""

    def __init__(self, hidden_size: int, num_layers: int, dropout: float, horizon: int) -> None:
        super().__init__()
        self.lstm = nn.LSTM(
            input_size=1,
            hidden_size=hidden_size,
            num_layers=num_layers,
            dropout=dropout if num_layers > 1 else 0.0,
            batch_first=True,
        )
        self.drop = nn.Dropout(dropout)
        self.head = nn.Linear(hidden_size, horizon)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: (batch, window, 1)
        out, _ = self.lstm(x)
        return self.head(self.drop(out[:, -1, :]))


def build_module(config: ForecastConfig) -> ReturnLSTM:
    return ReturnLSTM(config.hidden_size, config.num_layers, config.dropout, config.horizon)


@contextlib.contextmanager
def deterministic(seed: int):
    """One torch thread (STACK.md pitfall 2) and a fixed seed while inside."""
    torch.set_num_threads(1)
    torch.manual_seed(seed)
    yield


@dataclass
class FittedLSTM:
    """A trained network with the scaler of its training data and how training went."""

    module: ReturnLSTM
    scaler: object
    """sklearn MinMaxScaler fit on the training returns only."""
    config: ForecastConfig
    epochs_run: int = 0
    best_epoch: int = 0
    best_val_loss: float | None = None
    val_losses: list[float] = field(default_factory=list)
    train_windows: int = 0
    val_windows: int = 0

    def predict(self, close, origins) -> np.ndarray:
        """Price paths (len(origins), horizon) after each origin, from the `window` returns up to it."""
        c = np.asarray(close, dtype=float)
        w = self.config.window
        inputs = np.stack([windows.scale(self.scaler, windows.input_window(c, int(o), w)) for o in origins])
        self.module.eval()
        with torch.no_grad():
            out = self.module(torch.as_tensor(inputs, dtype=torch.float32)[:, :, None]).double().numpy()
        returns = windows.unscale(self.scaler, out)
        return np.stack([windows.price_path(c[int(o)], r) for o, r in zip(origins, returns, strict=True)])

    def card(self) -> dict:
        """The training facts for the model card (JSON-ready)."""
        return {
            "scaler": windows.scaler_bounds(self.scaler),
            "epochs_run": self.epochs_run,
            "best_epoch": self.best_epoch,
            "best_val_loss": self.best_val_loss,
            "val_losses": [round(v, 8) for v in self.val_losses],
            "train_windows": self.train_windows,
            "val_windows": self.val_windows,
        }


def fit_lstm(
    close,
    config: ForecastConfig,
    *,
    epochs: int | None = None,
    validate: bool = True,
    on_epoch: EpochFn | None = None,
    should_cancel: Callable[[], bool] | None = None,
) -> FittedLSTM:
    """Train on the given closes only (module docstring); ForecastCancelled when should_cancel() is True.

    Parameters
    ----------
    close: the training closes (nothing after the training end may be passed in).
    config: sizes, optimiser, seed, val_fraction and patience.
    epochs: epochs to run (default config.epochs; with validation: the most epochs).
    validate: hold out the end for early stopping (False: run all `epochs` on every window).
    on_epoch: progress hook called after every epoch.
    should_cancel: polled before every batch.
    """
    epochs = config.epochs if epochs is None else int(epochs)
    returns = windows.log_returns(close)
    scaler = windows.fit_scaler(returns)
    x_all, y_all = windows.make_windows(windows.scale(scaler, returns), config.window, config.horizon)
    m = len(x_all)
    n_val = max(1, math.ceil(config.val_fraction * m)) if validate else 0
    n_train = m - n_val - (config.horizon - 1) if validate else m
    if n_train < 1:
        raise ValueError(f"{len(returns) + 1} closes give too few training windows ({m})")
    with deterministic(config.seed):
        module = build_module(config)
        x = torch.as_tensor(x_all[:n_train], dtype=torch.float32)[:, :, None]
        y = torch.as_tensor(y_all[:n_train], dtype=torch.float32)
        x_val = torch.as_tensor(x_all[m - n_val :], dtype=torch.float32)[:, :, None]
        y_val = torch.as_tensor(y_all[m - n_val :], dtype=torch.float32)
        optimiser = torch.optim.Adam(module.parameters(), lr=config.learning_rate)
        generator = torch.Generator().manual_seed(config.seed)
        fitted = FittedLSTM(module, scaler, config, train_windows=n_train, val_windows=n_val)
        best_state, wait = None, 0
        for epoch in range(1, epochs + 1):
            module.train()
            order = torch.randperm(n_train, generator=generator)
            for start in range(0, n_train, config.batch_size):
                if should_cancel is not None and should_cancel():
                    raise ForecastCancelled("forecast cancelled")
                idx = order[start : start + config.batch_size]
                optimiser.zero_grad()
                loss = nn.functional.mse_loss(module(x[idx]), y[idx])
                loss.backward()
                optimiser.step()
            fitted.epochs_run = epoch
            val_loss = None
            if validate:
                module.eval()
                with torch.no_grad():
                    val_loss = float(nn.functional.mse_loss(module(x_val), y_val))
                fitted.val_losses.append(val_loss)
                if fitted.best_val_loss is None or val_loss < fitted.best_val_loss:
                    fitted.best_val_loss, fitted.best_epoch, wait = val_loss, epoch, 0
                    best_state = copy.deepcopy(module.state_dict())
                else:
                    wait += 1
            else:
                fitted.best_epoch = epoch
            if on_epoch is not None:
                on_epoch(epoch, epochs, val_loss)
            if validate and wait >= config.patience:
                break
        if best_state is not None:
            module.load_state_dict(best_state)
    module.eval()
    return fitted


def save_state(fitted: FittedLSTM, path: Path) -> None:
    """The network's weights only (a state_dict: tensors, no pickled code)."""
    torch.save(fitted.module.state_dict(), path)


def load_fitted(path: Path, config: ForecastConfig, bounds: dict) -> FittedLSTM:
    """A FittedLSTM from a saved state_dict (torch.load(weights_only=True)) and the card's scaler bounds."""
    module = build_module(config)
    module.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
    module.eval()
    scaler = windows.scaler_from_bounds(bounds["data_min"], bounds["data_max"])
    return FittedLSTM(module, scaler, config)
