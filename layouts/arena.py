"""Arena page (placeholder until the battle-arena milestone lands)."""

from __future__ import annotations

from layouts.components import coming_soon


def layout(**_query):
    return coming_soon("Arena", "Battle arena milestone", ["Agents, benchmarks and trades out-of-sample"],
                       "This page arrives with the battle-arena milestone.")
