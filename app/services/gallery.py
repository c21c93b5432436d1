"""The public gallery: once results are published, every submitted entry with a ready clip, when the organiser
opened it (contest.gallery_public). Queries only; the switch is `showcase.set_gallery_public`."""

from __future__ import annotations

from sqlalchemy import select

from app.db import DbSession
from app.models import Clip, ClipStatus, Contest, Entry, EntryStatus, Publication


def gallery_open(session: DbSession, contest: Contest) -> bool:
    """True when the organiser opened the gallery and results have been published."""
    if not contest.gallery_public:
        return False
    return session.scalar(select(Publication.id).where(Publication.contest_id == contest.id).limit(1)) is not None


def gallery_entries(session: DbSession, contest: Contest) -> list[Entry]:
    """Entries shown in the gallery: submitted (not withdrawn or disqualified), with their current clip ready."""
    if not gallery_open(session, contest):
        return []
    return list(
        session.scalars(
            select(Entry)
            .join(Clip, Clip.id == Entry.clip_id)
            .where(
                Entry.contest_id == contest.id,
                Entry.status == EntryStatus.SUBMITTED,
                Clip.status == ClipStatus.READY,
            )
            .order_by(Entry.submitted_at, Entry.id)
        )
    )


def gallery_clip_ids(session: DbSession, contest: Contest) -> set[int]:
    """Clips the public may watch because they are in the open gallery (each entry's current clip only)."""
    return {e.clip_id for e in gallery_entries(session, contest) if e.clip_id is not None}
