"""Read by gunicorn when started from the project directory (`gunicorn wsgi:app`): refuse a bad configuration in the
master, with one line and status 2, before any worker is forked."""

import sys


def on_starting(server):
    from config import Config, ConfigError, check

    try:
        config = Config().as_dict()
        check(config)
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr, flush=True)
        sys.exit(2)
    from app.urls import warn_if_public_url_missing

    warn_if_public_url_missing(config, server.log)
