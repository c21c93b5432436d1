"""Entries and their clips: creation, editing, upload, submission, participation."""

from __future__ import annotations

import logging
import mimetypes
import os
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from typing import IO

from flask_babel import lazy_gettext as _l
from sqlalchemy import case, func, select
from sqlalchemy.orm import joinedload

from app.db import DbSession
from app.models import Clip, ClipStatus, Contest, Entry, EntryStatus, Unit, User, utcnow
from app.permissions import require_accepting_entries, require_entry_changeable, require_unit_member
from app.services import PortalError
from app.services.audit import add_created, record_event
from app.services.notifications import notify_entry_submitted
from app.storage import Storage, original_key

log = logging.getLogger(__name__)

ALLOWED_EXTENSIONS = {".mp4", ".mov", ".m4v", ".avi", ".mkv", ".webm", ".mpg", ".mpeg", ".ts", ".mts", ".3gp"}
ACTIVE_ENTRY = (EntryStatus.DRAFT, EntryStatus.SUBMITTED)
# Types browsers report for video files besides video/*; anything else (images, documents…) is refused.
# Said in plain words: no MIME types or extension lists (a ward clerk knows "MP4", not "video/*").
NOT_A_VIDEO = _l(
    "This file is not a video. Choose a video file: MP4 is best; MOV, AVI, MKV and WebM are also accepted."
)
OTHER_VIDEO_TYPES = {"", "application/octet-stream", "application/mp4", "application/x-matroska", "model/vnd.mts"}


def _entry_texts(title: str, summary: str, authors: str) -> dict[str, str]:
    """An entry's title, summary and authors, checked and trimmed (the Entry columns of the same names)."""
    title = (title or "").strip()
    if not title:
        raise PortalError(_l("The entry needs a title."), field="title")
    if len(title) > 300:
        raise PortalError(_l("The title is too long (at most 300 characters)."), field="title")
    return {"title": title, "summary": (summary or "").strip(), "authors": clean_authors(authors)}


MAX_AUTHORS = 50


def clean_authors(text: str | None) -> str:
    """Authors one per line: each name trimmed and NFC-normalised (certificates print them), empty lines dropped."""
    names = [unicodedata.normalize("NFC", " ".join(line.split())) for line in (text or "").splitlines()]
    names = [n[:200] for n in names if n]
    if len(names) > MAX_AUTHORS:
        raise PortalError(_l("At most %(n)d authors, one per line.", n=MAX_AUTHORS), field="authors")
    return "\n".join(names)


def create_entry(
    session: DbSession,
    *,
    user: User,
    contest: Contest,
    unit: Unit,
    title: str,
    summary: str = "",
    authors: str = "",
    category_id: int | None = None,
) -> Entry:
    """Create a draft entry for the user's unit, within the contest's per-unit limit."""
    require_accepting_entries(contest)
    require_unit_member(user, unit.id)
    texts = _entry_texts(title, summary, authors)
    _require_room(session, contest, unit.id)
    _check_category(contest, category_id)
    entry = Entry(
        contest_id=contest.id,
        unit_id=unit.id,
        category_id=category_id,
        created_by_id=user.id,
        status=EntryStatus.DRAFT,
        **texts,
    )
    after = {"title": entry.title, "unit_id": unit.id, "category_id": category_id}
    return add_created(session, entry, actor=user, action="entry.create", after=after)


@dataclass(frozen=True)
class EntryRoom:
    """How much of the per-unit entry limit a unit uses.

    The rule: every entry that was not withdrawn (or disqualified) counts, drafts included, with or without a clip and
    whatever became of its clip. A draft holds its place, so a unit is never refused at submission for work it has
    already begun; a rejected clip is replaced inside the same entry; withdrawing a draft frees its place."""

    used: int
    limit: int | None

    @property
    def left(self) -> int | None:
        return None if self.limit is None else max(0, self.limit - self.used)

    @property
    def full(self) -> bool:
        return self.limit is not None and self.used >= self.limit


def entry_room(session: DbSession, *, contest: Contest, unit_id: int) -> EntryRoom:
    """The unit's entries that count towards the contest's limit, and that limit (None: no limit)."""
    used = (
        session.scalar(
            select(func.count(Entry.id)).where(
                Entry.contest_id == contest.id, Entry.unit_id == unit_id, Entry.status.in_(ACTIVE_ENTRY)
            )
        )
        or 0
    )
    return EntryRoom(used=used, limit=contest.max_entries_per_unit or None)


def _require_room(session: DbSession, contest: Contest, unit_id: int) -> None:
    """Refuse one more counted entry when the unit already has as many as the contest allows."""
    room = entry_room(session, contest=contest, unit_id=unit_id)
    if room.full:
        raise PortalError(
            _l(
                "Your unit already has %(n)d entries, the most this contest allows. Drafts count too: withdraw one "
                "you no longer need to free its place.",
                n=room.used,
            )
        )


