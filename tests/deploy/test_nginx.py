"""The production stack for real: gunicorn (deploy/gunicorn.conf.py, 1 worker x 2 threads, wsgi:server) behind
Debian's nginx running the repository's deploy/nginx.conf on loopback (deploy/nginx_local.py, as
`make serve-nginx` does). `make test` installs nginx (`make nginx-deps`).

Checked through nginx: `nginx -t`, pages and a real callback, gzip on HTML/JSON/JS, year-long immutable caching
of Dash's fingerprinted bundles and versioned assets, `server_tokens off`, traversal -> 404, hostile bodies
-> 4xx with one log line, an over-limit upload -> 413 with a JSON message, and slow clients (a body sent a
byte at a time) that never reach gunicorn's threads (RELIABILITY #13, #19).
"""

from __future__ import annotations

import gzip
import http.client
import json
import re
import socket
import threading
import time
from contextlib import contextmanager

import pytest

from deploy import nginx_local

pytestmark = pytest.mark.slow

TRAVERSAL = [
    "/assets/../app/settings.py", "/assets/../../etc/passwd", "/assets/%2e%2e/app/settings.py",
    "/assets/%2e%2e/%2e%2e/%2e%2e/etc/passwd", "/assets/%252e%252e/app/settings.py", "/assets/..%2f..%2fetc%2fpasswd",
    "/assets//etc/passwd", "/assets/%2Fetc%2Fpasswd", "/_dash-component-suites/../../etc/passwd",
    "/_dash-component-suites/dash/../../../etc/passwd", "/_dash-component-suites/dash/%2e%2e/%2e%2e/etc/passwd",
    "/_dash-component-suites/dash/%252e%252e/%252e%252e/etc/passwd", "/_dash-component-suites/dash//etc/passwd",
    "/_dash-component-suites/dash/dash-renderer/build/dash_renderer.dev.js",
]


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    """(nginx port, gunicorn port, gunicorn log, nginx work dir): the real app, bundled data only."""
    try:
        nginx_local.nginx_binary()
    except nginx_local.NginxError as exc:
        pytest.fail(f"{exc} (`make test` installs it)")
    folder = tmp_path_factory.mktemp("stack")
    env = {"NEON_LIVE_DATA": "0", "NEON_JOB_CACHE_DIR": str(folder / "jobs"), "REDIS_URL": "",
           "NEON_DATA_CACHE_DIR": str(folder / "data-cache"), "NEON_MAX_JOBS": "1"}
    port, log = nginx_local.free_port(), folder / "gunicorn.log"
    with nginx_local.gunicorn(port, env=env, workers=1, threads=2, log=log, quiet=True), \
            nginx_local.nginx(port, work=folder / "nginx") as base:
        yield int(base.rsplit(":", 1)[1]), port, log, folder / "nginx"


def call(port: int, method: str, path: str, body: bytes | None = None, headers: dict | None = None,
         timeout: float = 30) -> tuple[int, dict, bytes]:
    """One raw HTTP request (the path is sent exactly as given: no client-side normalisation)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


def market_callback(port: int) -> bytes:
    """The market page's main callback (full-history AAPL figure) as the renderer would post it."""
    _status, _headers, raw = call(port, "GET", "/_dash-dependencies")
    dep = next(d for d in json.loads(raw) if "mkt-chart.figure" in d["output"])
    values = {"mkt-ticker.value": "AAPL", "mkt-span.value": "all"}

    def fill(items):
        return [{**i, "value": values.get(f"{i['id']}.{i['property']}")} for i in items]

    outputs = [dict(zip(("id", "property"), part.split(".", 1), strict=True)) for part in dep["output"].strip(".").split("...")]
    return json.dumps({"output": dep["output"], "outputs": outputs, "inputs": fill(dep["inputs"]),
                       "state": fill(dep["state"]), "changedPropIds": ["mkt-ticker.value"]}).encode()


JSON = {"Content-Type": "application/json"}


def test_nginx_t_accepts_the_repository_config_and_only_two_lines_change(stack):
    _nport, _port, _log, work = stack
    checked = nginx_local.test_config(work / "nginx.conf")
    assert checked.returncode == 0 and "syntax is ok" in checked.stderr and "successful" in checked.stderr
    original = nginx_local.SITE_CONF.read_text().splitlines()
    rendered = (work / "neon-arena.conf").read_text().splitlines()
    assert len(original) == len(rendered)
    changed = [(a.strip(), b.strip()) for a, b in zip(original, rendered, strict=True) if a != b]
    assert [a.split("#")[0].strip() for a, _ in changed] == [
        "server web:8050;", "listen 80;"]
    assert "/etc/" not in (work / "nginx.conf").read_text() and "/var/" not in (work / "nginx.conf").read_text()


