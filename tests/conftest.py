"""Fixtures on real services: a private redis-server and `rclone serve s3` on free ports, a real database
(SQLite by default, PostgreSQL with TEST_DATABASE_URL) migrated with Alembic, real ffmpeg for media."""

from __future__ import annotations

import contextvars
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from flask.testing import FlaskClient

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


@pytest.fixture(scope="session")
def services(tmp_path_factory):
    """Start Redis and the S3 server once for the whole run and point the environment at them."""
    from devtools.services import start_redis, start_s3

    base = tmp_path_factory.mktemp("services")
    redis_proc, redis_url = start_redis(base / "redis")
    s3_proc, s3_url = start_s3(base / "s3", "test-access-key", "test-secret-key-123", allow_origin="*")
    env = {
        "REDIS_URL": redis_url,
        "S3_ENDPOINT_URL": s3_url,
        "AWS_ACCESS_KEY_ID": "test-access-key",
        "AWS_SECRET_ACCESS_KEY": "test-secret-key-123",
        "S3_BUCKET": "test-clips",
        "SECRET_KEY": "test-secret-key-for-the-test-suite-only-0123456789",
        "PASSWORD_SCRYPT_N": "1024",
        "RQ_QUEUE": "test-clips",
    }
    db_url = os.environ.get("TEST_DATABASE_URL") or f"sqlite:///{base / 'portal.sqlite3'}"
    env["DATABASE_URL"] = db_url
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    _migrate(db_url)
    from app.storage import Storage
    from config import Config

    Storage.from_config(Config()).ensure_bucket()
    yield env
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
    for proc in (redis_proc, s3_proc):
        proc.terminate()
        proc.wait(timeout=10)


def _migrate(db_url: str) -> None:
    """Bring the schema to head with the project's own migrations (from scratch on PostgreSQL)."""
    if db_url.startswith("postgresql"):
        from sqlalchemy import text

        from app.db import make_engine

        engine = make_engine(db_url)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        engine.dispose()
    subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"],
        cwd=ROOT,
        check=True,
        env={**os.environ, "DATABASE_URL": db_url},
    )


class IsolatedClient(FlaskClient):
    """Each request runs in a fresh context, as in production: an app context that the test itself holds open
    must not be shared with requests (it would carry `g` — the logged-in user, the locale — from one to the next)."""

    def open(self, *args, **kwargs):
        kwargs.setdefault("buffered", True)  # streamed bodies are read inside the request's own context
        return contextvars.Context().run(super().open, *args, **kwargs)


@pytest.fixture
def app(services):
    from app import create_app

    application = create_app({"TESTING": True, **services})
    application.test_client_class = IsolatedClient
    yield application
    _wipe(application)


def _wipe(application) -> None:
    """Empty every table, the queue and the bucket: a fresh state for the next test."""
    from sqlalchemy import text

    from app import db
    from app.models import Base

    db.session.remove()
    engine = db.engine()
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"))
        else:
            conn.execute(text("PRAGMA foreign_keys=OFF"))
            for t in tables:
                conn.execute(text(f'DELETE FROM "{t}"'))
            if conn.execute(text("SELECT name FROM sqlite_master WHERE name='sqlite_sequence'")).first():
                conn.execute(text("DELETE FROM sqlite_sequence"))
            conn.execute(text("PRAGMA foreign_keys=ON"))
    from app.queue import connect
    from app.storage import Storage

    connect(application.config["REDIS_URL"]).flushdb()
    store = Storage.from_config(application.config)
    keys = store.keys()
    for i in range(0, len(keys), 1000):
        store.client.delete_objects(Bucket=store.bucket, Delete={"Objects": [{"Key": k} for k in keys[i : i + 1000]]})


@pytest.fixture
def session(app):
    from app import db

    with app.app_context():
        yield db.session


@pytest.fixture
def client(app):
    return app.test_client()


CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


class Browser:
    """Test-client helper that logs in and posts forms with their CSRF token, like a person would."""

    def __init__(self, client):
        self.client = client

    def token(self, path: str = "/login") -> str:
        html = self.client.get(path, follow_redirects=True).get_data(as_text=True)
        match = CSRF_RE.search(html)
        assert match, f"no CSRF token on {path}"
        return match.group(1)

    def login(self, email: str, password: str = "secret-pass-1"):
        resp = self.client.post("/login", data={"email": email, "password": password, "csrf_token": self.token()})
        assert resp.status_code == 302, resp.get_data(as_text=True)[:500]
        return resp

    def post(self, path: str, data: dict | None = None, **kwargs):
        data = dict(data or {})
        data.setdefault("csrf_token", self.token("/"))
        return self.client.post(path, data=data, **kwargs)

    def get(self, path: str, **kwargs):
        return self.client.get(path, **kwargs)


@pytest.fixture
def browser(client):
    return Browser(client)


@pytest.fixture
def make(session):
    """Factories for units, users, contests, entries, rounds: make.unit(...), make.user(...), …"""
    from tests.factories import Factories

    return Factories(session)


@pytest.fixture
def run_jobs(app):
    """Drain the media queue in this process with a real RQ worker on the real Redis; returns the job count."""
    from rq import SimpleWorker

    from app.queue import connect, media_queue

    def run() -> int:
        conn = connect(app.config["REDIS_URL"])
        queue = media_queue(app.config["REDIS_URL"], app.config["RQ_QUEUE"])
        before = queue.count
        SimpleWorker([queue], connection=conn).work(burst=True, logging_level="WARNING")
        return before

    return run


@pytest.fixture(scope="session")
def media_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("media")


@pytest.fixture(scope="session")
def sample_clip(media_dir) -> Path:
    """A 2 s 320x240 H.264/AAC MP4 generated by ffmpeg."""
    return make_clip(media_dir / "sample.mp4", duration=2, size="320x240")


def make_clip(path: Path, *, duration: float = 2, size: str = "320x240", rate: int = 25, audio: bool = True) -> Path:
    """Generate a test clip with lavfi sources (no binaries in the repository)."""
    cmd = ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", f"testsrc2=size={size}:rate={rate}:duration={duration}"]
    if audio:
        cmd += ["-f", "lavfi", "-i", f"sine=frequency=440:duration={duration}"]
    cmd += ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"]
    cmd += ["-c:a", "aac", "-shortest"] if audio else []
    subprocess.run(cmd + [str(path)], check=True)
    return path
