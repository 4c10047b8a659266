"""The shared helpers other pages build on: the number formatter, the grid factory and its exports, and
the URL/session state rules (layouts/fmt.py, layouts/grid.py, layouts/state.py)."""

from __future__ import annotations

import base64
import io

import pandas as pd
import pytest

from callbacks import arena, shell
from layouts import fmt, grid, state


@pytest.mark.parametrize("value, kind, digits, text", [
    (0.10955, "signed_pct", None, "+11.0%"), (-0.144, "pct", None, "-14.4%"), (0.0, "signed_pct", None, "+0.0%"),
    (-0.0, "signed_pct", None, "+0.0%"), (-1e-5, "pct", None, "-0.0%"), (1234.5, "money", None, "$1,235"),
    (-3.2, "money", 2, "-$3.20"), (12.5, "bps", None, "12.5 bps"), (10, "bps", None, "10 bps"),
    (3956, "count", None, "3,956"), (192.7394, "price", None, "192.74"), (1.005, "ratio", None, "1.00"),
    (0.125, "ratio", None, "0.13"), (None, "pct", None, "–"), (float("nan"), "ratio", None, "–"),
    (float("inf"), "money", None, "–"), ("x", "pct", None, "–"),
])
def test_formatter(value, kind, digits, text):
    assert fmt.fmt(value, kind, digits) == text


def test_formatter_refuses_unknown_kinds_and_gives_grid_functions():
    with pytest.raises(ValueError):
        fmt.fmt(1, "percent")
    assert fmt.js("signed_pct") == {"function": "neonFmt(params.value, 'signed_pct', 1)"}


def test_grid_columns_are_numeric_formatted_coloured_and_explained():
    c = grid.col("total_return", "Return", "signed_pct", rule="sign", tip="Net return")
    assert c["cellDataType"] == "number" and c["filter"] == "agNumberColumnFilter"
    assert c["valueFormatter"]["function"].startswith("neonFmt(") and c["headerTooltip"] == "Net return"
    assert set(c["cellClassRules"]) == {"neon-pos", "neon-neg"}
    g = grid.data_grid("t", [grid.col("name", "Name"), c])
    assert g.columnDefs[0]["pinned"] == "left" and g.columnSize == "responsiveSizeToFit"
    assert "neon-grid" in g.className
    with pytest.raises(ValueError):
        grid.col("x", "X", rule="rainbow")


def test_every_board_column_has_a_definition():
    from layouts.arena import BOARD_COLUMNS
    from layouts.journal import JOURNAL_COLUMNS

    for c in BOARD_COLUMNS + JOURNAL_COLUMNS:
        assert len(c.get("headerTooltip", "")) > 8, c["field"]
    win = next(c for c in BOARD_COLUMNS if c["field"] == "win_rate")
    assert "round trip" in win["headerTooltip"]


def test_export_holds_rows_and_columns_as_shown():
    cols = [grid.col("name", "Name"), grid.col("ret", "Return", "signed_pct"),
            grid.col("lo", "CI", "ratio", interval_high="hi"), grid.col("n", "Fills", "count")]
    rows = [{"name": "=cmd", "ret": 0.10955, "lo": -0.3, "hi": 1.2, "n": 3}, {"name": "b", "ret": None, "lo": 1,
                                                                                "hi": 2, "n": 0}]
    column_state = [{"colId": "lo"}, {"colId": "name"}, {"colId": "ret", "hide": True}, {"colId": "n"}]
    table = grid.shown_table(rows, cols, column_state)
    assert list(table.columns) == ["CI low", "CI high", "Name", "Fills"]
    payload = grid.export_download("csv", rows, cols, None, meta={"window": "a..b"}, name="x/y z")
    assert payload["filename"] == "x-y-z.csv"
    back = pd.read_csv(io.BytesIO(base64.b64decode(payload["content"])))
    assert list(back.columns) == ["window", "Name", "Return (%)", "CI low", "CI high", "Fills"]
    assert back["Name"].iloc[0] == "'=cmd"  # formula injection neutralised
    assert back["Return (%)"].iloc[0] == pytest.approx(10.955)


def test_battle_query_round_trip_and_defaults():
    spec, messages = state.parse_battle_query({"ticker": "tsla", "window": "in-sample", "commission": "20"})
    assert messages == [] and spec["ticker"] == "TSLA" and spec["window"] == "in-sample"
    assert spec["commission_bps"] == 20.0 and spec["slippage_bps"] == 5.0
    assert state.battle_query(spec) == "?ticker=TSLA&window=in-sample&commission=20"
    again, _ = state.parse_battle_query(state.battle_query(spec))
    assert again == spec
    assert state.parse_battle_query({"foo": "bar"}) == (None, [])


