"""Record the requests real pages make, so the load test replays exactly what a browser sends.

A headless chromium (Debian's, as the browser tests use) opens every page of the app against a running
server. A script injected before any page script (CDP Page.addScriptToEvaluateOnNewDocument, which the
strict CSP does not block) wraps `fetch` and records each POST to /_dash-update-component: its body, the
status and the size of the answer. Nothing is invented: a payload exists only if the page sent it.

`capture(base)` -> a scenario (plain JSON):
    {"visits": [{"name": "market", "path": "/market?ticker=AAPL", "callbacks": [{"body": ..., ...}]}],
     "actions": [{"name": "market span", "page": "/market?ticker=AAPL", "callbacks": [...]}]}
A visit is a full page load in one browser tab (sessionStorage carries on from the previous page, as for a
person moving through the app); an action is what one click on a loaded page sends. `verify(base, scenario)`
replays every payload once and lists any answer that is not 200/204 with a non-error body.

The replay page steps through a battle in the browser (clientside callbacks): stepping sends nothing.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request

TICKERS = ("AAPL", "TSLA", "BTC-USD")

# Every page, with the queries a person arrives with (bookmarks, navbar links: layouts/state.py). The
# market page defaults to 2 years; `span=all` is the full-history figure (~1 MB of JSON).
VISITS = [
    *[(f"market {t}", f"/market?ticker={t}") for t in TICKERS],
    ("market all", "/market?ticker=AAPL&span=all"),
    *[(f"{page} {t}", f"/{page}?ticker={t}") for t in TICKERS for page in ("arena", "replay", "journal", "risk")],
    ("forecast", "/forecast"),
    ("train", "/train"),
]

# One click each, on a loaded page: (name, page, element id, label text of the radio option to click).
ACTIONS = [
    ("market span", "/market?ticker=TSLA", "mkt-span", "All"),
    ("arena window", "/arena?ticker=AAPL", "arn-window", "In-sample (training)"),
    ("journal side", "/journal?ticker=AAPL", "jrn-side", "Buys"),
    ("risk level", "/risk?ticker=AAPL", "rsk-level", "95%"),
]

# Request kinds in the report, by a fragment of the callback's output key (Dash's "output" field).
KINDS = [
    ("battle-spec.data@", "shell session-from-url"), ("nav-link-market.href", "shell navbar"),
    ("_pages_content.children", "page content"), ("mkt-chart.figure", "market"),
    ("arn-ticker.options", "arena restore"), ("arn-sample-tag.children", "arena battle"),
    ("arn-equity.figure", "arena board"), ("arn-stress-fig.figure", "arena stress"),
    ("rpl-data.data", "replay load"), ("jrn-contestants.options", "journal"), ("jrn-summary.children", "journal summary"),
    ("rsk-spec.data", "risk load"), ("rsk-kpis.children", "risk view"),
    ("fc-poll.disabled", "job forecast poll"), ("tr-poll.disabled", "job train poll"),
    ("tr-", "train page"), ("fc-", "forecast page"),
]
JOB_PREFIX = "job "
"""Kinds that are background-job plumbing (polls); the latency targets are for the other callbacks."""


def kind_of(output: str) -> str:
    """The report's name for a callback, from its output key."""
    return next((name for fragment, name in KINDS if fragment in output), "cb " + output.strip(".")[:30])


RECORDER_JS = """
(function () {
  window.__neonRec = []; window.__neonBusy = 0;
  var orig = window.fetch;
  window.fetch = function (input, init) {
    var url = (typeof input === 'string') ? input : (input && input.url) || '';
    if (url.indexOf('_dash-update-component') < 0 || !init || !init.body) { return orig.apply(this, arguments); }
    var rec = {body: String(init.body), status: null, size: null, started: Date.now()};
    window.__neonRec.push(rec); window.__neonBusy += 1;
    return orig.apply(this, arguments).then(function (response) {
      rec.status = response.status;
      response.clone().text().then(function (t) { rec.size = t.length; window.__neonBusy -= 1; },
                                   function () { window.__neonBusy -= 1; });
      return response;
    }, function (err) { rec.status = 'error'; window.__neonBusy -= 1; throw err; });
  };
})();
"""


