"""The app's shared cache: ONE flask-caching `Cache` that every gunicorn worker (and, with Redis, every host)
reads and writes, plugged into core.lru as its second level at start-up (`install`).

Without REDIS_URL it is a FileSystemCache in a private folder (mode 0700, Settings.app_cache_dir, by
default <job cache dir>/shared-cache, which every worker shares); with REDIS_URL, a RedisCache in that
Redis (when Redis is unreachable at start-up, the files, like the background jobs: app/jobs/backend.py). A battle, a cost stress test or a figure computed by one worker is then read by the others instead
of being computed again (bench/bench_shared_cache.py has the figures).

Values are bytes the caller encoded itself (core.codec, or a figure's JSON). Both backends here store those
bytes as they are: flask-caching's default serializers would pickle them, and reading a pickle back from a
shared Redis or folder runs whatever it names. Keys carry a fingerprint of the app's code, so a new
release never decodes what an older one wrote.
"""

from __future__ import annotations

import hashlib
import logging
import os
from pathlib import Path

from cachelib.serializers import BaseSerializer
from flask_caching import Cache
from flask_caching.backends.filesystemcache import FileSystemCache
from flask_caching.backends.rediscache import RedisCache

from app.settings import REPO_ROOT, Settings
from core import lru

log = logging.getLogger("neon.app")

TIMEOUT_SECONDS = 3600
FILE_THRESHOLD = 256
"""Entries the FileSystemCache keeps before it prunes (a market figure is ~1 MB, a battle ~1 MB)."""


class RawBytes(BaseSerializer):
    """Bytes stored as they are (files and Redis). FileSystemCache also stores its entry count, an int."""

    def dump(self, value, f, protocol=None) -> None:
        f.write(b"I" + str(value).encode() if isinstance(value, int) else b"B" + bytes(value))

    def load(self, f):
        raw = f.read()
        if raw[:1] == b"I":
            return int(raw[1:] or 0)
        return raw[1:] if raw[:1] == b"B" else None

    def dumps(self, value, protocol=None) -> bytes:
        return bytes(value)

    def loads(self, bvalue):
        return bvalue


class RawFileSystemCache(FileSystemCache):
    serializer = RawBytes()


class RawRedisCache(RedisCache):
    serializer = RawBytes()


class FlaskCacheStore:
    """core.lru.SharedStore on top of a flask-caching Cache."""

    def __init__(self, cache: Cache) -> None:
        self.cache = cache

    def get(self, key: str) -> bytes | None:
        value = self.cache.get(key)
        return value if isinstance(value, bytes) else None

    def set(self, key: str, value: bytes, timeout: int) -> None:
        self.cache.set(key, value, timeout=timeout)


def private_dir(path: Path) -> Path:
    """Create `path` for this user only (0700); refuse a folder another user owns."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    if path.stat().st_uid != os.geteuid():
        raise PermissionError(f"{path} belongs to another user: the shared cache must be the app user's own")
    os.chmod(path, 0o700)
    return path


def code_fingerprint() -> str:
    """12 hex digits of the engine's, layouts' and callbacks' source (names and contents, a few ms): every
    worker of one release computes the same, on any host, and any change of code gives new keys."""
    digest = hashlib.sha256()
    for folder in ("core", "layouts", "callbacks"):
        for path in sorted((REPO_ROOT / folder).rglob("*.py")):
            digest.update(str(path.relative_to(REPO_ROOT)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:12]


def install(server, settings: Settings) -> Cache:
    """Create the Cache on the Flask server and plug it into core.lru; returns it."""
    from app.jobs.backend import job_backend

    if job_backend(settings).celery:  # REDIS_URL set and Redis answered at start-up (else: files, as jobs do)
        config = {"CACHE_TYPE": "app.shared_cache.RawRedisCache", "CACHE_REDIS_URL": settings.redis_url,
                  "CACHE_KEY_PREFIX": "neon-cache:"}
        where = "Redis"
    else:
        folder = private_dir(Path(settings.app_cache_dir))
        config = {"CACHE_TYPE": "app.shared_cache.RawFileSystemCache", "CACHE_DIR": str(folder),
                  "CACHE_THRESHOLD": FILE_THRESHOLD}
        where = str(folder)
    config["CACHE_DEFAULT_TIMEOUT"] = TIMEOUT_SECONDS
    cache = Cache(server, config=config)
    lru.set_shared_store(FlaskCacheStore(cache), prefix=code_fingerprint())
    log.info("shared cache: %s", where)
    return cache
