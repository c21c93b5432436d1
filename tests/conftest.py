"""Fixtures on real services: a private redis-server and `rclone serve s3` on free ports, a real database
(SQLite by default, PostgreSQL with TEST_DATABASE_URL) migrated with Alembic, real ffmpeg for media."""

from __future__ import annotations

import contextlib
import contextvars
import json
import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask.testing import FlaskClient

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# Under pytest-xdist each worker process ("gw0", "gw1", …) has its own services, bucket, queue and database.
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
# What a test marked `database_only` gets instead of Redis and S3: refused connections, so a test that needs them after
# all fails at once instead of quietly reaching someone else's server.
NOWHERE = {"REDIS_URL": "redis://127.0.0.1:9/0", "S3_ENDPOINT_URL": "http://127.0.0.1:9"}


def pytest_sessionstart(session) -> None:
    """Stop at once, with one line, when the Babel catalogs are not compiled (instead of a page of failed pages)."""
    if hasattr(session.config, "workerinput"):
        return  # xdist workers: the controller has checked
    stale = _uncompiled_catalogs(ROOT / "app" / "translations")
    if stale:
        pytest.exit(
            f"The translations are not compiled ({', '.join(stale)} missing or older than its .po): "
            "run `make translations`.",
            returncode=pytest.ExitCode.USAGE_ERROR,
        )


@pytest.hookimpl(trylast=True)  # after pytest-xdist's own hook, whose renaming pytest 9.2 ignores (see below)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Run the long tests first (`slow`, `e2e`), the many short ones after them.

    Under pytest-xdist a worker asks for the next test when it is nearly idle, so short tests fill in around the long
    ones; a long test collected last would start when the other worker is almost done and run alone at the end. The
    order is the same in every worker (xdist requires it); `--dist loadgroup` still sends the `xdist_group`s first,
    the largest first. No test depends on the order: each starts from an empty database, queue and bucket."""
    items.sort(key=lambda item: 0 if item.get_closest_marker("slow") or item.get_closest_marker("e2e") else 1)
    if getattr(config.option, "loadgroup", False):
        _name_xdist_groups(items)


def _name_xdist_groups(items: list[pytest.Item]) -> None:
    """Give each test of an `xdist_group` the node id `<id>@<group>`, by which `--dist loadgroup` sends a group to one
    worker.

    pytest-xdist 3.8 does this by assigning `item._nodeid`, which pytest 9.2 no longer reads (the id lives in
    `item._id`): without this the groups were split across workers, and a fixture meant to run once per group (the
    published demo's 12 transcodes, the upload tests' two portals) ran once per worker."""
    from _pytest.nodeid import NodeId

    for item in items:
        names = {
            str(m.args[0] if m.args else m.kwargs.get("name", "default")) for m in item.iter_markers("xdist_group")
        }
        if names and "@" not in item.nodeid:
            item._id = NodeId.parse(f"{item.nodeid}@{'_'.join(sorted(names))}")  # type: ignore[attr-defined]


def _uncompiled_catalogs(translations: Path) -> list[str]:
    """The .mo files that are missing or older than their .po."""
    stale = []
    for po in sorted(translations.glob("*/LC_MESSAGES/*.po")):
        mo = po.with_suffix(".mo")
        if not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime:
            stale.append(str(mo.relative_to(ROOT)))
    return stale


@contextlib.contextmanager
def _environment(env: dict[str, str]) -> Iterator[None]:
    """Set env in os.environ (subprocesses such as gunicorn and `flask` read it), restore the old values after."""
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@pytest.fixture(scope="session")
def database(tmp_path_factory):
    """This run's own database, migrated to head: a SQLite file, or PostgreSQL with TEST_DATABASE_URL.

    Under xdist each worker gets `<name>_gw0`, `<name>_gw1`, … beside the database TEST_DATABASE_URL names, created
    when missing: two runs with different TEST_DATABASE_URL never touch each other's databases."""
    base = tmp_path_factory.mktemp("database")
    db_url = worker_database_url(os.environ.get("TEST_DATABASE_URL"), WORKER) or f"sqlite:///{base / 'portal.sqlite3'}"
    # The suite's own key (create_app refuses one shorter than 32 characters) and a cheap scrypt cost.
    env = {
        "DATABASE_URL": db_url,
        "SECRET_KEY": "test-secret-key-for-the-test-suite-only-0123456789",
        "PASSWORD_SCRYPT_N": "1024",
    }
    with _environment(env):
        if db_url.startswith("postgresql"):
            _create_postgres_database(db_url)
        migrate(db_url)
        yield env


