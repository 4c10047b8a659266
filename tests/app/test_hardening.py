"""Hostile input gets a 4xx and one log line, never a 500 with a trace; real callback bugs keep their 500.

Also: traversal on /assets/ and /_dash-component-suites/ is 404, every page and every refusal carries the
CSP header, optional basic auth, /healthz reports data/models/Redis, production never serves dev bundles.
(tests/deploy/ runs the same requests through gunicorn and nginx.)
"""

from __future__ import annotations

import json
import logging
import time

import dash
import pytest
from dash import Input, Output

from app import create_app, health
from app.settings import Settings, SettingsError

DOWNLOAD = {"output": "mkt-download.data", "outputs": {"id": "mkt-download", "property": "data"},
            "inputs": [{"id": "mkt-csv", "property": "n_clicks", "value": None},
                       {"id": "mkt-xlsx", "property": "n_clicks", "value": None}],
            "changedPropIds": [],
            "state": [{"id": "market-choice", "property": "data", "value": None},
                      {"id": "mkt-upload-store", "property": "data", "value": None}]}


def _with(**changes) -> str:
    return json.dumps({**DOWNLOAD, **changes})


HOSTILE = {
    "malformed JSON": ("{not json", "application/json", 400),
    "empty body": ("", "application/json", 400),
    "JSON array": ("[1, 2]", "application/json", 400),
    "nested 100k deep": ("[" * 100_000 + "]" * 100_000, "application/json", 400),
    "binary, octet-stream": (b"\x00\xff\xfe\x89PNG" * 500, "application/octet-stream", 415),
    "binary, claims JSON": (b"\x00\xff\xfe\x89PNG" * 500, "application/json", 400),
    "unknown output": (_with(output="nope.children"), "application/json", 400),
    "clientside output": (_with(output="session-id.data"), "application/json", 400),
    "output missing": (json.dumps({k: v for k, v in DOWNLOAD.items() if k != "output"}), "application/json", 400),
    "output a number": (_with(output=5), "application/json", 400),
    "output NaN": ('{"output": NaN}', "application/json", 400),
    "inputs an object": (_with(inputs={"a": 1}), "application/json", 400),
    "inputs a string": (_with(inputs="x"), "application/json", 400),
    "inputs too few": (_with(inputs=DOWNLOAD["inputs"][:1]), "application/json", 400),
    "inputs numbers": (_with(inputs=[1, 2]), "application/json", 400),
    "input without property": (_with(inputs=[{"id": "mkt-csv"}, DOWNLOAD["inputs"][1]]), "application/json", 400),
    "state null": (_with(state=None), "application/json", 400),
    "changedPropIds numbers": (_with(changedPropIds=[5]), "application/json", 400),
    "outputs a string": (_with(outputs="x"), "application/json", 400),
    "outputs too many": (_with(outputs=[{"id": "mkt-download", "property": "data"}, {"id": "x", "property": "y"}]),
                         "application/json", 400),
    "outputs of another callback": (_with(outputs={"id": "mkt-alert", "property": "children"}), "application/json",
                                    400),
    "outputs nested wrongly": (_with(outputs=[[{"id": "mkt-download", "property": "data"}]]), "application/json",
                               400),
}


@pytest.fixture(scope="module")
def neon(tmp_path_factory):
    """One production app for the module, plus two deliberately broken callbacks (real bugs)."""
    app = create_app(Settings(live_data=False, job_cache_dir=tmp_path_factory.mktemp("hardening") / "jobs"))

    @app.callback(Output("bug-out", "children"), Input("bug-in", "n_clicks"))
    def _buggy(_n):
        return {}["a bug in a callback"]

    @app.callback(Output("shape-out", "children"), Output("shape-out", "title"), Input("shape-in", "n_clicks"))
    def _wrong_shape(_n):
        return "only one of two outputs"

    return app


@pytest.fixture
def client(neon):
    return neon.server.test_client()


def _http_lines(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "neon.http"]


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_callback_bodies_get_a_4xx_and_one_log_line(client, caplog, name):
    body, content_type, status = HOSTILE[name]
    with caplog.at_level(logging.INFO):
        response = client.post("/_dash-update-component", data=body, content_type=content_type)
    assert response.status_code == status, response.get_data()[:200]
    assert response.is_json and response.get_json()["error"]
    assert b"Traceback" not in response.get_data()
    lines = _http_lines(caplog)
    assert len(lines) == 1 and str(status) in lines[0].getMessage()
    assert "\n" not in lines[0].getMessage()
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert "Content-Security-Policy" in response.headers


def test_a_well_formed_callback_still_answers(client):
    response = client.post("/_dash-update-component", json=DOWNLOAD)
    assert response.status_code == 200 and response.get_json()["multi"] is True


