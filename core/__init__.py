"""Neon Arena engine: market data, indicators, the multi-agent environment, training, battles, metrics.

This package never imports dash, flask or the web packages (app/, layouts/, callbacks/): it is usable
from a notebook, the CLI (`python -m core ...`) and background jobs alike.
"""

from __future__ import annotations

PERSONALITIES: tuple[str, ...] = ("conservative", "aggressive", "momentum", "mean_reversion")
"""The four agent personalities, in display order."""


def train_all_agents(*args, **kwargs):
    """Train the four personalities for one ticker; see core.training.train_all_agents."""
    from core.training import train_all_agents as _train_all_agents

    return _train_all_agents(*args, **kwargs)
