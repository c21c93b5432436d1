"""Begin and end server-side login sessions (app/services/sessions.py) from a request."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app, g, request, session
from flask_login import login_user, logout_user

from app import db
from app.models import Role, User, utcnow
from app.services.sessions import end_session, live_session_params, session_user, start_session

TOKEN_KEY = "login_token"  # noqa: S105 - the session key under which the token is kept, not a secret
KEPT_KEYS = ("lang",)  # the interface language survives logging in and out; nothing else does


def max_age() -> timedelta:
    """How long a login session lives (LOGIN_SESSION_HOURS)."""
    return timedelta(hours=float(current_app.config["LOGIN_SESSION_HOURS"]))


def _clear_session() -> None:
    """Drop everything in the cookie session (the CSRF secret, any fixated state) but the language choice."""
    kept = {k: session[k] for k in KEPT_KEYS if k in session}
    session.clear()
    session.update(kept)


def begin(user: User) -> None:
    """Log user in with a fresh session and a new server-side session row (the caller commits)."""
    _clear_session()
    session[TOKEN_KEY] = start_session(db.session, user=user, max_age=max_age(), ip=request.remote_addr)
    login_user(user)
    user.last_seen_at = utcnow()


def end() -> None:
    """End this session on the server and in the cookie (the caller commits)."""
    end_session(db.session, token=session.get(TOKEN_KEY))
    logout_user()
    _clear_session()


def load_user(user_id: str) -> User | None:
    """Flask-Login's user loader: only a live server-side session counts (a remember cookie alone does not)."""
    try:
        uid = int(user_id)
    except ValueError:
        return None
    return session_user(db.session, user_id=uid, token=session.get(TOKEN_KEY), max_age=max_age())


def session_check_params() -> dict | None:
    """For a view that checks the login session inside a query of its own (with `LIVE_SESSION`,
    app/services/sessions.py) instead of loading the account: the query's parameters for this cookie session, as
    `load_user` would check it, or None when the session names no user or token (logged out)."""
    user_id, token = session.get("_user_id"), session.get(TOKEN_KEY)
    if not user_id or not token:
        return None
    try:
        uid = int(user_id)
    except (TypeError, ValueError):
        return None
    return live_session_params(user_id=uid, token=token, max_age=max_age())


class SessionUser:
    """The logged-in account as the few columns that a view read with its own session check (`session_check_params`):
    enough for the permission predicates, the locale and the response headers. Not an ORM object, so nothing can
    load more of the account through it or write it back."""

    __slots__ = ("id", "role", "unit_id", "locale")
    is_authenticated = True
    is_active = True
    is_anonymous = False

    def __init__(self, id: int, role: Role, unit_id: int | None, locale: str | None) -> None:  # noqa: A002
        self.id, self.role, self.unit_id, self.locale = id, role, unit_id, locale

    def get_id(self) -> str:
        return str(self.id)


def set_current_user(user: SessionUser) -> None:
    """Make user this request's `current_user` without Flask-Login loading the account: only for a view that has
    checked the live session itself with `session_check_params()`."""
    g._login_user = user