def test_a_run_travels_in_the_battle_query_and_the_navbar_links():
    run = "0123456789abcdef"
    spec, messages = state.parse_battle_query({"ticker": "MYFILE", "agents": run})
    assert messages == [] and spec["agents"] == run and spec["ticker"] == "MYFILE"  # the run's own ticker
    assert state.battle_query(spec) == f"?ticker=MYFILE&window=out-of-sample&agents={run}"
    assert all(f"agents={run}" in href for page, href in state.nav_hrefs(spec, None).items()
               if page in ("arena", "replay", "journal", "risk"))
    # the Market page choosing another ticker later sends the shipped agents to that ticker
    moved, _ = state.spec_from_query_and_session(None, {**spec, "updated": 1.0},
                                                 {"kind": "ticker", "ticker": "TSLA", "updated": 2.0})
    assert moved["ticker"] == "TSLA" and moved["agents"] == "shipped"
    # a run trained on an uploaded file: the Market keeps its own ticker (the file's name is not one)
    assert state.shared_ticker({**spec, "updated": 3.0}, {"kind": "ticker", "ticker": "TSLA", "updated": 2.0}) == "TSLA"
    forged, messages = state.parse_battle_query({"ticker": "AAPL", "agents": "../../etc/passwd"})
    assert forged["agents"] == "shipped" and "neither 'shipped' nor a run id" in messages[0]


@pytest.mark.parametrize("query, fragment", [
    ({"ticker": "ZZZZ"}, "no data for ticker"), ({"window": "sometimes"}, "window="),
    ({"commission": "lots"}, "not a number"), ({"slippage": "5000"}, "between 0 and 1000"),
    ({"window": "custom"}, "needs a start"), ({"start": "yesterday", "window": "custom"}, "not a date"),
    ({"shared": "maybe"}, "0 or 1"), ({"agents": "zz"}, "nor a run id"),
])
def test_invalid_query_values_fall_back_with_a_message(query, fragment):
    spec, message = state.spec_from_query_and_session(query, {"ticker": "TSLA", "window": "in-sample"})
    assert fragment in message
    assert spec["ticker"] == "AAPL" and spec["window"] == "out-of-sample"  # a named URL is complete: defaults


def test_url_first_then_session_then_default_and_shared_ticker():
    session = {"ticker": "TSLA", "window": "in-sample", "commission_bps": 20, "slippage_bps": 5, "updated": 1}
    assert state.spec_from_query_and_session({}, session)[0]["window"] == "in-sample"
    assert state.spec_from_query_and_session({"ticker": "BTC-USD"}, session)[0]["window"] == "out-of-sample"
    assert state.spec_from_query_and_session(None, None)[0] == state.default_spec()
    market_later = {"kind": "ticker", "ticker": "BTC-USD", "updated": 2}
    spec, _ = state.spec_from_query_and_session(None, session, market_later)
    assert spec["ticker"] == "BTC-USD" and spec["commission_bps"] == 20  # Market chose last: the Arena follows
    choice, _ = state.market_from_query_and_session(None, {"kind": "ticker", "ticker": "AAPL", "updated": 0}, session)
    assert choice["ticker"] == "TSLA"  # the Arena chose last: the Market follows


def test_navbar_links_carry_the_current_query():
    session = {"ticker": "TSLA", "window": "in-sample", "commission_bps": 20, "slippage_bps": 5, "updated": 1}
    out = shell.nav_outputs(session, None, "/replay")
    hrefs = dict(zip(shell.PAGE_NAMES, out[:len(shell.PAGE_NAMES)], strict=True))
    active = dict(zip(shell.PAGE_NAMES, out[len(shell.PAGE_NAMES):], strict=True))
    assert hrefs["arena"] == "/arena?ticker=TSLA&window=in-sample&commission=20"
    assert hrefs["journal"].endswith("?ticker=TSLA&window=in-sample&commission=20")
    assert hrefs["market"] == "/market?ticker=TSLA" and active["replay"] and not active["arena"]


def test_a_bookmarked_follower_page_writes_its_battle_into_the_session():
    spec = shell.session_from_url("?ticker=TSLA&window=in-sample", "/replay", None)
    assert spec["ticker"] == "TSLA" and spec["window"] == "in-sample"
    assert shell.session_from_url("?ticker=TSLA", "/market", None) is shell.no_update


def test_arena_restores_from_the_url_first_then_the_session():
    options, ticker, window, start, end, commission, slippage, shared, agent_options, agents, note = (
        arena.restore_outputs({"ticker": "TSLA", "window": "in-sample", "commission": "20"}, {"ticker": "AAPL"},
                              None))
    assert (ticker, window, commission, slippage, shared, note) == ("TSLA", "in-sample", 20.0, 5.0, False, None)
    assert agents == "shipped" and [o["value"] for o in agent_options] == ["shipped"]
    out = arena.restore_outputs({}, {"ticker": "TSLA", "window": "custom", "start": "2024-01-02",
                                     "end": "2024-06-28"}, None)
    assert out[1:5] == ("TSLA", "custom", "2024-01-02", "2024-06-28")
    bad = arena.restore_outputs({"ticker": "ZZZZ"}, None, None)
    assert bad[1] == "AAPL" and "ZZZZ" in str(bad[-1])


def test_custom_window_without_dates_is_a_hint_not_an_error():
    out = arena.arena_outputs("AAPL", "custom", None, None, 10, 5)
    assert "pick a start" in str(out[1]).lower() and out[5] is False
    assert out[1].color == "info"
