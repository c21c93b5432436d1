"""Finds clips that were accepted but never reached a worker (Redis down at upload, worker killed) and enqueues them."""

from __future__ import annotations

from datetime import timedelta

from rq import Queue
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from app.connections import enqueue_committed_clip
from app.models import Clip, ClipStatus, utcnow


def requeue_stuck(session: Session, queue: Queue, *, stale_seconds: int = 180) -> list[int]:
    """Enqueue clips in uploaded/queued whose job is missing, and processing ones without a heartbeat for
    stale_seconds (their worker died); returns the ids enqueued."""
    stale = utcnow() - timedelta(seconds=stale_seconds)
    ids = list(
        session.scalars(
            select(Clip.id)
            .where(
                or_(
                    Clip.status.in_((ClipStatus.UPLOADED, ClipStatus.QUEUED)),
                    (Clip.status == ClipStatus.PROCESSING) & (Clip.updated_at < stale),
                )
            )
            .order_by(Clip.id)
        )
    )
    done = []
    for clip_id in ids:
        clip = session.get(Clip, clip_id)
        if clip is None:
            continue  # deleted since the query (an abandoned upload swept meanwhile)
        dead = clip.status == ClipStatus.PROCESSING
        if dead:
            clip.status = ClipStatus.QUEUED  # its worker is gone; let a live one take it
            session.commit()
        if enqueue_committed_clip(session, queue, clip_id, force=dead):
            done.append(clip_id)
    return done