def test_a_body_over_the_limit_gets_413_with_a_message_for_the_page(client, neon, caplog):
    size = neon.server.config["MAX_CONTENT_LENGTH"] + 1
    with caplog.at_level(logging.INFO):
        response = client.post("/_dash-update-component", data=b"a" * size, content_type="application/json")
    assert response.status_code == 413
    body = response.get_json()
    assert body["error"] == "payload_too_large" and "5 MB" in body["message"]
    assert len(_http_lines(caplog)) == 1


BUGS = {
    "KeyError": {"output": "bug-out.children", "outputs": {"id": "bug-out", "property": "children"},
                 "inputs": [{"id": "bug-in", "property": "n_clicks", "value": 1}], "changedPropIds": []},
    "InvalidCallbackReturnValue": {
        "output": "..shape-out.children...shape-out.title..",
        "outputs": [{"id": "shape-out", "property": "children"}, {"id": "shape-out", "property": "title"}],
        "inputs": [{"id": "shape-in", "property": "n_clicks", "value": 1}], "changedPropIds": []},
}


@pytest.mark.parametrize("kind", list(BUGS))
def test_real_callback_bugs_are_not_swallowed(client, caplog, kind):
    """A callback that raises, or returns the wrong shape, is a bug: Flask's 500 with its trace in the log."""
    with caplog.at_level(logging.INFO):
        response = client.post("/_dash-update-component", json=BUGS[kind])
    assert response.status_code == 500
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR and r.exc_info]
    assert errors and kind in {cls.__name__ for cls in type(errors[-1].exc_info[1]).__mro__}
    assert not _http_lines(caplog)


TRAVERSAL = [
    "/assets/../app/settings.py", "/assets/%2e%2e/app/settings.py", "/assets/%2E%2E/%2E%2E/etc/passwd",
    "/assets/%252e%252e/app/settings.py", "/assets/..%2fapp%2fsettings.py", "/assets/%5c..%5capp%5csettings.py",
    "/assets//etc/passwd", "/assets/%2Fetc%2Fpasswd", "/assets/", "/assets/no-such-file.css",
    "/_dash-component-suites/../../etc/passwd", "/_dash-component-suites/dash/../../../etc/passwd",
    "/_dash-component-suites/dash/%2e%2e/%2e%2e/etc/passwd", "/_dash-component-suites/dash/%252e%252e/x.js",
    "/_dash-component-suites/dash//etc/passwd", "/_dash-component-suites/os/x.js", "/_dash-component-suites/",
    "/_dash-component-suites/dash/dash-renderer/build/dash_renderer.dev.js",
]


@pytest.mark.parametrize("path", TRAVERSAL)
def test_traversal_and_unknown_static_paths_are_404(client, path):
    response = client.get(path)
    assert response.status_code == 404, (path, response.status_code)
    body = response.get_data()
    assert b"root:" not in body and b"SettingsError" not in body and b"<!DOCTYPE html>" not in body


def test_real_assets_and_bundles_are_still_served(client):
    html = client.get("/").get_data(as_text=True)
    bundle = html.split('src="')[1].split('"')[0]
    assert bundle.startswith("/_dash-component-suites/") and client.get(bundle).status_code == 200
    assert client.get("/assets/10-neon.css").status_code == 200
    assert client.get("/assets/http_errors.js").status_code == 200


def _pages() -> list[str]:
    return sorted({page["path"] for page in dash.page_registry.values()} | {"/no-such-page"})


def test_the_csp_header_is_on_every_page_and_every_refusal(client):
    paths = _pages()
    assert {"/", "/market", "/arena", "/replay", "/risk", "/forecast", "/journal", "/train"} <= set(paths)
    for path in paths:
        response = client.get(path)
        assert response.status_code == (404 if path == "/no-such-page" else 200), path
        assert "script-src 'self' 'sha256-" in response.headers["Content-Security-Policy"], path
    for response in (client.get("/assets/../x"), client.post("/_dash-update-component", data="{",
                                                                 content_type="application/json")):
        assert "script-src 'self'" in response.headers["Content-Security-Policy"]


def test_production_app_has_debug_off_and_serves_no_dev_bundle(neon, client, tmp_path, monkeypatch):
    assert neon.server.debug is False and not neon._dev_tools.ui and not neon._dev_tools.serve_dev_bundles
    html = client.get("/").get_data(as_text=True)
    assert ".dev.js" not in html and '"ui":false' in html and '"props_check":false' in html
    monkeypatch.setenv("FLASK_DEBUG", "1")  # a stray variable in a production environment changes nothing
    assert create_app(Settings(live_data=False, job_cache_dir=tmp_path / "jobs")).server.debug is False


# -- basic authentication -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def private(tmp_path_factory):
    settings = Settings(live_data=False, job_cache_dir=tmp_path_factory.mktemp("auth") / "jobs",
                        basic_auth_user="neon", basic_auth_password="s3cret pass: ü")
    return create_app(settings).server.test_client()


