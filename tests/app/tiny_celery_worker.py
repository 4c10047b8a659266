"""Celery entry point for the job tests: app.worker with the forecast page's efforts shrunk (see tiny_efforts)
and the Train page's budgets shrunk as in tiny_train_wsgi, still with two spawned trainer processes per job
(what a prefork pool child must be allowed to start) (`celery -A tests.app.tiny_celery_worker worker`)."""
# ruff: noqa: I001, E402  - the efforts and budgets must be patched before app.worker builds the app

from tests.app import tiny_efforts  # noqa: F401
from callbacks import train
from layouts import train as train_page

train_page.TIMESTEP_CHOICES = (128, *train_page.TIMESTEP_CHOICES)
train.PROCESSES = 2
train.TRAIN_OVERRIDES.update({"n_steps": 64, "n_envs": 2, "batch_size": 64, "n_epochs": 1, "episode_bars": 64})
from app.worker import celery, dash_app  # noqa: F401
