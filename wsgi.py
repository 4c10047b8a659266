"""WSGI entry point for gunicorn: `gunicorn -c deploy/gunicorn.conf.py wsgi:server`."""

from app import create_app

server = create_app().server
