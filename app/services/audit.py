"""The audit log: who changed what, when, from what to what."""

from __future__ import annotations

from app.db import DbSession
from app.models import AuditEvent, User


def record_event(
    session: DbSession,
    *,
    actor: User | None,
    action: str,
    obj,
    contest_id: int | None = None,
    before: dict | None = None,
    after: dict | None = None,
) -> AuditEvent:
    """Append an audit event for obj (a model instance with an id)."""
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
