"""The battle engine: windows, contestants, metrics, trades, cache, JSON, cost stress (fakes, real models)."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from core import arena
from core.arena import BattleResult, card_period, cost_stress, resolve_window, run_battle
from core.indicators import add_indicators
from core.sim import Costs, SimResult, simulate
from core.strategies import RuleAgentSet

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def aapl() -> pd.DataFrame:
    return add_indicators(pd.read_csv(REPO / "data" / "AAPL.csv", parse_dates=["date"]))


@pytest.fixture(autouse=True)
def _fresh_cache():
    arena.clear_cache()
    yield
    arena.clear_cache()


@dataclass
class FakeRollout:
    targets: np.ndarray
    actions: np.ndarray
    probs: np.ndarray
    action_labels: tuple[str, ...]
    result: SimResult


class ScheduleAgents:
    """A fake AgentSet: an agent's target at (absolute) bar t is rule(t, frame); accounted by simulate."""

    def __init__(self, rules: dict, cards: dict | None = None, warnings: list | None = None):
        self.rules = rules
        self.names = tuple(rules)
        self.cards = cards or {}
        self.warnings = warnings or []
        self.calls: list[dict] = []

    def rollout(self, frame, start, end, costs, cash0=100_000.0, shared_market=False):
        self.calls.append({"start": start, "end": end, "costs": costs, "shared_market": shared_market})
        open_ = frame["open"].to_numpy()[start:end]
        close = frame["close"].to_numpy()[start:end]
        out = {}
        for name, rule in self.rules.items():
            targets = np.array([rule(t, frame) for t in range(start, end)], dtype=float)
            actions = (targets > 0).astype(int)
            out[name] = FakeRollout(
                targets,
                actions,
                np.eye(2)[actions],
                ("flat", "long"),
                simulate(open_, close, targets, costs, cash0),
            )
        return out


def _card(train: tuple[str, str], test: tuple[str, str]) -> dict:
    # the shape core.training writes: split.train/test.{start, end, bars, ...}
    return {
        "ticker": "AAPL",
        "data": {"start": "2011-01-03", "end": "2026-09-25", "sha256": "x"},
        "split": {
            "train": {"start": train[0], "end": train[1], "bars": 1, "first_bar": 33},
            "test": {"start": test[0], "end": test[1], "bars": 1},
        },
        "metrics": {"test": {"start_equity": 1.0}},
    }


# ------------------------------------------------------------------------------------------------ windows


def test_card_period_reads_several_card_shapes():
    assert card_period(_card(("2011-02-01", "2020-01-31"), ("2020-02-03", "2026-09-25")), "test") == (
        pd.Timestamp("2020-02-03"),
        pd.Timestamp("2026-09-25"),
    )
    assert card_period({"test_start": "2020-01-02", "test_end": "2021-01-04"}, "test") == (
        pd.Timestamp("2020-01-02"),
        pd.Timestamp("2021-01-04"),
    )
    assert card_period({"test_range": ["2020-01-02", "2021-01-04"]}, "test")[0] == pd.Timestamp("2020-01-02")
    assert card_period({"seed": 0, "test_metrics": {"end": "2020-01-01"}}, "test") is None


def test_default_window_is_the_last_20_percent_without_cards(aapl):
    w = resolve_window(aapl)
    assert (w.start, w.end, w.sample) == (int(len(aapl) * 0.8), len(aapl), "out-of-sample")


def test_default_window_comes_from_the_model_cards(aapl):
    cards = {"a": _card(("2011-02-22", "2019-12-31"), ("2020-01-02", "2026-09-25"))}
    w = resolve_window(aapl, cards=cards)
    assert aapl["date"].iloc[w.start] == pd.Timestamp("2020-01-02") and w.end == len(aapl)
    w_in = resolve_window(aapl, cards=cards, in_sample=True)
    assert aapl["date"].iloc[w_in.start] == pd.Timestamp("2011-02-22")
    assert aapl["date"].iloc[w_in.end - 1] == pd.Timestamp("2019-12-31") and w_in.sample == "in-sample"


def test_disagreeing_cards_use_the_common_test_period(aapl):
    cards = {
        "a": _card(("2011-02-22", "2019-12-31"), ("2020-01-02", "2026-09-25")),
        "b": _card(("2011-02-22", "2021-12-31"), ("2022-01-03", "2026-09-25")),
    }
    w = resolve_window(aapl, cards=cards)
    assert aapl["date"].iloc[w.start] == pd.Timestamp("2022-01-03")
    assert any("common part" in text for text in w.warnings)


