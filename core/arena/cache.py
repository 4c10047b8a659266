"""The battle cache: a small thread-safe in-process LRU of BattleResults (`_CACHE`, `CACHE_SIZE` entries)
keyed by a hash of every input, `clear_cache` to forget it, and the hashes that go into the key:
`frame_hash` (a frame's content) and `_agents_key` (the agents' model cards, or their identity when they
have none). Values are computed outside the lock, so two threads may compute the same battle once each.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from collections.abc import Hashable
from typing import Any

import pandas as pd

CACHE_SIZE = 16


class _LRU:
    """A small thread-safe LRU; values are computed outside the lock (two threads may compute once each)."""

    def __init__(self, maxsize: int) -> None:
        self.maxsize = maxsize
        self._data: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable):
        with self._lock:
            if key in self._data:
                self._data.move_to_end(key)
                return self._data[key]
        return None

    def put(self, key: Hashable, value: Any) -> None:
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self.maxsize:
                self._data.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._data)


_CACHE = _LRU(CACHE_SIZE)


def clear_cache() -> None:
    """Forget every cached battle (tests; after models are retrained in this process)."""
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
    cards = getattr(agents, "cards", None) or {}
    text = json.dumps(cards, sort_keys=True, default=str)
    # Without model cards nothing identifies the agents' weights: fall back on the object's identity.
    ident = "" if cards else f"id={id(agents)}"
    names = ",".join(getattr(agents, "names", ()))
    return hashlib.sha256(f"{type(agents).__qualname__}|{names}|{ident}|{text}".encode()).hexdigest()
