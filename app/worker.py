"""The Celery app of the scale-out mode: `celery -A app.worker worker` (`make worker`, docker compose's
`scale` profile). Needs REDIS_URL, the same one the web processes use.

It builds the same Dash app as the web process, with the same settings from the environment, so every
background callback is registered as a Celery task (named after the callback's source and id) on the
CeleryManager the web processes send jobs to: Dash registers a job function when its callback is declared,
i.e. when create_app runs here. torch is not imported here: the jobs import it themselves, in the pool's
child processes (STACK.md pitfall 2).

A worker never falls back to diskcache: without a reachable Redis it exits with one clear line.
"""

from __future__ import annotations

from app import create_app
from app.jobs import celery_manager_class, wait_for_redis
from app.settings import Settings


def _build():
    settings = Settings.from_env()
    if not settings.redis_url:
        raise SystemExit("app.worker: REDIS_URL is not set; a Celery worker needs the web app's Redis "
                         "(e.g. REDIS_URL=redis://127.0.0.1:6379/0 make worker)")
    wait_for_redis(settings.redis_url)
    dash_app = create_app(settings)
    manager = dash_app._background_manager  # noqa: SLF001 - the manager create_app installed
    if not isinstance(manager, celery_manager_class()):
        raise SystemExit("app.worker: Redis went away while the worker started; start it again")
    return dash_app, manager.handle


dash_app, celery = _build()
