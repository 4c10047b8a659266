"""The load test cannot rot: its capture still records what real pages send, every captured payload still
answers 200/204 without an error, and locust still drives them (bench/load_test.py, bench/locustfile.py).

Counts, never timings: speed figures live in `python -m bench.load_test`.
"""

from __future__ import annotations

import json
import shutil

import pytest

from bench import load_capture, load_test
from deploy import nginx_local

pytestmark = [pytest.mark.slow, pytest.mark.browser]

PAGES = [("market AAPL", "/market?ticker=AAPL"), ("arena AAPL", "/arena?ticker=AAPL"), ("forecast", "/forecast")]
CLICKS = [("journal side", "/journal?ticker=AAPL", "jrn-side", "Buys")]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    if not shutil.which("chromium") or not shutil.which("chromedriver"):
        pytest.fail("chromium and chromedriver are required: run `make test`, which installs them")
    folder = tmp_path_factory.mktemp("load")
    env = {"NEON_LIVE_DATA": "0", "REDIS_URL": "", "NEON_JOB_CACHE_DIR": str(folder / "jobs"),
           "NEON_DATA_CACHE_DIR": str(folder / "data-cache")}
    port = nginx_local.free_port()
    with nginx_local.gunicorn(port, env=env, workers=1, threads=2, log=folder / "gunicorn.log", quiet=True):
        yield f"http://127.0.0.1:{port}", folder


@pytest.fixture(scope="module")
def scenario(server):
    base, _folder = server
    return load_capture.capture(base, pages=PAGES, clicks=CLICKS, quiet=0.8)


def test_capture_records_the_pages_callbacks_and_each_replays_cleanly(server, scenario):
    base, _folder = server
    kinds = {name: {load_capture.kind_of(cb["output"]) for cb in visit["callbacks"]}
             for name, visit in ((v["name"], v) for v in scenario["visits"])}
    assert {"page content", "market"} <= kinds["market AAPL"]
    assert {"arena battle", "arena board", "arena stress"} <= kinds["arena AAPL"]
    assert "job forecast poll" in kinds["forecast"]
    assert [load_capture.kind_of(cb["output"]) for cb in scenario["actions"][0]["callbacks"]][0] == "journal"
    assert load_capture.verify(base, scenario) == []


def test_one_locust_user_replays_them_without_errors(server, scenario):
    base, folder = server
    path = folder / "scenario.json"
    path.write_text(json.dumps(scenario))
    result = load_test.run_locust(base, path, users=1, spawn_rate=1, seconds=4, wait=False, log=folder / "locust.log")
    summary = load_test.summarise(result)
    assert summary["total"] > 0, (folder / "locust.log").read_text()[-2000:]
    assert summary["failed"] == 0, summary["rows"]
    assert "GET page html" in summary["rows"] and summary["callback_p95"] > 0


def test_every_callback_of_the_app_has_a_report_name():
    from app import create_app
    from app.settings import Settings

    app = create_app(Settings(live_data=False, csp=False))
    server_side = [c["output"] for c in app._callback_list if not c.get("clientside_function")]
    unnamed = [key for key in server_side if load_capture.kind_of(key).startswith("cb ")]
    # downloads and the navbar toggle are clicks the load test does not make; everything else is named
    assert all("download" in key or "nav-collapse" in key for key in unnamed), unnamed


def test_only_loopback_targets():
    assert load_test.loopback_only("http://127.0.0.1:8050/") == "http://127.0.0.1:8050"
    assert load_test.loopback_only("http://localhost:1") == "http://localhost:1"
    for url in ("http://10.0.0.1:8050", "http://192.168.1.2", "https://example.com", "http://0.0.0.0:80"):
        with pytest.raises(SystemExit):
            load_test.loopback_only(url)


def test_error_bodies_are_told_apart_from_page_content():
    def alert(color, cls):
        return json.dumps({"response": {"x": {"children": {"type": "Alert", "namespace": "dash_bootstrap_components",
                                                            "props": {"color": color, "className": cls,
                                                                      "children": "boom"}}}}}).encode()

    assert load_capture.error_in(alert("danger", "neon-alert")).startswith("error alert")
    assert load_capture.error_in(alert("warning", "neon-alert")) is None
    assert load_capture.error_in(alert("danger", "risk-verdict-text")) is None
    assert load_capture.error_in(b"<html>") == "not JSON"
