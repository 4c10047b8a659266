"""gunicorn entry point for the training-job tests: the real app, with the Train page's budgets and PPO config
shrunk and one process per job, so that twenty jobs finish in a minute (`tests.app.tiny_train_wsgi:server`)."""

from app import create_app
from callbacks import train
from layouts import train as train_page

train_page.TIMESTEP_CHOICES = (128, *train_page.TIMESTEP_CHOICES)
train.PROCESSES = 1
train.TRAIN_OVERRIDES.update({"n_steps": 64, "n_envs": 2, "batch_size": 64, "n_epochs": 1, "episode_bars": 64})

server = create_app().server
