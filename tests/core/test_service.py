"""core.service: the facade the web app calls (caching, spec validation, data choice for battles)."""

from __future__ import annotations

import pandas as pd
import pytest

from core import service
from core.data import load_ohlcv
from core.lru import LRU


def test_live_downloads_are_reused_within_the_ttl(monkeypatch):
    calls = []
    frame, provenance = load_ohlcv("AAPL", live=False, use_cache=False)

    def fake_load(symbol, live=True, **_kw):
        calls.append((symbol, live))
        return frame.copy(), provenance

    monkeypatch.setattr("core.data.load_ohlcv", fake_load)
    service._LIVE.clear()
    first = service.load_market("MSFT", live=True)
    second = service.load_market("msft", live=True)
    assert calls == [("MSFT", True)]
    assert len(first.frame) == len(second.frame)
    second.frame.loc[0, "close"] = -1.0  # callers get copies: the cached frame is untouched
    assert service.load_market("MSFT", live=True).frame.loc[0, "close"] > 0


def test_market_window_keeps_causal_indicator_values_from_the_full_history():
    full = service.load_market("AAPL", live=False).frame
    part = service.load_market("AAPL", "2024-01-02", "2024-03-28", live=False).frame
    row = full[full["date"] == pd.Timestamp("2024-01-02")].iloc[0]
    assert part["rsi"].iloc[0] == pytest.approx(row["rsi"]) and part["macd"].notna().all()


def test_empty_window_says_where_the_data_runs():
    with pytest.raises(ValueError, match="runs from 2011-01-03 to 2026-09-25"):
        service.load_market("AAPL", "1990-01-01", "1990-02-01", live=False)


@pytest.mark.parametrize(
    "data, fragment",
    [
        ({"window": "sideways"}, "window must be one of"),
        ({"window": "custom"}, "needs a start or an end"),
        ({"commission_bps": -1}, "between 0 and"),
        ({"slippage_bps": "abc"}, "slippage must be a number"),
    ],
)
def test_battle_spec_rejects_bad_requests_with_a_message(data, fragment):
    with pytest.raises(service.SpecError, match=fragment):
        service.BattleSpec.from_dict(data)


def test_battle_spec_round_trips_through_a_store():
    spec = service.BattleSpec(ticker="TSLA", window="custom", start="2025-01-02", end="2025-06-30",
                              commission_bps=2.5, slippage_bps=0)
    assert service.BattleSpec.from_dict(spec.to_dict()) == spec


def test_battles_use_the_bundled_snapshot_even_when_a_newer_download_is_cached(tmp_path, monkeypatch):
    frame, provenance = service.battle_data("AAPL")
    assert provenance.source == "bundled" and provenance.end.isoformat() == "2026-09-25"


def test_lru_evicts_the_least_recently_used():
    lru = LRU(maxsize=2)
    assert lru.get_or_compute("a", lambda: 1) == 1
    lru.get_or_compute("b", lambda: 2)
    lru.get_or_compute("a", lambda: 99)  # hit: refreshes "a"
    lru.get_or_compute("c", lambda: 3)  # evicts "b"
    assert lru.get_or_compute("a", lambda: 0) == 1  # still cached
    assert lru.get_or_compute("b", lambda: 20) == 20  # was evicted: recomputed


def test_market_summary_headline_numbers():
    data = service.load_market("AAPL", "2024-01-02", "2024-12-31", live=False)
    s = data.summary()
    close = data.frame["close"].to_numpy()
    assert s["last_close"] == close[-1] and s["period_return"] == pytest.approx(close[-1] / close[0] - 1)
    assert -1 < s["max_drawdown"] < 0 and 0.05 < s["volatility"] < 1.0 and 0 <= s["rsi"] <= 100
