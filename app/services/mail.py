"""Writing mail: every message is a row in the outbox, sent after the caller's commit by a job (app/mailer.py).

How a message gets sent: `queue_mail()` adds the row and flushes; it remembers the row's id on the session. A
SQLAlchemy `after_commit` hook (registered below for every session) then enqueues the send job on the MAIL_QUEUE,
so callers only commit as usual — a view with `committing()`, a CLI command, a job with `db.session_scope()`. A
rolled-back transaction enqueues nothing. When SMTP_URL is unset, or Redis is down at that moment, the row simply
stays queued: the worker's sweep (`app.mailer.sweep_outbox`) sends it later, and the Outbox page shows it as not sent.

`dispatch_pending(session)` does the same enqueueing explicitly, for code that needs it before its commit returns.

Templates: `render_mail(name, locale, **context)` renders `templates/mail/<name>.subject`, `.txt` and `.html` in the
recipient's language; links in mails come from `mail_link()` (PUBLIC_URL based, never the request's Host).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, NamedTuple

from flask import current_app, has_app_context, render_template
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import event, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from app.db import DbSession
from app.mailer import enqueue_committed, new_message_id
from app.models import MailKind, MailStatus, OutboxMessage, Role, User, utcnow
from app.permissions import can_resend_mail, require
from app.services import PortalError
from app.services.audit import record_event
from app.urls import absolute_url_for, app_path_for, public_url_configured

log = logging.getLogger(__name__)

PENDING_KEY = "outbox_pending"
CONFIG_KEY = "outbox_config"
LOCALES = ("vi", "en")
# Recipients an organiser's Outbox shows (app.permissions.can_view_mail): the accounts organisers manage.
ORGANISER_VISIBLE_ROLES = (Role.UNIT, Role.JUDGE)


def _settings() -> Mapping[str, Any]:
    if has_app_context():
        return current_app.config
    from config import Config

    return Config().as_dict()


def mail_locale(user: User | None, locale: str | None = None) -> str:
    """The language of a mail: the given one, else the recipient's own, else Vietnamese."""
    for candidate in (locale, user.locale if user else None):
        if candidate in LOCALES:
            return str(candidate)
    return "vi"


class RenderedMail(NamedTuple):
    """A rendered mail's parts, named as queue_mail takes them: `queue_mail(..., **mail._asdict())`."""

    subject: str
    text: str
    html: str


def render_mail(template_name: str, locale: str, **context: Any) -> RenderedMail:
    """(subject, text, html) of templates/mail/<template_name>.{subject,txt,html} in locale (needs an app context)."""
    with force_locale(mail_locale(None, locale)):
        subject = render_template(f"mail/{template_name}.subject", **context)
        text = render_template(f"mail/{template_name}.txt", **context)
        html = render_template(f"mail/{template_name}.html", locale=locale, **context)
    return RenderedMail(" ".join(subject.split()), text.strip() + "\n", html)


def mail_link(endpoint: str, **values: Any) -> str:
    """An absolute link for a mail under PUBLIC_URL. Without PUBLIC_URL, the path alone (logged): a link built from the
    request's Host header would let anyone who asks for a reset mail choose where its link points."""
    if public_url_configured():
        return absolute_url_for(endpoint, **values)
    log.warning("PUBLIC_URL is not set: mails carry paths instead of links (%s)", endpoint)
    return app_path_for(endpoint, **values)


def queue_mail(
    session: DbSession,
    *,
    to_user: User | None = None,
    to_email: str | None = None,
    kind: MailKind | str,
    subject: str,
    text: str,
    html: str,
    locale: str,
    contest_id: int | None = None,
    dedupe_key: str | None = None,
) -> OutboxMessage | None:
    """Write one message to the outbox (sent after the commit). With a dedupe_key already used it writes nothing and
    returns None: each (kind, recipient, occasion) is sent exactly once, even from concurrent workers (the unique
    constraint decides)."""
    email = (to_email or (to_user.email if to_user else "")).strip()
    if not email:
        raise PortalError(_l("A mail needs a recipient."))
    settings = _settings()
    values = {
        "to_user_id": to_user.id if to_user else None,
        "to_email": email,
        "to_name": to_user.name if to_user else None,
        "kind": MailKind(kind),
        "locale": mail_locale(to_user, locale),
        "contest_id": contest_id,
        "subject": subject[:300],
        "body_text": text,
        "body_html": html,
        "status": MailStatus.QUEUED,
        "attempts": 0,
        "message_id": new_message_id(str(settings.get("MAIL_FROM") or "")),
        "dedupe_key": dedupe_key,
        "created_at": utcnow(),
    }
    if dedupe_key is None:
        message = OutboxMessage(**values)
        session.add(message)
        session.flush()
    else:
        message_id = _insert_once(session, values)
        if message_id is None:
            return None
        message = session.get_one(OutboxMessage, message_id)
    _remember(session, message.id, settings)
    return message


def _insert_once(session: DbSession, values: dict[str, Any]) -> int | None:
    """INSERT … ON CONFLICT (dedupe_key) DO NOTHING; the new id, or None when the key was taken."""
    session.flush()
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = (
        insert(OutboxMessage)
        .values(**values)
        .on_conflict_do_nothing(index_elements=[OutboxMessage.dedupe_key])
        .returning(OutboxMessage.id)
    )
    return session.execute(statement).scalar()


def _remember(session: DbSession, message_id: int, settings: Mapping[str, Any]) -> None:
    session.info.setdefault(PENDING_KEY, []).append(message_id)
    session.info[CONFIG_KEY] = {k: settings.get(k) for k in ("SMTP_URL", "REDIS_URL", "MAIL_QUEUE")}


def dispatch_pending(session: DbSession) -> int:
    """Enqueue the send jobs of the messages this session wrote (committed ones only: call after commit)."""
    pending = session.info.pop(PENDING_KEY, None)
    settings = session.info.pop(CONFIG_KEY, None)
    if not pending or not settings:
        return 0
    return enqueue_committed(settings, pending)


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    if session.info.get(PENDING_KEY):
        dispatch_pending(session)


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    session.info.pop(PENDING_KEY, None)


def resend_message(session: DbSession, *, actor: User, message: OutboxMessage) -> OutboxMessage:
    """Put a failed message back in the queue (admins; audited). The same row, body and Message-ID go out."""
    require(can_resend_mail(actor), _l("Only an admin can re-send a message."))
    if message.status != MailStatus.FAILED:
        raise PortalError(_l("Only a message that failed can be sent again."))
    message.status = MailStatus.QUEUED
    message.claimed_until = None
    # the outbox's own log, not the contest's (contest_id=None), though the message may belong to one
    record_event(
        session, actor=actor, action="mail.resend", obj=message, contest_id=None, after={"to": message.to_email}
    )
    _remember(session, message.id, _settings())
    return message


def visible_messages(actor: User):
    """The outbox rows actor may see (the rule of app.permissions.can_view_mail, as a query)."""
    query = select(OutboxMessage).order_by(OutboxMessage.id.desc())
    if actor.role == Role.ADMIN:
        return query
    if actor.role == Role.ORGANISER:
        return query.join(User, User.id == OutboxMessage.to_user_id).where(User.role.in_(ORGANISER_VISIBLE_ROLES))
    return query.where(OutboxMessage.id.is_(None))
