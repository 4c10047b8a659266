"""The battle window: `resolve_window` turns explicit dates, the agents' model cards or a split fraction
into bar positions (a frozen `Window` with its sample label and warnings), refusing windows that start
inside the indicator warm-up or are shorter than `MIN_WINDOW_BARS`. Also here: `card_period`, which
reads a model card's train/test period defensively, and the date-parsing and warm-up helpers it needs.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from core.indicators import INDICATOR_COLUMNS

MIN_WINDOW_BARS = 10
"""Fewest bars a battle window may have: a decision fills on the next bar's open, and below ten bars the
metrics (volatility, Sharpe, VaR) are noise."""
SAMPLE_OUT, SAMPLE_IN = "out-of-sample", "in-sample"


def _warmup_end(frame: pd.DataFrame) -> int:
    """First bar at which every indicator is defined (the frame's indicators may come from a longer past)."""
    cols = [c for c in INDICATOR_COLUMNS if c in frame]
    defined = frame[cols].notna().all(axis=1).to_numpy()
    hits = np.flatnonzero(defined)
    return int(hits[0]) if hits.size else len(frame)


def _parse_date(value) -> pd.Timestamp | None:
    if value is None or value == "":
        return None
    try:
        return pd.Timestamp(value).normalize().tz_localize(None)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"not a date: {value!r} (use YYYY-MM-DD)") from exc


def _looks_like_date(value) -> bool:
    if not isinstance(value, str) or len(value) < 8 or "-" not in value:
        return False
    try:
        pd.Timestamp(value)
    except (ValueError, TypeError):
        return False
    return True


