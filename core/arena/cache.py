"""The battle cache: a small thread-safe in-process LRU of BattleResults (`_CACHE`, `CACHE_SIZE` entries)
keyed by a hash of every input, backed by the app's shared store when one is plugged in (core.lru; results
travel as core.codec bytes; battles of a user's run never do), `clear_cache` to forget this process's
entries, and the hashes that go into the key:
`frame_hash` (a frame's content) and `_agents_key` (the agents' model cards, every seed's, or their identity
when they have none). Values are computed outside the lock, so two threads may compute the same battle once each.
"""

from __future__ import annotations

import hashlib
import json

import pandas as pd

from core.lru import LRU

CACHE_SIZE = 16


_CACHE = LRU(CACHE_SIZE, shared="battle")


def clear_cache() -> None:
    """Forget every battle cached in this process (tests; after models are retrained in this process). The
    shared store keys battles by the agents' model cards, so retrained agents never meet old entries."""
    _CACHE.clear()


def frame_hash(frame: pd.DataFrame) -> str:
    """sha256 of a frame's content (every column, row order included; the index is ignored)."""
    digest = hashlib.sha256()
    digest.update(",".join(map(str, frame.columns)).encode())
    digest.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    return digest.hexdigest()


def _agents_key(agents) -> str:
    if agents is None:
        return "none"
    cards = getattr(agents, "all_cards", None) or getattr(agents, "cards", None) or {}
    text = json.dumps(cards, sort_keys=True, default=str)
    # Without model cards nothing identifies the agents' weights: fall back on the object's identity.
    ident = "" if cards else f"id={id(agents)}"
    names = ",".join(getattr(agents, "names", ()))
    return hashlib.sha256(f"{type(agents).__qualname__}|{names}|{ident}|{text}".encode()).hexdigest()
