"""The trade journal: every fill of every contestant with its context, and safe CSV / Excel exports.

Formula injection (OWASP "CSV Injection"; STACK.md pitfall 8): a spreadsheet runs a text cell that
starts with = + - @, a tab or a carriage return as a formula. Every export here prefixes such text cells
(and column headers) with a single quote, in CSV and in Excel alike, so they stay inert text; numbers are
written as numbers (a negative number is a number, not text, and is left alone). Excel exports also drop
the control characters that the xlsx format cannot store (openpyxl would raise on them).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable

import pandas as pd

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
"""Text starting with one of these is neutralised in every export."""
_ILLEGAL_XLSX = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")

JOURNAL_COLUMNS = (
    "contestant",
    "label",
    "kind",
    "date",
    "side",
    "quantity",
    "price",
    "value",
    "cost",
    "position_after",
    "equity_after",
    "decision_date",
    "decision",
    "close",
    "rsi",
    "sma20",
    "macd",
    "probabilities",
)
SIDES = ("buy", "sell")


def build_journal(result) -> pd.DataFrame:
    """Every trade of every contestant of a battle, oldest first (ties in contestant order).

    Columns: JOURNAL_COLUMNS: who (contestant name, label, kind), the fill (date, side, quantity, price,
    value, cost, position_after, equity_after) and the decision behind it (decision_date, decision, close,
    rsi, sma20, macd at the decision bar, and the policy's action probabilities for agents).

    :param result: a core.arena.BattleResult.
    """
    parts = []
    for order, c in enumerate(result.contestants):
        trades = c.trades.copy()
        trades.insert(0, "contestant", c.name)
        trades.insert(1, "label", c.label)
        trades.insert(2, "kind", c.kind)
        trades["_order"] = order
        parts.append(trades)
    if not parts or all(p.empty for p in parts):
        return pd.DataFrame({col: pd.Series(dtype=_dtype(col)) for col in JOURNAL_COLUMNS})
    journal = pd.concat([p for p in parts if not p.empty], ignore_index=True)
    journal = journal.sort_values(["date", "_order"], kind="stable").drop(columns="_order")
    return journal[list(JOURNAL_COLUMNS)].reset_index(drop=True)


def _dtype(column: str) -> str:
    if column in ("date", "decision_date"):
        return "datetime64[ns]"
    if column in ("contestant", "label", "kind", "side", "decision", "probabilities"):
        return "object"
    return "float64"


def filter_journal(
    df: pd.DataFrame,
    contestants: Iterable[str] | None = None,
    side: str | None = None,
    start=None,
    end=None,
) -> pd.DataFrame:
    """The journal rows that match every given filter (None = no filter on that field).

    :param df: a journal from build_journal.
    :param contestants: names or labels to keep (e.g. ["momentum", "Buy & Hold"]).
    :param side: "buy" or "sell" (case-insensitive).
    :param start: first date to keep (inclusive), date or ISO string.
    :param end: last date to keep (inclusive), date or ISO string.
    """
    mask = pd.Series(True, index=df.index)
    if contestants is not None:
        wanted = {str(c) for c in contestants}
        mask &= df["contestant"].isin(wanted) | df["label"].isin(wanted)
    if side is not None:
        side_norm = str(side).strip().lower()
        if side_norm not in SIDES:
            raise ValueError(f"side must be one of {', '.join(SIDES)}, got {side!r}")
        mask &= df["side"] == side_norm
    try:
        lo = pd.Timestamp(start) if start not in (None, "") else None
        hi = pd.Timestamp(end) if end not in (None, "") else None
    except (ValueError, TypeError) as exc:
        raise ValueError(f"journal dates must look like YYYY-MM-DD: {exc}") from exc
    if lo is not None and hi is not None and lo > hi:
        raise ValueError(f"start {lo:%Y-%m-%d} is after end {hi:%Y-%m-%d}")
    dates = pd.to_datetime(df["date"])
    if lo is not None:
        mask &= dates >= lo
    if hi is not None:
        mask &= dates <= hi
    return df[mask.to_numpy()].reset_index(drop=True)


def neutralise(value):
    """Prefix a text value that a spreadsheet would run as a formula with a single quote; others as is.

    :param value: any cell value.
    """
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def neutralise_frame(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of `df` whose text cells and column headers are neutralised; numeric columns untouched.

    :param df: any table.
    """
    out = df.copy()
    for col in out.columns:
        series = out[col]
        if pd.api.types.is_numeric_dtype(series) or pd.api.types.is_datetime64_any_dtype(series):
            continue  # numbers and dates are never formulas: keep their dtype
        out[col] = series.map(neutralise).astype(object)
    out.columns = [neutralise(str(c)) for c in out.columns]
    return out


def table_to_csv_bytes(df: pd.DataFrame) -> bytes:
    """Any table as UTF-8 CSV bytes (no index), text cells neutralised.

    :param df: the table (journal, leaderboard, risk table...).
    """
    # Quote every text field: an unquoted carriage return inside a cell would start a new row on reading.
    text = neutralise_frame(df).to_csv(index=False, date_format="%Y-%m-%d", quoting=csv.QUOTE_NONNUMERIC)
    return text.encode("utf-8")


def table_to_excel_bytes(df: pd.DataFrame, sheet_name: str = "Table") -> bytes:
    """Any table as an .xlsx workbook (openpyxl), text cells neutralised, numbers as numbers.

    :param df: the table.
    :param sheet_name: the worksheet's name (at most 31 characters, no []:*?/\\).
    """
    if not sheet_name or len(sheet_name) > 31 or re.search(r"[\[\]:*?/\\]", sheet_name):
        raise ValueError(f"an Excel sheet name has 1-31 characters and none of []:*?/\\, got {sheet_name!r}")
    safe = neutralise_frame(df)
    for col in safe.columns:
        if safe[col].dtype == object:
            safe[col] = safe[col].map(lambda v: _ILLEGAL_XLSX.sub("", v) if isinstance(v, str) else v)
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        safe.to_excel(writer, sheet_name=sheet_name, index=False)
    return buffer.getvalue()


def to_csv_bytes(df: pd.DataFrame) -> bytes:
    """The journal as CSV bytes (see table_to_csv_bytes).

    :param df: a journal (possibly filtered).
    """
    return table_to_csv_bytes(df)


def to_excel_bytes(df: pd.DataFrame, sheet_name: str = "Journal") -> bytes:
    """The journal as .xlsx bytes (see table_to_excel_bytes).

    :param df: a journal (possibly filtered).
    :param sheet_name: the worksheet's name.
    """
    return table_to_excel_bytes(df, sheet_name=sheet_name)
