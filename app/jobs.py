"""The background-job manager: DiskcacheManager on ONE directory shared by every gunicorn worker, or
CeleryManager when REDIS_URL is set (scale-out). Long work (training, forecasting) runs here, never in a
request: gunicorn's timeout is 30 s.
"""

from __future__ import annotations

import os
from pathlib import Path

from app.settings import Settings


def job_cache_dir(settings: Settings) -> Path:
    """Create the shared job directory private to the app user (mode 0700: entries are pickles)."""
    path = settings.job_cache_dir
    path.mkdir(parents=True, exist_ok=True)
    os.chmod(path, 0o700)
    return path


def background_manager(settings: Settings):
    if settings.redis_url:
        from celery import Celery  # optional scale-out dependency, see docker-compose.yml
        from dash import CeleryManager

        celery_app = Celery(__name__, broker=settings.redis_url, backend=settings.redis_url)
        return CeleryManager(celery_app, expire=3600)
    import diskcache
    from dash import DiskcacheManager

    cache = diskcache.Cache(str(job_cache_dir(settings)))
    return DiskcacheManager(cache, expire=3600)