@pytest.fixture(scope="session")
def services(database, tmp_path_factory):
    """Start Redis and the S3 server once per run (per xdist worker) and point the environment at them."""
    from devtools.services import start_redis, start_s3

    base = tmp_path_factory.mktemp("services")
    redis_proc, redis_url = start_redis(base / "redis")
    s3_proc, s3_url = start_s3(base / "s3", "test-access-key", "test-secret-key-123", allow_origin="*")
    suffix = f"-{WORKER}" if WORKER else ""
    env = {
        **database,
        "REDIS_URL": redis_url,
        "S3_ENDPOINT_URL": s3_url,
        "AWS_ACCESS_KEY_ID": "test-access-key",
        "AWS_SECRET_ACCESS_KEY": "test-secret-key-123",
        "S3_BUCKET": f"test-clips{suffix}",
        "RQ_QUEUE": f"test-clips{suffix}",
    }
    try:
        with _environment(env):
            from app.storage import Storage
            from config import Config

            Storage.from_config(Config()).ensure_bucket()
            yield env
    finally:
        for proc in (redis_proc, s3_proc):
            proc.terminate()
            proc.wait(timeout=10)


def worker_database_url(url: str | None, worker: str) -> str | None:
    """The database of this xdist worker: `<name>_<worker>` beside the one url names (url itself without xdist)."""
    if not url or not worker:
        return url
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    return parsed.set(database=f"{parsed.database}_{worker}").render_as_string(hide_password=False)


def _create_postgres_database(db_url: str) -> None:
    """CREATE DATABASE through the `postgres` maintenance database when db_url's database does not exist yet."""
    from sqlalchemy import text
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ProgrammingError

    from app.db import make_engine

    parsed = make_url(db_url)
    name = parsed.database
    maintenance = make_engine(parsed.set(database="postgres").render_as_string(hide_password=False))
    try:
        with maintenance.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            if conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}).first():
                return
            try:
                conn.execute(text('CREATE DATABASE "' + name.replace('"', '""') + '"'))
            except ProgrammingError as exc:  # created meanwhile by another process: just as good
                if "already exists" not in str(exc):
                    raise
    finally:
        maintenance.dispose()


def migrate(db_url: str) -> None:
    """Bring the schema to head with the project's own migrations (from scratch on PostgreSQL)."""
    if db_url.startswith("postgresql"):
        from sqlalchemy import text

        from app.db import make_engine

        engine = make_engine(db_url)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        engine.dispose()
    # In this process, as `flask db upgrade` does it (the same Alembic configuration): a `flask` process would cost
    # about 1.3 s of CPU to start, for 0.2 s of migrating. The command itself is run by `make run` and its own tests.
    from alembic import command

    from devtools.check_migrations import alembic_config

    command.upgrade(alembic_config(db_url), "head")


class IsolatedClient(FlaskClient):
    """Each request runs in a fresh context, as in production: an app context that the test itself holds open
    must not be shared with requests (it would carry `g` — the logged-in user, the locale — from one to the next)."""

    def open(self, *args, **kwargs):
        kwargs.setdefault("buffered", True)  # streamed bodies are read inside the request's own context
        return contextvars.Context().run(super().open, *args, **kwargs)


