"""Notifications that run outside web requests: the scheduled reminders (every worker runs them periodically, and
`flask --app wsgi reminders send` runs them once) and the clip outcome mail written by the media job.

They need an app context (templates, translations, links under PUBLIC_URL). A worker started with `flask --app wsgi
worker` has one in its main thread and in the work-horses it forks; threads and bare RQ workers get one built from the
environment, once per process.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from flask import Flask, has_app_context
from sqlalchemy.exc import OperationalError

from app import db
from app.models import Clip
from app.services.notifications import notify_clip_outcome, send_due_reminders

log = logging.getLogger(__name__)
_process_app: dict[str, Flask] = {}
REMINDERS_JOB = "app.notification_jobs.send_reminders"


@contextmanager
def app_context(app: Flask | None = None) -> Iterator[None]:
    """The current app context if there is one; else one of `app`, or of an app built from the environment."""
    if has_app_context():
        yield
        return
    if app is None:
        if "app" not in _process_app:
            from app import create_app

            _process_app["app"] = create_app()
        app = _process_app["app"]
    with app.app_context():
        yield


def parse_now(value: str | datetime | None) -> datetime | None:
    """An ISO time (UTC when it has no zone) or None for "now"."""
    if value is None or isinstance(value, datetime):
        return value
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def send_reminders(now: str | datetime | None = None, app: Flask | None = None) -> dict[str, int]:
    """The RQ job and periodic task: write every reminder due at `now` (default: the current time). Several workers may
    run it at once; the outbox's unique dedupe keys let each reminder through once."""
    when = parse_now(now)
    with app_context(app):
        for attempt in (1, 2):
            try:
                with db.session_scope() as session:
                    return send_due_reminders(session, now=when)
            except OperationalError:
                # SQLite: another worker's write transaction won the lock; the second pass sees its reminders.
                if attempt == 2:
                    raise
                log.info("reminders: database busy, trying once more")
    return {}


def notify_clip(clip_id: int) -> int:
    """After a media job finished a clip (ready or rejected): tell its unit. Never raises: the clip is done anyway."""
    try:
        with app_context(), db.session_scope() as session:
            clip = session.get(Clip, clip_id)
            return notify_clip_outcome(session, clip=clip) if clip is not None else 0
    except Exception:  # noqa: BLE001 - a mail problem must not fail (and so re-run) a finished transcode
        log.exception("could not write the notification for clip %s", clip_id)
        return 0
