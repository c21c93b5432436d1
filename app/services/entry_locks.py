"""When an entry stops being its unit's to change, although intake may still be open (docs/lifecycle.md).

Judges must score what the unit submitted, and a published snapshot must keep matching the entry it names: so an
entry in a judging round that has started, or in any publication, can no longer be edited, replaced or withdrawn.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from sqlalchemy import select

from app.db import DbSession
from app.models import (
    Assignment,
    AssignmentMode,
    ClipStatus,
    Entry,
    EntryStatus,
    Publication,
    Round,
    RoundEntry,
    RoundStatus,
    ScoreSheet,
)


def published_entry_ids(snapshot: dict) -> set[int]:
    """Every entry a publication snapshot names, ranked or awarded."""
    ids = {row.get("entry_id") for row in snapshot.get("ranking", [])}
    ids.update(w.get("entry_id") for award in snapshot.get("awards", []) for w in award.get("winners", []))
    return {i for i in ids if isinstance(i, int)}


def judging_round_of(session: DbSession, entry: Entry) -> Round | None:
    """The round that judges or judged the entry: one where it has a score sheet or a judge assigned (once the round
    started), else a started round whose shortlist holds it, else an open whole-panel round, which judges every
    submitted entry with a ready clip (`scoring.round_entries`). A closed round without shortlist holds only what it
    scored."""
    scored = session.scalar(
        select(Round).join(ScoreSheet, ScoreSheet.round_id == Round.id).where(ScoreSheet.entry_id == entry.id).limit(1)
    )
    if scored is not None:
        return scored
    assigned = session.scalar(
        select(Round)
        .join(Assignment, Assignment.round_id == Round.id)
        .where(Assignment.entry_id == entry.id, Round.status != RoundStatus.DRAFT)
        .limit(1)
    )
    if assigned is not None:
        return assigned
    started = session.scalars(
        select(Round)
        .where(Round.contest_id == entry.contest_id, Round.status != RoundStatus.DRAFT)
        .order_by(Round.position)
    )
    for rnd in started:
        if rnd.uses_shortlist:
            if session.get(RoundEntry, (rnd.id, entry.id)) is not None:
                return rnd
        elif (
            rnd.status == RoundStatus.OPEN
            and rnd.assignment_mode == AssignmentMode.PANEL  # K per entry: only assigned entries are judged
            and entry.status == EntryStatus.SUBMITTED
            and entry.clip is not None
            and entry.clip.status == ClipStatus.READY
        ):
            return rnd
    return None


def is_published(session: DbSession, entry: Entry) -> bool:
    """The entry appears in a publication of its contest."""
    snapshots = session.scalars(select(Publication.snapshot).where(Publication.contest_id == entry.contest_id))
    return any(entry.id in published_entry_ids(snapshot) for snapshot in snapshots)


def entry_lock(session: DbSession, entry: Entry) -> LazyString | None:
    """Why the entry's unit can no longer edit, replace or withdraw it (a message), or None while it can."""
    if is_published(session, entry):
        return _l("This entry is part of the published results: it can no longer be edited, replaced or withdrawn.")
    rnd = judging_round_of(session, entry)
    if rnd is not None:
        return _l(
            "This entry is being judged in “%(round)s”: it can no longer be edited, replaced or withdrawn.",
            round=rnd.name,
        )
    return None