def _flatten(card: Any, prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    if isinstance(card, dict):
        for key, value in card.items():
            out.update(_flatten(value, f"{prefix}.{key}" if prefix else str(key)))
    elif isinstance(card, (list, tuple)) and len(card) == 2 and all(_looks_like_date(v) for v in card):
        out[f"{prefix}.start"], out[f"{prefix}.end"] = card
    else:
        out[prefix] = card
    return out


def card_period(card: dict, which: str) -> tuple[pd.Timestamp, pd.Timestamp] | None:
    """`_card_period`, remembered per card content: every battle request reads every seed's card (40
    cards, ~14 ms of parsing per request before it was remembered)."""
    try:
        text = json.dumps(card, sort_keys=True)
    except (TypeError, ValueError):
        return _card_period(card, which)
    return _card_period_of_text(text, which)


@functools.lru_cache(maxsize=1024)
def _card_period_of_text(text: str, which: str) -> tuple[pd.Timestamp, pd.Timestamp] | None:
    return _card_period(json.loads(text), which)


def _card_period(card: dict, which: str) -> tuple[pd.Timestamp, pd.Timestamp] | None:
    """The (first, last) dates of a model card's "train" or "test" period, read defensively.

    Accepts the shapes a card may use: `test_start`/`test_end`, `test: {start, end}`,
    `test_range: [start, end]`, `split: {test_start, ...}`, `dates: {test: {...}}`, ...: any key path that
    mentions `which` and ends in start/first/from (resp. end/last/to) holding a date string.

    :param card: a model card (parsed JSON).
    :param which: "train" or "test".
    """
    starts, ends = [], []
    for path, value in _flatten(card).items():
        if not _looks_like_date(value):
            continue
        parts = path.lower().replace("-", "_").split(".")
        if "metric" in path.lower() or not any(which in p for p in parts):
            continue
        last = parts[-1]
        if any(last.endswith(s) for s in ("start", "first", "from", "begin")):
            starts.append(pd.Timestamp(value))
        elif any(last.endswith(s) for s in ("end", "last", "to", "stop")):
            ends.append(pd.Timestamp(value))
    if not starts or not ends:
        return None
    return min(starts).normalize(), max(ends).normalize()


@dataclass(frozen=True)
class Window:
    """A resolved battle window."""

    start: int
    """Position of the first bar."""
    end: int
    """Position one past the last bar."""
    sample: str
    warnings: tuple[str, ...] = ()


def resolve_window(
    frame: pd.DataFrame,
    *,
    test_start=None,
    test_end=None,
    split: float = 0.8,
    in_sample: bool = False,
    cards: dict[str, dict] | None = None,
) -> Window:
    """Turn dates / split / model cards into bar positions and check the window (see the module docstring).

    :param frame: the market frame with a `date` column (indicators added).
    :param test_start: first date of the window (inclusive), or None.
    :param test_end: last date of the window (inclusive), or None.
    :param split: fraction of bars before the default test window, used without dates or cards.
    :param in_sample: default to the training period instead of the test period.
    :param cards: the agents' model cards by name (may be empty).
    """
    if not 0.0 < split < 1.0:
        raise ValueError(f"split must be between 0 and 1 (e.g. 0.8 = last 20% is the test set), got {split}")
    n = len(frame)
    if n == 0:
        raise ValueError("the data has no bars")
    dates = pd.DatetimeIndex(pd.to_datetime(frame["date"]))
    warmup = _warmup_end(frame)
    warnings: list[str] = []
    cards = cards or {}
    train_periods = [p for p in (card_period(c, "train") for c in cards.values()) if p]
    test_periods = [p for p in (card_period(c, "test") for c in cards.values()) if p]
    train_last = max((p[1] for p in train_periods), default=None)

    def position_from(date: pd.Timestamp) -> int:
        return int(dates.searchsorted(date, side="left"))

    def position_after(date: pd.Timestamp) -> int:
        return int(dates.searchsorted(date, side="right"))

    # defaults
    periods = train_periods if in_sample else test_periods
    if periods:
        first = max(p[0] for p in periods)
        last = min(p[1] for p in periods)
        if len({p for p in periods}) > 1:
            warnings.append(
                f"the agents' model cards give different {'training' if in_sample else 'test'} periods; "
                f"using their common part {first:%Y-%m-%d} to {last:%Y-%m-%d}"
            )
        start, end = max(position_from(first), warmup if in_sample else 0), position_after(last)
    elif in_sample:
        start, end = warmup, int(n * split)
    else:
        start, end = int(n * split), n

    begin, finish = _parse_date(test_start), _parse_date(test_end)
    if begin is not None and finish is not None and begin > finish:
        raise ValueError(f"test start {begin:%Y-%m-%d} is after test end {finish:%Y-%m-%d}")
    if begin is not None:
        if begin > dates[-1]:
            raise ValueError(
                f"test start {begin:%Y-%m-%d} is after the last bar of the data ({dates[-1]:%Y-%m-%d})"
            )
        start = position_from(begin)
        if finish is None:
            end = n
    if finish is not None:
        if finish < dates[0]:
            raise ValueError(
                f"test end {finish:%Y-%m-%d} is before the first bar of the data ({dates[0]:%Y-%m-%d})"
            )
        end = position_after(finish)

    if start < warmup:
        first_ok = dates[warmup] if warmup < n else None
        where = (
            f"bar {warmup} ({first_ok:%Y-%m-%d})" if first_ok is not None else "none: the data is too short"
        )
        raise ValueError(
            f"the window starts on {dates[min(start, n - 1)]:%Y-%m-%d}, inside the indicator warm-up; "
            f"the first usable bar is {where}"
        )
    if end - start < MIN_WINDOW_BARS:
        raise ValueError(
            f"the window has {max(end - start, 0)} bar(s); a battle needs at least {MIN_WINDOW_BARS} "
            "(a decision fills on the next bar's open)"
        )

    sample = SAMPLE_IN if in_sample else SAMPLE_OUT
    if not in_sample and train_last is not None and dates[start] <= train_last:
        sample = SAMPLE_IN
        warnings.append(
            f"the window starts on {dates[start]:%Y-%m-%d}, inside the agents' training period (up to "
            f"{train_last:%Y-%m-%d}): these results are in-sample"
        )
    if in_sample:
        warnings.append("in-sample: the agents trained on these bars; judge them on the test window")
    return Window(start=start, end=end, sample=sample, warnings=tuple(warnings))
