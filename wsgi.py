"""WSGI entry point: `gunicorn wsgi:app`, `flask --app wsgi ...`."""

import gc

from app import create_app

app = create_app()
# Everything built at start-up lives as long as the process: move it out of the collector's way. Without this, the
# full collections that large result sets trigger rescan every long-lived object (measured: the results page's score
# query took a median 90 ms instead of 31 ms). The Python docs recommend this for pre-forking servers as well.
gc.collect()
gc.freeze()
