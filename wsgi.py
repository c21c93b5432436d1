"""WSGI entry point and composition root: `gunicorn wsgi:app`, `flask --app wsgi ...`.

The web app (app/) imports nothing from the worker (media_worker/); this module joins them, attaching the worker's
commands (`worker`, `clips requeue`, `uploads sweep`) to the web app's command line.
"""

import gc
import sys

from app import create_app
from config import ConfigError
from media_worker.cli import register_worker_cli

try:
    app = create_app()
except ConfigError as exc:
    # `flask --app wsgi ...` (and so the worker) and gunicorn all start here: one line, no traceback, status 2. In a
    # gunicorn worker, status 4 ("app failed to load") makes the master stop instead of forking workers forever;
    # gunicorn.conf.py normally stops the master with status 2 before any worker starts.
    print(f"configuration error: {exc}", file=sys.stderr, flush=True)
    sys.exit(4 if "gunicorn.arbiter" in sys.modules else 2)
register_worker_cli(app)
# Everything built at start-up lives as long as the process: move it out of the collector's way. Without this, the
# full collections that large result sets trigger rescan every long-lived object (measured: the results page's score
# query took a median 90 ms instead of 31 ms). The Python docs recommend this for pre-forking servers as well.
gc.collect()
gc.freeze()
