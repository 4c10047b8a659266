"""`gunicorn bench.wsgi_json_engine:server`: the production app with plotly's JSON engine forced to
NEON_BENCH_JSON_ENGINE ("json", "orjson" or "auto"), for bench/load_test.py --app.

Dash encodes every callback answer, _dash-layout and _dash-dependencies with plotly.io.json.to_json_plotly,
whose "auto" engine is orjson when orjson is installed: engine "json" is what the app does without orjson,
measured without uninstalling anything.
"""

import os

import plotly.io as pio

from wsgi import server  # noqa: F401  (create_app sets the app's own engine: override it after)

pio.json.config.default_engine = os.environ.get("NEON_BENCH_JSON_ENGINE", "auto")
