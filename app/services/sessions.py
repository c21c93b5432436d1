"""Server-side login sessions: start one at login, end one at logout, end all of a user's when access changes."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, bindparam, delete, select

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


# When `User` is the active owner of a live login session (not revoked, replayed, expired, or disabled), with the
# parameters of `live_session_params`: the one rule, for `session_user` and for the queries that check it themselves
# (the status poll). Built once: constructing the expressions costs more CPU than running the statement.
LIVE_SESSION: tuple[ColumnElement[bool], ...] = (
    LoginSession.user_id == User.id,
    LoginSession.token_hash == bindparam("live_token_hash"),
    LoginSession.created_at >= bindparam("live_oldest", type_=LoginSession.created_at.type),
    User.id == bindparam("live_user_id"),
    User.active.is_(True),
)
_SESSION_USER = select(User).where(*LIVE_SESSION)


def live_session_params(*, user_id: int, token: str, max_age: timedelta, now: datetime | None = None) -> dict:
    """The parameters of LIVE_SESSION for this user id and session token."""
    return {"live_token_hash": _digest(token), "live_oldest": _oldest_live(max_age, now), "live_user_id": user_id}


def session_user(
    session: DbSession, *, user_id: int, token: str | None, max_age: timedelta, now: datetime | None = None
) -> User | None:
    """The active user that this live session token belongs to, or None (revoked, replayed, expired, or disabled)."""
    if not token:
        return None
    return session.scalar(_SESSION_USER, live_session_params(user_id=user_id, token=token, max_age=max_age, now=now))


def end_session(session: DbSession, *, token: str | None) -> None:
    """End one session (logout)."""
    if token:
        session.execute(delete(LoginSession).where(LoginSession.token_hash == _digest(token)))


def end_all_sessions(session: DbSession, *, user: User) -> None:
    """End every session of user, on every web node (password change or reset, account disabled)."""
    session.execute(delete(LoginSession).where(LoginSession.user_id == user.id))