@pytest.fixture(scope="session")
def memoized_password_hashing():
    """Hash each password once per run instead of once per account and login.

    scrypt costs about 0.15 s a call and the factories create hundreds of accounts, all with one password. For a given
    password the result does not depend on the call (the salt aside), so remembering it changes no outcome. Processes
    that tests start (gunicorn, `flask` commands) still hash every time."""
    from functools import cache

    from app.services import accounts

    with pytest.MonkeyPatch.context() as patch:
        for name in ("generate_password_hash", "check_password_hash"):
            if hasattr(accounts, name):
                patch.setattr(accounts, name, cache(getattr(accounts, name)))
        yield


@pytest.fixture(scope="session")
def memoized_url_builders():
    """Compile each URL rule's builder once per run instead of once per `create_app`.

    Werkzeug turns every rule into a Python function (an AST, then `compile`) when the rule is added: about 0.1 s of
    CPU per `create_app` for the portal's ~90 routes, paid by every test. The function depends only on the rule's
    text, domain and defaults, and takes the rule itself as its first argument (bound afterwards), so the same
    function serves every app's copy of the rule; the test's own app still gets its own rules, map and converters.
    Processes that tests start (gunicorn, `flask` commands) compile theirs as usual."""
    from werkzeug.routing import Rule

    compile_builder = Rule._compile_builder
    builders: dict[tuple, Callable] = {}

    def memoized(rule: Rule, append_unknown: bool = True) -> Callable:
        assert rule.map is not None
        domain = rule.host if rule.map.host_matching else rule.subdomain
        defaults = tuple((name, repr(value)) for name, value in (rule.defaults or {}).items())
        key = (rule.rule, rule.map.host_matching, domain, rule.merge_slashes, defaults, append_unknown)
        if key not in builders:
            builders[key] = compile_builder(rule, append_unknown)
        return builders[key]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Rule, "_compile_builder", memoized)
        yield


@pytest.fixture(scope="session")
def memoized_storage_clients():
    """One `Storage` (one boto3 client) per store settings for the whole run instead of one per app and wipe.

    Building a boto3 client costs about 10 ms of CPU, more than most tests spend talking to the store. A `Storage`
    holds nothing but its bucket and client, which is thread-safe, and the same settings give the same client; the
    key holds every setting `from_config` reads. Processes that tests start build their own."""
    from app.storage import Storage

    build = Storage.from_config.__func__  # type: ignore[attr-defined]
    stores: dict[tuple, Storage] = {}
    names = (
        "S3_ENDPOINT_URL",
        "S3_BUCKET",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "S3_REGION",
        "S3_MAX_ATTEMPTS",
    )

    def memoized(cls, cfg) -> Storage:
        get = cfg.get if hasattr(cfg, "get") else lambda name: getattr(cfg, name, None)
        key = (cls, *(get(name) for name in names))
        if key not in stores:
            stores[key] = build(cls, cfg)
        return stores[key]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Storage, "from_config", classmethod(memoized))
        yield


@pytest.fixture(scope="session")
def shared_template_bytecode():
    """Compile each template once per run instead of once per `create_app`.

    Every test's app has its own Jinja environment, which lexes, parses and compiles each template it renders: about
    a fifth of the tests' own CPU (cProfile of tests/security). Jinja's bytecode cache keeps the compiled code keyed by
    the template's name and checked against a hash of its source; every app here comes from the same `create_app`,
    so the code compiled for one fits all. Processes that tests start (gunicorn, `flask` commands) compile theirs."""
    from jinja2 import BytecodeCache

    class InMemory(BytecodeCache):
        def __init__(self) -> None:
            self.code: dict[str, bytes] = {}

        def load_bytecode(self, bucket) -> None:
            if bucket.key in self.code:
                bucket.bytecode_from_string(self.code[bucket.key])

        def dump_bytecode(self, bucket) -> None:
            self.code[bucket.key] = bucket.bytecode_to_string()

    return InMemory()


