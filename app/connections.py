"""Per-app handles on the object store and the queue, created lazily (create_app does no network I/O)."""

from __future__ import annotations

import logging
from collections.abc import Collection

from flask import current_app
from redis import Redis
from redis.exceptions import RedisError
from sqlalchemy import select

from app import db
from app.models import Clip, ClipStatus
from app.queue import enqueue_clip, media_queue
from app.storage import Storage

log = logging.getLogger(__name__)


def storage() -> Storage:
    ext = current_app.extensions
    if "portal_storage" not in ext:
        ext["portal_storage"] = Storage.from_config(current_app.config)
    return ext["portal_storage"]


def public_storage() -> Storage:
    """The store as browsers reach it (S3_PUBLIC_ENDPOINT_URL), for URLs they follow; the usual one otherwise."""
    public = current_app.config.get("S3_PUBLIC_ENDPOINT_URL")
    if not public:
        return storage()
    ext = current_app.extensions
    if "portal_public_storage" not in ext:
        ext["portal_public_storage"] = Storage.from_config({**current_app.config, "S3_ENDPOINT_URL": public})
    return ext["portal_public_storage"]


def cache_redis() -> Redis | None:
    """The Redis that caches rendered public pages and results boards (short timeouts: a cache must not hang pages)."""
    ext = current_app.extensions
    if "portal_cache_redis" not in ext:
        url = current_app.config.get("REDIS_URL")
        ext["portal_cache_redis"] = Redis.from_url(url, socket_connect_timeout=0.25, socket_timeout=2) if url else None
    return ext["portal_cache_redis"]


def queue():
    ext = current_app.extensions
    if "portal_queue" not in ext:
        ext["portal_queue"] = media_queue(current_app.config["REDIS_URL"], current_app.config["RQ_QUEUE"])
    return ext["portal_queue"]


def enqueue_processing(clip_id: int) -> bool:
    """Queue a committed clip; when Redis is down the clip stays `uploaded` for the sweeper. Returns success."""
    return enqueue_committed_clip(db.session, queue(), clip_id)


ENQUEUABLE = (ClipStatus.UPLOADED, ClipStatus.QUEUED, ClipStatus.PROCESSING, ClipStatus.FAILED)


def enqueue_committed_clip(
    session, q, clip_id: int, *, force: bool = False, expect: Collection[ClipStatus] = ENQUEUABLE
) -> bool:
    """Mark queued and enqueue; the status is written first so a fast worker's `processing` is never overwritten.

    The row is read FOR UPDATE (PostgreSQL), and read again even when the session holds the clip already
    (`populate_existing`: FOR UPDATE alone locks the row but leaves the session's copy as it was): a sweeper that read
    `queued` just before a worker made the clip `ready` would otherwise write `queued` over `ready` and run the clip a
    second time (seen with two workers under load). Nothing is done unless the clip's status is in expect: ENQUEUABLE,
    or the part of it that a sweeper selected the clip for."""
    clip = session.get(Clip, clip_id, with_for_update=True, populate_existing=True)
    if clip is None or clip.status not in expect:
        return False
    previous = clip.status
    retry_state = (clip.retrying_since, clip.next_attempt_at, clip.error_id)
    clip.status = ClipStatus.QUEUED
    if previous == ClipStatus.FAILED:  # someone retries it by hand: a new run of automatic retries may begin
        clip.retrying_since = clip.next_attempt_at = clip.error_id = None
    session.commit()
    try:
        # Before probing, the duration is unknown: bound it by the size at a very low bitrate (2 Mbit/s).
        hint = clip.duration_s or (clip.size_bytes or 0) / 250_000

        # A worker may take the job, and finish a small clip, between the commit above and the check for a pending
        # job: the clip, read again under the enqueue lock, must still be queued (seen with two workers and a sweeper).
        def still_queued() -> bool:
            session.rollback()  # a fresh read, not the session's copy
            return session.scalar(select(Clip.status).where(Clip.id == clip_id)) == ClipStatus.QUEUED

        job = enqueue_clip(q, clip_id, duration_hint_s=hint, force=force, still_wanted=still_queued)
    except (RedisError, OSError) as exc:
        log.warning("could not enqueue clip %s (%s); left for the sweeper", clip_id, exc)
        clip = session.get(Clip, clip_id)
        if clip.status == ClipStatus.QUEUED and clip.stage != "retrying":  # a retry stays shown as one
            clip.status = previous if previous != ClipStatus.QUEUED else ClipStatus.UPLOADED
            if previous == ClipStatus.FAILED:
                clip.retrying_since, clip.next_attempt_at, clip.error_id = retry_state
            session.commit()
        return False
    return job is not None
