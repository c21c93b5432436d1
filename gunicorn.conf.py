"""Read by gunicorn when started from the project directory (`gunicorn wsgi:app`): refuse a bad configuration in the
master, with one line and status 2, before any worker is forked."""

import sys

# Keep idle connections for 75 s (gunicorn's default is 2 s). A client or proxy that reuses a connection after a pause
# longer than the server's keep-alive races the server closing it, and gets a reset instead of an answer: measured
# in the judging load scenario (bench/load, think times 2–5 s) as `ConnectionResetError`. nginx keeps upstream
# connections idle for 60 s (`keepalive_timeout` of an upstream block), so the server side must outlast that.
# Idle connections wait in the gthread worker's poller, not in a thread; a stopping worker closes them within 2 s.
keepalive = 75


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
