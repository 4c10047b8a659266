"""Walk-forward evaluation: retrain on each expanding window, battle on the next block.

Folds come from core.training.walk_forward_folds: fold k trains on bars [first usable bar, s_k) and is
battled on [s_k, s_{k+1}); the K test blocks tile the bars after the first training block (of
core.training.MIN_TRAIN_BARS bars). Each fold trains the personalities (every seed) on the fold's data
only (the frame cut at the end of its test block, the test block held out by date: the agents never see
a bar of it, and the feature scaler is fit on the fold's training rows), then `run_battle` puts them
against the benchmarks on that block with the same costs. Nothing is tuned on any block.

torch is imported only by the training (core.training), inside `walk_forward`.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from core import PERSONALITIES
from core.arena.results import BattleResult, _json_safe
from core.sim import Costs

SUMMARY_KEYS = ("total_return", "sharpe", "max_drawdown", "total_return_min", "total_return_max", "sharpe_min",
                "sharpe_max", "seeds", "seeds_beating_buy_and_hold", "beats_buy_and_hold",
                "p_value_vs_buy_and_hold", "deflated_sharpe", "trivial")
"""What each fold reports of each contestant (agents: the median seed's and the range over seeds)."""


@dataclass
class Fold:
    """One walk-forward fold: where it trained, where it was battled, and the battle."""

    fold: int
    train: dict[str, Any]
    """{"start", "end" (dates), "bars"} of the training period."""
    test: dict[str, Any]
    """{"start", "end" (dates), "bars"} of the test block."""
    result: BattleResult


@dataclass
class WalkForwardResult:
    ticker: str
    timesteps: int
    seeds: list[int]
    costs: Costs
    folds: list[Fold] = field(default_factory=list)

    def rows(self) -> list[dict[str, Any]]:
        """One row per fold and contestant: fold, dates, name, label, kind and SUMMARY_KEYS."""
        out = []
        for f in self.folds:
            for c in f.result.contestants:
                out.append({"fold": f.fold, "test_start": f.test["start"], "test_end": f.test["end"], "name": c.name,
                            "label": c.label, "kind": c.kind} | {k: c.metrics.get(k) for k in SUMMARY_KEYS})
        return out

    def summary(self) -> dict[str, dict[str, Any]]:
        """Per agent: in how many folds its median seed beat buy-and-hold, and its mean excess return."""
        out: dict[str, dict[str, Any]] = {}
        for f in self.folds:
            bh = f.result.contestant("buy_and_hold").metrics["total_return"]
            for c in f.result.contestants:
                if c.kind != "agent":
                    continue
                entry = out.setdefault(c.name, {"label": c.label, "folds": 0, "beats": 0, "excess": []})
                entry["folds"] += 1
                entry["beats"] += bool(c.metrics["beats_buy_and_hold"])
                entry["excess"].append(c.metrics["total_return"] - bh)
        for entry in out.values():
            excess = entry.pop("excess")
            entry["mean_excess_return"] = sum(excess) / len(excess)
            entry["label_text"] = f"beats buy-and-hold in {entry['beats']} of {entry['folds']} folds (median seed)"
        return out

    def to_json_dict(self) -> dict[str, Any]:
        folds = []
        for f in self.folds:
            res = f.result
            folds.append({
                "fold": f.fold,
                "train": f.train,
                "test": f.test,
                "sample": res.sample,
                "contestants": [
                    {"name": c.name, "label": c.label, "kind": c.kind, "representative_seed": c.representative_seed,
                     "metrics": {k: c.metrics.get(k) for k in SUMMARY_KEYS if k in c.metrics},
                     "seeds": [{"seed": r.seed, "metrics": {k: r.metrics[k] for k in ("total_return", "sharpe")}}
                               for r in c.seed_runs]}
                    for c in res.contestants
                ],
                "deflated_sharpe": {"dsr": res.deflated.get("dsr"), "p_value": res.deflated.get("p_value"),
                                    "best": res.deflated.get("best"), "sentence": res.deflated_sentence or None},
                "warnings": list(res.warnings),
            })
        return _json_safe({
            "command": "walk-forward",
            "ticker": self.ticker,
            "n_folds": len(self.folds),
            "timesteps": self.timesteps,
            "seeds": self.seeds,
            "cost_bps": self.costs.total_bps,
            "folds": folds,
            "summary": self.summary(),
        })


def _period(dates: pd.Series, start: int, end: int) -> dict[str, Any]:
    return {"start": str(pd.Timestamp(dates.iloc[start]).date()), "end": str(pd.Timestamp(dates.iloc[end - 1]).date()),
            "bars": int(end - start)}


def walk_forward(
    frame: pd.DataFrame,
    *,
    ticker: str,
    n_folds: int,
    provenance=None,
    timesteps: int,
    seeds: Sequence[int] = (0,),
    costs: Costs | None = None,
    cash0: float = 100_000.0,
    personalities: Sequence[str] = PERSONALITIES,
    processes: int = 2,
    progress=None,
    shared_market: bool = False,
    **config_overrides,
) -> WalkForwardResult:
    """Train and battle every fold (module docstring).

    :param frame: OHLCV frame (core.data.load_ohlcv).
    :param ticker: the instrument's name (its agents' registry name in each fold's temporary folder).
    :param n_folds: number of test blocks K.
    :param provenance: where `frame` came from (recorded in the cards and the results).
    :param timesteps: PPO steps per personality and seed in each fold.
    :param seeds: training seeds (each fold trains every personality once per seed).
    :param costs: commission and slippage of the training and of the battles (default 10 + 5 bps).
    :param cash0: starting cash.
    :param personalities: which personalities.
    :param processes: training processes.
    :param progress: called with (fraction of all folds done, message).
    :param shared_market: battle with the shared-market price impact.
    :param config_overrides: other TrainConfig fields (e.g. a tiny n_envs in tests).
    """
    from core.agents import load_agent_seeds
    from core.arena.battle import _prepare_frame, run_battle
    from core.registry import validate_ticker
    from core.training import _first_feature_bar, train_all_agents, walk_forward_folds

    costs = costs or Costs()
    ohlcv = frame[["date", "open", "high", "low", "close", "volume"]].reset_index(drop=True)
    full = _prepare_frame(frame)
    dates = pd.Series(pd.to_datetime(full["date"]))
    first = _first_feature_bar(full)
    folds = walk_forward_folds(len(full), n_folds, first_bar=first if first is not None else len(full))
    symbol = validate_ticker(ticker)
    prov = provenance.to_dict() if hasattr(provenance, "to_dict") else dict(provenance or {"ticker": symbol})
    out = WalkForwardResult(ticker=symbol, timesteps=int(timesteps), seeds=[int(s) for s in seeds], costs=costs)
    for k, split in enumerate(folds):
        (a, b) = split.test
        test = _period(dates, a, b)

        def fold_progress(fraction, message, k=k):
            if progress is not None:
                progress((k + fraction) / len(folds), f"fold {k + 1}/{len(folds)}: {message}")

        with tempfile.TemporaryDirectory(prefix="neon-walk-forward-") as tmp:
            train_all_agents(
                symbol, frame=ohlcv.iloc[:b].reset_index(drop=True), provenance=prov, timesteps=timesteps,
                seeds=list(seeds), personalities=personalities, out_dir=Path(tmp), processes=processes,
                progress=fold_progress, live=False, test_start=test["start"],
                commission_bps=costs.commission_bps, slippage_bps=costs.slippage_bps, cash0=cash0,
                **config_overrides,
            )
            agents = load_agent_seeds(symbol, Path(tmp), personalities)
        result = run_battle(full, ticker=symbol, provenance=prov, test_start=test["start"], test_end=test["end"],
                            costs=costs, cash0=cash0, agents=agents, shared_market=shared_market, use_cache=False)
        out.folds.append(Fold(fold=k + 1, train=_period(dates, *split.train), test=test, result=result))
    return out
