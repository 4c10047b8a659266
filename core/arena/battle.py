"""The battle itself: `run_battle` checks its inputs (benchmark names, the frame's columns, adding
indicators when missing), resolves the window, looks the result up in the cache and otherwise runs
`_battle`, which simulates every benchmark (core.sim), rolls every training seed of every agent out in one
batched pass (`AgentSeeds.rollout_seeds`), shows each agent by its median seed with the seeds' band and
summary, computes every metric with one shared Sharpe bootstrap, and adds the significance figures
(core.arena.seeds). `DEFAULT_BENCHMARKS` and the input checks shared with core.arena.stress live here too.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Sequence

import numpy as np
import pandas as pd

from core import metrics as metrics_mod
from core.arena.cache import _CACHE, _agents_key, frame_hash
from core.arena.contestants import _agent_style, _build, _check_rollout, _finite_or_zero, _level_labels
from core.arena.results import BattleResult, ContestantResult, SeedRun
from core.arena.seeds import (
    add_significance,
    equity_band,
    representative_seed,
    seed_rollouts,
    summarise_seeds,
)
from core.arena.window import resolve_window
from core.indicators import INDICATOR_COLUMNS, add_indicators
from core.sim import Costs, simulate
from core.strategies import BENCHMARKS, benchmark_targets

DEFAULT_BENCHMARKS: tuple[str, ...] = ("buy_and_hold", "cash", "sma_crossover", "rsi_30_70")


def _periods_per_year(ticker: str, frame: pd.DataFrame) -> int:
    try:
        from core.data import periods_per_year
    except ImportError:  # core.data not there yet: weekend bars mean a 7-day market
        weekdays = pd.to_datetime(frame["date"]).dt.dayofweek
        return 365 if bool((weekdays >= 5).any()) or ticker.upper().endswith("-USD") else 252
    return max(int(periods_per_year(ticker)), int(periods_per_year(frame)))


def _check_benchmarks(benchmarks: Sequence[str]) -> tuple[str, ...]:
    names = tuple(benchmarks)
    unknown = [b for b in names if b not in BENCHMARKS]
    if unknown:
        raise ValueError(f"unknown benchmark(s) {', '.join(unknown)}; choose from {', '.join(BENCHMARKS)}")
    if len(set(names)) != len(names):
        raise ValueError(f"each benchmark may appear once, got {list(names)}")
    return names


def agent_cards(agents) -> dict[str, dict]:
    """The agents' model cards (every seed's for AgentSeeds: the window must avoid all their training bars)."""
    if agents is None:
        return {}
    return dict(getattr(agents, "all_cards", None) or getattr(agents, "cards", {}) or {})


def _prepare_frame(frame: pd.DataFrame) -> pd.DataFrame:
    missing = [c for c in ("date", "open", "high", "low", "close") if c not in frame]
    if missing:
        raise ValueError(f"the frame lacks column(s) {', '.join(missing)}; pass core.data.load_ohlcv's frame")
    if not all(c in frame for c in INDICATOR_COLUMNS):
        frame = add_indicators(frame)
    return frame.reset_index(drop=True)


def run_battle(
    frame: pd.DataFrame,
    *,
    ticker: str,
    provenance=None,
    test_start: dt.date | str | None = None,
    test_end: dt.date | str | None = None,
    split: float = 0.8,
    costs: Costs | None = None,
    cash0: float = 100_000.0,
    agents=None,
    benchmarks: Sequence[str] = DEFAULT_BENCHMARKS,
    shared_market: bool = False,
    in_sample: bool = False,
    periods_per_year: int | None = None,
    seed: int = 0,
    use_cache: bool = True,
    share: bool = True,
) -> BattleResult:
    """Battle the agents and the benchmarks on one window with one set of costs.

    :param frame: OHLCV frame (core.data.load_ohlcv), with or without indicators (added when missing).
    :param ticker: the instrument's name (for labels, annualisation and the cache key).
    :param provenance: core.data.Provenance or its dict, carried into the result.
    :param test_start: first date of the window (inclusive); None for the default window.
    :param test_end: last date of the window (inclusive); None for the default.
    :param split: without dates or model cards, the window is the bars after this fraction.
    :param costs: commission and slippage per fill (default core.sim.Costs(): 10 + 5 bps).
    :param cash0: starting cash of every contestant.
    :param agents: an AgentSeeds (core.agents.load_agent_seeds: every seed battles, each agent is shown by
        its median seed), an AgentSet (one seed), or None for benchmarks only.
    :param benchmarks: names from core.strategies.BENCHMARKS, in display order.
    :param shared_market: the agents' net order flow moves their fill prices (see core.env); benchmarks
        always trade at the unmoved price.
    :param in_sample: default to the agents' training period (the result says "in-sample").
    :param periods_per_year: override annualisation (default: 365 for crypto, 252 otherwise).
    :param seed: seed of the Sharpe bootstraps (intervals and the p-values against buy-and-hold).
    :param use_cache: reuse a cached result for identical inputs.
    :param share: the cache may hand the result to the app's other processes (core.lru's shared store);
        False for anything tied to one user (a user's trained run): the result is then marked `private`.
    """
    costs = Costs() if costs is None else costs
    if not np.isfinite(cash0) or cash0 <= 0:
        raise ValueError(f"starting cash must be a positive amount, got {cash0!r}")
    names = _check_benchmarks(benchmarks)
    frame = _prepare_frame(frame)
    prov = provenance.to_dict() if hasattr(provenance, "to_dict") else dict(provenance or {})
    cards = agent_cards(agents)
    window = resolve_window(
        frame, test_start=test_start, test_end=test_end, split=split, in_sample=in_sample, cards=cards
    )
    ppy = int(periods_per_year) if periods_per_year else _periods_per_year(ticker, frame)
    key = hashlib.sha256(
        json.dumps(
            [
                frame_hash(frame),
                ticker,
                window.start,
                window.end,
                window.sample,
                costs.commission_bps,
                costs.slippage_bps,
                cash0,
                _agents_key(agents),
                names,
                shared_market,
                ppy,
                seed,
            ],
            default=str,
        ).encode()
    ).hexdigest()

    def compute() -> BattleResult:
        result = _battle(frame, ticker, prov, window, costs, cash0, agents, names, shared_market, ppy, seed)
        result.cache_key, result.private = key, not share
        return result

    # Agents without model cards are keyed by object identity, which means nothing in another process.
    share = share and (agents is None or bool(cards))
    return _CACHE.get_or_compute(key, compute, share=share) if use_cache else compute()


def _battle(
    frame, ticker, prov, window, costs, cash0, agents, names, shared_market, ppy, seed
) -> BattleResult:
    start, end = window.start, window.end
    rows = frame.iloc[start:end].reset_index(drop=True)
    open_, close = rows["open"].to_numpy(dtype=float), rows["close"].to_numpy(dtype=float)
    n = end - start
    warnings = list(window.warnings)

    # Buy-and-hold is the yardstick of "beats_buy_and_hold" even when it is not shown.
    benchmarks: list[ContestantResult] = []
    for name in names if "buy_and_hold" in names else (*names, "buy_and_hold"):
        spec = BENCHMARKS[name]
        targets = benchmark_targets(name, frame, start, end)
        sim = simulate(open_, close, targets, costs, cash0)
        benchmarks.append(
            _build(name, spec.label, "benchmark", spec.colour, spec.symbol, targets, sim, _level_labels(targets),
                   rows, ppy)
        )
    bh = next(c for c in benchmarks if c.name == "buy_and_hold")
    bh_total = metrics_mod.total_return(bh.equity)

    agent_list: list[ContestantResult] = []
    sims: list[tuple[SeedRun, object]] = []  # every seed's run and its account, for the shared bootstrap
    if agents is None:
        warnings.append("no agents: benchmarks only")
    else:
        warnings.extend(getattr(agents, "warnings", []) or [])
        agent_names, by_seed = seed_rollouts(agents, frame, start, end, costs, cash0, shared_market)
        for name in agent_names:
            runs = {s: r[name] for s, r in by_seed.items()}
            for rollout in runs.values():
                _check_rollout(name, rollout, n)
            chosen, _ = representative_seed({s: r.result for s, r in runs.items()}, bh_total, ppy)
            rollout = runs[chosen]
            labels = tuple(rollout.action_labels)
            actions = [labels[int(a)] if 0 <= int(a) < len(labels) else str(int(a)) for a in rollout.actions]
            label, colour, symbol = _agent_style(name)
            c = _build(name, label, "agent", colour, symbol, rollout.targets, rollout.result, actions, rows, ppy,
                       probs=rollout.probs, action_labels=labels)
            c.representative_seed = chosen
            for s, r in runs.items():
                run = SeedRun(seed=s, metrics={}, equity=r.result.equity, positions=r.result.position)
                c.seed_runs.append(run)
                sims.append((run, r.result))
            c.equity_low, c.equity_high = equity_band([run.equity for run in c.seed_runs])
            agent_list.append(c)

    # One paired bootstrap for every Sharpe interval (benchmarks and every seed of every agent): the same
    # resampled days, one matrix product.
    columns = [c.returns for c in benchmarks] + [metrics_mod.simple_returns(sim.equity) for _, sim in sims]
    intervals = metrics_mod.sharpe_confidence_intervals(
        np.column_stack([_finite_or_zero(r) for r in columns]), ppy, seed=seed
    )
    for c, (low, high) in zip(benchmarks, intervals[: len(benchmarks)], strict=True):
        c.metrics = metrics_mod.performance_summary(c.sim, ppy, seed=seed, sharpe_ci=(float(low), float(high)))
    for (run, sim), (low, high) in zip(sims, intervals[len(benchmarks):], strict=True):
        run.metrics = metrics_mod.performance_summary(sim, ppy, seed=seed, sharpe_ci=(float(low), float(high)))
    for c in agent_list:
        c.metrics = dict(next(r for r in c.seed_runs if r.seed == c.representative_seed).metrics)
    bh_return = bh.metrics["total_return"]
    for c in (*agent_list, *benchmarks):
        c.metrics["beats_buy_and_hold"] = bool(c.name != "buy_and_hold" and c.metrics["total_return"] > bh_return)
    for c in agent_list:
        summarise_seeds(c, bh_return)

    dates = pd.DatetimeIndex(pd.to_datetime(rows["date"]))
    result = BattleResult(
        ticker=ticker,
        test_start=dates[0].date(),
        test_end=dates[-1].date(),
        cost_bps=costs.total_bps,
        costs=costs,
        sample=window.sample,
        periods_per_year=ppy,
        provenance=prov,
        warnings=warnings,
        dates=dates,
        open=open_,
        close=close,
        contestants=[*agent_list, *(c for c in benchmarks if c.name in names)],
        start=start,
        end=end,
        cash0=float(cash0),
        shared_market=shared_market,
        indicators=rows[[c for c in INDICATOR_COLUMNS if c in rows]].copy(),
    )
    add_significance(result, agent_list, bh, seed)
    return result
