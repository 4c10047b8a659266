"""Where the JobBoard keeps its shared state: a tiny key/value interface with two implementations.

- `DiskStore`: a diskcache directory shared by the processes of ONE host (the default mode).
- `RedisStore`: a Redis database shared by web processes and Celery workers on any number of hosts (the
  scale-out mode, REDIS_URL).

Values are JSON in both (never pickles: a value written by one host is read by another). A `transaction()`
makes a read-modify-write of several keys exclusive and all-or-nothing across every process that uses the
store: diskcache's SQLite transaction, or a Redis lock plus a MULTI/EXEC that only commits while the lock is
still ours.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol

DAY = 24 * 3600.0


class BoardStore(Protocol):
    """The storage a JobBoard needs. `expire` is in seconds (None: keep)."""

    def get(self, key: str, default: Any = None) -> Any: ...

    def set(self, key: str, value: Any, *, expire: float | None = None) -> None: ...

    def transaction(self) -> Any:
        """A context manager: the reads and writes inside are exclusive and committed together."""

    def describe(self) -> str: ...


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


class DiskStore:
    """A diskcache directory (mode 0700) shared by every process of this host."""

    def __init__(self, directory: Path | str) -> None:
        import diskcache

        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.directory.chmod(0o700)
        self.cache = diskcache.Cache(str(self.directory))

    def get(self, key: str, default: Any = None) -> Any:
        raw = self.cache.get(key)
        # Only JSON text is ours; anything else (an entry from an older version) reads as absent.
        return json.loads(raw) if isinstance(raw, str) else default

    def set(self, key: str, value: Any, *, expire: float | None = None) -> None:
        self.cache.set(key, _dumps(value), expire=expire)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        with self.cache.transact():
            yield

    def describe(self) -> str:
        return f"diskcache {self.directory}"


class StoreBusy(RuntimeError):
    """The board's lock could not be had in time (another process holds it far too long)."""


class RedisStore:
    """A Redis database shared by every web process and Celery worker, on any host.

    Keys are `prefix + key`; every write carries a TTL (the board passes one, a day at most otherwise), so
    nothing a dead deployment left behind stays forever.

    :param client: a `redis.Redis` (or a URL to make one, with short socket timeouts).
    :param prefix: namespace of this board's keys.
    :param lock_seconds: a transaction's lock expires after this long, so a holder that died frees it.
    """

    def __init__(self, client: Any, *, prefix: str = "neon-arena:board:", lock_seconds: float = 10.0) -> None:
        if isinstance(client, str):
            client = redis_client(client)
        self.client = client
        self.prefix = prefix
        self.lock_seconds = lock_seconds
        self._local = threading.local()

    def _key(self, key: str) -> str:
        return self.prefix + key

    def get(self, key: str, default: Any = None) -> Any:
        pending = getattr(self._local, "pending", None)
        if pending is not None and key in pending:  # read your own writes inside a transaction
            return json.loads(pending[key][0])
        raw = self.client.get(self._key(key))
        return default if raw is None else json.loads(raw)

    def set(self, key: str, value: Any, *, expire: float | None = None) -> None:
        data = _dumps(value)
        pending = getattr(self._local, "pending", None)
        if pending is not None:
            pending[key] = (data, expire)
        else:
            self.client.set(self._key(key), data, px=_ttl_ms(expire))

    @contextmanager
    def transaction(self) -> Iterator[None]:
        import redis

        if getattr(self._local, "pending", None) is not None:  # nested: part of the outer transaction
            yield
            return
        lock = self.client.lock(self._key("lock"), timeout=self.lock_seconds,
                                blocking_timeout=2 * self.lock_seconds)
        if not lock.acquire():
            raise StoreBusy(f"the job board's lock in Redis stayed busy for {2 * self.lock_seconds:.0f} s")
        token = lock.local.token
        self._local.pending = {}
        try:
            yield
            pending = self._local.pending
            if pending:
                with self.client.pipeline(transaction=True) as pipe:
                    # Commit only while the lock is still ours: WATCH fails the EXEC if it expired meanwhile.
                    pipe.watch(lock.name)
                    if pipe.get(lock.name) != token:
                        raise StoreBusy("the job board's lock expired before the change was written")
                    pipe.multi()
                    for key, (data, expire) in pending.items():
                        pipe.set(self._key(key), data, px=_ttl_ms(expire))
                    try:
                        pipe.execute()
                    except redis.WatchError:
                        raise StoreBusy("the job board's lock expired before the change was written") from None
        finally:
            self._local.pending = None
            try:
                lock.release()
            except redis.exceptions.LockError:
                pass  # expired: StoreBusy above already said so (or nothing was written)

    def describe(self) -> str:
        return f"redis {safe_url(self.client)}"


def _ttl_ms(expire: float | None) -> int:
    return int(1000 * (expire if expire is not None else DAY))


def redis_client(url: str):
    """A Redis client with short timeouts: an unreachable Redis fails a request in seconds, never hangs it."""
    import redis

    return redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=10, health_check_interval=30)


def safe_url(target: Any) -> str:
    """A Redis URL (or client) without its password, for logs and pages."""
    if not isinstance(target, str):
        kw = target.connection_pool.connection_kwargs
        if "path" in kw:
            return f"unix://{kw['path']}"
        return f"redis://{kw.get('host', '?')}:{kw.get('port', '?')}/{kw.get('db', 0)}"
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(target)
    if parts.password or parts.username:
        host = parts.hostname or ""
        netloc = f"{host}:{parts.port}" if parts.port else host
        return urlunsplit(parts._replace(netloc=netloc))
    return target
