"""Where market data lives on disk and how downloads are kept: `DATA_DIR` (the bundled snapshots),
`DEFAULT_CACHE_DIR` (downloaded copies), a private (0o700) folder helper, atomic writes (temp file +
os.replace, so readers never see half a file), and the cached copy's CSV + JSON sidecar (`_write_cache`,
`_cached_fetched_at`). Other modules read the two folders from the core.data package at call time."""

from __future__ import annotations

import datetime as dt
import json
import os
import tempfile
from pathlib import Path

import pandas as pd

from core.data.provenance import canonical_csv

DATA_DIR: Path = Path(__file__).resolve().parent.parent.parent / "data"
"""Where the bundled CSVs live."""
DEFAULT_CACHE_DIR: Path = Path(os.environ.get("NEON_DATA_CACHE_DIR") or DATA_DIR / "cache")
"""Downloaded copies (git-ignored; created with mode 0o700 on first write). Env NEON_DATA_CACHE_DIR
overrides it, e.g. for a read-only checkout."""


def _ensure_private_dir(folder: Path) -> None:
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        os.chmod(folder, 0o700)  # the cache is trusted input later: keep it the app user's own
    except OSError:
        pass


def _write_atomic(path: Path, text: str) -> None:
    """Write via a temp file in the same folder + os.replace: readers never see half a file."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _write_cache(
    cache_dir: Path, ticker: str, frame: pd.DataFrame, sha: str, fetched_at: dt.datetime
) -> None:
    _ensure_private_dir(cache_dir)
    _write_atomic(cache_dir / f"{ticker}.csv", canonical_csv(frame))
    meta = {
        "ticker": ticker,
        "fetched_at": fetched_at.isoformat(),
        "sha256": sha,
        "rows": len(frame),
        "start": frame["date"].iloc[0].date().isoformat(),
        "end": frame["date"].iloc[-1].date().isoformat(),
    }
    _write_atomic(cache_dir / f"{ticker}.json", json.dumps(meta, indent=2) + "\n")


def _cached_fetched_at(csv_path: Path, sha: str) -> dt.datetime:
    """The sidecar's fetched_at when it describes this very file, else the file's mtime."""
    try:
        meta = json.loads(csv_path.with_suffix(".json").read_text(encoding="utf-8"))
        if meta.get("sha256") == sha:
            stamp = dt.datetime.fromisoformat(meta["fetched_at"])
            return stamp if stamp.tzinfo else stamp.replace(tzinfo=dt.UTC)
    except (OSError, ValueError, KeyError, TypeError):
        pass
    return dt.datetime.fromtimestamp(csv_path.stat().st_mtime, tz=dt.UTC).replace(microsecond=0)