def _driver():
    from selenium import webdriver

    options = webdriver.ChromeOptions()
    for arg in ("--headless", "--no-sandbox", "--disable-gpu", "--window-size=1400,1000"):
        options.add_argument(arg)
    driver = webdriver.Chrome(options=options)  # chromedriver from PATH (make browser-deps)
    driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": RECORDER_JS})
    return driver


def _settle(driver, quiet: float = 1.5, timeout: float = 90) -> None:
    """Wait until the page has sent callbacks and none was in flight for `quiet` seconds."""
    end, calm_since = time.time() + timeout, None
    while time.time() < end:
        busy, count = driver.execute_script("return [window.__neonBusy || 0, (window.__neonRec || []).length]")
        if busy == 0 and count > 0:
            calm_since = calm_since or time.time()
            if time.time() - calm_since >= quiet:
                return
        else:
            calm_since = None
        time.sleep(0.1)
    raise TimeoutError(f"{driver.current_url}: callbacks still running after {timeout} s")


def _take(driver, since: int = 0) -> list[dict]:
    records = driver.execute_script("return window.__neonRec || []")[since:]
    out = []
    for rec in records:
        body = json.loads(rec["body"])
        out.append({"output": body.get("output"), "body": body, "status": rec["status"], "size": rec["size"]})
    return out


def _click_radio(driver, element_id: str, label: str) -> None:
    from selenium.webdriver.common.by import By

    xpath = f"//*[@id='{element_id}']//label[normalize-space(text())='{label}']"
    driver.find_element(By.XPATH, xpath).click()


def capture(base: str, pages=VISITS, clicks=ACTIONS, quiet: float = 1.0) -> dict:
    """Open every page of `pages` and do every one of `clicks` in headless chromium; the scenario."""
    driver = _driver()
    try:
        visits, actions = [], []
        for name, path in pages:
            driver.get(base + path)
            _settle(driver, quiet)
            visits.append({"name": name, "path": path, "callbacks": _take(driver)})
        for name, path, element_id, label in clicks:
            driver.get(base + path)
            _settle(driver, quiet)
            before = len(driver.execute_script("return window.__neonRec"))
            _click_radio(driver, element_id, label)
            time.sleep(0.3)
            _settle(driver, quiet)
            actions.append({"name": name, "page": path, "callbacks": _take(driver, before)})
        return {"base": base, "visits": visits, "actions": actions}
    finally:
        driver.quit()


def error_in(body: bytes) -> str | None:
    """Why a callback answer is an error (None when it is fine): not JSON, or a red alert of
    callbacks.error_alert in its outputs (bad input or a bug). Warnings, notes and the risk page's red
    backtest verdict are page content."""
    try:
        data = json.loads(body)
    except ValueError:
        return "not JSON"
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            props = item.get("props") or {}
            if item.get("type") == "Alert" and props.get("color") == "danger" and "neon-alert" in str(
                    props.get("className")):
                return f"error alert: {json.dumps(item['props'].get('children'))[:200]}"
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return None


def post(base: str, body: dict, timeout: float = 60) -> tuple[int, bytes]:
    req = urllib.request.Request(base + "/_dash-update-component", data=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def verify(base: str, scenario: dict) -> list[str]:
    """Replay every captured payload once; a list of problems (empty: all answered 200/204, no error)."""
    problems = []
    for group in (*scenario["visits"], *scenario["actions"]):
        if not group["callbacks"]:
            problems.append(f"{group['name']}: the page sent no callback")
        for cb in group["callbacks"]:
            if cb["status"] not in (200, 204):
                problems.append(f"{group['name']} {cb['output'][:60]}: the browser got {cb['status']}")
            status, body = post(base, cb["body"])
            why = None if status == 204 else error_in(body) if status == 200 else f"HTTP {status}"
            if why:
                problems.append(f"{group['name']} {cb['output'][:60]}: {why}")
    return problems


if __name__ == "__main__":  # python -m bench.load_capture http://127.0.0.1:8050 > scenario.json
    import sys

    print(json.dumps(capture(sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8050"), indent=1))
