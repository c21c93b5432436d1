"""Several nodes, as docs/deploy.md deploys them: 2 gunicorn nodes and 2 workers on PostgreSQL, Redis and S3.

- a session begun on node A works on node B, and a logout on B ends it on A (sessions live in the database);
- a proxy-mode upload sends its parts alternately through A and B and completes byte-exact;
- 20 imported clips are each processed exactly once (one attempt, one RQ job run, one set of derived objects), and
  both workers take part;
- a worker SIGKILLed mid-job leaves its clip to the other one, which makes it `ready`.

Its own database (`<TEST_DATABASE_URL's name>_multi`, default `test_multi`, plus `_gwN` under xdist), bucket and
queue; gunicorns without control sockets. Skipped when PostgreSQL does not answer on TEST_DATABASE_URL's server
(default 127.0.0.1:5432).
"""

from __future__ import annotations

import contextlib
import hashlib
import http.cookiejar
import json
import os
import re
import signal
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from app.models import Clip, ClipStatus, Entry, EntryStatus, Role, utcnow
from devtools.services import start_web, stop_processes
from tests.conftest import ROOT, WORKER, _create_postgres_database, _environment, make_clip, migrate
from tests.helpers_wait import wait_for
from tests.portal_client import PortalClient

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("multi-node")]
MIB = 1024 * 1024
PART = 5 * MIB
CLIPS = 20
STALE_S = 30  # a worker's heartbeat every 5 s; a dead worker's clip is taken over after 30 s
PROCESSING_S = 900  # bound for a loaded machine, never waited out when things work


def _pg_url() -> str:
    from sqlalchemy.engine import make_url

    base = os.environ.get("TEST_DATABASE_URL") or "postgresql://postgres@127.0.0.1:5432/test"
    parsed = make_url(base)
    if not parsed.drivername.startswith("postgresql"):
        parsed = make_url("postgresql://postgres@127.0.0.1:5432/test")
    # Per xdist worker as well: should the module's tests be spread over workers after all, each gets its own cluster.
    suffix = f"_{WORKER}" if WORKER else ""
    return parsed.set(database=f"{parsed.database}_multi{suffix}").render_as_string(hide_password=False)


def _pg_answers(url: str) -> bool:
    from sqlalchemy import text
    from sqlalchemy.engine import make_url

    from app.db import make_engine

    engine = make_engine(make_url(url).set(database="postgres").render_as_string(hide_password=False))
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return True
    except Exception:  # noqa: BLE001 - any failure to connect means "no PostgreSQL here"
        return False
    finally:
        engine.dispose()


def _children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as fh:
            return [int(p) for p in fh.read().split()]
    except FileNotFoundError:
        return []


class Cluster:
    """Two web nodes and two workers on one database, Redis and bucket; the test's own app to look at the state."""

    def __init__(self, env: dict[str, str], work: Path) -> None:
        self.env, self.work = env, work
        self.webs: list[subprocess.Popen] = []
        self.bases: list[str] = []
        self.workers: dict[str, subprocess.Popen] = {}
        self.logs: list = []

    def start_web(self, name: str) -> None:
        log = open(self.work / f"web-{name}.log", "wb")  # noqa: SIM115 - closed in stop()
        self.logs.append(log)
        web, base = start_web(self.env, log, cwd=ROOT)
        self.webs.append(web)
        self.bases.append(base)

    def start_worker(self, name: str) -> None:
        log = open(self.work / f"worker-{name}.log", "wb")  # noqa: SIM115 - closed in stop()
        self.logs.append(log)
        self.workers[name] = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "wsgi", "worker"],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def worker_log(self, name: str) -> str:
        return (self.work / f"worker-{name}.log").read_text(errors="replace")

    def stop(self) -> None:
        stop_processes(list(self.workers.values()), timeout=15, again_after=1.5)
        stop_processes(self.webs, timeout=15)
        for log in self.logs:
            log.close()


