"""Factories for tests: each returns a committed model instance built through the service layer."""

from __future__ import annotations

import io
import itertools
from datetime import timedelta

from app.models import Clip, ClipStatus, Entry, EntryStatus, Role, RoundStatus, User, utcnow
from app.services import accounts, contests, rounds

PASSWORD = "secret-pass-1"
_seq = itertools.count(1)


class Factories:
    def __init__(self, session):
        self.session = session

    def _commit(self, obj):
        self.session.commit()
        return obj

    def uploaded_clip(self, entry, path, filename: str | None = None) -> Clip:
        """Store `path` as the entry's clip, as an operator's upload (no rights check), and commit."""
        from app.connections import storage
        from app.services.entries import store_upload

        with open(path, "rb") as fh:
            clip = store_upload(
                self.session,
                storage(),
                user=None,
                entry=entry,
                stream=fh,
                filename=filename or path.name,
                content_type="video/mp4",
                check_rights=False,
            )
        return self._commit(clip)

    def unit(self, code: str | None = None, name: str | None = None):
        n = next(_seq)
        return self._commit(accounts.create_unit(self.session, code=code or f"U{n}", name=name or f"Unit {n}"))

    def user(self, role: Role = Role.UNIT, unit=None, email: str | None = None, name: str | None = None) -> User:
        n = next(_seq)
        if role == Role.UNIT and unit is None:
            unit = self.unit()
        return self._commit(
            accounts.create_user(
                self.session,
                email=email or f"{role.value}{n}@test.vn",
                name=name or f"{role.value} {n}",
                password=PASSWORD,
                role=role,
                unit=unit,
            )
        )

    def contest(self, slug: str | None = None, *, closed: bool = False, **fields):
        n = next(_seq)
        if closed:
            fields.setdefault("opens_at", utcnow() - timedelta(days=2))
            fields.setdefault("closes_at", utcnow() - timedelta(minutes=1))
        return self._commit(
            contests.create_contest(
                self.session, slug=slug or f"contest-{n}", title=fields.pop("title", f"Contest {n}"), **fields
            )
        )

    def entry(
        self,
        contest,
        unit,
        *,
        title: str = "An entry",
        status: EntryStatus = EntryStatus.SUBMITTED,
        clip_status: ClipStatus | None = ClipStatus.READY,
    ) -> Entry:
        entry = Entry(
            contest_id=contest.id,
            unit_id=unit.id,
            title=title,
            status=status,
            submitted_at=utcnow() if status == EntryStatus.SUBMITTED else None,
        )
        self.session.add(entry)
        self.session.flush()
        if clip_status is not None:
            clip = Clip(
                entry_id=entry.id,
                original_key=f"originals/fake-{entry.id}-{next(_seq)}/original.mp4",
                filename="clip.mp4",
                status=clip_status,
                size_bytes=1,
            )
            self.session.add(clip)
            self.session.flush()
            entry.clip_id = clip.id
        return self._commit(entry)

    def member_entry(self, contest=None, **entry_fields) -> tuple[User, Entry]:
        """A new unit's member and an entry of that unit, in `contest` or a new one."""
        unit = self.unit()
        member = self.user(Role.UNIT, unit)
        return member, self.entry(contest or self.contest(), unit, **entry_fields)

    def rendered_clip(self, body: bytes, unit=None) -> Clip:
        """The ready clip of a submitted entry, its one rendition (360p) holding `body` in the store."""
        from app.connections import storage
        from app.storage import derived_key

        clip = self.entry(self.contest(), unit or self.unit()).clip
        key = derived_key(clip.id, "360p.mp4")
        storage().put_stream(key, io.BytesIO(body), content_type="video/mp4")
        clip.renditions = [{"name": "360p", "key": key, "width": 640, "height": 360}]
        return self._commit(clip)

    def round(self, contest, *, judges=(), status: RoundStatus = RoundStatus.OPEN, criteria=None, **kwargs):
        criteria = criteria or [
            {"name": "Content", "max_points": 10, "weight": 2, "step": 0.5},
            {"name": "Technique", "max_points": 10, "weight": 1, "step": 1},
        ]
        rnd = rounds.create_round(
            self.session, contest=contest, name=kwargs.pop("name", "Round 1"), criteria=criteria, **kwargs
        )
        actor = judges[0] if judges else None
        rnd.panel = []
        self.session.flush()
        if judges:
            rounds.set_panel(self.session, actor=actor, rnd=rnd, judges=list(judges))
        rnd.status = status
        return self._commit(rnd)
