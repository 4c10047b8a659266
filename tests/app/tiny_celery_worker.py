"""Celery entry point for the job tests: app.worker with the forecast page's efforts shrunk (see tiny_efforts)
(`celery -A tests.app.tiny_celery_worker worker`)."""
# ruff: noqa: I001  - the efforts must be patched before app.worker builds the app

from tests.app import tiny_efforts  # noqa: F401
from app.worker import celery, dash_app  # noqa: F401
