"""PostgreSQL stopped and started while the portal and a worker run (a private server: initdb and pg_ctl on a free
port). Requests during the outage get a translated 503 page; everything recovers by itself; the job loses nothing."""

from __future__ import annotations

import pytest

from app.models import Clip, ClipStatus, Role
from tests.conftest import NOWHERE, Browser, IsolatedClient, _environment, make_clip, migrate
from tests.faults.conftest import start_worker, stop_worker
from tests.helpers_wait import wait_for


@pytest.fixture
def pg_app(private_postgres, database, memoized_password_hashing):
    """The portal on a database of the private PostgreSQL server (no Redis or S3: pages only)."""
    from app import create_app

    url = private_postgres.create_database("restart_web")
    migrate(url)
    config = {**database, **NOWHERE, "DATABASE_URL": url, "RATELIMIT_ENABLED": False, "TESTING": True}
    # Each public page asks the database for its version: a version reused for up to PAGE_VERSION_SECONDS would serve
    # the cached body through the first second of the outage, and the test would race that second.
    config["PAGE_VERSION_SECONDS"] = 0
    application = create_app(config)
    application.test_client_class = IsolatedClient
    try:
        yield application
    finally:
        private_postgres.start()


@pytest.mark.slow  # initdb and the server's start take a few seconds
def test_web_requests_get_a_translated_503_during_a_restart_and_recover_by_themselves(pg_app, private_postgres):
    from app import db
    from tests.factories import Factories

    with pg_app.app_context():
        make = Factories(db.session)
        contest = make.contest("restart", title="Cuộc thi")
        organiser = make.user(Role.ORGANISER).email
    visitor = pg_app.test_client()
    staff = Browser(pg_app.test_client())
    staff.login(organiser)
    assert visitor.get("/c/restart").status_code == 200
    assert staff.get(f"/org/c/{contest.slug}").status_code == 200  # the pool now holds connections

    private_postgres.stop()
    resp = visitor.get("/c/restart?lang=en")
    assert resp.status_code == 503 and resp.headers["Retry-After"] == "30"
    page = resp.get_data(as_text=True)
    assert "Temporarily unavailable" in page and "Traceback" not in page and "OperationalError" not in page
    vi = visitor.get("/c/restart?lang=vi").get_data(as_text=True)
    assert "Tạm thời" in vi or "tạm thời" in vi
    logged_in = staff.get(f"/org/c/{contest.slug}?lang=en")  # the session check needs the database too
    assert logged_in.status_code == 503
    assert visitor.get("/c/restart", headers={"Accept": "application/json"}).status_code == 503

    private_postgres.start()
    # No stale connection survives the restart: the first request after it already succeeds, still logged in.
    assert visitor.get("/c/restart").status_code == 200
    resp = staff.get(f"/org/c/{contest.slug}")
    assert resp.status_code == 200 and "Cuộc thi" in resp.get_data(as_text=True)


@pytest.mark.slow
def test_a_worker_mid_job_during_a_database_restart_finishes_or_retries_and_loses_nothing(
    outage, private_postgres, tmp_path, memoized_password_hashing
):
    from app import create_app, db
    from app.connections import enqueue_processing, storage
    from app.storage import Storage
    from tests.factories import Factories

    url = private_postgres.create_database("restart_worker")
    migrate(url)
    env = {**outage.env, "DATABASE_URL": url, "CLIP_STALE_SECONDS": "6"}
    source = make_clip(tmp_path / "long.mp4", duration=12, size="1280x720")
    with _environment(env):
        application = create_app({"TESTING": True, **env})
        Storage.from_config(application.config).ensure_bucket()
        with application.app_context():
            make = Factories(db.session)
            entry = make.entry(make.contest(), make.unit(), clip_status=None)
            clip_id = make.uploaded_clip(entry, source, "long.mp4").id
            assert enqueue_processing(clip_id)

        def state():
            with application.app_context():
                db.session.expire_all()
                clip = db.session.get(Clip, clip_id)
                return clip.status, clip.progress, clip.attempts

        log = tmp_path / "worker.log"
        worker = start_worker(log)
        try:
            wait_for(lambda: state()[0] == ClipStatus.PROCESSING and state()[1] > 0, 300, "transcoding to start")
            private_postgres.stop()
            try:
                # Down until the job has tried to write (progress or heartbeat) and met the outage.
                wait_for(
                    lambda: "progress not stored" in log.read_text() or "heartbeat for clip" in log.read_text(),
                    120,
                    "the job to meet the outage",
                )
            finally:
                private_postgres.start()
            final = (ClipStatus.READY, ClipStatus.FAILED, ClipStatus.REJECTED)
            wait_for(lambda: state()[0] in final, 600, "the clip")
        finally:
            stop_worker(worker)
        status, _, attempts = state()
        text = log.read_text()
        assert status == ClipStatus.READY, text[-3000:]
        assert attempts in (1, 2), text[-3000:]  # it finished, or its one retry did
        with application.app_context():
            clip = db.session.get(Clip, clip_id)
            assert all(storage().exists(r["key"]) for r in clip.renditions)
            assert storage().exists(clip.original_key)
