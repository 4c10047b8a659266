"""Locust users that replay the captured pages of Neon Arena (bench/load_capture.py); run by bench/load_test.py.

Environment (set by load_test.py):
    NEON_LOAD_SCENARIO  the scenario JSON (load_capture.capture)
    NEON_LOAD_OUT       where every sample is written at the end: {kind: [[ms, ok], ...]}
    NEON_LOAD_WAIT      "0": no pause between actions (saturation); otherwise users pause 2-5 s

A user does one thing at a time, then pauses: mostly a page visit (the HTML, Dash's _dash-layout and
_dash-dependencies, then every callback the page sent in the browser, in the same order), sometimes a
click on a loaded page (its callbacks). The browser fetches the bundles once and keeps them (fingerprinted,
cached a year): they are not part of a visit. Samples count from the moment every user has spawned.
"""

from __future__ import annotations

import json
import os
import random
import sys
import time
from collections import defaultdict
from pathlib import Path

from locust import FastHttpUser, between, constant, events, task

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.load_capture import error_in, kind_of  # noqa: E402

SCENARIO = json.loads(Path(os.environ["NEON_LOAD_SCENARIO"]).read_text())
SAMPLES: dict[str, list] = defaultdict(list)
_SPAN = {"start": None, "end": None}


@events.spawning_complete.add_listener
def _start_recording(user_count, **_kw):
    _SPAN["start"] = time.monotonic()


@events.request.add_listener
def _sample(name, response_time, exception, **_kw):
    if _SPAN["start"] is not None and _SPAN["end"] is None:
        SAMPLES[name].append([round(response_time, 2), exception is None])


@events.test_stop.add_listener
def _stop_recording(**_kw):
    _SPAN["end"] = time.monotonic()


@events.quitting.add_listener
def _dump(environment, **_kw):
    start, end = _SPAN["start"], _SPAN["end"] or time.monotonic()
    Path(os.environ["NEON_LOAD_OUT"]).write_text(json.dumps(
        {"seconds": (end - start) if start else 0.0, "samples": SAMPLES}))


class PageUser(FastHttpUser):
    wait_time = constant(0) if os.environ.get("NEON_LOAD_WAIT") == "0" else between(2, 5)
    # one keep-alive connection per user, as one browser tab; callbacks answer within gunicorn's 60 s
    network_timeout = 60.0
    connection_timeout = 10.0

    def _callbacks(self, callbacks) -> None:
        for cb in callbacks:
            with self.client.post("/_dash-update-component", json=cb["body"], name=kind_of(cb["output"]),
                                  catch_response=True) as response:
                if response.status_code not in (200, 204):
                    response.failure(f"HTTP {response.status_code}")
                elif response.status_code == 200 and b"neon-alert" in (response.content or b""):
                    why = error_in(response.content)  # parsed only when an alert is there at all
                    if why:
                        response.failure(why)

    def _get(self, path: str, name: str) -> None:
        with self.client.get(path, name=name, catch_response=True) as response:
            if response.status_code != 200:
                response.failure(f"HTTP {response.status_code}")

    @task(4)
    def visit(self) -> None:
        page = random.choice(SCENARIO["visits"])
        self._get(page["path"], "GET page html")
        self._get("/_dash-layout", "GET _dash-layout")
        self._get("/_dash-dependencies", "GET _dash-dependencies")
        self._callbacks(page["callbacks"])

    @task(1)
    def click(self) -> None:
        self._callbacks(random.choice(SCENARIO["actions"])["callbacks"])
