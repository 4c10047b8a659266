"""create_app(settings) -> Dash: the only place that knows how Flask and Dash are put together."""

from __future__ import annotations

import logging

import dash
import dash_bootstrap_components as dbc  # noqa: F401  (registers the components bundle)
import plotly.io as pio
from dash import Dash

from app import hardening, health, jobs, security, shared_cache, static_compress
from app.settings import REPO_ROOT, Settings

log = logging.getLogger("neon.app")

TITLE = "Neon Arena"


def _register_pages() -> None:
    from layouts import arena, forecast, journal, market, not_found, replay, risk, train

    dash.register_page("market", path="/market", name="Market", title=f"Market · {TITLE}", layout=market.layout,
                       order=0)
    # The market page is also the home page: same layout, served at "/" without a redirect.
    dash.register_page("home", path="/", name="Home", title=TITLE, layout=market.layout, order=99)
    for order, (module, name) in enumerate(
        [(arena, "Arena"), (replay, "Replay"), (risk, "Risk"), (forecast, "Forecast"), (journal, "Journal"),
         (train, "Train")],
        start=1,
    ):
        dash.register_page(name.lower(), path=f"/{name.lower()}", name=name, title=f"{name} · {TITLE}",
                           layout=module.layout, order=order)
    dash.register_page("not_found_404", layout=not_found.layout, title=f"Not found · {TITLE}")


def create_app(settings: Settings | None = None) -> Dash:
    """Build the Dash app; `settings` defaults to Settings.from_env() (validated once, here)."""
    settings = settings or Settings.from_env()
    import layouts.theme  # noqa: F401  registers the plotly template before any figure is built

    # Dash encodes every answer with plotly's JSON engine. "auto" means orjson when installed, but our answers
    # mix figures with Dash components, which orjson refuses: plotly then walks the whole answer in Python
    # and encodes it again, so orjson came out slower (market answers 15.7 vs 10.8 ms, the captured pages
    # 780 vs 682 ms in total: bench/json_engines.py; table in bench/load_test.py's docstring). The standard
    # encoder does it in one pass.
    pio.json.config.default_engine = "json"
    from callbacks import register_all
    from layouts.components import shell

    app = Dash(
        __name__,
        title=TITLE,
        use_pages=True,
        pages_folder="",
        assets_folder=str(REPO_ROOT / "assets"),
        suppress_callback_exceptions=True,
        background_callback_manager=jobs.background_manager(settings),
        serve_locally=True,
        compress=True,  # flask-compress: plotly.min.js, bundles and figures go gzip/brotli
        update_title=None,
        meta_tags=[{"name": "viewport", "content": "width=device-width, initial-scale=1"}],
    )
    _register_pages()
    app.layout = shell(dash.page_container)
    server = app.server
    # Uploads arrive base64-encoded in JSON (x4/3); refuse absurd bodies before parsing them.
    server.config["MAX_CONTENT_LENGTH"] = int(settings.max_upload_mb * 1024 * 1024 * 1.4) + 1024 * 1024
    server.config["NEON_SETTINGS"] = settings
    shared_cache.install(server, settings)  # core's caches: one store for every worker (files or Redis)
    register_all(app, settings)
    security.install_basic_auth(server, settings.basic_auth_user, settings.basic_auth_password)  # first
    security.install(server, security.dash_csp(app) if settings.csp else None)
    static_compress.install(server)  # big JS bundles as brotli 11, compressed once (see the module)
    hardening.install(app)  # hostile input: 4xx and one log line, never a 500 with a trace
    health.install(server, settings)  # /healthz: data, models, Redis; 200 usable / 503 not

    # Dash finishes its set-up on the first request and flags it done before it is done: under gthread
    # workers, requests racing it got 500s for the JS bundles ("dash is not a registered library"). One
    # warm-up request here completes the set-up before the worker accepts real traffic. Not in dev mode:
    # the dev server adds its error handlers after creation, which Flask forbids once a request was served.
    if not settings.dev:
        with server.test_client() as client:
            client.get("/healthz")
    log.info("Neon Arena app created: %s", settings.describe())
    return app
