"""Brotli at its best level for the big static bundles (plotly.min.js, the grid, Dash's bundles).

flask-compress (Dash's compress=True) compresses every response at a fast level, which is right for
figures and callbacks but leaves ~25% on the table for multi-megabyte JavaScript that never changes.
This hook serves those bundles (and the app's own assets) as brotli quality 11, compressed ONCE in a background thread (it takes
~10 s for plotly.min.js) into a directory shared by every worker; until a bundle is ready, flask-compress
handles it as usual. Responses that already carry Content-Encoding are left alone by flask-compress.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import threading
from pathlib import Path

log = logging.getLogger("neon.static")

MIN_BYTES = 4_000
"""Smaller responses are not worth a cache entry."""
PREFIXES = ("/_dash-component-suites/", "/assets/")


def cache_dir() -> Path:
    path = Path(os.environ.get("NEON_STATIC_CACHE_DIR") or Path(tempfile.gettempdir()) / "neon-arena-static")
    path.mkdir(parents=True, exist_ok=True)
    os.chmod(path, 0o700)
    return path


def install(server, directory: Path | None = None) -> None:
    """Register the after-request hook on a Flask server (after Dash set up flask-compress)."""
    import brotli

    folder = directory or cache_dir()
    # Callback responses (figures, rows) are compressed per request: zstd 9 / brotli 5 cost a few ms on a
    # 300 kB figure and save ~10% over flask-compress's defaults (zstd 3 / brotli 4).
    server.config["COMPRESS_ZSTD_LEVEL"] = 9
    server.config["COMPRESS_BR_LEVEL"] = 5
    memory: dict[str, bytes] = {}
    pending: set[str] = set()
    lock = threading.Lock()

    def compress_later(key: str, body: bytes) -> None:
        def work():
            try:
                packed = brotli.compress(body, quality=11)
                tmp = folder / f".{key}.{os.getpid()}.tmp"
                tmp.write_bytes(packed)
                tmp.replace(folder / f"{key}.br")
                with lock:
                    memory[key] = packed
            except Exception:  # noqa: BLE001 - an optimisation only: the normal path keeps working
                log.exception("precompressing a static bundle failed")
            finally:
                with lock:
                    pending.discard(key)

        with lock:
            if key in pending:
                return
            pending.add(key)
        threading.Thread(target=work, name="neon-brotli", daemon=True).start()

    def lookup(key: str) -> bytes | None:
        with lock:
            hit = memory.get(key)
        if hit is not None:
            return hit
        path = folder / f"{key}.br"
        if path.is_file():
            data = path.read_bytes()
            with lock:
                memory[key] = data
            return data
        return None

    @server.after_request
    def _brotli(response):
        from flask import request

        if (request.method != "GET" or response.status_code != 200
                or "Content-Encoding" in response.headers or not request.path.startswith(PREFIXES)
                or "br" not in request.headers.get("Accept-Encoding", "")
                or (response.content_length or MIN_BYTES) < MIN_BYTES):
            return response
        response.direct_passthrough = False  # assets are file responses: read them (a few kB to a few MB)
        body = response.get_data()
        if len(body) < MIN_BYTES:
            return response
        key = hashlib.sha256(body).hexdigest()[:40]
        packed = lookup(key)
        if packed is None:
            compress_later(key, body)
            return response
        response.set_data(packed)
        response.headers["Content-Encoding"] = "br"
        response.headers["Content-Length"] = str(len(packed))
        response.vary.add("Accept-Encoding")
        return response
