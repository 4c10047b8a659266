"""A small thread-safe least-recently-used cache per process, with an optional second level shared by
every process of the app (all gunicorn workers, or several hosts).

Values are computed outside the lock: two threads asking for the same missing key may each compute it
once, but nobody waits behind a slow computation of another key.

The second level is pluggable because core never imports the web stack: the app plugs a store in at
start-up (`set_shared_store`; app/shared_cache.py wraps flask-caching: files in a private folder, or
Redis). An LRU created with `shared="<namespace>"` then looks there on a local miss and writes what it
computes. What crosses processes is bytes the LRU's own `encode` made (core.codec by default, never pickle),
under a key that is a hash of the namespace and the inputs only. Callers pass `share=False` for anything
tied to one user (a user's trained run, an uploaded file): it stays in this process. A shared entry that
cannot be read or decoded counts as a miss: the value is recomputed, never an error.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, Protocol

log = logging.getLogger("neon.cache")


class SharedStore(Protocol):
    """What the app plugs in: bytes in, bytes out. Either method may raise; the LRU carries on without."""

    def get(self, key: str) -> bytes | None: ...

    def set(self, key: str, value: bytes, timeout: int) -> None: ...


_STORE: dict[str, Any] = {"store": None, "prefix": ""}
_LAST_WARNING = [0.0]


def _warn(message: str, *args) -> None:
    """One warning a minute at most: a store that is down would otherwise log on every request."""
    now = time.monotonic()
    if now - _LAST_WARNING[0] >= 60:
        _LAST_WARNING[0] = now
        log.warning(message, *args)


def set_shared_store(store: SharedStore | None, prefix: str = "") -> None:
    """Plug in (or, with None, remove) the store every shared LRU of this process uses. `prefix` goes in
    front of every key: the app passes a fingerprint of its code, so a new release never reads values
    that an older one encoded."""
    _STORE["store"], _STORE["prefix"] = store, prefix


def shared_store() -> SharedStore | None:
    return _STORE["store"]


def shared_key(namespace: str, key: Hashable) -> str | None:
    """The store's key for `key`: a sha256 of the inputs (None when the key is not plain JSON data, e.g. an
    object identity, which would mean nothing in another process)."""
    try:
        text = json.dumps([namespace, key], sort_keys=True, allow_nan=True)
    except (TypeError, ValueError):
        return None
    return f"neon:{_STORE['prefix']}:{namespace}:{hashlib.sha256(text.encode()).hexdigest()}"


def _codec():
    from core import codec

    return codec.dumps, codec.loads


class LRU:
    """Bounded mapping that forgets the least recently used entry first; optionally backed by the shared
    store (`shared` = a namespace; `encode`/`decode` turn values into bytes and back, core.codec's by
    default; `timeout` = seconds an entry lives in the shared store)."""

    def __init__(self, maxsize: int = 32, *, shared: str | None = None,
                 encode: Callable[[Any], bytes] | None = None, decode: Callable[[bytes], Any] | None = None,
                 timeout: int = 3600) -> None:
        if maxsize < 1:
            raise ValueError(f"maxsize must be at least 1, got {maxsize}")
        self.maxsize = maxsize
        self.namespace, self.timeout = shared, timeout
        self._encode, self._decode = encode, decode
        self._data: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> Any | None:
        """The cached value (marked as recently used), or None. This process only."""
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

    def get_or_compute(self, key: Hashable, compute: Callable[[], Any], *, share: bool = True) -> Any:
        """The cached value (this process, then the shared store), or `compute()` stored under `key` in both
        (None results are not cached). `share=False`: this process only."""
        value = self.get(key)
        if value is not None:
            return value
        store = _STORE["store"] if (self.namespace and share) else None
        skey = shared_key(self.namespace, key) if store is not None else None
        if skey is not None:
            value = self._from_store(store, skey)
            if value is not None:
                self.put(key, value)
                return value
        value = compute()
        if value is not None:
            self.put(key, value)
            if skey is not None:
                self._to_store(store, skey, value)
        return value

    def _from_store(self, store: SharedStore, skey: str) -> Any | None:
        try:
            raw = store.get(skey)
        except Exception as exc:  # noqa: BLE001 - a store that is down is a miss, never an error
            _warn("shared cache unreachable (%s: %s): computing locally", type(exc).__name__, exc)
            return None
        if raw is None:
            return None
        try:
            return (self._decode or _codec()[1])(raw)
        except Exception as exc:  # noqa: BLE001 - corrupt or foreign bytes: recompute (and overwrite)
            _warn("unreadable shared cache entry %s (%s): recomputing", skey, exc)
            return None

    def _to_store(self, store: SharedStore, skey: str, value: Any) -> None:
        try:
            store.set(skey, (self._encode or _codec()[0])(value), self.timeout)
        except Exception as exc:  # noqa: BLE001 - not shareable or store down: this process keeps it
            _warn("not written to the shared cache (%s: %s)", type(exc).__name__, exc)

    def clear(self) -> None:
        """Forget this process's entries (the shared store keeps its own until they expire)."""
        with self._lock:
            self._data.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._data)
