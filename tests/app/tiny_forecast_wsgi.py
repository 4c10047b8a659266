"""gunicorn entry point for the job tests: the real app, with the forecast page's efforts shrunk (see
tiny_efforts) so that ten jobs finish in seconds (`gunicorn tests.app.tiny_forecast_wsgi:server`)."""

from app import create_app
from tests.app import tiny_efforts  # noqa: F401  (patches the efforts before the app is created)

server = create_app().server
