"""Building one contestant of a battle: `trades_frame` (every fill with the context of the decision that
caused it), `_build` (a ContestantResult from targets, simulation and action labels; metrics are filled
in later), the style of an agent (label, colour, marker from core.personalities), labels for benchmark
target levels, the sanity check of an agent's rollout, and the guard that keeps the Sharpe bootstrap
finite.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from core.arena.results import ContestantResult
from core.sim import SimResult


def _level_labels(targets: np.ndarray) -> list[str]:
    """ "hold" (NaN: no new decision), "long" (1.0), "flat" (0.0) or the level in percent."""
    targets = np.asarray(targets, dtype=float)
    labels = np.where(np.isnan(targets), "hold", np.where(targets >= 1.0, "long", "flat")).astype(object)
    partial = np.flatnonzero((targets > 0.0) & (targets < 1.0))
    labels[partial] = [f"{100 * v:g}%" for v in targets[partial]]
    return labels.tolist()


def _finite_or_zero(values: np.ndarray) -> np.ndarray:
    # equity stays positive in the simulator, so this only guards the bootstrap against a broken rollout
    return np.where(np.isfinite(values), values, 0.0)


def _probs_text(labels: Sequence[str], probs: np.ndarray) -> str:
    return " | ".join(f"{label} {p:.2f}" for label, p in zip(labels, probs, strict=False))


def trades_frame(
    sim: SimResult,
    window: pd.DataFrame,
    actions: Sequence[str],
    *,
    probs: np.ndarray | None = None,
    action_labels: Sequence[str] = (),
) -> pd.DataFrame:
    """Every fill of one account with the context of the decision that caused it.

    Columns: date (fill bar), decision_date (the bar before: the decision's close), side ("buy"/"sell"),
    quantity (units, positive), price (fill price incl. slippage and impact), value (quantity x price),
    cost (commission + slippage in cash), position_after, equity_after, decision (the action label),
    close, rsi, sma20, macd (at the decision bar), probabilities (agents: "label p | ..."; "" otherwise).

    :param sim: the account's simulation over the window.
    :param window: the window's rows of the frame (date, close, indicators), positions aligned with sim.
    :param actions: the decision label at each bar of the window.
    :param probs: agents: action probabilities per bar.
    :param action_labels: agents: labels of the probability columns.
    """
    fills = sim.fill_bars.astype(int)
    decision = fills - 1
    qty = sim.fill_qty
    dates = pd.to_datetime(window["date"]).to_numpy()

    def at_decision(column: str) -> np.ndarray:
        return (
            window[column].to_numpy(dtype=float)[decision]
            if column in window
            else np.full(len(fills), np.nan)
        )

    prob_text = (
        [_probs_text(action_labels, probs[d]) for d in decision] if probs is not None else [""] * len(fills)
    )
    return pd.DataFrame(
        {
            "date": dates[fills],
            "decision_date": dates[decision],
            "side": np.where(qty > 0, "buy", "sell"),
            "quantity": np.abs(qty),
            "price": sim.fill_price,
            "value": np.abs(qty) * sim.fill_price,
            "cost": sim.fill_cost,
            "position_after": sim.position[fills],
            "equity_after": sim.equity[fills],
            "decision": [actions[d] for d in decision],
            "close": at_decision("close"),
            "rsi": at_decision("rsi"),
            "sma20": at_decision("sma20"),
            "macd": at_decision("macd"),
            "probabilities": prob_text,
        },
        columns=[
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
        ],
    )


def _agent_style(name: str) -> tuple[str, str, str]:
    try:
        from core.personalities import get_personality

        p = get_personality(name)
        return p.label, p.colour, p.marker
    except (ImportError, ValueError):
        return name.replace("_", " ").title(), "#00e5ff", "circle"


def _check_rollout(name: str, rollout, n: int) -> None:
    for attr in ("targets", "actions"):
        if len(getattr(rollout, attr)) != n:
            raise ValueError(f"agent {name}'s rollout has {len(getattr(rollout, attr))} {attr} for {n} bars")
    if len(rollout.result.equity) != n:
        raise ValueError(f"agent {name}'s rollout accounts for {len(rollout.result.equity)} bars, not {n}")


def _build(
    name, label, kind, colour, symbol, targets, sim, actions, window, ppy, probs=None, action_labels=()
) -> ContestantResult:
    # metrics are filled in afterwards, with one bootstrap shared by every contestant
    return ContestantResult(
        name=name,
        label=label,
        kind=kind,
        colour=colour,
        symbol=symbol,
        actions=list(actions),
        targets=np.asarray(targets, dtype=float),
        positions=sim.position,
        equity=sim.equity,
        trades=trades_frame(sim, window, actions, probs=probs, action_labels=action_labels),
        metrics={},
        sim=sim,
        probs=None if probs is None else np.asarray(probs, dtype=float),
        action_labels=tuple(action_labels),
    )
