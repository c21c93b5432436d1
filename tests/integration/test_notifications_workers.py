"""Notifications through the real machinery (issue 11): reminders exactly once with two real worker processes on the
real Redis and a real SMTP server, and the media job's clip-rejected mail after a real ffmpeg probe."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from app.mailer import mail_queue
from app.models import EntryStatus, MailKind, MailStatus, OutboxMessage, Role, utcnow

ROOT = Path(__file__).resolve().parents[2]
WORKER_TIMEOUT_S = 300  # a ceiling for a loaded machine; two burst workers normally finish in a few seconds


def _start_worker(tmp_path: Path, name: str) -> subprocess.Popen:
    log = open(tmp_path / f"{name}.log", "wb")  # noqa: SIM115 - the worker process owns it
    return subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "wsgi", "worker", "--burst", "--queue", "mail"],
        cwd=ROOT,
        env=dict(os.environ),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


@pytest.mark.slow
def test_reminders_go_out_exactly_once_with_two_workers(app, session, make, smtp, tmp_path):
    closes = utcnow() + timedelta(days=10)
    contest = make.contest(title="Hội thi video", opens_at=utcnow() - timedelta(days=1), closes_at=closes)
    units = [make.unit(code=f"W{i}") for i in range(4)]
    for i, unit in enumerate(units):
        make.user(Role.UNIT, unit=unit, email=f"w{i}@unit.vn")
    make.entry(contest, units[0], status=EntryStatus.SUBMITTED)  # took part: no reminder
    judge = make.user(Role.JUDGE, email="judge@w.vn")
    make.round(contest, judges=[judge], closes_at=closes)  # one entry to score, none submitted
    now = closes - timedelta(hours=20)

    # Four runs of the same reminder job, as four periodic ticks of two workers would make them.
    queue = mail_queue(app.config)
    for i in range(4):
        queue.enqueue("app.notification_jobs.send_reminders", now.isoformat(), job_id=f"remind-{i}")
    workers = [_start_worker(tmp_path, f"worker{i}") for i in range(2)]
    try:
        for worker in workers:
            assert worker.wait(timeout=WORKER_TIMEOUT_S) == 0, (tmp_path / "worker0.log").read_text()
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()

    session.expire_all()
    rows = list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
    assert Counter((m.kind, m.to_email) for m in rows) == {
        (MailKind.DEADLINE_REMINDER, "w1@unit.vn"): 1,
        (MailKind.DEADLINE_REMINDER, "w2@unit.vn"): 1,
        (MailKind.DEADLINE_REMINDER, "w3@unit.vn"): 1,
        (MailKind.ROUND_REMINDER, "judge@w.vn"): 1,
    }
    assert all(m.status == MailStatus.SENT for m in rows)
    delivered = Counter(r for message in smtp.messages for r in message.recipients)
    assert delivered == {"w1@unit.vn": 1, "w2@unit.vn": 1, "w3@unit.vn": 1, "judge@w.vn": 1}
    [got] = smtp.to("w1@unit.vn")
    assert got.message["Subject"] == "Còn một ngày: Hội thi video"
    assert "http://portal.test/unit/" in got.body("plain")


@pytest.mark.slow
def test_the_media_job_tells_the_unit_its_clip_was_rejected(app, session, make, run_jobs, sample_clip):
    from app.connections import enqueue_processing

    unit = make.unit()
    make.user(Role.UNIT, unit=unit, email="vi@clip.vn")
    english = make.user(Role.UNIT, unit=unit, email="en@clip.vn")
    english.locale = "en"
    contest = make.contest(min_duration_s=60)
    entry = make.entry(contest, unit, title="Quá ngắn", status=EntryStatus.DRAFT, clip_status=None)
    clip = make.uploaded_clip(entry, sample_clip)
    assert enqueue_processing(clip.id)
    run_jobs()
    session.expire_all()
    mails = {m.to_email: m for m in session.scalars(select(OutboxMessage))}
    assert set(mails) == {"vi@clip.vn", "en@clip.vn"}
    assert all(m.kind == MailKind.CLIP_REJECTED for m in mails.values())
    assert "the contest requires clips of at least 1:00" in mails["en@clip.vn"].body_text
    assert mails["vi@clip.vn"].subject == "Video không được chấp nhận: Quá ngắn"
    assert "1:00" in mails["vi@clip.vn"].body_text and "Lý do:" in mails["vi@clip.vn"].body_text