@pytest.fixture
def app(request, memoized_password_hashing, memoized_url_builders, memoized_storage_clients, shared_template_bytecode):
    """The portal on this run's services; for a test marked `database_only`, on the database alone."""
    from app import create_app

    # A test that asks for `services` gets them, even in a module marked database_only.
    marked = request.node.get_closest_marker("database_only") is not None
    database_only = marked and "services" not in request.fixturenames
    if database_only:
        # Login throttling counts in Redis; these tests log in without one (throttling has its own tests/security).
        config = {**request.getfixturevalue("database"), **NOWHERE, "RATELIMIT_ENABLED": False}
    else:
        config = request.getfixturevalue("services")
    if "smtp" in request.fixturenames:  # mail on: sent to this test's own SMTP server, links under PUBLIC_URL
        config = {**config, "SMTP_URL": request.getfixturevalue("smtp").url, "PUBLIC_URL": SMTP_TEST_PUBLIC_URL}
    application = create_app({"TESTING": True, **config})
    application.test_client_class = IsolatedClient
    application.jinja_env.bytecode_cache = shared_template_bytecode
    yield application
    _wipe(application, services=not database_only)


def _wipe(application, *, services: bool) -> None:
    """Empty every table, the queue and the bucket, unfinished multipart uploads included: a fresh state for the next
    test."""
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
    if not services:
        return
    from app.queue import connect
    from app.storage import Storage

    connect(application.config["REDIS_URL"]).flushdb()
    wipe_bucket(Storage.from_config(application.config))


def wipe_bucket(store) -> None:
    """Abort every unfinished multipart upload and delete every object of store's bucket."""
    for upload in store.multipart_uploads():
        store.abort_multipart(upload["Key"], upload["UploadId"])
    keys = store.keys()
    for i in range(0, len(keys), 1000):
        store.client.delete_objects(Bucket=store.bucket, Delete={"Objects": [{"Key": k} for k in keys[i : i + 1000]]})
    left = store.multipart_uploads()
    assert not left, f"multipart uploads survived the wipe: {left}"


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
        data.setdefault("csrf_token", self.token("/login"))  # anonymous pages carry no token (cacheable)
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


SMTP_TEST_PUBLIC_URL = "http://portal.test"


class SmtpServer:
    """A real SMTP server (aiosmtpd) on a free port that keeps what it receives; it can be stopped and started
    again on the same port (the SMTP server is down, then back)."""

    def __init__(self, port: int) -> None:
        from devtools.mailsink import MailSink

        self.port = port
        self.url = f"smtp://127.0.0.1:{port}"
        self.sink = MailSink()
        self.controller = None

    def start(self) -> None:
        from aiosmtpd.controller import Controller

        self.controller = Controller(self.sink, hostname="127.0.0.1", port=self.port, ready_timeout=30)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    @property
    def messages(self):
        return list(self.sink.messages)

    def to(self, address: str):
        return self.sink.to(address)


@pytest.fixture
def smtp(monkeypatch):
    """This test's SMTP server, running. SMTP_URL points at it and PUBLIC_URL is set, in the `app` fixture's config
    and in the environment (send jobs, in this process or in a worker process, read their settings from it)."""
    from devtools.services import free_port

    server = SmtpServer(free_port())
    monkeypatch.setenv("SMTP_URL", server.url)
    monkeypatch.setenv("PUBLIC_URL", SMTP_TEST_PUBLIC_URL)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def deliver_mail(app):
    """Run the mail queue's jobs in this process with a real RQ worker on the real Redis; returns the job count."""
    from rq import SimpleWorker

    from app.mailer import mail_queue
    from app.queue import connect

    def run() -> int:
        queue = mail_queue(app.config)
        before = queue.count
        SimpleWorker([queue], connection=connect(app.config["REDIS_URL"])).work(burst=True, logging_level="WARNING")
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
    """Generate a test clip with lavfi sources (no binaries in the repository): the demo's synthetic-clip command."""
    from app.demo_clips import make_synthetic_clip

    return make_synthetic_clip(path, size=size, seconds=duration, rate=rate, tone_hz=440 if audio else None)


