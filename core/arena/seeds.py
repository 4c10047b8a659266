"""The battle across training seeds: every seed of every agent on the window, summarised per agent.

- `seed_rollouts` rolls every seed out at once (`AgentSeeds.rollout_seeds` / `AgentSet.rollout_seeds`: one
  batched pass for all agents x seeds); agents without seeds (rule-based stand-ins, test fakes) are one
  seed called None.
- `representative_seed` picks the median seed by total return with core.significance.seed_summary (even
  count: the lower middle one), whose decisions, equity and trades the contestant carries.
- `add_significance` fills in, per agent: the paired stationary-bootstrap p-value (all agents on the same
  resampled days, drawn once) of its representative
  seed's Sharpe ratio against buy-and-hold's, the trivial-policy flag, its deflated Sharpe ratio given all
  agent x seed tries; and for the battle the deflated Sharpe ratio of the best try with its sentence
  (core.significance: read its docstring for the exact definitions).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from core import metrics as metrics_mod
from core import significance as sig
from core.arena.results import BattleResult, ContestantResult

TRIVIAL_CODES = {"always-long": "long", "always-flat": "flat", "buy-and-hold-like": "buy_and_hold"}
"""core.significance.trivial_policy's kinds -> the codes of the "trivial" metric."""


def seed_rollouts(agents, frame, start, end, costs, cash0, shared_market) -> tuple[tuple[str, ...], dict]:
    """(agent names, {seed: {name: rollout}}) for an AgentSet, AgentSeeds or any object with `rollout`."""
    if hasattr(agents, "rollout_seeds"):
        by_seed = agents.rollout_seeds(frame, start, end, costs, cash0=cash0, shared_market=shared_market)
    else:
        by_seed = {None: agents.rollout(frame, start, end, costs, cash0=cash0, shared_market=shared_market)}
    first = next(iter(by_seed.values()))
    return tuple(getattr(agents, "names", tuple(first))), by_seed


def representative_seed(runs: dict[Any, Any], bh_total_return: float, ppy: float) -> tuple[Any, dict]:
    """(median seed by total return, its seed_summary) of one agent's {seed: SimResult}."""
    quick = {}
    for seed, sim in runs.items():
        quick[seed] = {
            "total_return": metrics_mod.total_return(sim.equity),
            "sharpe": metrics_mod.sharpe_ratio(metrics_mod.simple_returns(sim.equity), ppy),
        }
    summary = sig.seed_summary(quick, {"total_return": bh_total_return})
    chosen = summary["median_seed"] if summary["median_seed"] is not None else next(iter(runs))
    return chosen, summary


def _cap(name: str) -> float:
    try:
        from core.personalities import get_personality

        return float(get_personality(name).position_cap)
    except ValueError:
        return 1.0


def _trial_label(c: ContestantResult, seed) -> str:
    return c.label if seed is None else f"{c.label}, seed {seed}"


def _p_sentence(label: str, test: dict) -> str:
    p = test["p_value"]
    if not math.isfinite(p):
        return f"{label}: no Sharpe-ratio test against buy-and-hold ({test['note'] or 'undefined'})."
    shown = "p < 0.01" if p < 0.01 else f"p = {p:.2f}"
    if p < sig.SIGNIFICANCE:
        return f"{label}'s Sharpe ratio beats buy-and-hold's by more than luck would ({shown}, median seed)."
    return f"{label}'s Sharpe ratio does not beat buy-and-hold's by more than luck would ({shown}, median seed)."


def add_significance(result: BattleResult, agents: list[ContestantResult], bh: ContestantResult, seed: int) -> None:
    """Fill in each agent's p-value, trivial flag and deflated Sharpe ratio, and the battle's deflated
    Sharpe ratio of the best try (module docstring); a window too short for them leaves NaN / None and a
    note that says why."""
    for c in agents:
        c.metrics.update({"p_value_vs_buy_and_hold": math.nan, "deflated_sharpe": math.nan, "trivial": None})
    if not agents:
        return
    bh_returns = bh.returns
    if bh_returns.size < sig.MIN_RETURNS:
        result.significance_note = (
            f"the window has {bh_returns.size + 1} bars; the significance tests need at least "
            f"{sig.MIN_RETURNS + 1}"
        )
        result.deflated_sentence = f"No significance figures: {result.significance_note}."
        return
    ppy = result.periods_per_year
    tests = sig.sharpe_difference_tests({c.name: c.returns for c in agents}, bh_returns, ppy, seed=seed)
    for c in agents:
        test = tests[c.name]
        c.significance = test | {"sentence": _p_sentence(c.label, test)}
        c.metrics["p_value_vs_buy_and_hold"] = test["p_value"]
        flag = sig.trivial_policy(c.positions, c.returns, bh_returns, cap=_cap(c.name), name=c.label)
        c.trivial = flag | {"code": TRIVIAL_CODES.get(flag["kind"])}
        c.metrics["trivial"] = c.trivial["code"]
    trials = {
        _trial_label(c, run.seed): metrics_mod.simple_returns(run.equity) for c in agents for run in c.seed_runs
    }
    if len(trials) < 2:
        result.deflated_sentence = "One try only: nothing to deflate (see its p-value against buy-and-hold)."
        return
    try:
        deflated = sig.deflated_sharpe_of_best(trials, bh_returns, ppy)
    except ValueError as exc:
        result.deflated_sentence = f"No deflated Sharpe ratio: {exc}."
        return
    result.deflated = deflated
    result.deflated_sentence = sig.deflated_sentence(deflated)
    for c in agents:
        c.metrics["deflated_sharpe"] = sig.deflated_sharpe_of_trial(
            deflated, trials[_trial_label(c, c.representative_seed)], bh_returns
        )


def summarise_seeds(c: ContestantResult, bh_total_return: float) -> None:
    """Per-seed beats flags, the seed summary over the full metrics, and the seed metrics in `c.metrics`."""
    for run in c.seed_runs:
        run.metrics["beats_buy_and_hold"] = bool(run.metrics["total_return"] > bh_total_return)
    summary = sig.seed_summary({run.seed: run.metrics for run in c.seed_runs}, {"total_return": bh_total_return})
    c.seed_stats = summary
    stats = summary["stats"]
    c.metrics.update(
        {
            "seeds": summary["n_seeds"],
            "seeds_beating_buy_and_hold": summary["beats"],
            "total_return_median": stats["total_return"]["median"],
            "total_return_min": stats["total_return"]["min"],
            "total_return_max": stats["total_return"]["max"],
            "sharpe_median": stats["sharpe"]["median"],
            "sharpe_min": stats["sharpe"]["min"],
            "sharpe_max": stats["sharpe"]["max"],
        }
    )


def equity_band(equities: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Per-bar (lowest, highest) equity over the seeds."""
    stacked = np.vstack(equities)
    return stacked.min(axis=0), stacked.max(axis=0)