@pytest.fixture(scope="module")
def cluster(services, tmp_path_factory):
    url = _pg_url()
    if not _pg_answers(url):
        pytest.skip(f"PostgreSQL does not answer at {url.rsplit('/', 1)[0]}: the multi-node test needs it")
    _create_postgres_database(url)
    migrate(url)
    work = tmp_path_factory.mktemp("multi-node")
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "S3_BUCKET": "multi-node",
        "RQ_QUEUE": "multi-node",
        "UPLOAD_MODE": "proxy",
        "UPLOAD_PART_BYTES": str(PART),
        "MAX_UPLOAD_BYTES": str(64 * MIB),
        "CLIP_STALE_SECONDS": str(STALE_S),
        "SWEEP_INTERVAL_SECONDS": "2",
        "PYTHONUNBUFFERED": "1",
    }
    from app import create_app
    from app.storage import Storage

    keys = ("DATABASE_URL", "S3_BUCKET", "RQ_QUEUE", "UPLOAD_MODE", "UPLOAD_PART_BYTES", "CLIP_STALE_SECONDS")
    with _environment({k: env[k] for k in keys}):
        app = create_app({"TESTING": True})
    Storage.from_config(app.config).ensure_bucket()
    nodes = Cluster(env, work)
    try:
        for name in ("a", "b"):
            nodes.start_web(name)
            nodes.start_worker(name)
        with app.app_context():
            from rq import Worker

            from app.connections import queue

            # Both workers must be listening before any test queues work (on a loaded machine one boots late).
            wait_for(lambda: len(Worker.all(queue=queue())) == 2, 300, "both workers to register with Redis")
            nodes.app = app  # type: ignore[attr-defined]
            yield nodes
    finally:
        nodes.stop()


@pytest.fixture(autouse=True)
def on_the_cluster_database(cluster):
    """This process's engine on the cluster's database again: a test of another module that ran on this xdist worker
    in between has pointed it at its own."""
    from app import db

    db.session.remove()
    db.configure(cluster.env["DATABASE_URL"])
    yield
    db.session.remove()


@pytest.fixture
def make(cluster):
    from app import db
    from tests.factories import Factories

    return Factories(db.session)


def _session(cluster):
    from app import db

    db.session.expire_all()
    return db.session


def test_a_session_begun_on_one_node_works_and_ends_on_the_other(cluster, make):
    node_a, node_b = cluster.bases
    judge = make.user(Role.JUDGE)
    on_a = PortalClient(node_a)
    on_a.login(judge.email)
    on_b = PortalClient(node_b, jar=on_a.jar)  # the same browser, sent to the other node by the balancer
    assert on_b.logged_in()
    saved = [cookie for cookie in on_a.jar]
    on_b.logout()
    assert not on_b.logged_in()
    replayed = http.cookiejar.CookieJar()
    for cookie in saved:  # the cookie from before the logout, replayed on node A
        replayed.set_cookie(cookie)
    assert not PortalClient(node_a, jar=replayed).logged_in()


def test_a_proxy_upload_sends_its_parts_through_both_nodes(cluster, make):
    node_a, node_b = cluster.bases
    unit = make.unit()
    member = make.user(Role.UNIT, unit)
    entry = make.entry(make.contest(max_size_bytes=40 * MIB), unit, status=EntryStatus.DRAFT, clip_status=None)
    data = os.urandom(3 * PART + 4321)
    on_a = PortalClient(node_a)
    on_a.login(member.email)
    on_b = PortalClient(node_b, jar=on_a.jar)
    on_b.csrf = on_a.csrf

    def call(client, method, path, body):
        headers = {"Accept": "application/json", "Content-Type": "application/json", "X-CSRFToken": client.csrf}
        status, _, raw = client.request(method, path, data=json.dumps(body).encode(), headers=headers)
        return status, json.loads(raw or b"null")

    status, doc = call(on_a, "POST", f"/uploads/entries/{entry.id}", {"filename": "clip.mp4", "size": len(data)})
    assert status == 201 and doc["partCount"] == 4, doc
    seen = set()
    for number in range(1, doc["partCount"] + 1):
        client = (on_a, on_b)[number % 2]
        status, grant = call(client, "POST", f"{doc['urls']['sign']}{number}", {"uploadId": doc["uploadId"]})
        assert status == 200, grant
        assert grant["url"].startswith("/") or grant["url"].startswith(client.base), grant["url"]
        chunk = data[(number - 1) * PART : number * PART]
        status, _, body = client.request("PUT", grant["url"], data=chunk)
        assert status == 200, body[:300]
        seen.add(client.base)
    assert seen == {node_a, node_b}
    status, done = call(on_b, "POST", doc["urls"]["complete"], {"uploadId": doc["uploadId"]})
    assert status == 200 and done["completed"] is True, done
    from app.connections import storage

    stored = hashlib.sha256(b"".join(storage().open_range(doc["key"]))).hexdigest()
    assert stored == hashlib.sha256(data).hexdigest()
    assert _session(cluster).get(Entry, entry.id).clip_id == doc["clipId"]


def _finished(cluster, ids) -> bool:
    session = _session(cluster)
    statuses = session.scalars(select(Clip.status).where(Clip.id.in_(ids))).all()
    return all(status in (ClipStatus.READY, ClipStatus.REJECTED, ClipStatus.FAILED) for status in statuses)


