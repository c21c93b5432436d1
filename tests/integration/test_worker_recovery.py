"""Nothing is lost when a worker dies: SIGKILL mid-transcode, a new worker recovers the clip; jobs are idempotent."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys

import pytest

from app.connections import enqueue_processing, storage
from app.models import Clip, ClipStatus
from tests.conftest import ROOT, make_clip
from tests.helpers_wait import wait_for

pytestmark = pytest.mark.slow


def _clip_state(session, clip_id):
    session.expire_all()
    clip = session.get(Clip, clip_id)
    return clip.status, clip.progress


def _children(pid: int) -> list[int]:
    with open(f"/proc/{pid}/task/{pid}/children") as fh:
        return [int(p) for p in fh.read().split()]


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split()[2] != "Z"
    except FileNotFoundError:
        return False


def _start_worker(tmp_path, name: str) -> subprocess.Popen:
    env = {**os.environ, "CLIP_STALE_SECONDS": "3", "SWEEP_INTERVAL_SECONDS": "1"}
    log = open(tmp_path / f"{name}.log", "wb")  # noqa: SIM115 - the worker process owns it
    return subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "wsgi", "worker"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def test_sigkilled_worker_loses_nothing(app, session, make, tmp_path):
    unit = make.unit()
    entry = make.entry(make.contest(), unit, clip_status=None)
    source = make_clip(tmp_path / "long.mp4", duration=10, size="1280x720")
    clip = make.uploaded_clip(entry, source, "long.mp4")
    clip_id, original = clip.id, clip.original_key
    assert enqueue_processing(clip_id)

    first = _start_worker(tmp_path, "first")
    try:
        wait_for(
            lambda: (
                _clip_state(session, clip_id)[0] == ClipStatus.PROCESSING and _clip_state(session, clip_id)[1] > 0.05
            ),
            300,  # bounds for a loaded machine (ffmpeg runs at nice 10), never waited out when things work
            "transcoding to start",
        )
    finally:
        # A crash takes the worker and its work-horse (RQ gives the horse its own session, so kill it too);
        # ffmpeg dies with the horse (PR_SET_PDEATHSIG).
        horses = _children(first.pid)
        os.killpg(first.pid, signal.SIGKILL)
        for pid in horses:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        first.wait(timeout=10)
    assert horses, "the worker had no work-horse while processing"
    wait_for(lambda: not any(_alive(pid) for pid in horses), 10, "the killed work-horses to be gone")
    assert _clip_state(session, clip_id)[0] == ClipStatus.PROCESSING  # stranded until someone notices

    second = _start_worker(tmp_path, "second")
    try:
        wait_for(
            lambda: _clip_state(session, clip_id)[0] in (ClipStatus.READY, ClipStatus.FAILED, ClipStatus.REJECTED),
            600,
            "recovery",
        )
    finally:
        second.terminate()
        second.wait(timeout=30)
    session.expire_all()
    clip = session.get(Clip, clip_id)
    assert clip.status == ClipStatus.READY, (tmp_path / "second.log").read_text()[-3000:]
    assert clip.attempts == 2, (tmp_path / "second.log").read_text()[-3000:]
    assert storage().exists(original)
    assert {r["name"] for r in clip.renditions} == {"360p", "720p"}
    assert all(storage().exists(r["key"]) for r in clip.renditions)


def test_running_a_job_twice_yields_the_same_objects_and_one_final_state(app, session, make, sample_clip):
    from media_worker.jobs import process_clip

    entry = make.entry(make.contest(), make.unit(), clip_status=None)
    clip = make.uploaded_clip(entry, sample_clip, "a.mp4")
    expected_sha = clip.sha256
    session.get(Clip, clip.id).sha256 = None  # as after a resumable upload: the worker fingerprints the original
    session.commit()
    assert process_clip(clip.id) == "ready"
    session.expire_all()
    assert session.get(Clip, clip.id).sha256 == expected_sha
    first = sorted(storage().keys(f"derived/{clip.id}/"))
    assert process_clip(clip.id) == "skipped"  # already final: nothing redone
    session.expire_all()
    session.get(Clip, clip.id).status = ClipStatus.QUEUED  # an operator's forced re-run
    session.commit()
    assert process_clip(clip.id) == "ready"
    assert sorted(storage().keys(f"derived/{clip.id}/")) == first
    session.expire_all()
    assert session.get(Clip, clip.id).status == ClipStatus.READY
