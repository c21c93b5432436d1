"""Redis stopped and started during uploads and processing (the test's own redis-server): a resumable upload
completes, its clip is enqueued once Redis is back, and no job runs twice at the same time."""

from __future__ import annotations

import re
import urllib.request

import pytest

from app.models import Clip, ClipStatus, Role
from tests.conftest import make_clip
from tests.faults.conftest import start_worker, stop_worker
from tests.helpers_wait import wait_for


def _clip(session, clip_id: int) -> Clip:
    session.expire_all()
    return session.get(Clip, clip_id)


def test_a_resumable_upload_completes_while_redis_is_down_and_is_queued_once_it_is_back(
    app, session, make, outage, browser, sample_clip, run_jobs
):
    from app.queue import media_queue
    from media_worker.worker import sweep_once

    unit = make.unit()
    member = make.user(Role.UNIT, unit=unit)
    entry = make.entry(make.contest(), unit, clip_status=None)
    data = sample_clip.read_bytes()
    browser.login(member.email)  # logging in counts failures in Redis: done before the outage
    headers = {"X-CSRFToken": browser.token("/"), "Accept": "application/json"}

    resp = browser.client.post(
        f"/uploads/entries/{entry.id}",
        json={"filename": "a.mp4", "size": len(data), "type": "video/mp4"},
        headers=headers,
    )
    assert resp.status_code == 201, resp.get_data(as_text=True)
    doc = resp.get_json()

    outage.redis.stop()
    grant = browser.client.post(f"{doc['urls']['sign']}1", json={"uploadId": doc["uploadId"]}, headers=headers)
    assert grant.status_code == 200, grant.get_data(as_text=True)
    put = urllib.request.Request(grant.get_json()["url"], data=data, method="PUT")
    with urllib.request.urlopen(put, timeout=60) as answer:  # noqa: S310 - the test's own store
        assert answer.status == 200
    listing = browser.client.get(f"{doc['urls']['parts']}?uploadId={doc['uploadId']}", headers=headers)
    assert [p["PartNumber"] for p in listing.get_json()["parts"]] == [1]
    done = browser.client.post(doc["urls"]["complete"], json={"uploadId": doc["uploadId"]}, headers=headers)
    assert done.status_code == 200 and done.get_json()["completed"] is True, done.get_data(as_text=True)
    assert done.get_json()["status"] == "uploaded"  # kept, not queued: there is no queue right now
    assert browser.get(f"/unit/entries/{entry.id}").status_code == 200
    assert sweep_once(app.config) == []  # a sweep during the outage changes nothing and does not crash

    outage.redis.start()
    assert sweep_once(app.config) == [doc["clipId"]]  # what every worker does every SWEEP_INTERVAL_SECONDS
    sweep_once(app.config)  # a second sweep (another worker's) while the job waits adds no second job
    assert media_queue(app.config["REDIS_URL"], app.config["RQ_QUEUE"]).count == 1
    assert run_jobs() == 1
    clip = _clip(session, doc["clipId"])
    assert clip.status == ClipStatus.READY and clip.attempts == 1


@pytest.mark.slow
def test_redis_restarting_while_two_workers_run_never_runs_a_job_twice(
    app, session, make, outage, tmp_path, sample_clip
):
    from rq import Worker

    from app.connections import enqueue_processing
    from app.queue import media_queue

    entry = make.entry(make.contest(), make.unit(), clip_status=None)
    source = make_clip(tmp_path / "long.mp4", duration=12, size="1280x720")
    clip_id = make.uploaded_clip(entry, source, "long.mp4").id
    assert enqueue_processing(clip_id)

    logs = [tmp_path / "worker-1.log", tmp_path / "worker-2.log"]
    workers = [start_worker(log, {"CLIP_STALE_SECONDS": "6"}) for log in logs]
    try:
        # Both workers up before the outage. On a loaded machine (load average 20) one of them was still starting when
        # the other had begun the job: RQ's Worker() asks Redis for its client name, found Redis stopped, and the
        # process exited with 1 ("workers exited: [('worker-1.log', 1)]"). A running worker rides out the outage.
        queue = media_queue(app.config["REDIS_URL"], app.config["RQ_QUEUE"])
        wait_for(lambda: len(Worker.all(queue=queue)) == 2, 300, "both workers to register with Redis")
        wait_for(
            lambda: _clip(session, clip_id).status == ClipStatus.PROCESSING and _clip(session, clip_id).progress > 0,
            300,
            "transcoding to start",
        )
        outage.redis.stop()
        try:
            # The job goes on without Redis and finishes: its state lives in the database. RQ's loop in that worker
            # meets the outage when it reports the job; the worker keeps running and reconnects later.
            wait_for(lambda: _clip(session, clip_id).status != ClipStatus.PROCESSING, 600, "the clip to finish")
        finally:
            outage.redis.start()
        # The workers are still there and still work: a clip that arrives after the restart is processed too.
        dead = [
            (log.name, worker.returncode)
            for log, worker in zip(logs, workers, strict=True)
            if worker.poll() is not None
        ]
        assert not dead, f"workers exited: {dead}\n" + "\n".join(log.read_text()[-4000:] for log in logs)
        later = make.entry(make.contest(), make.unit(), clip_status=None)
        later_id = make.uploaded_clip(later, sample_clip, "later.mp4").id
        assert enqueue_processing(later_id)
        wait_for(lambda: _clip(session, later_id).status == ClipStatus.READY, 300, "the later clip")
    finally:
        for worker in workers:
            stop_worker(worker)
    clip = _clip(session, clip_id)
    evidence = _evidence(logs, clip)
    assert clip.status == ClipStatus.READY, evidence
    assert clip.attempts == 1, evidence


# What tells who ran a clip and why: each job taken, each attempt, each sweep's requeue (Redis's tracebacks left out).
TELLING = re.compile(r"\(clip-\d+\)|processing, attempt|requeued|nothing to do|being processed|Redis|stopped")


def _evidence(logs, clip) -> str:
    """The clip's row and the telling lines of each worker's log, for a failure message: a run on 2026-12-06 under
    stress-ng saw `attempts == 2` (the second worker took a job for the clip the first was running, 0.25 s after it)
    and the message then held only the end of a Redis traceback. `retrying_since` set means a sweep took the clip
    for one whose worker had died."""
    row = {name: getattr(clip, name) for name in ("status", "attempts", "retrying_since", "updated_at", "stage")}
    parts = [f"clip {clip.id}: {row}"]
    for log in logs:
        lines = [line for line in log.read_text().splitlines() if line[:4].isdigit() and TELLING.search(line)]
        parts.append(f"== {log.name}\n" + "\n".join(lines[-60:]))
    return "\n".join(parts)