def test_imported_clips_are_each_processed_exactly_once_by_either_worker(cluster, make, tmp_path):
    from app.connections import enqueue_processing, storage

    source = make_clip(tmp_path / "tiny.mp4", duration=1, size="320x240")
    contest = make.contest()
    ids = []
    for _ in range(CLIPS):
        entry = make.entry(contest, make.unit(), clip_status=None)
        ids.append(make.uploaded_clip(entry, source, "tiny.mp4").id)
    # The uploads completing: each is enqueued by the test, and maybe first by either worker's sweep, which takes up
    # `uploaded` clips every 2 s (on a loaded machine a sweep may even have finished a clip before the test gets to
    # it, and then enqueueing it rightly answers False). Three enqueuers racing: each clip must still be processed
    # exactly once.
    for clip_id in ids:
        enqueue_processing(clip_id)
    wait_for(lambda: _finished(cluster, ids), PROCESSING_S, f"{CLIPS} clips to be processed")

    session = _session(cluster)
    clips = session.scalars(select(Clip).where(Clip.id.in_(ids))).all()
    assert {c.status for c in clips} == {ClipStatus.READY}, [(c.id, c.status, c.reason) for c in clips]
    twice = {c.id: c.attempts for c in clips if c.attempts != 1}
    assert not twice, (twice, {name: cluster.worker_log(name)[-4000:] for name in cluster.workers})
    shapes = {tuple(sorted(k.rsplit("/", 1)[1] for k in storage().keys(f"derived/{c.id}/"))) for c in clips}
    assert len(shapes) == 1 and shapes != {()}, shapes  # the same set of derived objects for each, no extra
    logs = {name: cluster.worker_log(name) for name in cluster.workers}
    runs = {name: re.findall(r"clip (\d+): processing, attempt", log) for name, log in logs.items()}
    done = [int(i) for found in runs.values() for i in found if int(i) in ids]
    assert sorted(done) == sorted(ids), runs  # each clip was processed exactly once, on one worker or the other
    assert all(runs.values()), runs  # both workers took part
    # A second job for a clip already done is allowed by design (the job's row lock makes it skip: see _start in
    # media_worker/jobs.py) but not expected; every job, skipped or not, ended well.
    ok = [int(i) for log in logs.values() for i in re.findall(r"Job OK \(clip-(\d+)\)", log) if int(i) in ids]
    skipped = [int(i) for log in logs.values() for i in re.findall(r"clip (\d+): nothing to do", log) if int(i) in ids]
    assert sorted(ok) == sorted(done + skipped), (ok, done, skipped)


def test_a_killed_worker_leaves_its_clip_to_the_other(cluster, make, tmp_path):
    from app.connections import enqueue_processing

    source = make_clip(tmp_path / "longer.mp4", duration=30, size="640x360")
    entry = make.entry(make.contest(), make.unit(), clip_status=None)
    clip_id = make.uploaded_clip(entry, source, "longer.mp4").id
    assert enqueue_processing(clip_id)

    def busy() -> str | None:
        """The name of our worker whose RQ worker reports this clip's job as its current one."""
        from rq import Worker

        from app.connections import queue

        job = f"clip-{clip_id}"
        pids = {w.pid for w in Worker.all(queue=queue()) if w.get_current_job_id() == job}
        return next((name for name, proc in cluster.workers.items() if proc.pid in pids), None)

    processing = ClipStatus.PROCESSING
    wait_for(lambda: _session(cluster).get(Clip, clip_id).status == processing and busy(), 300, "processing")
    victim = busy()
    proc = cluster.workers[victim]
    children = _children(proc.pid)  # its work-horse (own session) and its scheduler
    os.killpg(proc.pid, signal.SIGKILL)
    for pid in children:  # ffmpeg dies with the work-horse (PR_SET_PDEATHSIG)
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    proc.wait(timeout=10)
    assert _session(cluster).get(Clip, clip_id).status == ClipStatus.PROCESSING  # stranded until the other notices
    # Time is driven, not waited for: the dead worker's last heartbeat is moved back past STALE_S instead of waiting
    # 30 s for it to age (test_worker_recovery.py lets a real heartbeat go stale, with a 3 s threshold).
    session = _session(cluster)
    session.execute(
        update(Clip).where(Clip.id == clip_id).values(updated_at=utcnow() - timedelta(seconds=STALE_S + 60))
    )
    session.commit()

    wait_for(lambda: _finished(cluster, [clip_id]), PROCESSING_S, "the other worker to take the clip over")
    clip = _session(cluster).get(Clip, clip_id)
    survivor = next(name for name in cluster.workers if name != victim)
    assert clip.status == ClipStatus.READY, cluster.worker_log(survivor)[-3000:]
    assert clip.attempts == 2
    # RQ logs the success just after the job has written `ready`.
    wait_for(lambda: f"Job OK (clip-{clip_id})" in cluster.worker_log(survivor), 60, "the survivor to report the job")
