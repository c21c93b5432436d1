"""The portal's RQ worker: sweeps stuck clips at start, then works the media queue."""
from __future__ import annotations

import logging

from rq import Worker

from app import db
from app.queue import connect, media_queue
from media_worker.sweeper import requeue_stuck


def run_worker(config, *, burst: bool = False) -> None:
    """Work the media queue until stopped (or until empty with burst)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    queue = media_queue(config["REDIS_URL"], config["RQ_QUEUE"])
    with db.session_scope() as session:
        requeued = requeue_stuck(session, queue)
    if requeued:
        logging.getLogger(__name__).info("requeued stuck clips: %s", requeued)
    worker = Worker([queue], connection=connect(config["REDIS_URL"]))
    worker.work(burst=burst, with_scheduler=not burst, logging_level="INFO")
