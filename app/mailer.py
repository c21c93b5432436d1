"""Delivery of the outbox (app/models/mail.py) over SMTP: the RQ send job, its queue, and the sweep that re-enqueues.

- `send_outbox_message(message_id)` is the job (queue MAIL_QUEUE, job id `mail-<id>`). It claims the row atomically
  (status queued and no live claim), sends it with its stored Message-ID, and marks it sent. A temporary failure
  (server down, 4xx, timeout) leaves the row queued and raises, so RQ retries it with backoff; a permanent refusal
  (5xx for the recipient or the content) marks it failed, and an admin may re-send it.
- `sweep_outbox(config)` runs in every worker that works the mail queue: it re-enqueues queued messages whose job is
  gone (retries used up, Redis flushed or down at commit time) or whose retry is a minute overdue (no scheduler moved
  it), so a message is never lost.
- A sent row is never sent again: only queued rows can be claimed. If a sender dies after the SMTP server accepted the
  message but before the row was marked sent, the claim runs out and the message goes once more with the same
  Message-ID, which receiving systems use to drop the duplicate.

Nothing here needs Flask: the worker runs it with the settings from `config.Config`.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import format_datetime, formataddr, parseaddr
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from redis.exceptions import RedisError
from rq import Queue, Retry
from rq.exceptions import NoSuchJobError
from sqlalchemy import or_, select, update

from app import db
from app.models import MailStatus, OutboxMessage, utcnow
from app.queue import connect

log = logging.getLogger(__name__)

SEND_JOB = "app.mailer.send_outbox_message"
# RQ retries of one job (they need a worker with the scheduler on); after them the sweep enqueues a fresh job.
RETRY_INTERVALS = [10, 60, 300, 900]
# How long a sender holds a claimed row: well beyond one SMTP exchange with its timeouts.
CLAIM_SECONDS = 300
# A queued message younger than this is left to the job enqueued at commit (the sweep does not race it).
SWEEP_GRACE_SECONDS = 30
# A retry still waiting this long after it was due has no scheduler to move it (RQ's scheduler runs in one worker, as
# a forked process under a lock of 61 s): the sweep sends the message instead.
SCHEDULED_OVERDUE_SECONDS = 60


class SmtpUrlError(ValueError):
    """SMTP_URL cannot be understood."""


class MailDeferred(RuntimeError):
    """A temporary delivery failure: the message stays queued and is tried again."""


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    ssl: bool
    starttls: bool
    username: str | None
    password: str | None


def parse_smtp_url(url: str) -> SmtpSettings:
    """smtp://user:pass@host:587?starttls=1, smtps://user:pass@host:465 or smtp://host:25 as settings."""
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise SmtpUrlError(f"SMTP_URL must look like smtp://host:25 or smtps://user:pass@host:465, not {url!r}")
    query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    secure = parts.scheme == "smtps"
    starttls = query.get("starttls", "0").lower() in ("1", "true", "yes")
    return SmtpSettings(
        host=parts.hostname,
        port=parts.port or (465 if secure else 587 if starttls else 25),
        ssl=secure,
        starttls=starttls and not secure,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
    )


def sender_domain(mail_from: str) -> str:
    """The domain of MAIL_FROM's address (for Message-IDs), `localhost` when it has none."""
    domain = parseaddr(mail_from)[1].rpartition("@")[2]
    return domain if "@" in mail_from and domain else "localhost"


def new_message_id(mail_from: str) -> str:
    """A globally unique Message-ID under the sender's domain."""
    return f"<{uuid.uuid4().hex}@{sender_domain(mail_from)}>"


def build_email(message: OutboxMessage, mail_from: str) -> EmailMessage:
    """The MIME message of an outbox row: plain text plus an HTML alternative, its stable Message-ID and date."""
    email = EmailMessage(policy=SMTP_POLICY)
    name, address = parseaddr(mail_from)
    email["From"] = Address(display_name=name, addr_spec=address) if address else mail_from
    email["To"] = formataddr((message.to_name or "", message.to_email))
    email["Subject"] = message.subject
    email["Message-ID"] = message.message_id
    email["Date"] = format_datetime(message.created_at)
    email["Auto-Submitted"] = "auto-generated"
    email.set_content(message.body_text)
    email.add_alternative(message.body_html, subtype="html")
    email["Content-Language"] = message.locale  # after the bodies: set_content drops Content-* headers
    return email