def _require_active(entry: Entry) -> None:
    if entry.status not in ACTIVE_ENTRY:
        raise PortalError(_l("This entry was withdrawn or disqualified: it cannot take a new clip."))


def _check_category(contest: Contest, category_id: int | None) -> None:
    if category_id is not None and category_id not in {c.id for c in contest.categories}:
        raise PortalError(_l("Choose a category of this contest."), field="category_id")


def update_entry(
    session: DbSession, *, user: User, entry: Entry, title: str, summary: str, authors: str, category_id: int | None
) -> None:
    """Edit an entry's details while intake is open, until the entry is judged or published."""
    require_unit_member(user, entry.unit_id)
    require_entry_changeable(session, entry)
    texts = _entry_texts(title, summary, authors)
    _check_category(entry.contest, category_id)
    before = _details(entry)
    entry.title, entry.summary, entry.authors = texts["title"], texts["summary"], texts["authors"]
    entry.category_id = category_id
    after = _details(entry)
    changed = [k for k in after if before[k] != after[k]]
    session.flush()
    if changed:
        record_event(
            session,
            actor=user,
            action="entry.update",
            obj=entry,
            before={k: before[k] for k in changed},
            after={k: after[k] for k in changed},
        )


def _details(entry: Entry) -> dict:
    return {"title": entry.title, "summary": entry.summary, "authors": entry.authors, "category_id": entry.category_id}


def submit_entry(session: DbSession, *, user: User, entry: Entry) -> None:
    """Mark an entry submitted; it needs a clip that was not rejected."""
    require_unit_member(user, entry.unit_id)
    require_entry_changeable(session, entry)
    clip = entry.clip
    if clip is None:
        raise PortalError(_l("Upload a clip before submitting."))
    if clip.status in (ClipStatus.REJECTED, ClipStatus.FAILED):
        raise PortalError(_l("The clip was not accepted; upload another clip before submitting."))
    if entry.status not in ACTIVE_ENTRY:  # a withdrawn entry counts again once resubmitted (finding 11)
        _require_room(session, entry.contest, entry.unit_id)
    entry.submitted_at = utcnow()
    _set_status(session, user=user, entry=entry, status=EntryStatus.SUBMITTED, action="entry.submit", clip_id=clip.id)
    notify_entry_submitted(session, entry=entry)


def withdraw_entry(session: DbSession, *, user: User, entry: Entry) -> None:
    """Withdraw an entry while intake is open and before it is judged or published (it stops counting towards the
    unit's limit)."""
    require_unit_member(user, entry.unit_id)
    require_entry_changeable(session, entry)
    _set_status(session, user=user, entry=entry, status=EntryStatus.WITHDRAWN, action="entry.withdraw")


def _set_status(session: DbSession, *, user: User, entry: Entry, status: EntryStatus, action: str, **after) -> None:
    """Move the entry to status, audited as action (after: what else to record beside the new status)."""
    before = entry.status
    entry.status = status
    record_event(
        session,
        actor=user,
        action=action,
        obj=entry,
        before={"status": before.value},
        after={"status": status.value, **after},
    )


def check_upload_type(content_type: str | None, ext: str) -> str | None:
    """The type to store for an upload declared as `content_type`: video types only (an allow-list)."""
    declared = (content_type or "").split(";")[0].strip().lower()
    if not declared.startswith("video/") and declared not in OTHER_VIDEO_TYPES:
        # The plain sentence first; the type the browser reported stays as a detail for whoever helps the user.
        raise PortalError(
            _l("%(sentence)s (File type reported: %(type)s.)", sentence=NOT_A_VIDEO, type=declared), field="file"
        )
    if declared.startswith("video/") or declared == "application/mp4":
        return declared
    return mimetypes.guess_type(f"clip{ext}")[0]


def check_upload_name(filename: str) -> str:
    """Return the lower-case extension when the file name looks like a video we accept."""
    ext = os.path.splitext(filename or "")[1].lower()
    if ext not in ALLOWED_EXTENSIONS:
        raise PortalError(NOT_A_VIDEO, field="file")
    return ext


