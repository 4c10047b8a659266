"""Callback answers encoded with orjson vs the standard json module: the captured payloads of every page
replayed in this process (Flask's test client, warm caches), plotly's JSON engine switched between passes.

    python -m bench.load_test --no-pausing --no-saturation --save-scenario /tmp/scenario.json   # capture
    python -m bench.json_engines /tmp/scenario.json

Dash encodes every answer with plotly.io.json.to_json_plotly; its "auto" engine is orjson when installed,
so engine "json" is the app without orjson. Prints the mean ms per request kind for each engine (the two
engines alternate pass by pass, so background load hits both alike) and the whole scenario's total.
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

PASSES = 6


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    import plotly.io as pio

    from app import create_app
    from app.settings import Settings
    from bench.load_capture import kind_of

    scenario = json.loads(Path(argv[0]).read_text())
    calls = [cb for group in (*scenario["visits"], *scenario["actions"]) for cb in group["callbacks"]]
    app = create_app(Settings(live_data=False, job_cache_dir=Path(tempfile.mkdtemp(prefix="neon-json-"))))
    client = app.server.test_client()
    for cb in calls:  # warm every cache
        client.post("/_dash-update-component", json=cb["body"])
    times: dict[str, dict[str, list[float]]] = {"orjson": defaultdict(list), "json": defaultdict(list)}
    totals: dict[str, list[float]] = {"orjson": [], "json": []}
    for i in range(PASSES * 2):
        engine = ("orjson", "json")[i % 2]
        pio.json.config.default_engine = engine
        start_pass = time.perf_counter()
        for cb in calls:
            start = time.perf_counter()
            client.post("/_dash-update-component", json=cb["body"])
            times[engine][kind_of(cb["output"])].append((time.perf_counter() - start) * 1e3)
        totals[engine].append((time.perf_counter() - start_pass) * 1e3)
    pio.json.config.default_engine = "auto"
    print(f"{len(calls)} captured callbacks, {PASSES} passes per engine (medians of passes; mean per kind)")
    print("| request kind | orjson ms | json ms | json / orjson |\n| --- | ---: | ---: | ---: |")
    for kind in sorted(times["orjson"]):
        a, b = statistics.mean(times["orjson"][kind]), statistics.mean(times["json"][kind])
        print(f"| {kind} | {a:.1f} | {b:.1f} | {b / a:.2f} |")
    a, b = statistics.median(totals["orjson"]), statistics.median(totals["json"])
    print(f"| whole scenario | {a:.0f} | {b:.0f} | {b / a:.2f} |")


if __name__ == "__main__":
    main()
