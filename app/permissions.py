"""Object-level permission predicates: who may see or change what. Views call these; tests cover them as a matrix."""

from __future__ import annotations

from sqlalchemy.orm import Session

from app.models import Clip, Entry, Role
from app.services import scoring
from app.services.contests import accepts_entries
from app.services.results import published_clip_ids


def is_staff(user) -> bool:
    return bool(user and user.is_authenticated and user.role in (Role.ORGANISER, Role.ADMIN))


def is_unit_member_of(user, unit_id: int) -> bool:
    return bool(user and user.is_authenticated and user.role == Role.UNIT and user.unit_id == unit_id)


def can_view_entry(session: Session, user, entry: Entry) -> bool:
    """Staff see all; a unit sees its own; a judge sees entries assigned to them in a non-draft round."""
    if is_staff(user) or is_unit_member_of(user, entry.unit_id):
        return True
    if user and user.is_authenticated and user.role == Role.JUDGE:
        return any(
            scoring.is_assigned(session, judge=user, rnd=r, entry=entry)
            for r in scoring.judge_rounds(session, user)
            if r.contest_id == entry.contest_id
        )
    return False


def can_edit_entry(user, entry: Entry) -> bool:
    """Only the entry's unit, only while the contest accepts changes."""
    return is_unit_member_of(user, entry.unit_id) and accepts_entries(entry.contest)


def can_view_clip(session: Session, user, clip: Clip) -> bool:
    """Media of a clip: whoever may view its entry, and the public once it is among the published winners."""
    entry = clip.entry
    if user and user.is_authenticated and can_view_entry(session, user, entry):
        # Judges only ever get the entry's current clip, never superseded uploads.
        return user.role != Role.JUDGE or entry.clip_id == clip.id
    return clip.id in published_clip_ids(session, entry.contest)


def can_manage_account(user, role: Role) -> bool:
    """Admins manage every account; organisers manage unit and judge accounts only."""
    if not (user and user.is_authenticated):
        return False
    if user.role == Role.ADMIN:
        return True
    return user.role == Role.ORGANISER and role in (Role.UNIT, Role.JUDGE)