def test_an_explicit_start_inside_training_is_labelled_in_sample(aapl):
    cards = {"a": _card(("2011-02-22", "2019-12-31"), ("2020-01-02", "2026-09-25"))}
    w = resolve_window(aapl, cards=cards, test_start="2019-06-03", test_end="2020-06-30")
    assert w.sample == "in-sample" and any("training period" in text for text in w.warnings)
    assert aapl["date"].iloc[w.end - 1] == pd.Timestamp("2020-06-30")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"test_start": "2026-09-21"}, "at least 10"),
        ({"test_start": "2011-01-10"}, "warm-up; the first usable bar is bar 33"),
        ({"test_start": "2030-01-01"}, "after the last bar"),
        ({"test_end": "2000-01-01"}, "before the first bar"),
        ({"test_start": "2020-01-01", "test_end": "2019-01-01"}, "is after test end"),
        ({"test_start": "yesterday-ish"}, "not a date"),
        ({"split": 1.5}, "split must be between 0 and 1"),
    ],
)
def test_bad_windows_are_rejected_with_a_clear_message(aapl, kwargs, message):
    with pytest.raises(ValueError, match=message):
        run_battle(aapl, ticker="AAPL", **kwargs)


def test_bad_costs_cash_and_benchmarks_are_rejected(aapl):
    with pytest.raises(ValueError, match="commission_bps"):
        run_battle(aapl, ticker="AAPL", costs=Costs(commission_bps=-5))
    with pytest.raises(ValueError, match="starting cash"):
        run_battle(aapl, ticker="AAPL", cash0=0)
    with pytest.raises(ValueError, match="unknown benchmark"):
        run_battle(aapl, ticker="AAPL", benchmarks=("buy_and_hold", "moon"))


# ------------------------------------------------------------------------------------------------ battle


def test_battle_with_rule_agents_and_benchmarks(aapl):
    costs = Costs(10, 5)
    res = run_battle(aapl, ticker="AAPL", agents=RuleAgentSet(), costs=costs)
    assert isinstance(res, BattleResult)
    assert [c.name for c in res.contestants] == [
        "conservative",
        "aggressive",
        "momentum",
        "mean_reversion",
        "buy_and_hold",
        "cash",
        "sma_crossover",
        "rsi_30_70",
    ]
    n = res.end - res.start
    assert len(res.dates) == n and res.test_start == res.dates[0].date() and res.cost_bps == 15.0
    assert res.periods_per_year == 252 and res.sample == "out-of-sample"
    open_, close = aapl["open"].to_numpy()[res.start : res.end], aapl["close"].to_numpy()[res.start : res.end]
    bh = res.contestant("buy_and_hold")
    for c in res.contestants:
        assert len(c.actions) == len(c.positions) == len(c.equity) == len(c.targets) == n
        assert c.metrics["trades"] == len(c.trades)
        assert c.metrics["beats_buy_and_hold"] == (
            c.name != "buy_and_hold" and c.metrics["total_return"] > bh.metrics["total_return"]
        )
        if c.kind == "benchmark":  # same simulator, same costs, same window
            np.testing.assert_array_equal(c.equity, simulate(open_, close, c.targets, costs).equity)
    assert (
        res.contestant("cash").metrics["total_return"] == 0.0 and res.contestant("cash").actions[0] == "flat"
    )
    assert bh.actions[:2] == ["long", "hold"] and bh.metrics["trades"] == 1
    assert res.contestant("conservative").colour == "#00e5ff"  # the personality's own style


def test_trades_carry_the_decision_context_of_the_bar_before(aapl):
    res = run_battle(aapl, ticker="AAPL", agents=RuleAgentSet())
    c = res.contestant("momentum")
    t = c.trades
    assert list(t.columns) == [
        "date",
        "decision_date",
        "side",
        "quantity",
        "price",
        "value",
        "cost",
        "position_after",
        "equity_after",
        "decision",
        "close",
        "rsi",
        "sma20",
        "macd",
        "probabilities",
    ]
    by_date = aapl.set_index("date")
    for _, row in t.head(20).iterrows():
        i = res.dates.get_loc(row["date"])
        assert res.dates[i - 1] == row["decision_date"]
        assert row["rsi"] == by_date.loc[row["decision_date"], "rsi"]
        assert row["sma20"] == by_date.loc[row["decision_date"], "sma20"]
        assert row["decision"] == c.actions[i - 1]
        assert row["side"] == ("buy" if c.sim.units[i] > c.sim.units[i - 1] else "sell")
        assert row["value"] == pytest.approx(row["quantity"] * row["price"])
    assert t["probabilities"].iloc[0].startswith("flat ")
    assert (res.contestant("sma_crossover").trades["probabilities"] == "").all()


