"""WSGI entry point and composition root: `gunicorn wsgi:app`, `flask --app wsgi ...`.

The web app (app/) imports nothing from the worker (media_worker/); this module joins them, attaching the worker's
commands (`worker`, `clips requeue`, `uploads sweep`) to the web app's command line.
"""

import gc

from app import create_app
from media_worker.cli import register_worker_cli

app = create_app()
register_worker_cli(app)
# Everything built at start-up lives as long as the process: move it out of the collector's way. Without this, the
# full collections that large result sets trigger rescan every long-lived object (measured: the results page's score
# query took a median 90 ms instead of 31 ms). The Python docs recommend this for pre-forking servers as well.
gc.collect()
gc.freeze()
