"""`python -m app`: the Dash development server (hot reload). Production uses gunicorn (wsgi.py)."""

from __future__ import annotations

import argparse
import os

from app import create_app
from app.settings import Settings


def main() -> None:
    parser = argparse.ArgumentParser(description="Neon Arena development server")
    parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8050")))
    args = parser.parse_args()
    settings = Settings.from_env()
    app = create_app(settings)
    app.run(host=args.host, port=args.port, debug=settings.dev, dev_tools_hot_reload=settings.dev)


if __name__ == "__main__":
    main()
