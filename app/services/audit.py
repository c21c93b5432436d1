"""The audit log: who changed what, when, from what to what."""

from __future__ import annotations

import enum
from typing import TypeVar

from app.db import DbSession
from app.models import AuditEvent, Contest, User

RowT = TypeVar("RowT")


class _Contest(enum.Enum):
    OF_OBJECT = "of_object"


def record_event(
    session: DbSession,
    *,
    actor: User | None,
    action: str,
    obj,
    contest_id: int | None | _Contest = _Contest.OF_OBJECT,
    before: dict | None = None,
    after: dict | None = None,
) -> AuditEvent:
    """Append an audit event for obj (a model instance; flushed first so that a new one has its id). The event's
    contest is contest_id when given, else obj's own: the contest itself, or its `contest_id` if it has one."""
    session.flush()
    if contest_id is _Contest.OF_OBJECT:
        contest_id = obj.id if isinstance(obj, Contest) else getattr(obj, "contest_id", None)
    event = AuditEvent(
        actor_id=actor.id if actor else None,
        action=action,
        object_type=type(obj).__name__,
        object_id=str(getattr(obj, "id", None) or getattr(obj, "sheet_id", "")),
        contest_id=contest_id,
        before=before,
        after=after,
    )
    session.add(event)
    return event


def add_created(session: DbSession, obj: RowT, *, actor: User | None, action: str, after: dict) -> RowT:
    """Add the new row obj to the session and audit its creation; returns obj. `after` (what the log keeps of the row)
    is built before the flush that gives the row its id, so it names no new id."""
    session.add(obj)
    record_event(session, actor=actor, action=action, obj=obj, after=after)
    return obj
