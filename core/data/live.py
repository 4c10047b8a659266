"""The live source: `yfinance_fetch` (Yahoo Finance via yfinance, with its failures turned into
exceptions), the once-per-process yfinance set-up (`_prepare_yfinance`: private tz-cache folder, muted
warnings), and the process-wide circuit breaker that skips live attempts for a while once the network
looks unreachable (`_BREAKER`, `reset_live_breaker`, `live_blocked_until`, `_looks_unreachable`)."""

from __future__ import annotations

import datetime as dt
import logging
import re
import socket
import threading
import time
import warnings

import pandas as pd

# the package itself: DATA_DIR, DEFAULT_CACHE_DIR are looked up on it at call time, so that
# monkeypatching core.data.<NAME> (tests/conftest.py does) still redirects this module
import core.data as _pkg
from core.data.cache import _ensure_private_dir

LIVE_BREAKER_SECONDS = 300.0
"""After a live failure that looks like "network unreachable", skip live attempts this long."""
_NETWORK_RE = re.compile(
    r"DNSError|Could not resolve|Couldn't connect|Failed to connect|Connection (?:refused|reset|aborted)"
    r"|Network is unreachable|No route to host|timed? ?out|Temporary failure in name resolution"
    r"|Name or service not known|curl: \((?:5|6|7|28|35|56)\)",
    re.IGNORECASE,
)
log = logging.getLogger(__package__)  # "core.data", as before the package split


class _LiveBreaker:
    """Process-wide switch: once the network looks unreachable, skip live attempts for a while."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._open_until = 0.0
        self._wall_until: dt.datetime | None = None

    def blocked_until(self) -> dt.datetime | None:
        with self._lock:
            return self._wall_until if time.monotonic() < self._open_until else None

    def trip(self, seconds: float = LIVE_BREAKER_SECONDS) -> None:
        with self._lock:
            self._open_until = time.monotonic() + seconds
            self._wall_until = dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(seconds=seconds)

    def reset(self) -> None:
        with self._lock:
            self._open_until, self._wall_until = 0.0, None


_BREAKER = _LiveBreaker()


def reset_live_breaker() -> None:
    """Allow live attempts again at once (tests; after the network comes back)."""
    _BREAKER.reset()


def live_blocked_until() -> dt.datetime | None:
    """UTC time until which live downloads are skipped, or None when they are allowed."""
    return _BREAKER.blocked_until()


def _looks_unreachable(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    for _ in range(5):  # walk the cause chain a little: wrappers often hide the socket error
        if seen is None:
            break
        if isinstance(seen, (ConnectionError, TimeoutError, socket.gaierror)):
            return True
        if any(re.search(r"DNS|Connect|Timeout|Unreachable", k.__name__) for k in type(seen).__mro__):
            return True
        if _NETWORK_RE.search(str(seen)):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


_YF_LOCK = threading.Lock()
_yf_ready = False


def _prepare_yfinance(yf) -> None:
    """Once per process: point yfinance's sqlite caches at a private folder and mute its pandas warnings.

    yfinance's timezone cache is a sqlite file that can be read-only or "database is locked"; neither may
    break a load, so every failure here is logged and ignored (yfinance then runs without that cache).
    """
    global _yf_ready
    with _YF_LOCK:
        if _yf_ready:
            return
        _yf_ready = True
        warnings.filterwarnings("ignore", module=r"yfinance(\..*)?$")
        try:
            folder = _pkg.DEFAULT_CACHE_DIR / "yfinance"
            _ensure_private_dir(_pkg.DEFAULT_CACHE_DIR)
            _ensure_private_dir(folder)
            yf.set_tz_cache_location(str(folder))
        except Exception as exc:  # noqa: BLE001 - any failure just means "no tz cache"
            log.warning("yfinance cache location not set (%s); continuing without it", exc)


class _ThreadLogCapture(logging.Handler):
    """Collect the yfinance log lines emitted by this thread (yfinance reports failures only by logging)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.thread = threading.get_ident()
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.thread == self.thread:
            self.messages.append(record.getMessage().strip())


def yfinance_fetch(ticker: str, timeout: float) -> pd.DataFrame:
    """The default live fetcher: the full daily history from Yahoo Finance via yfinance.

    Parameters
    ----------
    ticker: a normalised ticker.
    timeout: seconds per HTTP request.

    yfinance signals failure by logging and returning an empty frame; this turns that into an exception:
    ConnectionError when the log says the network is unreachable, LookupError otherwise (unknown ticker,
    delisted, rate limit). A non-empty frame is returned as yfinance gives it (MultiIndex columns, dates
    in the index); `validate_ohlcv` understands that shape.
    """
    import yfinance as yf  # imported here: slow, and only the live path needs it

    _prepare_yfinance(yf)
    capture = _ThreadLogCapture()
    yf_log = logging.getLogger("yfinance")
    yf_log.addHandler(capture)
    try:
        frame = yf.download(
            ticker,
            period="max",
            interval="1d",
            auto_adjust=True,
            progress=False,
            threads=False,
            timeout=timeout,
        )
    finally:
        yf_log.removeHandler(capture)
    if frame is None or frame.empty:
        messages = [re.sub(r"\s*See https?://.*$", "", m, flags=re.S) for m in capture.messages if m]
        network = [m for m in messages if _NETWORK_RE.search(m)]
        if network:
            raise ConnectionError(f"Yahoo Finance unreachable: {network[-1][:160]}")
        detail = " | ".join(messages)[:200]
        raise LookupError(f"Yahoo Finance returned no rows for {ticker}" + (f": {detail}" if detail else ""))
    return frame
