"""The forecast cache on disk: one folder per (data sha256, config, name, calendar), JSON and a state_dict,
never a pickle.

    <cache_dir>/<key>/result.json   ForecastResult.to_json() (read back with ForecastResult.from_json)
    <cache_dir>/<key>/card.json     the model card: config, data sha256, scaler bounds, epochs, metrics,
                                    library versions, wall time
    <cache_dir>/<key>/model.pt      the final LSTM's state_dict (torch.save; loaded with weights_only=True)

key = the first 32 hex digits of sha256(JSON of {format, data sha256, config, name shown, calendar}).
The cache directory is created with mode 0o700 (it is trusted input later; keep it the app user's own).
A run writes into a temporary folder beside the target and renames it into place only when complete, so
a cancelled or failed run leaves no half-written entry. The cache directory must come from the
application's configuration, never from a user.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import uuid
from collections.abc import Callable
from pathlib import Path

from core.forecast.config import ForecastConfig
from core.forecast.result import FORMAT_VERSION, ForecastResult

RESULT_FILE, CARD_FILE, MODEL_FILE = "result.json", "card.json", "model.pt"


def default_cache_dir() -> Path:
    """<data cache>/forecast: core.data.DEFAULT_CACHE_DIR (read at call time, so tests can redirect it)."""
    import core.data

    return Path(core.data.DEFAULT_CACHE_DIR) / "forecast"


def cache_key(data_sha256: str, config: ForecastConfig, ticker: str = "", every_day: bool = False) -> str:
    """Folder name of a run's cache entry: the data and the config, plus the name shown and the calendar
    (the same file forecast as "AAPL" and as "my.csv" differ in both)."""
    text = json.dumps(
        {"format": FORMAT_VERSION, "data": data_sha256, "config": config.to_dict(), "ticker": ticker,
         "every_day": bool(every_day)},
        sort_keys=True,
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def result_key(result: ForecastResult) -> str:
    """The cache key of a result (where run_forecast saved it)."""
    return cache_key(result.data_sha256, result.config, result.ticker, result.every_day)


STALE_SECONDS = 3600


def _remove_stale_temporaries(root: Path) -> None:
    """A job killed while writing (Cancel kills the process) leaves its `.tmp-*` folder: never read, and
    removed here once it is an hour old (a younger one may belong to a run still writing)."""
    import time

    for tmp in root.glob(".tmp-*"):
        try:
            if time.time() - tmp.stat().st_mtime > STALE_SECONDS:
                shutil.rmtree(tmp, ignore_errors=True)
        except OSError:
            pass


def _private_dir(folder: Path) -> None:
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        os.chmod(folder, 0o700)
    except OSError:
        pass


def load_cached(cache_dir: str | Path, key: str, data_sha256: str, config: ForecastConfig) -> ForecastResult | None:
    """The cached result under `key` if it is for this data and config, marked from_cache; else None."""
    path = Path(cache_dir) / key / RESULT_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        result = ForecastResult.from_json(data)
    except (OSError, ValueError, KeyError, TypeError):
        return None  # absent or damaged: recompute (the new run replaces it only when complete)
    if result.data_sha256 != data_sha256 or result.config != config:
        return None
    return result.cached_copy()


def save_run(
    cache_dir: str | Path,
    key: str,
    result: ForecastResult,
    card: dict,
    write_model: Callable[[Path], None],
    before_publish: Callable[[], None] | None = None,
) -> Path:
    """Write result.json, card.json and model.pt atomically into <cache_dir>/<key>; returns that folder.

    `write_model(path)` writes the state_dict. `before_publish()` runs when every file is written, just
    before the rename (run_forecast checks for a cancel there and reports "done"); if it raises, the
    temporary folder is removed and nothing is published.
    """
    root = Path(cache_dir)
    _private_dir(root)
    _remove_stale_temporaries(root)
    target = root / key
    tmp = root / f".tmp-{target.name}-{uuid.uuid4().hex[:8]}"
    try:
        tmp.mkdir(mode=0o700)
        write_model(tmp / MODEL_FILE)
        (tmp / CARD_FILE).write_text(json.dumps(card, indent=2, allow_nan=False) + "\n", encoding="utf-8")
        (tmp / RESULT_FILE).write_text(json.dumps(result.to_json(), allow_nan=False) + "\n", encoding="utf-8")
        if before_publish is not None:
            before_publish()
        if target.exists():
            shutil.rmtree(target, ignore_errors=True)  # an older or damaged entry for the same key
        try:
            os.rename(tmp, target)
        except OSError:
            if not (target / RESULT_FILE).is_file():
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def load_card(cache_dir: str | Path, key: str) -> dict:
    """The model card of the run cached under `key` (FileNotFoundError when there is none)."""
    return json.loads((Path(cache_dir) / key / CARD_FILE).read_text(encoding="utf-8"))


def load_final_model(cache_dir: str | Path, key: str):
    """The final LSTM of the run cached under `key` (a core.forecast.lstm.FittedLSTM; imports torch)."""
    from core.forecast.lstm import load_fitted

    card = load_card(cache_dir, key)
    config = ForecastConfig.from_dict(card["config"])
    return load_fitted(Path(cache_dir) / key / MODEL_FILE, config, card["final_model"]["scaler"])