@pytest.mark.parametrize("path", ["/", "/market", "/arena", "/replay", "/risk", "/forecast", "/journal", "/train"])
def test_pages_through_nginx_are_gzipped_with_security_headers_and_no_version(stack, path):
    nport, *_ = stack
    status, headers, body = call(nport, "GET", path, headers={"Accept-Encoding": "gzip"})
    assert status == 200 and headers["server"] == "nginx"  # server_tokens off: no version
    assert headers["content-encoding"] == "gzip" and b"<!DOCTYPE html>" in gzip.decompress(body)
    assert "script-src 'self' 'sha256-" in headers["content-security-policy"]
    assert headers["x-frame-options"] == "DENY"


def test_a_callback_through_nginx_is_gzipped_json_and_gunicorn_sent_it_plain(stack):
    nport, port, *_ = stack
    payload = market_callback(nport)
    status, headers, body = call(nport, "POST", "/_dash-update-component", payload,
                                 {**JSON, "Accept-Encoding": "gzip"})
    assert status == 200 and headers["content-type"].startswith("application/json")
    assert headers["content-encoding"] == "gzip"
    figure = json.loads(gzip.decompress(body))
    assert figure["multi"] and "mkt-chart" in figure["response"]
    assert len(body) * 3 < len(gzip.decompress(body))
    # nginx asks gunicorn for identity bodies: compression never runs in a gunicorn thread
    direct = call(port, "POST", "/_dash-update-component", payload, {**JSON, "Accept-Encoding": ""})
    assert direct[0] == 200 and "content-encoding" not in direct[1]


def test_fingerprinted_bundles_and_versioned_assets_are_cached_for_a_year(stack):
    nport, *_ = stack
    html = call(nport, "GET", "/market")[2].decode()
    bundles = re.findall(r'src="(/_dash-component-suites/[^"]+\.js)"', html)
    assert bundles and all(re.search(r"\.v[\w-]+m[0-9a-f]+\.", b) for b in bundles)
    for bundle in bundles[:3] + [b for b in bundles if "dash_renderer" in b]:
        status, headers, body = call(nport, "GET", bundle, headers={"Accept-Encoding": "gzip"})
        assert status == 200 and headers["cache-control"] == "public, max-age=31536000, immutable", bundle
        if len(gzip.decompress(body)) > 1024:
            assert headers["content-encoding"] == "gzip", bundle
    css = re.findall(r'href="(/assets/[^"]+\?m=[^"]+)"', html)
    assert css
    status, headers, _ = call(nport, "GET", css[0], headers={"Accept-Encoding": "gzip"})
    assert status == 200 and headers["cache-control"] == "public, max-age=31536000, immutable"
    assert headers["content-encoding"] == "gzip"
    status, headers, _ = call(nport, "GET", "/assets/logo.svg")  # unversioned: an hour
    assert status == 200 and headers["cache-control"] == "public, max-age=3600"
    # an unfingerprinted bundle URL keeps Dash's own (revalidating) policy, and a 404 is never cached
    assert "immutable" not in call(nport, "GET", "/_dash-component-suites/dash/dcc/async-graph.js")[1].get(
        "cache-control", "")
    status, headers, _ = call(nport, "GET", "/_dash-component-suites/dash/nope.v1_0_0m123.min.js")
    assert status == 404 and "immutable" not in headers.get("cache-control", "")


@pytest.mark.parametrize("path", TRAVERSAL)
def test_traversal_is_404_directly_and_through_nginx(stack, path):
    nport, port, *_ = stack
    for where in (port, nport):
        status, _headers, body = call(where, "GET", path)
        assert status == 404, (where == nport and "nginx" or "gunicorn", path, status)
        assert b"root:" not in body and b"REPO_ROOT" not in body and b"<!DOCTYPE html>" not in body


def test_malformed_requests_that_are_not_traversal_stay_400_at_nginx(stack):
    nport, *_ = stack
    with socket.create_connection(("127.0.0.1", nport), timeout=10) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nBroken header line\r\n\r\n")
        assert sock.recv(64).startswith(b"HTTP/1.1 400")


HOSTILE = [
    (b"{not json", "application/json", 400),
    (b"\x00\xff\xfe\x89PNG" * 2000, "application/octet-stream", 415),
    (b"\x00\xff\xfe\x89PNG" * 2000, "application/json", 400),
    (json.dumps({"output": "nope.children", "inputs": [], "outputs": []}).encode(), "application/json", 400),
    (json.dumps({"output": "mkt-download.data", "inputs": "x"}).encode(), "application/json", 400),
]


def test_hostile_bodies_through_nginx_get_4xx_and_one_log_line_each(stack):
    nport, _port, log, _work = stack
    before = log.read_text(errors="replace")
    for body, content_type, expected in HOSTILE:
        status, headers, answer = call(nport, "POST", "/_dash-update-component", body, {"Content-Type": content_type})
        assert status == expected and json.loads(answer)["error"], (status, answer[:200])
    time.sleep(0.3)
    new = log.read_text(errors="replace")[len(before):]
    assert "Traceback" not in new and "Exception on" not in new
    assert len([line for line in new.splitlines() if "/_dash-update-component" in line]) == len(HOSTILE)