def _is_permanent(exc: Exception) -> bool:
    """A refusal that retrying will not cure: the recipient or the content refused with a 5xx reply."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _msg in exc.recipients.values())
    if isinstance(exc, smtplib.SMTPDataError | smtplib.SMTPNotSupportedError):
        return getattr(exc, "smtp_code", 0) >= 500
    return False


def deliver(email: EmailMessage, settings: SmtpSettings, *, timeout: float) -> None:
    """Hand one message to the SMTP server; raises smtplib/OSError exceptions as they come."""
    # Only for TLS: loading the system's CA certificates costs each plain-SMTP send (the usual intranet relay) 10–20 ms.
    context = ssl.create_default_context() if settings.ssl or settings.starttls else None
    server: smtplib.SMTP
    if settings.ssl:
        server = smtplib.SMTP_SSL(settings.host, settings.port, timeout=timeout, context=context)
    else:
        server = smtplib.SMTP(settings.host, settings.port, timeout=timeout)
    with server:
        if settings.starttls:
            server.starttls(context=context)
        if settings.username:
            server.login(settings.username, settings.password or "")
        server.send_message(email)


def mail_queue(config: Mapping[str, Any]) -> Queue:
    """The queue of send jobs."""
    return Queue(config["MAIL_QUEUE"], connection=connect(config["REDIS_URL"]))


def enqueue_send(queue: Queue, message_id: int, *, replace: bool = False):
    """Enqueue the send job of one message; a pending job for it is kept (one job id per message)."""
    job_id = f"mail-{message_id}"
    existing = queue.fetch_job(job_id)
    if existing is not None:
        status = existing.get_status(refresh=True)
        if status in ("queued", "started", "deferred", "scheduled") and not replace:
            return existing
        existing.delete(remove_from_queue=True)
    return queue.enqueue(
        SEND_JOB,
        message_id,
        job_id=job_id,
        job_timeout=CLAIM_SECONDS - 60,
        result_ttl=3600,
        failure_ttl=7 * 86400,
        retry=Retry(max=len(RETRY_INTERVALS), interval=RETRY_INTERVALS),
    )


def enqueue_committed(config: Mapping[str, Any], message_ids: list[int]) -> int:
    """Enqueue send jobs for committed messages; with mail off or Redis down they wait for the sweep. Returns count."""
    if not config.get("SMTP_URL") or not message_ids:
        return 0
    try:
        queue = mail_queue(config)
        for message_id in message_ids:
            enqueue_send(queue, message_id)
    except (RedisError, OSError) as exc:
        log.warning("could not enqueue mail %s (%s); left for the sweep", message_ids, exc)
        return 0
    return len(message_ids)


def _claim(session, message_id: int) -> bool:
    now = utcnow()
    claimed = session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.id == message_id,
            OutboxMessage.status == MailStatus.QUEUED,
            or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until < now),
        )
        .values(claimed_until=now + timedelta(seconds=CLAIM_SECONDS), attempts=OutboxMessage.attempts + 1)
        .execution_options(synchronize_session=False)
    )
    return claimed.rowcount == 1


def _finish(message_id: int, **values) -> None:
    with db.session_scope() as session:
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message_id)
            .values(claimed_until=None, **values)
            .execution_options(synchronize_session=False)
        )


def send_outbox_message(message_id: int, config: Mapping[str, Any] | None = None) -> str:
    """The send job: deliver one queued message once. Returns sent, failed or skipped (not queued, or claimed)."""
    if config is None:
        from config import Config

        config = Config().as_dict()
    if not config.get("SMTP_URL"):
        return "skipped"
    with db.session_scope() as session:
        if not _claim(session, message_id):
            return "skipped"
        message = session.get_one(OutboxMessage, message_id)
        email = build_email(message, config["MAIL_FROM"])
    try:
        deliver(email, parse_smtp_url(config["SMTP_URL"]), timeout=float(config.get("SMTP_TIMEOUT_SECONDS", 30)))
    except (smtplib.SMTPException, OSError) as exc:
        error = f"{type(exc).__name__}: {exc}"[:2000]
        if _is_permanent(exc):
            _finish(message_id, status=MailStatus.FAILED, last_error=error)
            log.warning("mail %s refused for good: %s", message_id, error)
            return MailStatus.FAILED.value
        _finish(message_id, last_error=error)
        raise MailDeferred(f"mail {message_id} not sent yet: {error}") from exc
    _finish(message_id, status=MailStatus.SENT, sent_at=utcnow(), last_error=None)
    return MailStatus.SENT.value


def sweep_outbox(config: Mapping[str, Any], *, grace_seconds: int = SWEEP_GRACE_SECONDS) -> list[int]:
    """Re-enqueue queued messages that no pending job will send (never when mail is off); returns their ids."""
    if not config.get("SMTP_URL"):
        return []
    now = utcnow()
    with db.session_scope() as session:
        ids = session.scalars(
            select(OutboxMessage.id)
            .where(
                OutboxMessage.status == MailStatus.QUEUED,
                OutboxMessage.created_at < now - timedelta(seconds=grace_seconds),
                or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until < now),
            )
            .order_by(OutboxMessage.id)
            .limit(1000)
        ).all()
    queue = mail_queue(config)
    requeued = []
    for message_id in ids:
        job = queue.fetch_job(f"mail-{message_id}")
        if job is not None and _will_run(queue, job):
            continue
        enqueue_send(queue, message_id, replace=True)
        requeued.append(message_id)
    return requeued


def _will_run(queue: Queue, job) -> bool:
    """Whether RQ still holds the job to run: queued, running, waiting on another, or a retry not long overdue."""
    status = job.get_status(refresh=True)
    if status in ("queued", "started", "deferred"):
        return True
    if status != "scheduled":
        return False
    try:
        due = queue.scheduled_job_registry.get_scheduled_time(job)
    except NoSuchJobError:  # marked scheduled but in no registry: nothing will ever enqueue it
        return False
    return due > utcnow() - timedelta(seconds=SCHEDULED_OVERDUE_SECONDS)
