"""Settings are validated once at the boundary; the app factory wires pages, headers and health."""

from __future__ import annotations

import pytest

from app import create_app
from app.settings import Settings, SettingsError


def test_settings_from_env_parses_and_validates():
    s = Settings.from_env({"NEON_LIVE_DATA": "0", "NEON_MAX_JOBS": "3", "NEON_MAX_UPLOAD_MB": "7"})
    assert s.live_data is False and s.max_jobs == 3 and s.max_upload_mb == 7
    assert Settings.from_env({}).live_data is True


@pytest.mark.parametrize(
    "env, fragment",
    [
        ({"NEON_LIVE_DATA": "maybe"}, "NEON_LIVE_DATA"),
        ({"NEON_MAX_JOBS": "zero"}, "NEON_MAX_JOBS must be an integer"),
        ({"NEON_MAX_JOBS": "0"}, "between 1 and 64"),
        ({"REDIS_URL": "http://x"}, "REDIS_URL"),
    ],
)
def test_bad_settings_name_the_variable(env, fragment):
    with pytest.raises(SettingsError, match=fragment):
        Settings.from_env(env)


@pytest.fixture
def client(tmp_path):
    app = create_app(Settings(live_data=False, job_cache_dir=tmp_path / "jobs"))
    return app.server.test_client()


@pytest.mark.parametrize("path", ["/", "/market", "/arena", "/replay", "/risk", "/forecast", "/journal"])
def test_pages_are_served_with_security_headers(client, path):
    response = client.get(path)
    assert response.status_code == 200
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self' 'sha256-" in csp and "unsafe-eval" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"


def test_health_and_no_dev_bundles(client):
    assert client.get("/healthz").get_json()["status"] == "ok"  # the checks: tests/app/test_hardening.py
    html = client.get("/").get_data(as_text=True)
    assert ".dev.js" not in html and "dash_renderer" in html or "dash-renderer" in html


def test_job_cache_dir_is_private(tmp_path):
    create_app(Settings(live_data=False, job_cache_dir=tmp_path / "jobs"))
    assert (tmp_path / "jobs").stat().st_mode & 0o777 == 0o700


@pytest.mark.parametrize("path", ["/assets/../app/settings.py", "/assets/%2e%2e/app/settings.py",
                                  "/assets//etc/passwd", "/_dash-component-suites/../../etc/passwd"])
def test_path_traversal_is_refused(client, path):
    response = client.get(path)
    body = response.get_data()
    # Either refused, or Dash's catch-all page shell answers (the app's own HTML): never the file itself.
    assert response.status_code in (400, 404) or body.lstrip().lower().startswith(b"<!doctype html>")
    assert b"SettingsError" not in body and b"root:" not in body


def test_dev_mode_app_accepts_dash_dev_tools(tmp_path):
    """`make dev` runs app.run(debug=True), which installs dev tools after create_app returns."""
    app = create_app(Settings(live_data=False, dev=True, job_cache_dir=tmp_path / "jobs"))
    app.enable_dev_tools(debug=True, dev_tools_hot_reload=False)
    assert app.server.test_client().get("/market").status_code == 200


def test_production_app_finished_dash_setup_before_serving(tmp_path):
    """gthread workers race Dash's first-request set-up unless create_app completes it (warm-up)."""
    app = create_app(Settings(live_data=False, job_cache_dir=tmp_path / "jobs"))
    assert "dash" in app.registered_paths and "dash_bootstrap_components" in app.registered_paths