def store_upload(
    session: DbSession,
    storage: Storage,
    *,
    user: User | None,
    entry: Entry,
    stream: IO[bytes],
    filename: str,
    content_type: str | None,
    check_rights: bool = True,
) -> Clip:
    """Store an uploaded original in S3 and attach it as the entry's current clip (the old one is kept).

    The S3 object is written before the row is flushed as complete; on any failure the object is removed again, and
    the caller's rollback removes the row, so nothing is left half-written.
    """
    if check_rights:
        require_unit_member(user, entry.unit_id)
        require_entry_changeable(session, entry)
        _require_active(entry)
    ext = check_upload_name(filename)
    content_type = check_upload_type(content_type, ext)
    clip = Clip(
        entry_id=entry.id,
        original_key=f"pending/{os.urandom(8).hex()}",
        filename=os.path.basename(filename),
        content_type=content_type,
        status=ClipStatus.UPLOADING,
        uploaded_by_id=user.id if user else None,
    )
    session.add(clip)
    session.flush()
    clip.original_key = original_key(clip.id, ext)
    try:
        stored = storage.put_stream(clip.original_key, stream, content_type=content_type)
        limit = entry.contest.max_size_bytes
        if limit and stored.size > limit:
            raise PortalError(_l("The file is larger than the contest allows (%(mb)d MB).", mb=limit // 2**20))
        clip.size_bytes, clip.sha256 = stored.size, stored.sha256
        clip.status = ClipStatus.UPLOADED
        record_clip_upload(session, actor=user, entry=entry, clip=clip)
    except BaseException:
        discard_original(storage, clip)
        raise
    return clip


def record_clip_upload(session: DbSession, *, actor: User | None, entry: Entry, clip: Clip) -> None:
    """Make a complete upload the entry's current clip (the earlier one is kept) and audit the upload or replacement."""
    previous = entry.clip_id
    before: dict[str, int] | None
    if previous:
        action, before = "clip.replace", {"clip_id": previous}
    else:
        action, before = "clip.upload", None
    entry.clip_id = clip.id
    entry.updated_at = utcnow()
    after = {"clip_id": clip.id, "entry_id": entry.id, "filename": clip.filename, "size": clip.size_bytes}
    record_event(session, actor=actor, action=action, obj=clip, contest_id=entry.contest_id, before=before, after=after)


def discard_original(storage: Storage, clip: Clip) -> None:
    """Best-effort removal of an original whose database row is being rolled back."""
    try:
        storage.delete(clip.original_key)
    except Exception:  # cleanup must not hide the original error
        log.warning("could not remove original %s of a rolled-back clip", clip.original_key, exc_info=True)


def entries_of_unit(session: DbSession, *, contest: Contest, unit_id: int) -> list[Entry]:
    """The unit's entries in the contest, with their clips (the dashboard shows each clip's state: one query)."""
    return list(
        session.scalars(
            select(Entry)
            .options(joinedload(Entry.clip))
            .where(Entry.contest_id == contest.id, Entry.unit_id == unit_id)
            .order_by(Entry.created_at, Entry.id)
        )
    )


@dataclass(frozen=True)
class UnitParticipation:
    unit: Unit
    members: int
    entries: int
    submitted: int
    last_activity: datetime | None

    @property
    def took_part(self) -> bool:
        return self.submitted > 0


def participation(session: DbSession, *, contest: Contest) -> list[UnitParticipation]:
    """Per unit: members, entries, submitted entries and last activity; units that have not taken part included."""
    members = dict(
        session.execute(
            select(User.unit_id, func.count(User.id)).where(User.unit_id.is_not(None)).group_by(User.unit_id)
        ).all()
    )
    seen = dict(
        session.execute(
            select(User.unit_id, func.max(User.last_seen_at)).where(User.unit_id.is_not(None)).group_by(User.unit_id)
        ).all()
    )
    rows = session.execute(
        select(
            Entry.unit_id,
            func.count(Entry.id),
            func.sum(case((Entry.status == EntryStatus.SUBMITTED, 1), else_=0)),
            func.max(Entry.updated_at),
        )
        .where(Entry.contest_id == contest.id, Entry.status != EntryStatus.WITHDRAWN)
        .group_by(Entry.unit_id)
    ).all()
    by_unit = {r[0]: r[1:] for r in rows}
    out = []
    for unit in session.scalars(select(Unit).order_by(Unit.code)):
        entry_count, submitted, updated = by_unit.get(unit.id, (0, 0, None))
        candidates = [t for t in (updated, seen.get(unit.id)) if t is not None]
        out.append(
            UnitParticipation(
                unit=unit,
                members=members.get(unit.id, 0),
                entries=entry_count,
                submitted=int(submitted or 0),
                last_activity=max(candidates) if candidates else None,
            )
        )
    out.sort(key=lambda p: (not p.took_part, p.unit.code))
    return out


def import_clip(
    session: DbSession,
    storage: Storage,
    *,
    actor: User | None,
    contest: Contest,
    unit: Unit,
    title: str,
    stream: IO[bytes],
    filename: str,
    content_type: str | None,
    summary: str = "",
    authors: str = "",
) -> Clip:
    """Import a clip for a unit as a submitted entry (the operator's `clips import`, actor None); audited.

    No deadline or membership check: the operator acts for the organisers. The clip still has to be a video file.
    """
    check_upload_name(filename)
    entry = Entry(
        contest_id=contest.id, unit_id=unit.id, status=EntryStatus.SUBMITTED, **_entry_texts(title, summary, authors)
    )
    session.add(entry)
    session.flush()
    clip = store_upload(
        session,
        storage,
        user=actor,
        entry=entry,
        stream=stream,
        filename=filename,
        content_type=content_type,
        check_rights=False,
    )
    entry.submitted_at = clip.created_at
    record_event(
        session,
        actor=actor,
        action="entry.import",
        obj=entry,
        after={"title": entry.title, "unit": unit.code, "clip_id": clip.id, "filename": clip.filename},
    )
    session.flush()
    return clip
