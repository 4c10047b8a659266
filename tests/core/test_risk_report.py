"""core.risk_report: the Risk page's facade on real battles (shipped AAPL agents), cash, short windows,
JSON-safety, caching, and the bundled assets' correlation."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from core import risk, risk_report
from core.service import BattleSpec, run_arena


@pytest.fixture(scope="module")
def battle():
    view = run_arena(BattleSpec())  # AAPL, out-of-sample, shipped models
    assert view.agents_ready, view.agents_message
    return view.result


@pytest.fixture(scope="module")
def report(battle):
    return risk_report.battle_risk(battle, use_cache=False)


def test_var_table_covers_every_contestant_method_and_level(battle, report):
    table = report.var_table
    assert list(table.columns) == ["contestant", "label", "method", "level", "var", "cvar", "n_returns", "note"]
    assert len(table) == len(battle.contestants) * 3 * 2 == 48
    assert set(table["method"]) == set(risk.METHODS) and set(table["level"]) == {0.95, 0.99}
    bh = battle.contestant("buy_and_hold")
    row = table[(table.contestant == "buy_and_hold") & (table.method == "historical") & (table.level == 0.95)]
    assert row["var"].iloc[0] == pytest.approx(risk.historical_var(bh.returns, 0.95))
    assert row["var"].iloc[0] == pytest.approx(bh.metrics["var_95"])  # same figure as the leaderboard
    assert (table["n_returns"] == len(battle.dates) - 1).all()


def test_cash_does_not_crash_anything(report):
    cash = report.var_table[report.var_table.contestant == "cash"]
    assert (cash["var"] == 0.0).all() and (cash["cvar"] == 0.0).all()
    assert cash["note"].str.contains("never vary").all()
    c = report.contestant("cash")
    assert c.backtests == {} and "never vary" in c.backtest_note
    assert c.drawdowns.empty and (c.underwater == 0).all()
    assert np.isnan(report.correlation.loc["cash", "buy_and_hold"]) and report.correlation.loc["cash", "cash"] == 1


def test_backtests_histograms_drawdowns_and_monthly_per_contestant(battle, report):
    n_returns = len(battle.dates) - 1
    edges = report.contestants[0].histogram["edges"]
    assert len(edges) == risk_report.HIST_BINS + 1
    for c in report.contestants:
        assert c.histogram["edges"] == edges and sum(c.histogram["counts"]) == n_returns
        assert len(c.underwater) == len(battle.dates) and c.underwater.index.equals(battle.dates)
        assert c.returns.index.equals(battle.dates[1:])
        assert list(c.monthly.columns)[-1] == "Year" and c.monthly.index[0] == battle.dates[0].year
        if c.name == "cash":
            continue
        assert set(c.backtests) == {0.95, 0.99}
        bt = c.backtests[0.99]
        assert bt.observations == n_returns - 250 and bt.traffic_light["days"] == 250
        assert bt.var.index.equals(c.returns.index)
        assert c.drawdowns.iloc[0]["depth"] == pytest.approx(c.underwater.min())
    table = report.backtest_table()
    assert len(table) == 2 * (len(report.contestants) - 1)
    assert table["verdict"].str.startswith("At ").all()
    assert set(table[table.level == 0.99]["zone"]) <= {"green", "yellow", "red"}
    assert report.underwater_frame().shape == (len(battle.dates), len(report.contestants))


def test_json_is_plain_and_strict(report):
    payload = report.to_json_dict()
    text = json.dumps(payload, allow_nan=False)  # NaN became null
    back = json.loads(text)
    assert back["ticker"] == "AAPL" and back["sample"] == "out-of-sample" and back["levels"] == [0.95, 0.99]
    assert len(back["var_table"]) == 48
    bh = next(c for c in back["contestants"] if c["name"] == "buy_and_hold")
    assert set(bh["backtests"]) == {"95", "99"}
    b99 = bh["backtests"]["99"]
    assert {"level", "window", "observations", "exceptions", "expected", "kupiec", "christoffersen",
            "traffic_light", "verdict", "var", "exception_dates"} <= set(b99)
    assert len(b99["var"]) == len(bh["returns"]) == len(bh["dates"]) and b99["var"][0] is None
    assert len(b99["exception_dates"]) == b99["exceptions"] and len(b99["exception_dates"][0]) == 10
    assert len(back["correlation"]["matrix"]) == len(back["contestants"])
    assert bh["monthly"]["columns"][-1] == "Year"


def test_subset_order_cache_and_bad_requests(battle):
    risk_report.clear_cache()
    first = risk_report.battle_risk(battle, ["momentum", "cash"], levels=(0.99,))
    assert [c.name for c in first.contestants] == ["momentum", "cash"]
    assert len(first.var_table) == 2 * 3 and set(first.contestant("momentum").backtests) == {0.99}
    assert risk_report.battle_risk(battle, ["momentum", "cash"], levels=(0.99,)) is first  # cached
    with pytest.raises(risk.RiskDataError, match="no contestant 'nobody'"):
        risk_report.battle_risk(battle, ["nobody"])
    with pytest.raises(ValueError, match="VaR level"):
        risk_report.battle_risk(battle, levels=(95,))


def test_a_short_custom_window_keeps_var_and_explains_the_missing_backtest():
    result = run_arena(BattleSpec(window="custom", start="2026-03-02", end="2026-09-25")).result
    n = len(result.dates) - 1
    assert 10 < n < 251
    rep = risk_report.battle_risk(result, use_cache=False)
    bh = rep.contestant("buy_and_hold")
    assert bh.backtests == {}
    assert bh.backtest_note == f"the VaR backtest needs at least 251 returns; this window has {n}"
    hist = rep.var_table[(rep.var_table.contestant == "buy_and_hold") & (rep.var_table.method == "historical")]
    assert hist["var"].notna().all() and (hist["var"] > 0).all()
    assert any("needs at least 251 returns" in note for note in rep.notes)
    json.dumps(rep.to_json_dict(), allow_nan=False)


def test_asset_correlation_of_the_bundled_assets():
    from core.data import load_ohlcv

    corr = risk_report.asset_correlation()
    assert corr.tickers == ("AAPL", "TSLA", "BTC-USD")
    m = corr.matrix
    assert np.allclose(m.to_numpy(), m.to_numpy().T) and np.allclose(np.diag(m), 1.0)
    assert 0.2 < m.loc["AAPL", "TSLA"] < 0.8 and abs(m.loc["AAPL", "BTC-USD"]) < 0.5
    dates = [set(load_ohlcv(t, live=False, use_cache=False)[0]["date"]) for t in corr.tickers]
    common = sorted(set.intersection(*dates))
    assert corr.n_common == len(common) - 1 and corr.start == pd.Timestamp(common[1]).strftime("%Y-%m-%d")
    assert not (corr.returns.index.day_of_week >= 5).any()  # weekends folded into Mondays
    assert risk_report.asset_correlation(["aapl", "TSLA", "BTC-USD"]) is corr  # cached
    json.dumps(corr.to_json_dict(), allow_nan=False)
