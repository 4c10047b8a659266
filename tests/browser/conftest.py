"""Browser tests: dash_duo on Debian's headless chromium (make test installs chromium + chromedriver)."""

from __future__ import annotations

import shutil

import pytest

from app import create_app
from app.settings import Settings


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session", autouse=True)
def _require_chromium():
    if not (shutil.which("chromium") or shutil.which("google-chrome")) or not shutil.which("chromedriver"):
        pytest.fail("chromium and chromedriver are required for browser tests: run `make test`, which installs them")


@pytest.fixture
def neon_app(tmp_path):
    """A fresh app on the bundled data only (no network), with a private job directory."""
    return create_app(Settings(live_data=False, job_cache_dir=tmp_path / "jobs"))


def severe_logs(dash_duo) -> list[dict]:
    return [entry for entry in (dash_duo.get_logs() or []) if entry.get("level") == "SEVERE"]


def wait_for_file(folder, suffix: str, timeout: float = 20):
    """The first finished download ending in `suffix` in `folder` (a Path), waiting up to `timeout` s."""
    import time
    from pathlib import Path

    end = time.time() + timeout
    while time.time() < end:
        done = [p for p in Path(folder).glob(f"*{suffix}") if not p.name.endswith(".crdownload")]
        if done:
            return done[0]
        time.sleep(0.2)
    raise AssertionError(f"no {suffix} file downloaded into {folder}")
