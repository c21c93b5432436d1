"""Audit events for logins: successes, failures and lockouts, with the account (if any) and the client address."""

from __future__ import annotations

from flask import current_app, request
from sqlalchemy import select

from app import db
from app.models import User
from app.services.audit import record_event

LOCK_WINDOW_SECONDS = 15 * 60


class LoginAttempt:
    """Audit object for an attempt on an address that has no account (object_id stays empty)."""

    id = None


def record_login_event(action: str, *, email: str, user: User | None, once_per_window: bool = False) -> None:
    """Record and commit one login event; once_per_window keeps a stream of refused attempts to one row."""
    if once_per_window:
        from app.queue import connect

        key = f"portal-login:audited:{action}:{email}"
        if not connect(current_app.config["REDIS_URL"]).set(key, 1, nx=True, ex=LOCK_WINDOW_SECONDS):
            return
    if user is None and email:
        user = db.session.scalar(select(User).where(User.email == email))
    record_event(
        db.session,
        actor=user if action == "auth.login" else None,
        action=action,
        obj=user if user is not None else LoginAttempt(),
        after={"email": email, "ip": request.remote_addr},
    )
    db.session.commit()
