"""Responses go compressed (Dash compress=True + flask-compress), big bundles as brotli 11 once cached."""

from __future__ import annotations

import time

import pytest

from app import create_app, static_compress
from app.settings import Settings

PLOTLY = "/_dash-component-suites/plotly/package_data/plotly.min.js"


@pytest.fixture
def client(tmp_path, monkeypatch):
    monkeypatch.setenv("NEON_STATIC_CACHE_DIR", str(tmp_path / "static"))
    return create_app(Settings(live_data=False, job_cache_dir=tmp_path / "jobs")).server.test_client()


def test_pages_and_bundles_are_compressed(client):
    html = client.get("/market", headers={"Accept-Encoding": "gzip"})
    assert html.headers.get("Content-Encoding") == "gzip"
    assert html.headers["Content-Security-Policy"]  # security headers survive compression
    raw = client.get(PLOTLY)
    packed = client.get(PLOTLY, headers={"Accept-Encoding": "gzip"})
    assert packed.headers.get("Content-Encoding") == "gzip"
    assert len(packed.data) < len(raw.data) / 3


def test_big_bundles_are_served_as_brotli_11_once_compressed(client, tmp_path):
    import brotli

    first = client.get(PLOTLY, headers={"Accept-Encoding": "br"})
    assert first.status_code == 200  # the first request is not kept waiting for the slow compression
    end = time.time() + 120
    while time.time() < end and not list((tmp_path / "static").glob("*.br")):
        time.sleep(0.5)
    later = client.get(PLOTLY, headers={"Accept-Encoding": "br"})
    assert later.headers["Content-Encoding"] == "br" and "Accept-Encoding" in later.headers.get("Vary", "")
    plain = client.get(PLOTLY).data
    assert brotli.decompress(later.data) == plain
    assert len(later.data) < 0.24 * len(plain)


def test_cache_dir_is_private(tmp_path, monkeypatch):
    monkeypatch.setenv("NEON_STATIC_CACHE_DIR", str(tmp_path / "s"))
    assert static_compress.cache_dir().stat().st_mode & 0o777 == 0o700