DEMO_PUBLIC_URL = "http://127.0.0.1:5000"


@pytest.fixture(scope="session")
def published_demo(services, tmp_path_factory):
    """`flask --app wsgi demo seed --published` (12 real transcodes, judging, publication, certificates) run once per
    run (per xdist worker), into a database and a bucket of its own; `published_demo.restore()` copies it into the
    test's empty database and bucket, so that each test starts from the same fresh copy and changes only its own.

    Tests that use it share the xdist_group "published-demo", so the seed runs once in the whole run."""
    url = services["DATABASE_URL"]
    if url.startswith("postgresql"):
        from sqlalchemy.engine import make_url

        parsed = make_url(url)
        url = parsed.set(database=f"{parsed.database}_demo").render_as_string(hide_password=False)
        _create_postgres_database(url)
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('published-demo') / 'demo.sqlite3'}"
    migrate(url)
    bucket = f"{services['S3_BUCKET']}-demo"
    env = {**os.environ, "DATABASE_URL": url, "S3_BUCKET": bucket, "PUBLIC_URL": DEMO_PUBLIC_URL}
    env.pop("SMTP_URL", None)  # mail stays in the outbox, as in a test without the smtp fixture
    from app.storage import Storage
    from config import Config

    with _environment({"S3_BUCKET": bucket}):
        template_store = Storage.from_config(Config())
    template_store.ensure_bucket()
    seeded = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "demo", "seed", "--published"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert seeded.returncode == 0, seeded.stderr[-4000:]
    yield PublishedDemo(output=json.loads(seeded.stdout), database_url=url, store=template_store)
    wipe_bucket(template_store)


class PublishedDemo:
    """The seeded demo (`output`: what the command printed) and a way to copy it into the running test's state."""

    def __init__(self, *, output: dict, database_url: str, store) -> None:
        self.output, self.database_url, self.store = output, database_url, store

    def restore(self, app) -> None:
        """Copy every row into app's (empty) database and every object into its bucket, ids and keys unchanged."""
        from sqlalchemy import insert, select, text

        from app import db
        from app.db import make_engine
        from app.models import Base
        from app.storage import Storage

        source = make_engine(self.database_url)
        target = db.engine()
        postgres = target.dialect.name == "postgresql"
        try:
            with source.connect() as read, target.begin() as write:
                # The rows go in table order, but entry and clip refer to each other: SQLite checks the foreign keys
                # at commit; PostgreSQL skips them (the rows come from a database that checked them).
                defer = "SET session_replication_role = replica" if postgres else "PRAGMA defer_foreign_keys=ON"
                write.execute(text(defer))
                for table in Base.metadata.sorted_tables:
                    rows = [dict(row) for row in read.execute(select(table)).mappings()]
                    if rows:
                        write.execute(insert(table), rows)
                if postgres:
                    write.execute(text("SET session_replication_role = DEFAULT"))
                    for table in Base.metadata.sorted_tables:
                        if "id" in table.c and table.c.id.autoincrement in (True, "auto"):
                            write.execute(
                                text(
                                    f"SELECT setval(pg_get_serial_sequence('\"{table.name}\"', 'id'), "
                                    f'COALESCE(MAX(id), 1), MAX(id) IS NOT NULL) FROM "{table.name}"'
                                )
                            )
        finally:
            source.dispose()
        store = Storage.from_config(app.config)
        keys = self.store.keys()
        for key in keys:
            store.client.copy_object(Bucket=store.bucket, Key=key, CopySource={"Bucket": self.store.bucket, "Key": key})
