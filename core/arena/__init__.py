"""The battle arena: the agents and the rule-based benchmarks on one window, with one set of costs.

`run_battle` resolves the window, rolls every training seed of the agents out at once
(`AgentSeeds.rollout_seeds`: one batched pass per bar, the env's own accounting; each agent is shown by its
median seed, with the seeds' band, per-seed metrics and significance figures: core.arena.seeds) and runs every benchmark through `core.sim.simulate` with the same costs and
starting cash, then computes each contestant's metrics (core.metrics, core.risk) and trade list.

Window (bar positions in `frame`, end exclusive):

- explicit `test_start` / `test_end` dates (inclusive) win;
- otherwise out-of-sample = the agents' test period read from their model cards (when several cards
  disagree, the intersection, so that no agent is judged on bars it trained on), else the last
  (1 - split) of the bars; `in_sample=True` = the training period from the cards, else the bars from the
  end of the indicator warm-up up to the split. The result's `sample` says which one it is, and a window
  that overlaps the agents' training period is always labelled "in-sample", with a warning.

Results are cached in a small thread-safe in-process LRU keyed by a hash of every input (frame content,
window, costs, cash, agents' model cards, benchmarks, flags), backed by the app's shared store when one is
plugged in (core.lru; `run_battle(share=False)` keeps a user's run out of it). Cached results are shared:
treat a BattleResult as read-only.
"""

# The package is split by concern: `results` (ContestantResult, BattleResult, JSON helpers), `window`
# (resolve_window, card_period), `seeds` (the battle across training seeds and its significance figures),
# `cache` (the LRU and the hashes of its key), `contestants` (trades_frame
# and building one contestant), `battle` (run_battle) and `stress` (cost_stress, BreakEven). Every name
# is re-exported here: import from `core.arena`.

from __future__ import annotations

from core.arena.battle import DEFAULT_BENCHMARKS, run_battle
from core.arena.cache import _CACHE, CACHE_SIZE, clear_cache, frame_hash
from core.arena.contestants import trades_frame
from core.arena.results import BattleResult, ContestantResult, SeedRun
from core.arena.stress import (
    BREAK_EVEN_ALWAYS,
    BREAK_EVEN_CROSSES,
    BREAK_EVEN_NEVER,
    BreakEven,
    CostStress,
    cost_stress,
)
from core.arena.window import MIN_WINDOW_BARS, SAMPLE_IN, SAMPLE_OUT, Window, card_period, resolve_window

__all__ = [
    "BREAK_EVEN_ALWAYS",
    "BREAK_EVEN_CROSSES",
    "BREAK_EVEN_NEVER",
    "CACHE_SIZE",
    "DEFAULT_BENCHMARKS",
    "MIN_WINDOW_BARS",
    "SAMPLE_IN",
    "SAMPLE_OUT",
    "_CACHE",
    "BattleResult",
    "BreakEven",
    "ContestantResult",
    "SeedRun",
    "CostStress",
    "Window",
    "card_period",
    "clear_cache",
    "cost_stress",
    "frame_hash",
    "resolve_window",
    "run_battle",
    "trades_frame",
]
