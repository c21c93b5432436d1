"""Finds clips that were accepted but never reached a worker (Redis down at upload, worker killed), and retries that
are due after infrastructure errors, and enqueues them. Every worker runs it periodically (media_worker/worker.py), so
no retry depends on one worker, or on RQ's scheduler, staying alive."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from rq import Queue
from sqlalchemy import or_, select, true
from sqlalchemy.orm import Session

from app.clip_reasons import english_reason
from app.connections import enqueue_committed_clip
from app.models import Clip, ClipStatus, utcnow
from app.services.clip_processing import RetryPolicy, fail_clip, new_error_id
from media_worker.reasons import PROCESSING_FAILED

log = logging.getLogger(__name__)


def requeue_stuck(
    session: Session,
    queue: Queue,
    *,
    stale_seconds: int = 180,
    now: datetime | None = None,
    due_only: bool = True,
    policy: RetryPolicy | None = None,
) -> list[int]:
    """Enqueue clips in uploaded/queued whose job is missing, and processing ones without a heartbeat for
    stale_seconds (their worker died); returns the ids enqueued.

    Clips waiting to retry after an infrastructure error are enqueued once their next attempt is due (at `now`), or
    at once with due_only=False (an operator's `clips requeue`). A clip whose workers keep dying counts as retrying
    from the first death; with a policy, it fails once that has lasted longer than the policy allows (a file that
    kills every worker must not loop for ever)."""
    now = now or utcnow()
    stale = now - timedelta(seconds=stale_seconds)
    due = or_(Clip.next_attempt_at.is_(None), Clip.next_attempt_at <= now) if due_only else true()
    ids = list(
        session.scalars(
            select(Clip.id)
            .where(
                or_(
                    Clip.status == ClipStatus.UPLOADED,
                    (Clip.status == ClipStatus.QUEUED) & due,
                    (Clip.status == ClipStatus.PROCESSING) & (Clip.updated_at < stale),
                )
            )
            .order_by(Clip.id)
        )
    )
    done = []
    for clip_id in ids:
        # The row as it is now, locked (PostgreSQL), not as the query saw it: a clip selected as `queued` may have been
        # taken by a worker since, and is then `processing` with a fresh heartbeat. Judging it dead for its status
        # alone made a second job that ran beside the first (seen with two workers starting under load).
        clip = session.get(Clip, clip_id, with_for_update=True, populate_existing=True)
        if clip is None:
            continue  # deleted since the query (an abandoned upload swept meanwhile)
        if clip.status == ClipStatus.PROCESSING and clip.updated_at >= stale:
            session.rollback()  # alive: its worker's heartbeat is fresh; let go of the lock
            continue
        dead = clip.status == ClipStatus.PROCESSING
        if dead:
            clip.retrying_since = clip.retrying_since or now
            if policy is not None and policy.exhausted(since=clip.retrying_since, now=now):
                error_id = new_error_id()
                log.error(
                    "clip %s: its workers kept dying for %s h, error_id=%s",
                    clip_id,
                    policy.give_up_after_hours,
                    error_id,
                )
                fail_clip(
                    session,
                    clip=clip,
                    error_id=error_id,
                    reason_code=PROCESSING_FAILED,
                    reason_text=english_reason(PROCESSING_FAILED),
                )
                session.commit()
                continue
            clip.status = ClipStatus.QUEUED  # its worker is gone; let a live one take it
            session.commit()
        # Still as selected when locked: since the query, a worker may have taken the clip or finished it.
        expect = (ClipStatus.QUEUED,) if dead else (ClipStatus.UPLOADED, ClipStatus.QUEUED)
        if enqueue_committed_clip(session, queue, clip_id, force=dead, expect=expect):
            done.append(clip_id)
    return done
