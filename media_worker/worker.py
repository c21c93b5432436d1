"""The portal's RQ worker: sweeps stuck clips at start and every SWEEP_INTERVAL_SECONDS, and works the media queue."""

from __future__ import annotations

import logging
import threading

from redis.exceptions import RedisError
from rq import Worker
from rq.exceptions import StopRequested

from app import db
from app.queue import connect, media_queue
from app.services.clip_processing import RetryPolicy
from media_worker.sweeper import requeue_stuck
from media_worker.upload_sweeper import sweep_uploads_at_startup

log = logging.getLogger(__name__)
RESTART_PAUSE_SECONDS = 5


def sweep_once(config) -> list[int]:
    """Requeue stuck clips once; errors are logged, never fatal to the worker."""
    try:
        queue = media_queue(config["REDIS_URL"], config["RQ_QUEUE"])
        with db.session_scope() as session:
            requeued = requeue_stuck(
                session, queue, stale_seconds=config["CLIP_STALE_SECONDS"], policy=RetryPolicy.from_config(config)
            )
        if requeued:
            log.info("requeued stuck clips: %s", requeued)
        return requeued
    except Exception:  # noqa: BLE001 - the sweeper must not take the worker down
        log.exception("sweep failed")
        return []


def _sweep_forever(config, stop: threading.Event) -> None:
    while not stop.wait(config["SWEEP_INTERVAL_SECONDS"]):
        sweep_once(config)


def run_worker(config, *, burst: bool = False) -> None:
    """Work the media queue until stopped (or until empty with burst)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    sweep_once(config)
    sweep_uploads_at_startup(config)
    stop = threading.Event()
    if not burst:
        threading.Thread(target=_sweep_forever, args=(config, stop), name="sweeper", daemon=True).start()
    try:
        while True:
            worker = Worker(
                [media_queue(config["REDIS_URL"], config["RQ_QUEUE"])], connection=connect(config["REDIS_URL"])
            )
            try:
                worker.work(burst=burst, with_scheduler=not burst, logging_level="INFO")
            except (RedisError, OSError) as exc:  # Redis down as the worker registers itself
                if burst:
                    raise
                log.warning("the RQ worker cannot reach Redis (%s)", exc)
            else:
                if burst or _stop_was_requested(worker):
                    break
            # RQ's loop quits on an unexpected error, e.g. Redis going away mid-call. A long-running worker starts
            # a new one instead of exiting: its sweeps are what fire retries, and the outage is a short one of ours.
            log.warning("the RQ worker stopped on an error; starting it again in %s s", RESTART_PAUSE_SECONDS)
            if stop.wait(RESTART_PAUSE_SECONDS):
                break
    except StopRequested:  # SIGTERM during the pause: RQ's handler is still installed
        pass
    finally:
        stop.set()


def _stop_was_requested(worker: Worker) -> bool:
    """True when the RQ worker ended on SIGTERM/SIGINT rather than on an error (RQ keeps this in private fields)."""
    return bool(getattr(worker, "_stop_requested", False) or getattr(worker, "_shutdown_requested_date", None))
