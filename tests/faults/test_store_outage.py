"""The S3 store stopped while clips are processed: the clip waits and retries by itself, and is never the unit's fault.

The store is the test's own `rclone serve s3` (the `outage` fixture), stopped and started for real; time is driven by
passing `now` to the sweep instead of sleeping.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from app.models import AuditEvent, Clip, ClipStatus, Role, utcnow
from tests.faults.conftest import start_worker, stop_worker
from tests.helpers_wait import wait_for


def _clip(session, clip_id: int) -> Clip:
    session.expire_all()
    return session.get(Clip, clip_id)


def _show(app, clip_id: int) -> dict:
    result = app.test_cli_runner().invoke(args=["clips", "show", str(clip_id)])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_store_outage_puts_the_clip_back_to_retry_and_tells_the_unit(app, session, make, outage, sample_clip, browser):
    from app.connections import queue
    from media_worker.jobs import process_clip
    from media_worker.sweeper import requeue_stuck

    unit = make.unit()
    member = make.user(Role.UNIT, unit=unit)
    entry = make.entry(make.contest(), unit, clip_status=None)
    clip_id = make.uploaded_clip(entry, sample_clip, "a.mp4").id

    outage.s3.stop()
    before = utcnow()
    assert process_clip(clip_id) == "retrying"  # no exception: RQ has nothing to retry, the sweeps do it
    clip = _clip(session, clip_id)
    assert (clip.status, clip.stage, clip.attempts) == (ClipStatus.QUEUED, "retrying", 1)
    assert clip.reason is None and clip.error_id
    assert before + timedelta(seconds=1) <= clip.next_attempt_at <= utcnow() + timedelta(seconds=2)

    doc = _show(app, clip_id)
    assert doc["status"] == "queued" and doc["stage"] == "retrying" and doc["error_id"] is None
    assert datetime.fromisoformat(doc["next_attempt_at"]) == clip.next_attempt_at
    assert doc["next_attempt_at"].endswith("+00:00")

    browser.login(member.email)
    page = browser.get(f"/unit/entries/{entry.id}?lang=en").get_data(as_text=True)
    assert "not a problem with your file" in page and "retry by itself" in page
    status = browser.get(f"/unit/entries/{entry.id}/status.json").get_json()
    assert status["stage"] == "retrying" and status["final"] is False and "retry by itself" in status["detail"]

    # Not due yet: the sweep leaves it; once due, any worker's sweep enqueues it (no human, no RQ scheduler).
    assert requeue_stuck(session, queue(), now=clip.next_attempt_at - timedelta(seconds=0.5)) == []
    assert requeue_stuck(session, queue(), now=clip.next_attempt_at + timedelta(seconds=0.5)) == [clip_id]
    # An operator's `clips requeue` takes it at once, even long before it is due.
    from media_worker.cli import register_worker_cli

    clip.next_attempt_at = utcnow() + timedelta(hours=1)
    session.commit()
    assert requeue_stuck(session, queue()) == []
    register_worker_cli(app)
    requeued = app.test_cli_runner().invoke(args=["clips", "requeue"])
    assert json.loads(requeued.output) == {"requeued": [clip_id]}, requeued.output

    # Still down at the second try: the wait grows (it doubles with the outage's length, within the bounds).
    first_since = clip.retrying_since
    assert process_clip(clip_id) == "retrying"
    clip = _clip(session, clip_id)
    assert clip.attempts == 2 and clip.retrying_since == first_since

    outage.s3.start()
    assert process_clip(clip_id) == "ready"
    clip = _clip(session, clip_id)
    assert (clip.status, clip.attempts, clip.stage) == (ClipStatus.READY, 3, None)
    assert clip.retrying_since is clip.next_attempt_at is clip.error_id is None


def test_an_outage_longer_than_clip_retry_hours_fails_the_clip_and_tells_organisers(
    app, session, make, outage, sample_clip, browser
):
    from media_worker.jobs import process_clip

    organiser = make.user(Role.ORGANISER)
    contest = make.contest()
    entry = make.entry(contest, make.unit(), clip_status=None)
    clip_id = make.uploaded_clip(entry, sample_clip, "a.mp4").id
    clip = _clip(session, clip_id)
    clip.status, clip.stage = ClipStatus.QUEUED, "retrying"
    clip.retrying_since = utcnow() - timedelta(hours=24, seconds=1)  # retrying for a day already
    session.commit()

    outage.s3.stop()
    with pytest.raises(RuntimeError, match="error_id="):
        process_clip(clip_id)
    clip = _clip(session, clip_id)
    assert clip.status == ClipStatus.FAILED and clip.reason_code == "infrastructure_unavailable"
    assert re.fullmatch(r"[0-9a-f]{12}", clip.error_id)
    assert _show(app, clip_id)["error_id"] == clip.error_id
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "clip.failed")).one()
    assert event.after["error_id"] == clip.error_id and event.contest_id == contest.id

    browser.login(organiser.email)
    page = browser.get(f"/org/c/{contest.slug}?lang=en").get_data(as_text=True)
    assert clip.error_id in page and "1 clip failed processing" in page

    # An organiser's Retry (or `clips requeue`) starts a fresh run of retries once the store is back.
    outage.s3.start()
    from app.connections import enqueue_processing

    with app.app_context():
        assert enqueue_processing(clip_id)
    clip = _clip(session, clip_id)
    assert clip.status == ClipStatus.QUEUED and clip.retrying_since is None and clip.error_id is None
    assert process_clip(clip_id) == "ready"


def test_a_fault_that_waiting_will_not_heal_fails_at_once_with_an_error_id(app, session, make, sample_clip):
    from app.connections import storage
    from media_worker.jobs import process_clip

    entry = make.entry(make.contest(), make.unit(), clip_status=None)
    clip = make.uploaded_clip(entry, sample_clip, "a.mp4")
    clip_id = clip.id
    storage().delete(clip.original_key)  # the original is gone: no retry will bring it back
    with pytest.raises(RuntimeError, match="error_id="):
        process_clip(clip_id)
    clip = _clip(session, clip_id)
    assert clip.status == ClipStatus.FAILED and clip.reason_code == "processing_failed" and clip.error_id
    assert clip.attempts == 1 and clip.next_attempt_at is None
    assert process_clip(clip_id) == "skipped"  # failed waits for an organiser; no job re-runs it on its own


@pytest.mark.slow
def test_a_clip_processed_during_a_store_outage_ends_ready_without_anyone_running_a_command(
    app, session, make, outage, sample_clip, tmp_path
):
    from app.connections import enqueue_processing

    entry = make.entry(make.contest(), make.unit(), clip_status=None)
    clip_id = make.uploaded_clip(entry, sample_clip, "a.mp4").id
    outage.s3.stop()
    with app.app_context():
        assert enqueue_processing(clip_id)

    log = tmp_path / "worker.log"
    worker = start_worker(log)
    try:
        # Two real tries fail while the store is down (the second one fired by a sweep, not by a person).
        wait_for(
            lambda: _clip(session, clip_id).attempts >= 2 and _clip(session, clip_id).stage == "retrying",
            120,
            "two failed tries",
        )
        assert _clip(session, clip_id).status == ClipStatus.QUEUED
        outage.s3.start()
        wait_for(
            lambda: _clip(session, clip_id).status in (ClipStatus.READY, ClipStatus.FAILED), 300, "the clip to finish"
        )
    finally:
        stop_worker(worker)
    text = log.read_text()
    clip = _clip(session, clip_id)
    assert clip.status == ClipStatus.READY, text[-3000:]
    failed_tries = len(re.findall(rf"clip {clip_id}: infrastructure error", text))
    assert failed_tries >= 2 and clip.attempts == failed_tries + 1, text[-3000:]
    assert clip.retrying_since is None and clip.error_id is None
    assert datetime.now(UTC) > clip.updated_at


def test_a_clip_whose_workers_keep_dying_is_retried_then_failed_after_clip_retry_hours(app, session, make):
    from app.connections import queue
    from app.services.clip_processing import RetryPolicy
    from media_worker.sweeper import requeue_stuck

    entry = make.entry(make.contest(), make.unit(), clip_status=ClipStatus.PROCESSING)
    clip = _clip(session, entry.clip_id)
    now = utcnow()
    clip.updated_at = now - timedelta(minutes=10)  # no heartbeat: its worker died
    session.commit()
    policy = RetryPolicy(base_seconds=1, max_seconds=2, give_up_after_hours=24)

    assert requeue_stuck(session, queue(), stale_seconds=180, now=now, policy=policy) == [clip.id]
    clip = _clip(session, clip.id)
    assert clip.status == ClipStatus.QUEUED and clip.retrying_since == now

    # A day later it died again (a file that kills every worker): it fails instead of looping for ever.
    later = now + timedelta(hours=24, minutes=1)
    clip.status, clip.updated_at = ClipStatus.PROCESSING, later - timedelta(minutes=10)
    session.commit()
    assert requeue_stuck(session, queue(), stale_seconds=180, now=later, policy=policy) == []
    clip = _clip(session, clip.id)
    assert clip.status == ClipStatus.FAILED and clip.reason_code == "processing_failed" and clip.error_id
