"""The portal's RQ worker: works the mail and media queues (or the ones named), and at start and every
SWEEP_INTERVAL_SECONDS re-enqueues what lost its job: stuck clips (media queue), queued mail (mail queue). A worker of
the mail queue that is not a burst worker also writes the reminders that are due (app.notification_jobs)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from redis.exceptions import RedisError
from rq import Worker
from rq.exceptions import StopRequested

from app import db
from app.mailer import sweep_outbox
from app.notification_jobs import send_reminders
from app.queue import connect, media_queue
from app.services.clip_processing import RetryPolicy
from app.urls import warn_if_public_url_missing
from media_worker.sweeper import requeue_stuck
from media_worker.upload_sweeper import sweep_uploads_at_startup

log = logging.getLogger(__name__)
RESTART_PAUSE_SECONDS = 5


def _sweep_logged(sweep: Callable[[], list[int]], *, done: str, failed: str) -> list[int]:
    """Run one sweep and log what it re-enqueued; errors are logged, never fatal to the worker."""
    try:
        requeued = sweep()
        if requeued:
            log.info("%s: %s", done, requeued)
        return requeued
    except Exception:  # noqa: BLE001 - the sweeper must not take the worker down
        log.exception(failed)
        return []


def _requeue_stuck_clips(config) -> list[int]:
    queue = media_queue(config["REDIS_URL"], config["RQ_QUEUE"])
    with db.session_scope() as session:
        return requeue_stuck(
            session, queue, stale_seconds=config["CLIP_STALE_SECONDS"], policy=RetryPolicy.from_config(config)
        )


def sweep_once(config) -> list[int]:
    """Requeue stuck clips once; errors are logged, never fatal to the worker."""
    return _sweep_logged(lambda: _requeue_stuck_clips(config), done="requeued stuck clips", failed="sweep failed")


def sweep_mail_once(config) -> list[int]:
    """Re-enqueue queued mail that no job will send; errors are logged, never fatal to the worker."""
    return _sweep_logged(lambda: sweep_outbox(config), done="re-enqueued queued mail", failed="mail sweep failed")


def remind_once(config, app=None) -> dict[str, int]:
    """Write the reminders due now (deadlines, rounds); every worker of the mail queue runs it, the outbox's dedupe keys
    let each reminder through once. Errors are logged, never fatal to the worker."""
    try:
        written = send_reminders(app=app)
        if any(written.values()):
            log.info("reminders written: %s", written)
        return written
    except Exception:  # noqa: BLE001 - the reminders must not take the worker down
        log.exception("reminders failed")
        return {}


def portal_queues(config) -> list[str]:
    """Every queue of the portal, mail first (a reset mail never waits behind a transcode)."""
    return [config["MAIL_QUEUE"], config["RQ_QUEUE"]]


def _sweeps(config, queues: list[str], app=None, *, reminders: bool = True) -> list[Callable[[Any], object]]:
    sweeps: list[Callable[[Any], object]] = []
    if config["RQ_QUEUE"] in queues:
        sweeps.append(sweep_once)
    if config["MAIL_QUEUE"] in queues:
        sweeps.append(sweep_mail_once)
        if reminders:  # a long-running worker only: a burst worker drains its queues and leaves
            sweeps.append(lambda cfg: remind_once(cfg, app))
    return sweeps


def _sweep_forever(config, sweeps: list, stop: threading.Event) -> None:
    while not stop.wait(config["SWEEP_INTERVAL_SECONDS"]):
        for sweep in sweeps:
            sweep(config)


def run_worker(config, *, burst: bool = False, queues: list[str] | None = None, app=None) -> None:
    """Work the portal's queues (or only those named) until stopped, or until empty with burst. `app` (the Flask app)
    gives the periodic reminders their templates and links."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    warn_if_public_url_missing(config, log)
    queues = queues or portal_queues(config)
    unknown = sorted(set(queues) - set(portal_queues(config)))
    if unknown:
        raise ValueError(f"unknown queue {', '.join(unknown)}: the portal's queues are {portal_queues(config)}")
    sweeps = _sweeps(config, queues, app, reminders=not burst)
    for sweep in sweeps:
        sweep(config)
    if config["RQ_QUEUE"] in queues:
        sweep_uploads_at_startup(config)
    stop = threading.Event()
    if not burst and sweeps:
        threading.Thread(target=_sweep_forever, args=(config, sweeps, stop), name="sweeper", daemon=True).start()
    try:
        while True:
            try:
                worker = Worker(
                    [media_queue(config["REDIS_URL"], name) for name in queues], connection=connect(config["REDIS_URL"])
                )
                worker.work(burst=burst, with_scheduler=not burst, logging_level="INFO")
            except (RedisError, OSError) as exc:  # Redis down as the worker is made (CLIENT SETNAME) or registers
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