def test_agents_get_the_window_costs_and_shared_market_flag(aapl):
    agents = ScheduleAgents({"aggressive": lambda t, f: 1.0}, warnings=["card drift"])
    costs = Costs(20, 0)
    res = run_battle(
        aapl, ticker="AAPL", agents=agents, costs=costs, shared_market=True, test_start="2024-01-02"
    )
    call = agents.calls[-1]
    assert (call["start"], call["end"], call["costs"], call["shared_market"]) == (
        res.start,
        res.end,
        costs,
        True,
    )
    assert "card drift" in res.warnings and res.shared_market
    # always long from bar 0 == buy-and-hold with the same costs
    np.testing.assert_allclose(res.contestant("aggressive").equity, res.contestant("buy_and_hold").equity)


def test_without_agents_the_benchmarks_still_run_and_it_says_so(aapl):
    res = run_battle(aapl, ticker="AAPL", agents=None, benchmarks=("cash", "sma_crossover"))
    assert [c.name for c in res.contestants] == ["cash", "sma_crossover"]
    assert "no agents: benchmarks only" in res.warnings
    # buy-and-hold is still the yardstick even when it is not shown
    assert res.contestant("sma_crossover").metrics["beats_buy_and_hold"] in (True, False)


def test_a_battle_is_causal(aapl):
    k = 3500
    changed = aapl[["date", "open", "high", "low", "close", "volume"]].copy()
    for col in ("open", "high", "low", "close"):
        changed.loc[k + 1 :, col] = changed.loc[k + 1 :, col].to_numpy() * 0.7
    a = run_battle(aapl, ticker="AAPL", agents=RuleAgentSet(), test_start="2024-01-02")
    b = run_battle(add_indicators(changed), ticker="AAPL", agents=RuleAgentSet(), test_start="2024-01-02")
    upto = k - a.start  # window position of bar k: decisions there fill at k+1, on changed prices
    for ca, cb in zip(a.contestants, b.contestants, strict=True):
        np.testing.assert_array_equal(ca.targets[: upto + 1], cb.targets[: upto + 1])
        np.testing.assert_array_equal(ca.equity[: upto + 1], cb.equity[: upto + 1])


def test_crypto_is_annualised_with_365_days():
    btc = add_indicators(pd.read_csv(REPO / "data" / "BTC-USD.csv", parse_dates=["date"]))
    res = run_battle(btc, ticker="BTC-USD", benchmarks=("buy_and_hold",))
    assert res.periods_per_year == 365


# ------------------------------------------------------------------------------------------------ cache, JSON


def test_results_are_cached_by_every_input(aapl):
    agents = RuleAgentSet()
    first = run_battle(aapl, ticker="AAPL", agents=agents)
    assert run_battle(aapl, ticker="AAPL", agents=agents) is first
    other_cost = run_battle(aapl, ticker="AAPL", agents=agents, costs=Costs(0, 0))
    other_window = run_battle(aapl, ticker="AAPL", agents=agents, test_start="2025-01-02")
    other_flag = run_battle(aapl, ticker="AAPL", agents=agents, shared_market=True)
    keys = {first.cache_key, other_cost.cache_key, other_window.cache_key, other_flag.cache_key}
    assert len(keys) == 4
    changed = aapl.copy()
    changed.loc[len(changed) - 1, "close"] *= 1.01
    assert run_battle(changed, ticker="AAPL", agents=agents) is not first
    arena.clear_cache()
    assert run_battle(aapl, ticker="AAPL", agents=agents) is not first


def test_the_cache_is_bounded_and_thread_safe(aapl):
    results, errors = [], []

    def work(cost):
        try:
            results.append(
                run_battle(aapl, ticker="AAPL", costs=Costs(cost, 0), benchmarks=("buy_and_hold",))
            )
        except Exception as exc:  # noqa: BLE001 - surfaced by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(c % 20,)) for c in range(40)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(results) == 40
    assert len(arena._CACHE) <= arena.CACHE_SIZE
    by_cost = {}
    for r in results:
        by_cost.setdefault(r.costs.commission_bps, set()).add(r.contestants[0].metrics["total_return"])
    assert all(len(v) == 1 for v in by_cost.values())  # same inputs, same answer


def test_json_dict_is_strict_json_with_equal_length_per_bar_lists(aapl):
    res = run_battle(
        aapl, ticker="AAPL", agents=RuleAgentSet(), provenance={"source": "bundled", "sha256": "abc"}
    )
    payload = res.to_json_dict()
    text = json.dumps(payload, allow_nan=False)  # NaN/inf became null
    back = json.loads(text)
    assert {"ticker", "test_start", "test_end", "cost_bps", "contestants"} <= set(back)
    assert back["provenance"]["source"] == "bundled"
    for c in back["contestants"]:
        assert {"name", "kind", "metrics", "dates", "actions", "positions", "equity"} <= set(c)
        assert (
            len(c["dates"])
            == len(c["actions"])
            == len(c["positions"])
            == len(c["equity"])
            == res.end - res.start
        )
        for key in (
            "total_return",
            "sharpe",
            "sortino",
            "max_drawdown",
            "calmar",
            "var_95",
            "cvar_95",
            "trades",
            "exposure",
        ):
            assert key in c["metrics"]
    cash = next(c for c in back["contestants"] if c["name"] == "cash")
    assert cash["metrics"]["calmar"] is None  # undefined without a drawdown


