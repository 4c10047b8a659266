"""The vocabulary every other part of core.data shares: `DataError` (the one error it raises),
`COLUMNS` (the canonical column order), `Provenance` (where a validated frame came from) and the
canonical CSV text with its sha256 (`canonical_csv`, `frame_sha256`; the format is described in the
docstring of the core.data package), plus `_provenance`, which builds a Provenance for a frame."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

import pandas as pd

COLUMNS: tuple[str, ...] = ("date", "open", "high", "low", "close", "volume")


class DataError(ValueError):
    """The one error this module raises for bad or unavailable data; its message says what is wrong."""


@dataclass(frozen=True)
class Provenance:
    """Where a validated frame came from; shown as the data-source badge and stored in model cards."""

    source: str
    """"live" | "cache" | "bundled" | "file"."""
    ticker: str
    """Normalised ticker, or the file's stem for a CSV."""
    start: dt.date
    """Date of the first bar."""
    end: dt.date
    """Date of the last bar ("as of")."""
    rows: int
    """Number of bars."""
    sha256: str
    """Hex sha256 of the canonical CSV text of the frame (module docstring)."""
    fetched_at: dt.datetime | None
    """When a live or cached copy was downloaded (UTC); None for bundled and file data."""
    note: str = ""
    """Why a fallback happened, e.g. "live source unreachable (...)"; empty when none did."""
    file_name: str = ""
    """The CSV's file name for source "file" (e.g. "prices.csv"); empty otherwise."""

    @property
    def label(self) -> str:
        """The badge text, e.g. "bundled snapshot, as of 2026-10-06"."""
        if self.source == "live":
            return f"live, as of {self.end.isoformat()}"
        if self.source == "cache":
            day = self.fetched_at.date() if self.fetched_at is not None else self.end
            return f"offline: cached copy from {day.isoformat()}"
        if self.source == "bundled":
            return f"bundled snapshot, as of {self.end.isoformat()}"
        return f"file: {self.file_name or self.ticker + '.csv'}"

    def to_dict(self) -> dict:
        """JSON-safe dict (dates as ISO strings), including the label."""
        return {
            "source": self.source,
            "ticker": self.ticker,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "rows": self.rows,
            "sha256": self.sha256,
            "fetched_at": self.fetched_at.isoformat() if self.fetched_at is not None else None,
            "note": self.note,
            "file_name": self.file_name,
            "label": self.label,
        }

    @classmethod
    def from_dict(cls, data: dict) -> Provenance:
        """Inverse of `to_dict` (e.g. for a dcc.Store round trip); the label key is ignored."""
        fetched = data.get("fetched_at")
        return cls(
            source=str(data["source"]),
            ticker=str(data["ticker"]),
            start=dt.date.fromisoformat(str(data["start"])),
            end=dt.date.fromisoformat(str(data["end"])),
            rows=int(data["rows"]),
            sha256=str(data["sha256"]),
            fetched_at=dt.datetime.fromisoformat(fetched) if fetched else None,
            note=str(data.get("note", "")),
            file_name=str(data.get("file_name", "")),
        )


def canonical_csv(frame: pd.DataFrame) -> str:
    """The canonical CSV text of a validated frame (the module docstring describes the format)."""
    dates = frame["date"].dt.strftime("%Y-%m-%d").tolist()
    cols = [frame[c].to_numpy(dtype=float).tolist() for c in COLUMNS[1:]]
    lines = [",".join(COLUMNS)]
    lines.extend(
        f"{d},{o!r},{h!r},{lo!r},{c!r},{v!r}" for d, o, h, lo, c, v in zip(dates, *cols, strict=True)
    )
    return "\n".join(lines) + "\n"


def frame_sha256(frame: pd.DataFrame) -> str:
    """sha256 (hex) of `canonical_csv(frame)`."""
    return hashlib.sha256(canonical_csv(frame).encode("utf-8")).hexdigest()


def _provenance(frame: pd.DataFrame, sha: str, source: str, ticker: str, **extra) -> Provenance:
    extra.setdefault("fetched_at", None)
    return Provenance(
        source=source,
        ticker=ticker,
        start=frame["date"].iloc[0].date(),
        end=frame["date"].iloc[-1].date(),
        rows=len(frame),
        sha256=sha,
        **extra,
    )
