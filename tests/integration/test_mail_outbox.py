"""The outbox on a real SMTP server (aiosmtpd), real Redis and a real RQ worker: each message sent once, with its
stable Message-ID; dedupe keys; mail off; permanent refusals; the sweep."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.mailer import mail_queue, send_outbox_message, sweep_outbox
from app.models import MailKind, MailStatus, OutboxMessage, utcnow
from app.services.mail import queue_mail


def _queue(session, to_email="someone@example.vn", **kwargs):
    values = {
        "to_email": to_email,
        "kind": MailKind.OTHER,
        "subject": "Chào bạn — kiểm tra",
        "text": "Nội dung thư.\n",
        "html": "<p>Nội dung thư.</p>",
        "locale": "vi",
    } | kwargs
    return queue_mail(session, **values)


def test_a_committed_message_is_sent_once_with_its_message_id(app, session, smtp, deliver_mail):
    message = _queue(session)
    session.commit()
    assert deliver_mail() == 1
    [got] = smtp.messages
    assert got.recipients == ["someone@example.vn"]
    assert got.message["Message-ID"] == message.message_id
    assert got.message["Subject"] == "Chào bạn — kiểm tra"
    assert got.message["Content-Language"] == "vi" and got.message["Auto-Submitted"] == "auto-generated"
    assert got.body("plain").strip() == "Nội dung thư."
    assert "<p>Nội dung thư.</p>" in got.body("html")
    session.expire_all()
    row = session.get(OutboxMessage, message.id)
    assert (row.status, row.attempts, row.last_error) == (MailStatus.SENT, 1, None)
    assert row.sent_at is not None
    # Sent rows are never sent again, whatever runs the job again.
    assert send_outbox_message(message.id, app.config) == "skipped"
    assert sweep_outbox(app.config, grace_seconds=0) == []
    assert len(smtp.messages) == 1


def test_a_dedupe_key_queues_exactly_once(app, session, smtp, deliver_mail):
    first = _queue(session, dedupe_key="other:1:occasion")
    again = _queue(session, dedupe_key="other:1:occasion")
    session.commit()
    assert first is not None and again is None
    # A later transaction (another worker) is refused by the unique constraint as well.
    assert _queue(session, dedupe_key="other:1:occasion") is None
    session.commit()
    assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 1
    deliver_mail()
    assert len(smtp.messages) == 1


def test_rolled_back_messages_are_not_sent(app, session, smtp, deliver_mail):
    _queue(session)
    session.rollback()
    assert mail_queue(app.config).count == 0
    assert deliver_mail() == 0
    assert smtp.messages == []


def test_without_smtp_url_messages_stay_queued(app, session):
    message = _queue(session)
    session.commit()
    assert mail_queue(app.config).count == 0
    assert send_outbox_message(message.id, app.config) == "skipped"
    session.expire_all()
    assert session.get(OutboxMessage, message.id).status == MailStatus.QUEUED


def test_a_permanent_refusal_marks_the_message_failed(app, session, smtp, deliver_mail):
    smtp.sink.refuse.add("gone@example.vn")
    message = _queue(session, to_email="gone@example.vn")
    session.commit()
    deliver_mail()
    session.expire_all()
    row = session.get(OutboxMessage, message.id)
    assert row.status == MailStatus.FAILED
    assert "550" in row.last_error
    assert sweep_outbox(app.config, grace_seconds=0) == []


def test_smtp_down_leaves_the_message_queued_and_the_sweep_sends_it_later(app, session, smtp, deliver_mail):
    smtp.stop()
    message = _queue(session)
    session.commit()
    with pytest.raises(Exception, match="not sent yet"):
        send_outbox_message(message.id, app.config)
    session.expire_all()
    row = session.get(OutboxMessage, message.id)
    assert (row.status, row.attempts) == (MailStatus.QUEUED, 1)
    assert "Connection refused" in row.last_error or "Errno" in row.last_error
    smtp.start()
    # The job enqueued at commit is gone (Redis lost it, say): the sweep enqueues a fresh one.
    mail_queue(app.config).empty()
    assert sweep_outbox(app.config, grace_seconds=0) == [message.id]
    assert sweep_outbox(app.config, grace_seconds=0) == []  # its job is pending now: not twice
    deliver_mail()
    assert len(smtp.messages) == 1
    session.expire_all()
    assert session.get(OutboxMessage, message.id).status == MailStatus.SENT


def test_a_retry_no_scheduler_moves_is_taken_over_by_the_sweep(app, session, smtp, deliver_mail):
    """RQ's retries wait in the queue's ScheduledJobRegistry until a worker's scheduler enqueues them. Should none do
    it (its process gone, its lock held by a worker that died), the sweep sends the message once the retry is more
    than a minute overdue; a retry not yet due is left alone."""
    message = _queue(session)
    session.commit()
    queue = mail_queue(app.config)
    job = queue.fetch_job(f"mail-{message.id}")
    queue.remove(job)
    queue.schedule_job(job, utcnow() + timedelta(minutes=10))  # as RQ's Retry leaves a failed attempt
    assert job.get_status(refresh=True) == "scheduled"
    assert sweep_outbox(app.config, grace_seconds=0) == []  # the retry is not due: the scheduler's to move
    queue.scheduled_job_registry.schedule(job, utcnow() - timedelta(minutes=10))  # due, and nothing moved it
    assert sweep_outbox(app.config, grace_seconds=0) == [message.id]
    assert queue.scheduled_job_registry.get_job_ids() == []  # the stale retry is gone: no second send from it
    assert queue.get_job_ids() == [job.id]
    assert sweep_outbox(app.config, grace_seconds=0) == []  # its fresh job is pending now: not twice
    assert deliver_mail() == 1
    assert len(smtp.messages) == 1 and smtp.messages[0].message["Message-ID"] == message.message_id
    session.expire_all()
    assert session.get(OutboxMessage, message.id).status == MailStatus.SENT
