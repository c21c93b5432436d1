"""Server-side login sessions: start one at login, end one at logout, end all of a user's when access changes."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, select

from app.db import DbSession
from app.models import LoginSession, User, utcnow


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _oldest_live(max_age: timedelta, now: datetime | None) -> datetime:
    return (now or utcnow()) - max_age


def start_session(
    session: DbSession, *, user: User, max_age: timedelta, ip: str | None = None, now: datetime | None = None
) -> str:
    """Record a new login session for user, and delete every expired one; returns the token for the session cookie."""
    session.execute(delete(LoginSession).where(LoginSession.created_at < _oldest_live(max_age, now)))
    token = secrets.token_urlsafe(32)
    session.add(LoginSession(token_hash=_digest(token), user_id=user.id, ip=(ip or "")[:45] or None))
    session.flush()
    return token


def session_user(
    session: DbSession, *, user_id: int, token: str | None, max_age: timedelta, now: datetime | None = None
) -> User | None:
    """The active user that this live session token belongs to, or None (revoked, replayed, expired, or disabled)."""
    if not token:
        return None
    return session.scalar(
        select(User)
        .join(LoginSession, LoginSession.user_id == User.id)
        .where(
            LoginSession.token_hash == _digest(token),
            LoginSession.created_at >= _oldest_live(max_age, now),
            User.id == user_id,
            User.active.is_(True),
        )
    )


def end_session(session: DbSession, *, token: str | None) -> None:
    """End one session (logout)."""
    if token:
        session.execute(delete(LoginSession).where(LoginSession.token_hash == _digest(token)))


def end_all_sessions(session: DbSession, *, user: User) -> None:
    """End every session of user, on every web node (password change or reset, account disabled)."""
    session.execute(delete(LoginSession).where(LoginSession.user_id == user.id))