def test_an_upload_over_the_nginx_limit_gets_413_json_for_the_page(stack):
    nport, *_ = stack
    with socket.create_connection(("127.0.0.1", nport), timeout=10) as sock:
        sock.sendall(b"POST /_dash-update-component HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"Content-Length: 12000000\r\n\r\n{\"output\": \"")
        response = http.client.HTTPResponse(sock)
        response.begin()
        assert response.status == 413 and response.getheader("Content-Type") == "application/json"
        body = json.loads(response.read())
    assert body["error"] == "payload_too_large" and "too large" in body["message"]


def test_an_upload_over_the_app_limit_gets_the_apps_413_message_through_nginx(stack):
    nport, *_ = stack
    body = b'{"output": "' + b"a" * 9_000_000 + b'"}'  # under nginx's 10 MB, over the app's 8 MB (5 MB of CSV)
    status, headers, answer = call(nport, "POST", "/_dash-update-component", body, JSON)
    assert status == 413 and headers["content-type"].startswith("application/json")
    message = json.loads(answer)["message"]
    assert "too large" in message and "5 MB" in message


def test_production_gunicorn_app_has_debug_off_and_serves_no_dev_bundle(stack):
    nport, port, *_ = stack
    for where in (port, nport):
        html = call(where, "GET", "/")[2].decode()
        assert ".dev.js" not in html and '"ui":false' in html and '"props_check":false' in html
        assert "_dash-global-error-container" not in html
        dev = call(where, "GET", "/_dash-component-suites/dash/dash-renderer/build/dash_renderer.dev.js")
        assert dev[0] == 404


def test_healthz_through_nginx(stack):
    nport, *_ = stack
    status, _headers, body = call(nport, "GET", "/healthz")
    assert status == 200 and json.loads(body)["status"] == "ok"


@contextmanager
def slow_bodies(port: int, count: int, interval: float = 0.3):
    """`count` clients that POST a 5,000-byte body one byte every `interval` seconds, until released."""
    socks, stop = [], threading.Event()
    for _ in range(count):
        sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        sock.sendall(b"POST /_dash-update-component HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"Content-Length: 5000\r\n\r\n{")
        socks.append(sock)

    def drip():
        while not stop.wait(interval):
            for sock in socks:
                try:
                    sock.sendall(b" ")
                except OSError:
                    pass

    dripper = threading.Thread(target=drip, daemon=True)
    dripper.start()
    try:
        time.sleep(1.0)  # every slow client is connected and mid-body
        yield
    finally:
        stop.set()
        dripper.join(5)
        for sock in socks:
            sock.close()


def timed(port: int, method: str, path: str, body: bytes | None = None, timeout: float = 10) -> tuple[int, float]:
    started = time.perf_counter()
    status = call(port, method, path, body, JSON if body else None, timeout=timeout)[0]
    return status, time.perf_counter() - started


def test_slow_clients_behind_nginx_hold_no_gunicorn_thread(stack):
    """1 worker x 2 threads; 8 clients trickle their bodies through nginx: everyone else is served at once."""
    nport, port, *_ = stack
    payload = market_callback(nport)
    with slow_bodies(nport, 8):
        for method, path, body, where in [("GET", "/healthz", None, nport), ("GET", "/market", None, nport),
                                          ("POST", "/_dash-update-component", payload, nport),
                                          ("GET", "/healthz", None, port)]:
            status, seconds = timed(where, method, path, body)
            assert status == 200 and seconds < 3, (path, where, status, seconds)


def test_without_nginx_two_slow_clients_do_hold_both_threads(stack):
    """The control that gives the test above its meaning: straight to gunicorn, 2 trickling bodies block it."""
    _nport, port, *_ = stack
    with slow_bodies(port, 2):
        with pytest.raises(TimeoutError):
            timed(port, "GET", "/healthz", timeout=2.5)
    deadline = time.time() + 20  # once the slow clients go, gunicorn answers again
    while True:
        try:
            status, _seconds = timed(port, "GET", "/healthz", timeout=3)
            break
        except TimeoutError:
            assert time.time() < deadline, "gunicorn did not recover after the slow clients left"
    assert status == 200


@pytest.mark.browser
def test_in_the_browser_an_upload_over_the_nginx_limit_shows_its_message(stack, dash_duo, tmp_path):
    """Headless chromium through nginx: a 12 MB CSV (16 MB as base64 JSON) is refused by nginx itself, and the
    page says so (assets/http_errors.js reads nginx's JSON 413 body) instead of failing silently."""
    nport, *_ = stack
    big = tmp_path / "huge.csv"
    row = "2024-01-02,1.0,2.0,0.5,1.5,100\n"
    big.write_text("date,open,high,low,close,volume\n" + row * (12 * 1024 * 1024 // len(row)))
    dash_duo.driver.get(f"http://127.0.0.1:{nport}/market")
    dash_duo.wait_for_text_to_equal(".source-badge .badge", "BUNDLED", timeout=30)
    dash_duo.find_element("#mkt-upload input[type=file]").send_keys(str(big))
    dash_duo.wait_for_contains_text("#neon-http-error", "requests above 10 MB are refused", timeout=30)
