"""The RQ queue for media jobs."""

from __future__ import annotations

from collections.abc import Callable

from redis import Redis
from rq import Queue

PROCESS_CLIP = "media_worker.jobs.process_clip"


def connect(url: str) -> Redis:
    """A Redis connection that fails fast when the server is down."""
    return Redis.from_url(url, socket_connect_timeout=3, socket_timeout=10)


def media_queue(url: str, name: str = "clips") -> Queue:
    return Queue(name, connection=connect(url))


def enqueue_clip(
    queue: Queue,
    clip_id: int,
    *,
    duration_hint_s: float | None = None,
    force: bool = False,
    still_wanted: Callable[[], bool] | None = None,
):
    """Enqueue processing of a clip; one job id per clip so a second enqueue of a pending clip is a no-op.

    force replaces a job that Redis still calls started although its worker died (found by the sweeper).
    still_wanted, asked under the lock when no job is pending, says whether the clip still needs one: a job may have
    run to its end since the caller decided to enqueue (a tiny clip takes a second), and a new one would only run
    again to find the clip done. None (no job made) when it says no.
    """
    job_id = f"clip-{clip_id}"
    # One enqueuer at a time per clip: two that both find no pending job (the upload completing and a worker's
    # sweeper, or two sweepers) would each push the id onto the queue, and two workers would run the clip at once.
    with queue.connection.lock(f"{queue.name}:enqueue:{job_id}", timeout=30, blocking_timeout=30):
        existing = queue.fetch_job(job_id)
        if existing is not None:
            if force:
                existing.delete(remove_from_queue=True)
            elif existing.get_status(refresh=True) in ("queued", "started", "deferred", "scheduled"):
                return existing
        if still_wanted is not None and not still_wanted():
            return None
        # Transcoding a ladder takes up to a few times real time on one core; leave ample room, never less than 10 min.
        timeout = 600 + int(6 * (duration_hint_s or 600))
        return queue.enqueue(
            PROCESS_CLIP,
            clip_id,
            job_id=job_id,
            job_timeout=timeout,
            result_ttl=3600,
            failure_ttl=7 * 86400,
            # No RQ retries: the job itself puts the clip back for a later try after an infrastructure error, and the
            # workers' periodic sweeps enqueue it when due (RQ's scheduled retries stop after minutes, and depend on
            # the one worker that holds the scheduler lock).
        )
