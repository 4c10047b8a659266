"""The Celery app of the scale-out mode: `celery -A app.worker worker` (`make worker`, docker compose's
`scale` profile). Needs REDIS_URL, the same one the web processes use.

It builds the same Dash app as the web process, with the same settings from the environment, so every
background callback is registered as a Celery task (named after the callback's source and id) on the
CeleryManager the web processes send jobs to: Dash registers a job function when its callback is declared,
i.e. when create_app runs here. torch is not imported here: the jobs import it themselves, in the pool's
child processes (STACK.md pitfall 2).

A worker never falls back to diskcache: without a reachable Redis it exits with one clear line.

Training jobs start processes of their own (core.training spawns one trainer per personality share), but
Celery's prefork pool marks its children daemonic, and a daemonic process may not have children
("daemonic processes are not allowed to have children", celery/celery#1709), and its authkey is billiard's
type, which refuses to be pickled into a spawned child. Each pool child clears the flag and re-types its key
when it starts (`_allow_children`); the trainers still die with their job's process (core.training's
_die_with_parent), so a revoked or killed job leaves none behind.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.process

from celery.signals import worker_process_init

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


@worker_process_init.connect
def _allow_children(**_kwargs) -> None:
    process = multiprocessing.current_process()
    process._config["daemon"] = False  # noqa: SLF001 - see the module docstring
    # billiard's authkey type refuses to be pickled, and spawning a child pickles the parent's authkey:
    # the same key as the standard library's type
    process._config["authkey"] = multiprocessing.process.AuthenticationString(bytes(process.authkey))  # noqa: SLF001


dash_app, celery = _build()
