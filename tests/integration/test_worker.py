"""The worker on real Redis, S3 and ffmpeg: bad files end `rejected` with a reason, originals stay, nothing crashes;
the CLI imports, processes in a separate `flask worker --burst` process and reports JSON."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from app.connections import storage
from app.models import Clip, ClipStatus, Role
from tests.conftest import ROOT, make_clip

pytestmark = pytest.mark.slow  # every test transcodes with the real worker (the CLI one: ~15 s)


@pytest.fixture
def entry(make):
    unit = make.unit("REJ")
    contest = make.contest("rej", min_duration_s=1, max_duration_s=5, min_height=200)
    return make.entry(contest, unit, clip_status=None)


@pytest.fixture
def processed(session, make, entry, run_jobs):
    """Upload a file as the entry's clip and run the worker; returns the clip as the worker left it."""
    from app.connections import enqueue_processing

    def process(path) -> Clip:
        clip = make.uploaded_clip(entry, path, path.name)
        enqueue_processing(clip.id)
        run_jobs()
        session.expire_all()
        return session.get(Clip, clip.id)

    return process


@pytest.fixture
def bad_files(tmp_path, sample_clip):
    text = tmp_path / "not-video.mp4"
    text.write_text("Đây là một văn bản, không phải video.\n" * 50, encoding="utf-8")
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    truncated = tmp_path / "truncated.mp4"
    data = sample_clip.read_bytes()
    truncated.write_bytes(data[: len(data) // 2])
    return {"not_media": text, "empty_file": empty, "truncated": truncated}


def test_bad_files_are_rejected_with_a_reason_and_originals_kept(
    app, session, make, entry, run_jobs, bad_files, sample_clip
):
    from app.connections import enqueue_processing

    clips = {}
    for expected, path in bad_files.items():
        clips[expected] = make.uploaded_clip(entry, path, path.name)
        assert enqueue_processing(clips[expected].id)
    good = make.uploaded_clip(entry, sample_clip, "good.mp4")
    enqueue_processing(good.id)
    assert run_jobs() == 4  # the worker survived every bad file and still processed the good one
    session.expire_all()
    for expected, clip in clips.items():
        clip = session.get(Clip, clip.id)
        assert clip.status == ClipStatus.REJECTED, (expected, clip.status, clip.reason)
        assert clip.reason and clip.reason.endswith("."), expected
        assert storage().exists(clip.original_key)
        assert storage().keys(f"derived/{clip.id}/") == []
    assert {c.reason_code for c in (session.get(Clip, c.id) for c in clips.values())} >= {"empty_file"}
    assert session.get(Clip, good.id).status == ClipStatus.READY


def test_rejection_reason_is_translated_in_the_page(app, browser, make, session, run_jobs, bad_files):
    unit = make.unit("TR")
    member = make.user(Role.UNIT, unit)
    contest = make.contest("translated")
    e = make.entry(contest, unit, clip_status=None)
    browser.login(member.email)
    with bad_files["empty_file"].open("rb") as fh:
        browser.post(f"/unit/entries/{e.id}/clip", data={"file": (fh, "empty.mp4")}, content_type="multipart/form-data")
    run_jobs()
    vi = browser.get(f"/unit/entries/{e.id}/status.json").get_json()
    en = browser.get(f"/unit/entries/{e.id}/status.json?lang=en").get_json()
    assert vi["status"] == en["status"] == "rejected"
    assert en["reason"] == "The file is empty."
    assert vi["reason"] and vi["reason"] != en["reason"]


def test_duration_rule_from_the_contest(processed, tmp_path):
    clip = processed(make_clip(tmp_path / "long.mp4", duration=7, size="320x240", audio=False))
    assert clip.status == ClipStatus.REJECTED and clip.reason_code == "too_long"
    assert "0:07" in clip.reason and "0:05" in clip.reason


def test_a_clip_breaking_two_rules_is_rejected_for_both(app, processed, tmp_path):
    """Issue 12: too long and too low at once; the worker stores both, the page lists both."""
    from app.clip_display import clip_reasons

    clip = processed(make_clip(tmp_path / "long-and-small.mp4", duration=7, size="160x120", audio=False))
    assert clip.status == ClipStatus.REJECTED
    assert [r["code"] for r in clip.rejections] == ["resolution_too_low", "too_long"]
    assert "160×120" in clip.reason and "0:07" in clip.reason  # the English record for `clips show` has both
    with app.test_request_context("/?lang=en"):
        assert len(clip_reasons(clip)) == 2


def test_upload_with_redis_down_is_kept_and_swept_later(app, session, make, entry, run_jobs, sample_clip):
    from app.connections import enqueue_committed_clip
    from app.queue import media_queue
    from media_worker.sweeper import requeue_stuck

    clip = make.uploaded_clip(entry, sample_clip, "late.mp4")
    dead = media_queue("redis://127.0.0.1:1/0")
    assert enqueue_committed_clip(session, dead, clip.id) is False
    session.expire_all()
    assert session.get(Clip, clip.id).status == ClipStatus.UPLOADED
    from app.connections import queue

    assert requeue_stuck(session, queue()) == [clip.id]
    run_jobs()
    session.expire_all()
    assert session.get(Clip, clip.id).status == ClipStatus.READY


def test_enqueue_decides_on_the_locked_row_not_on_the_sessions_copy(app, session, make, entry, sample_clip):
    """A sweeper holds the clip it selected as `uploaded`; a worker makes it `ready` meanwhile. Enqueueing must see
    `ready` (and neither write `queued` over it nor make a job), although the session still holds `uploaded`."""
    from sqlalchemy import update

    from app import db
    from app.connections import enqueue_committed_clip, queue

    clip = make.uploaded_clip(entry, sample_clip, "raced.mp4")
    assert session.get(Clip, clip.id).status == ClipStatus.UPLOADED  # the session's copy, as the sweeper read it
    with db.engine().begin() as other:  # the worker's own connection
        other.execute(update(Clip).where(Clip.id == clip.id).values(status=ClipStatus.READY))
    assert session.get(Clip, clip.id).status == ClipStatus.UPLOADED  # still the old copy

    assert enqueue_committed_clip(session, queue(), clip.id) is False
    session.expire_all()
    assert session.get(Clip, clip.id).status == ClipStatus.READY
    assert queue().fetch_job(f"clip-{clip.id}") is None


def test_a_sweep_leaves_a_clip_that_a_worker_took_after_the_sweep_selected_it(app, session, make, entry, sample_clip):
    """A sweeper selects a `queued` clip (its job pending); a worker takes the job and makes the clip `processing`
    before the sweeper reads the row. The clip is alive, not dead: no second job, no `queued` written over it, the
    worker's job left alone. (Judged dead for its status alone, it got a forced second job that another worker ran
    beside the first: `attempts == 2` in test_redis_restart.py under stress-ng, 2026-12-06.)"""
    from sqlalchemy import update

    from app import db
    from app.connections import enqueue_processing, queue
    from app.models import utcnow
    from media_worker.sweeper import requeue_stuck

    clip = make.uploaded_clip(entry, sample_clip, "taken.mp4")
    assert enqueue_processing(clip.id)
    job = queue().fetch_job(f"clip-{clip.id}")

    class WorkerTakesItAfterTheQuery:
        """The sweeper's session; between its query and its reading of each row, the worker takes the job."""

        def __init__(self, inner) -> None:
            self.inner = inner

        def __getattr__(self, name):
            return getattr(self.inner, name)

        def scalars(self, *args, **kwargs):
            selected = list(self.inner.scalars(*args, **kwargs))
            queue().remove(job)
            job.set_status("started")
            with db.engine().begin() as other:  # the job's `_start`, on the worker's own connection
                other.execute(
                    update(Clip)
                    .where(Clip.id == clip.id)
                    .values(status=ClipStatus.PROCESSING, attempts=1, updated_at=utcnow())
                )
            return selected

    with db.session_scope() as sweeper:  # the worker's sweep has a session of its own, holding no clip yet
        assert requeue_stuck(WorkerTakesItAfterTheQuery(sweeper), queue(), stale_seconds=6) == []
    session.expire_all()
    row = session.get(Clip, clip.id)
    assert (row.status, row.attempts, row.retrying_since) == (ClipStatus.PROCESSING, 1, None)
    assert queue().count == 0 and queue().fetch_job(job.id).get_status() == "started"


def test_enqueue_makes_no_second_job_for_a_clip_done_since_it_was_queued(app, session, make, entry, sample_clip):
    """The job of a clip ran to its end (a tiny clip takes a second) after a sweeper committed `queued` and before it
    looked for a pending job: the finished job is no reason for a new one, the clip being `ready`."""
    from sqlalchemy import update

    from app import db
    from app.connections import enqueue_committed_clip, queue
    from app.queue import enqueue_clip

    clip = make.uploaded_clip(entry, sample_clip, "done.mp4")
    job = enqueue_clip(queue(), clip.id)
    queue().remove(job)  # a worker took it off the queue,
    job.set_status("finished")  # and RQ marked it finished once it returned
    original = enqueue_clip

    def worker_finishes_first(*args, **kwargs):
        with db.engine().begin() as other:  # the job committed `ready` before it returned
            other.execute(update(Clip).where(Clip.id == clip.id).values(status=ClipStatus.READY))
        return original(*args, **kwargs)

    import app.connections as connections

    connections.enqueue_clip = worker_finishes_first
    try:
        assert enqueue_committed_clip(session, queue(), clip.id) is False
    finally:
        connections.enqueue_clip = original
    assert queue().fetch_job(f"clip-{clip.id}").get_status(refresh=True) == "finished"  # the same job, not a new one
    assert queue().count == 0


def _flask(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", *args],
        cwd=ROOT,
        env=dict(os.environ),
        capture_output=True,
        text=True,
        check=check,
        timeout=300,
    )


def _cli(app, *args: str, check: bool = True):
    """A `flask` command in this process, on the app composed as wsgi.py composes it."""
    out = app.test_cli_runner().invoke(args=list(args))
    if check:
        assert out.exit_code == 0, out.output
    return out


def test_cli_import_worker_show(app, session, sample_clip):
    """The operator's path. The import and the worker are each a process of their own, the worker a real
    `flask worker --burst`: the clip reaches it through the database, the store and the queue alone. The commands
    around them (units, contests, clips show) run in this process, on the app wsgi.py composes (a process each cost
    2-3 s and checked nothing more; test_cli_layers.py runs the real entry point)."""
    from media_worker.cli import register_worker_cli

    register_worker_cli(app)
    assert json.loads(_cli(app, "units", "add", "phuong-7", "--name", "Phường 7", "--kind", "ward").stdout)["code"] == (
        "PHUONG-7"
    )
    dup = _cli(app, "units", "add", "PHUONG-7", "--name", "again", check=False)
    assert dup.exit_code != 0 and "already exists" in dup.stderr
    created = _cli(
        app, "contests", "create", "cli-demo", "--title", "CLI", "--max-duration", "30", "--min-height", "200"
    )
    assert json.loads(created.stdout)["slug"] == "cli-demo"
    ids = json.loads(
        _flask(
            "clips", "import", str(sample_clip), "--contest", "cli-demo", "--unit", "phuong-7", "--title", "Clip nhập"
        ).stdout
    )
    shown = json.loads(_cli(app, "clips", "show", str(ids["clip_id"])).stdout)
    assert shown["status"] == "queued" and shown["renditions"] == []
    _flask("worker", "--burst")
    session.expire_all()
    shown = json.loads(_cli(app, "clips", "show", str(ids["clip_id"])).stdout)
    assert shown["status"] == "ready" and shown["reason"] is None
    assert (shown["width"], shown["height"]) == (320, 240) and 1.8 < shown["duration_s"] < 2.2
    assert shown["original_key"].startswith(f"originals/{ids['clip_id']}/")
    assert shown["poster_key"] and shown["renditions"][0]["height"] == 240
    assert storage().exists(shown["renditions"][0]["key"])
    missing = _cli(app, "clips", "show", "999999", check=False)
    assert missing.exit_code != 0
