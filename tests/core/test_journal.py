"""Trade journal: content, filters, and CSV / Excel exports safe from formula injection."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

from core import arena
from core.arena import run_battle
from core.indicators import add_indicators
from core.journal import (
    JOURNAL_COLUMNS,
    build_journal,
    filter_journal,
    neutralise,
    table_to_csv_bytes,
    table_to_excel_bytes,
    to_csv_bytes,
    to_excel_bytes,
)
from core.strategies import RuleAgentSet

REPO = Path(__file__).resolve().parents[2]
MALICIOUS = ['=HYPERLINK("http://x","y")', "+1+2", "-2+3", "@SUM(A1)", "\tx", "\r=1"]


@pytest.fixture(scope="module")
def battle():
    arena.clear_cache()
    frame = add_indicators(pd.read_csv(REPO / "data" / "AAPL.csv", parse_dates=["date"]))
    return run_battle(frame, ticker="AAPL", agents=RuleAgentSet(), test_start="2025-01-02", use_cache=False)


@pytest.fixture(scope="module")
def journal(battle):
    return build_journal(battle)


def test_journal_holds_every_trade_of_every_contestant_in_date_order(battle, journal):
    assert list(journal.columns) == list(JOURNAL_COLUMNS)
    assert len(journal) == sum(len(c.trades) for c in battle.contestants)
    for c in battle.contestants:
        mine = journal[journal["contestant"] == c.name]
        assert len(mine) == c.metrics["trades"]
        assert (mine["label"] == c.label).all() and (mine["kind"] == c.kind).all()
    assert journal["date"].is_monotonic_increasing
    assert set(journal["side"]) == {"buy", "sell"}


def test_empty_battle_gives_an_empty_journal_with_the_columns(battle):
    from dataclasses import replace

    empty = build_journal(replace(battle, contestants=[battle.contestant("cash")]))
    assert empty.empty and list(empty.columns) == list(JOURNAL_COLUMNS)


def test_filters(journal):
    only = filter_journal(journal, contestants=["momentum", "Buy & Hold"])
    assert set(only["contestant"]) == {"momentum", "buy_and_hold"}
    sells = filter_journal(journal, side="SELL")
    assert len(sells) > 0 and (sells["side"] == "sell").all()
    window = filter_journal(journal, start="2025-03-01", end="2025-03-31")
    assert window["date"].min() >= pd.Timestamp("2025-03-01") and window["date"].max() <= pd.Timestamp(
        "2025-03-31"
    )
    assert len(filter_journal(journal)) == len(journal)
    with pytest.raises(ValueError, match="side must be one of buy, sell"):
        filter_journal(journal, side="short")
    with pytest.raises(ValueError, match="after end"):
        filter_journal(journal, start="2025-05-01", end="2025-01-01")


def test_neutralise_only_touches_dangerous_text():
    for text in MALICIOUS:
        assert neutralise(text) == "'" + text
    assert neutralise("momentum") == "momentum"
    assert neutralise(-3.5) == -3.5 and neutralise(None) is None


def _poisoned(journal: pd.DataFrame) -> pd.DataFrame:
    df = journal.head(len(MALICIOUS)).copy()
    df["contestant"] = MALICIOUS
    df["probabilities"] = MALICIOUS[::-1]
    df.loc[df.index[0], "price"] = -1.25  # a negative number stays a number
    return df


def test_csv_roundtrip_keeps_rows_and_numbers_and_neutralises_text(journal):
    df = _poisoned(journal)
    back = pd.read_csv(io.BytesIO(to_csv_bytes(df)))
    assert list(back.columns) == list(df.columns) and len(back) == len(df)
    for col in ("quantity", "price", "value", "cost", "rsi", "sma20", "macd"):
        assert pd.api.types.is_float_dtype(back[col]), col
        np.testing.assert_allclose(back[col].to_numpy(), df[col].to_numpy(), rtol=1e-12)
    assert back.loc[0, "price"] == -1.25
    # every dangerous cell comes back whole (a carriage return does not split the row) and quoted inert
    assert list(back["contestant"]) == ["'" + t for t in MALICIOUS]
    assert list(back["probabilities"]) == ["'" + t for t in MALICIOUS[::-1]]
    whole = pd.read_csv(io.BytesIO(to_csv_bytes(journal)))
    assert len(whole) == len(journal)


def test_excel_cells_are_text_not_formulas_and_numbers_stay_numeric(journal):
    df = _poisoned(journal)
    data = to_excel_bytes(df)
    sheet = openpyxl.load_workbook(io.BytesIO(data))["Journal"]
    header = [c.value for c in sheet[1]]
    col = header.index("contestant") + 1
    price_col = header.index("price") + 1
    for row in range(2, 2 + len(MALICIOUS)):
        cell = sheet.cell(row=row, column=col)
        assert cell.data_type == "s", cell.value
        assert cell.value.startswith("'")
        assert sheet.cell(row=row, column=price_col).data_type == "n"
    back = pd.read_excel(io.BytesIO(data), sheet_name="Journal")
    assert len(back) == len(df)
    for name in ("quantity", "price", "value", "cost", "rsi"):
        assert pd.api.types.is_float_dtype(back[name]), name
    assert back.loc[0, "price"] == -1.25
    assert pd.api.types.is_datetime64_any_dtype(back["date"])


def test_generic_tables_reuse_the_neutralisation(battle):
    board = battle.leaderboard()
    board.loc[0, "label"] = "=cmd|' /C calc'!A0"
    board = board.rename(columns={"kind": "@kind"})
    csv_back = pd.read_csv(io.BytesIO(table_to_csv_bytes(board)))
    assert csv_back.loc[0, "label"].startswith("'=") and "'@kind" in csv_back.columns
    assert pd.api.types.is_float_dtype(csv_back["sharpe"]) and len(csv_back) == len(board)
    sheet = openpyxl.load_workbook(io.BytesIO(table_to_excel_bytes(board, sheet_name="Leaderboard")))[
        "Leaderboard"
    ]
    label_col = [c.value for c in sheet[1]].index("label") + 1
    assert sheet.cell(row=2, column=label_col).data_type == "s"
    assert all(c.data_type == "s" for c in sheet[1])


def test_excel_drops_control_characters_and_checks_the_sheet_name(journal):
    df = journal.head(2).copy()
    df["decision"] = ["bad\x07bell", "ok"]
    sheet = openpyxl.load_workbook(io.BytesIO(to_excel_bytes(df)))["Journal"]
    col = [c.value for c in sheet[1]].index("decision") + 1
    assert sheet.cell(row=2, column=col).value == "badbell"
    with pytest.raises(ValueError, match="sheet name"):
        table_to_excel_bytes(df, sheet_name="a/b")