def test_leaderboard_is_sorted_by_total_return(aapl):
    board = run_battle(aapl, ticker="AAPL", agents=RuleAgentSet()).leaderboard()
    assert list(board["total_return"]) == sorted(board["total_return"], reverse=True)
    assert {"name", "label", "kind", "sharpe_ci_low", "var_95"} <= set(board.columns)


# ------------------------------------------------------------------------------------------------ cost stress


def _zigzag(n: int = 400) -> pd.DataFrame:
    """A gapless market that goes up 2% twice then down 1.5% twice, forever (net drift up)."""
    moves = np.tile([1.02, 1.02, 0.985, 0.985], n // 4)
    close = 100 * np.cumprod(moves)
    open_ = np.concatenate(([100.0], close[:-1]))
    frame = pd.DataFrame(
        {
            "date": pd.bdate_range("2020-01-01", periods=n),
            "open": open_,
            "high": np.maximum(open_, close),
            "low": np.minimum(open_, close),
            "close": close,
            "volume": 1e6,
        }
    )
    return add_indicators(frame)


def test_cost_stress_break_even_states():
    frame = _zigzag()
    # long exactly over the up bars: the decision at t is filled at t+1's open and rides bar t+1's move
    timer = ScheduleAgents(
        {
            "momentum": lambda t, f: 1.0 if (t + 1) % 4 in (0, 1) else 0.0,
            "conservative": lambda t, f: 0.0,  # cash in a rising market: never beats buy-and-hold
        }
    )
    stress = cost_stress(frame, ticker="ZIG", agents=timer, levels_bps=(0, 100, 200, 400))
    assert list(stress.returns.columns) == [0.0, 100.0, 200.0, 400.0]
    assert {"momentum", "conservative", "buy_and_hold", "cash"} <= set(stress.returns.index)
    bh = stress.returns.loc["buy_and_hold"].to_numpy()
    assert np.all(np.diff(bh) < 0)  # more cost, less return
    assert stress.break_even["conservative"].state == "never_beats"
    be = stress.break_even["momentum"]
    assert be.state == "crosses" and 100 < be.cost_bps < 200
    # at the break-even cost the timer's net return equals buy-and-hold's
    at = run_battle(
        frame, ticker="ZIG", agents=timer, costs=Costs(be.cost_bps, 0), benchmarks=("buy_and_hold",)
    )
    assert at.contestant("momentum").metrics["total_return"] == pytest.approx(
        at.contestant("buy_and_hold").metrics["total_return"], abs=2e-3
    )
    low = cost_stress(frame, ticker="ZIG", agents=timer, levels_bps=(0, 10, 25, 50))
    assert low.break_even["momentum"].state == "beats_at_all_tested"
    table = low.table()
    assert "beats buy-and-hold at every tested cost (up to 50 bps)" in set(table["break_even"])
    assert "never beats buy-and-hold, even at 0 bps" in set(table["break_even"])


def test_cost_stress_rejects_bad_levels():
    with pytest.raises(ValueError, match="two distinct"):
        cost_stress(_zigzag(), ticker="ZIG", levels_bps=(10,))
    with pytest.raises(ValueError, match="between 0 and"):
        cost_stress(_zigzag(), ticker="ZIG", levels_bps=(-1, 10))


# ------------------------------------------------------------------------------------------------ real models


def _shipped(ticker: str) -> bool:
    from core.registry import seeds

    return bool(seeds(ticker, REPO / "models"))


@pytest.mark.skipif(not _shipped("AAPL"), reason="no shipped AAPL models under models/ yet")
def test_battle_with_the_shipped_aapl_agents(aapl):
    from core.agents import load_agent_seeds

    agents = load_agent_seeds("AAPL", models_dir=REPO / "models")
    res = run_battle(aapl, ticker="AAPL", agents=agents)
    card_test = card_period(next(iter(agents.cards.values())), "test")
    assert res.sample == "out-of-sample"
    assert pd.Timestamp(res.test_start) == card_test[0]
    assert [c.kind for c in res.contestants].count("agent") == 4
    for c in res.contestants:
        assert len(c.equity) == len(res.dates) and np.all(np.isfinite(c.equity))
        if c.kind == "agent":
            assert c.probs.shape == (len(res.dates), len(c.action_labels))
            # the env's accounting equals the shared simulator's on the same decisions
            np.testing.assert_allclose(
                c.equity, simulate(res.open, res.close, c.targets, res.costs).equity, rtol=1e-9
            )
            assert c.seeds == list(agents.seeds) and c.representative_seed in agents.seeds
    json.dumps(res.to_json_dict(), allow_nan=False)
