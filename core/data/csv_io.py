"""Reading CSV files and uploads: separator and encoding detection, yfinance's three-line header,
the size limit, an in-process memo of parsed files keyed by (path, mtime, size) (`_read_path`,
`clear_memory_cache`), and the public `read_ohlcv_csv` for a user's file (Provenance source "file")."""

from __future__ import annotations

import io
import threading
from collections import OrderedDict
from pathlib import Path

import pandas as pd

from core.data.provenance import DataError, Provenance, _provenance, frame_sha256
from core.data.validate import MIN_ROWS, _check_min_rows, _check_rows, _validate

MAX_CSV_BYTES = 50_000_000
"""Larger CSVs are refused: a century of daily bars is about 2 MB."""


def _csv_text(data: bytes, name: str) -> str:
    if len(data) > MAX_CSV_BYTES:
        raise DataError(
            f"{name}: file too large ({len(data) / 1e6:.1f} MB; the limit is {MAX_CSV_BYTES / 1e6:.0f} MB)"
        )
    if b"\x00" in data[:8192]:
        raise DataError(f"{name}: not a text CSV file (binary content)")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("latin-1")  # the numbers and dates are ASCII either way


def _parse_csv(data: bytes, name: str) -> pd.DataFrame:
    """Raw CSV -> validated frame (no row-count check). Every cell is read as text, then converted."""
    text = _csv_text(data, name)
    header = text.lstrip().split("\n", 1)[0]
    sep = (
        ";"
        if header.count(";") > header.count(",")
        else "\t"
        if "\t" in header and "," not in header
        else ","
    )
    try:
        raw = pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False, skipinitialspace=True)
    except pd.errors.EmptyDataError as exc:
        raise DataError(f"{name}: the file is empty") from exc
    except (pd.errors.ParserError, ValueError) as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DataError(f"{name}: not a readable CSV ({first_line})") from exc
    if (
        len(raw) >= 2
        and str(raw.columns[0]).strip().lower() == "price"
        and str(raw.iloc[0, 0]).strip().lower() == "ticker"
        and str(raw.iloc[1, 0]).strip().lower() in ("date", "datetime")
    ):
        # a yfinance 1.x DataFrame.to_csv(): three header lines (Price / Ticker / Date)
        raw = raw.iloc[2:].rename(columns={raw.columns[0]: "date"})
    return _validate(raw, name)


_MEMO: OrderedDict[tuple, tuple[pd.DataFrame, str]] = OrderedDict()
_MEMO_LOCK = threading.Lock()
_MEMO_SIZE = 16


def clear_memory_cache() -> None:
    """Forget the in-process parsed-CSV cache (tests; after editing files in place within one mtime tick)."""
    with _MEMO_LOCK:
        _MEMO.clear()


def _read_path(path: Path, name: str) -> tuple[pd.DataFrame, str]:
    """(validated frame, sha256) of a CSV file, memoised by (path, mtime, size); returns a copy."""
    try:
        stat = path.stat()
    except FileNotFoundError as exc:
        raise DataError(f"file not found: {path}") from exc
    if not path.is_file():
        raise DataError(f"not a file: {path}")
    key = (str(path.resolve()), stat.st_mtime_ns, stat.st_size, name)
    with _MEMO_LOCK:
        hit = _MEMO.get(key)
        if hit is not None:
            _MEMO.move_to_end(key)
            return hit[0].copy(), hit[1]
    if stat.st_size > MAX_CSV_BYTES:
        raise DataError(
            f"{name}: file too large ({stat.st_size / 1e6:.1f} MB; the limit is {MAX_CSV_BYTES / 1e6:.0f} MB)"
        )
    frame = _parse_csv(path.read_bytes(), name)
    sha = frame_sha256(frame)
    with _MEMO_LOCK:
        _MEMO[key] = (frame, sha)
        while len(_MEMO) > _MEMO_SIZE:
            _MEMO.popitem(last=False)
    return frame.copy(), sha


def read_ohlcv_csv(
    source: str | Path | bytes, *, name: str | None = None, min_rows: int = MIN_ROWS
) -> tuple[pd.DataFrame, Provenance]:
    """Read and validate a user's OHLCV CSV (Provenance source "file").

    Parameters
    ----------
    source: a path, or the file's bytes (e.g. an upload).
    name: the file name to show (defaults to the path's name, or "upload.csv" for bytes); only its last
        path component is kept, so an uploaded name cannot point anywhere.
    min_rows: fewest rows accepted.

    Comma, semicolon and tab separators, a UTF-8 BOM and yfinance's three-line header are understood.
    """
    _check_min_rows(min_rows)
    if isinstance(source, (bytes, bytearray, memoryview)):
        file_name = Path(name).name if name else "upload.csv"
        frame = _parse_csv(bytes(source), file_name)
        sha = frame_sha256(frame)
    elif isinstance(source, (str, Path)):
        path = Path(source).expanduser()
        file_name = Path(name).name if name else path.name
        frame, sha = _read_path(path, file_name)
    else:
        raise DataError(f"CSV source must be a path or bytes, got {type(source).__name__}")
    _check_rows(len(frame), min_rows, file_name)
    stem = Path(file_name).stem or file_name
    return frame, _provenance(frame, sha, "file", stem, file_name=file_name)