def _auth(user: str, password: str) -> dict:
    import base64

    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def test_basic_auth_guards_pages_callbacks_and_assets_but_not_healthz(private, caplog):
    for path in ("/", "/market", "/assets/10-neon.css", "/_dash-layout"):
        response = private.get(path)
        assert response.status_code == 401, path
        assert response.headers["WWW-Authenticate"].startswith('Basic realm="Neon Arena"')
    assert private.post("/_dash-update-component", json=DOWNLOAD).status_code == 401
    with caplog.at_level(logging.INFO):
        assert private.get("/", headers=_auth("neon", "wrong")).status_code == 401
        assert private.get("/", headers=_auth("other", "s3cret pass: ü")).status_code == 401
    assert len(_http_lines(caplog)) == 2 and "s3cret" not in caplog.text
    ok = _auth("neon", "s3cret pass: ü")
    assert private.get("/market", headers=ok).status_code == 200
    assert private.post("/_dash-update-component", json=DOWNLOAD, headers=ok).status_code == 200
    assert private.get("/healthz").status_code == 200  # probes need no password


def test_basic_auth_settings_are_validated_and_never_logged():
    s = Settings.from_env({"NEON_BASIC_AUTH_USER": "neon", "NEON_BASIC_AUTH_PASSWORD": "pw"})
    assert (s.basic_auth_user, s.basic_auth_password) == ("neon", "pw")
    assert "pw" not in repr(s) and s.describe()["basic_auth_password"] == "***"
    assert Settings.from_env({}).basic_auth_user == ""
    with pytest.raises(SettingsError, match="set together"):
        Settings.from_env({"NEON_BASIC_AUTH_USER": "neon"})
    with pytest.raises(SettingsError, match="set together"):
        Settings.from_env({"NEON_BASIC_AUTH_PASSWORD": "pw"})
    with pytest.raises(SettingsError, match="':'"):
        Settings.from_env({"NEON_BASIC_AUTH_USER": "a:b", "NEON_BASIC_AUTH_PASSWORD": "pw"})


# -- /healthz ------------------------------------------------------------------------------------------------


def test_healthz_reports_data_and_models_and_no_redis(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "ok"
    assert body["checks"]["data"] == {"AAPL": "ok", "TSLA": "ok", "BTC-USD": "ok"}
    assert body["checks"]["models"] == {"AAPL": "ok", "TSLA": "ok", "BTC-USD": "ok"}
    assert body["checks"]["redis"] == "not configured"


def test_healthz_is_503_without_the_shipped_models(tmp_path):
    (tmp_path / "models" / "AAPL").mkdir(parents=True)
    app = create_app(Settings(live_data=False, job_cache_dir=tmp_path / "jobs", models_dir=tmp_path / "models"))
    response = app.server.test_client().get("/healthz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "unavailable" and "momentum" in body["checks"]["models"]["AAPL"]
    assert str(tmp_path) not in response.get_data(as_text=True)  # no paths for strangers


def test_healthz_data_check_sees_missing_and_unreadable_csvs(tmp_path):
    (tmp_path / "AAPL.csv").write_text("date,open,high,low,close,volume\n2024-01-02,1,1,1,1,1\n")
    (tmp_path / "TSLA.csv").write_text("")
    assert health.check_data(tmp_path) == {"AAPL": "ok", "TSLA": "unreadable", "BTC-USD": "missing"}


def test_healthz_pings_redis_when_configured(tmp_path, redis_url):
    from tests.app.jobs_http import free_port

    settings = Settings(live_data=False, job_cache_dir=tmp_path / "jobs", redis_url=redis_url)
    body, usable = health.report(settings)
    assert usable and body["checks"]["redis"] == "ok"
    dead = Settings(live_data=False, job_cache_dir=tmp_path / "jobs",
                    redis_url=f"redis://127.0.0.1:{free_port()}/0")
    started = time.perf_counter()
    body, usable = health.report(dead)
    assert not usable and body["checks"]["redis"] == "unreachable" and body["status"] == "unavailable"
    assert time.perf_counter() - started < 3
    assert "127.0.0.1" not in json.dumps(body)


@pytest.mark.parametrize("path, status", [
    ("/", 200), ("/market", 200), ("/arena?ticker=TSLA", 200), ("/forecast/", 200), ("/train", 200),
    ("/etc/passwd", 404), ("/arenaa", 404), ("/market/extra", 404),
])
def test_unknown_pages_answer_404_with_the_apps_not_found_page(client, path, status):
    response = client.get(path)
    assert response.status_code == status, path
    assert response.content_type.startswith("text/html") and b"_dash-renderer" in response.data  # the app draws it
