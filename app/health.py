"""`/healthz` for probes (Docker HEALTHCHECK, nginx or a load balancer): 200 when the app is usable, else 503.

Checks, all cheap (a probe may call it every few seconds):
- data: every bundled CSV (data/<TICKER>.csv) is present, readable and starts with a header line;
- models: every shipped personality has a readable .npz and .json (core.registry.missing_files)
  is present and readable, for every bundled ticker;
- redis: only when REDIS_URL is set: a PING answered within half a second.

The body says which check failed and never names paths, hosts or passwords: with basic auth on, /healthz
stays open to probes, so it must not tell strangers more than "usable or not".
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from flask import jsonify

from app.settings import Settings

log = logging.getLogger("neon.health")

REDIS_TIMEOUT_S = 0.5


def _readable(path: Path, header: bool = False) -> bool:
    try:
        with open(path, "rb") as fh:
            first = fh.readline(4096)
    except OSError:
        return False
    return bool(first.strip()) and (not header or b"," in first)


def check_data(data_dir: Path | None = None) -> dict[str, str]:
    """{ticker: "ok" | "missing" | "unreadable"} for the bundled snapshots."""
    import core.data as data

    folder = Path(data_dir if data_dir is not None else data.DATA_DIR)
    out = {}
    for ticker in data.BUNDLED_TICKERS:
        path = folder / f"{ticker}.csv"
        out[ticker] = "missing" if not path.is_file() else ("ok" if _readable(path, header=True) else "unreadable")
    return out


def check_models(models_dir: Path) -> dict[str, str]:
    """{ticker: "ok" | "missing <what>"} for the shipped agents the web process runs (.npz + .json of at
    least one seed per personality; the registry knows the layout)."""
    from core.data import BUNDLED_TICKERS
    from core.registry import missing_files

    out = {}
    for ticker in BUNDLED_TICKERS:
        missing = missing_files(ticker, models_dir)
        out[ticker] = "ok" if not missing else "missing " + ", ".join(missing)
    return out


def check_redis(url: str) -> str:
    """"not configured", "ok" or "unreachable" (PING with a short timeout)."""
    if not url:
        return "not configured"
    try:
        import redis
    except ImportError:
        return "unreachable (the redis package is not installed)"
    client = redis.Redis.from_url(url, socket_connect_timeout=REDIS_TIMEOUT_S, socket_timeout=REDIS_TIMEOUT_S)
    try:
        return "ok" if client.ping() else "unreachable"
    except (redis.RedisError, OSError):
        return "unreachable"
    finally:
        client.close()


def report(settings: Settings) -> tuple[dict, bool]:
    """The /healthz body and whether the app is usable."""
    checks = {
        "data": check_data(),
        "models": check_models(settings.models_dir),
        "redis": check_redis(settings.redis_url),
    }
    usable = (all(v == "ok" for v in checks["data"].values())
              and all(v == "ok" for v in checks["models"].values())
              and checks["redis"] in ("ok", "not configured"))
    return {"status": "ok" if usable else "unavailable", "checks": checks}, usable


def install(server, settings: Settings) -> None:
    @server.route("/healthz")
    def healthz():
        body, usable = report(settings)
        if not usable:
            log.warning("healthz: unavailable %s (pid %s)", body["checks"], os.getpid())
        return jsonify(body), 200 if usable else 503
