"""Read by gunicorn when started from the project directory (`gunicorn wsgi:app`): refuse a bad configuration in the
master, with one line and status 2, before the app is loaded or any worker is forked."""

import sys

# Keep idle connections for 75 s (gunicorn's default is 2 s). A client or proxy that reuses a connection after a pause
# longer than the server's keep-alive races the server closing it, and gets a reset instead of an answer: measured
# in the judging load scenario (bench/load, think times 2–5 s) as `ConnectionResetError`. nginx keeps upstream
# connections idle for 60 s (`keepalive_timeout` of an upstream block), so the server side must outlast that.
# Idle connections wait in the gthread worker's poller, not in a thread; a stopping worker closes them within 2 s.
keepalive = 75

# Load the app once, in the master, and fork the workers from it: the workers do not import and build the app again
# (2 workers: 1.1 CPU-s per start instead of 2.0, ready as soon, bench/portal_start.py), and the pages of code and
# start-up objects stay shared between workers (wsgi.py freezes them out of the collector's way, as the Python docs
# advise before forking). create_app does no network I/O (app/connections.py), so no connection is inherited;
# post_fork makes sure of it.
preload_app = True


def _check_configuration():
    """Stop the master with one line and status 2 on a bad configuration: at the config file's load, which comes
    before the preloaded app (whose own check would stop a gunicorn with status 4 and a traceback)."""
    from config import Config, ConfigError, check

    try:
        config = Config().as_dict()
        check(config)
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr, flush=True)
        sys.exit(2)
    return config


_config = _check_configuration()


def on_starting(server):
    from app.urls import warn_if_public_url_missing

    warn_if_public_url_missing(_config, server.log)


def post_fork(server, worker):
    """A new engine in each worker, whatever the master may have pooled (app/db.py)."""
    from app import db

    db.after_fork()
