"""Shared fixtures for the whole suite. Keep this file small: page- or module-specific fixtures belong in
their own test files."""

from __future__ import annotations

import os

# Some tests train or forecast with torch inside this process, and the browser tests fork background jobs
# from it: a process whose OpenMP pool is already running can deadlock a forked child (STACK.md pitfall 2).
# One thread everywhere keeps the pool from ever starting. Set before anything imports torch.
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import numpy as np
import pandas as pd
import pytest


@pytest.fixture(autouse=True)
def _isolated_market_data(tmp_path_factory, monkeypatch):
    """No test reads or writes the developer's data/cache, and no test inherits an open live breaker.

    A developer who ran `python -m core data AAPL` online has data/cache/AAPL.csv, which `load_ohlcv`
    prefers to the bundled snapshot: tests must not depend on that. Subprocesses inherit the env var.
    """
    import core.data

    cache = tmp_path_factory.mktemp("market-cache")
    monkeypatch.setattr(core.data, "DEFAULT_CACHE_DIR", cache)
    monkeypatch.setenv("NEON_DATA_CACHE_DIR", str(cache))
    core.data.reset_live_breaker()
    yield
    core.data.reset_live_breaker()


@pytest.fixture(autouse=True)
def _no_shared_store_between_tests():
    """create_app plugs a shared store into core.lru for the whole process: unplug it after each test, so a
    core test never reads what an app test's store holds."""
    yield
    from core import lru

    lru.set_shared_store(None)


@pytest.fixture
def aapl_ohlcv() -> pd.DataFrame:
    """The bundled AAPL snapshot, validated (3,956 daily bars, 2011-01-03 to 2026-09-25); a fresh copy."""
    from core.data import load_ohlcv

    frame, _ = load_ohlcv("AAPL", live=False, use_cache=False)
    return frame


def synthetic_ohlcv(n: int = 60, start: str = "2021-01-04", freq: str = "B", seed: int = 0) -> pd.DataFrame:
    """A valid OHLCV frame of `n` bars: a seeded random walk with consistent open/high/low/close."""
    rng = np.random.default_rng(seed)
    close = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.01, n)))
    open_ = np.r_[100.0, close[:-1]] * np.exp(rng.normal(0.0, 0.002, n))
    high = np.maximum(open_, close) * (1.0 + rng.uniform(0.0, 0.01, n))
    low = np.minimum(open_, close) * (1.0 - rng.uniform(0.0, 0.01, n))
    volume = rng.integers(1_000, 100_000, n).astype(float)
    dates = pd.date_range(start, periods=n, freq=freq).astype("datetime64[ns]")
    return pd.DataFrame(
        {"date": dates, "open": open_, "high": high, "low": low, "close": close, "volume": volume}
    )


@pytest.fixture
def make_ohlcv():
    """Factory fixture: make_ohlcv(n=60, start="2021-01-04", freq="B", seed=0) -> valid OHLCV frame."""
    return synthetic_ohlcv
