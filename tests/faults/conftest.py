"""Fixtures for fault injection: private Redis, S3 and PostgreSQL servers that a test stops and starts again.

The suite's own Redis and rclone serve every test of an xdist worker; stopping them would break the tests that run
next on it. Tests here get private instances instead (`outage`), on their own ports and data directories, and the
`app` fixture below points the portal (and the environment, for the worker processes a test starts) at them.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import ROOT, IsolatedClient, _environment, _wipe

S3_KEY, S3_SECRET = "fault-access-key", "fault-secret-key-123"


@dataclass
class Restartable:
    """A server of ours on a fixed port and data directory: stop() it, start() it again, as an operator would."""

    name: str
    launch: Callable[[int], subprocess.Popen]
    port: int
    proc: subprocess.Popen | None = None

    def start(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            return
        last: Exception | None = None
        for _ in range(20):  # the port was ours a moment ago; a TIME_WAIT or a slow exit may hold it briefly
            try:
                self.proc = self.launch(self.port)
                return
            except Exception as exc:  # noqa: BLE001 - retried, then reported
                last = exc
                time.sleep(0.5)
        raise RuntimeError(f"{self.name} did not start again on port {self.port}: {last}")

    def stop(self) -> None:
        """SIGTERM (Redis saves its data first), then wait for the process to be gone."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


@dataclass
class Outage:
    """The private servers of one test, and the environment that points at them."""

    redis: Restartable
    s3: Restartable
    env: dict[str, str]


@pytest.fixture
def outage(database, tmp_path) -> Iterator[Outage]:
    """Private redis-server and rclone serve s3 for this test, stopped at its end."""
    from devtools.services import start_redis, start_s3

    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    redis_proc, redis_url = start_redis(tmp_path / "redis")
    s3_proc, s3_url = start_s3(tmp_path / "s3", S3_KEY, S3_SECRET, allow_origin="*")
    redis = Restartable("redis-server", lambda port: start_redis(tmp_path / "redis", port)[0], _port(redis_url))
    s3 = Restartable(
        "rclone serve s3", lambda port: start_s3(tmp_path / "s3", S3_KEY, S3_SECRET, port)[0], _port(s3_url)
    )
    redis.proc, s3.proc = redis_proc, s3_proc
    env = {
        **database,
        "REDIS_URL": redis_url,
        "S3_ENDPOINT_URL": s3_url,
        "AWS_ACCESS_KEY_ID": S3_KEY,
        "AWS_SECRET_ACCESS_KEY": S3_SECRET,
        "S3_BUCKET": f"fault-clips-{worker or 'main'}",
        "RQ_QUEUE": f"fault-clips-{worker or 'main'}",
        # Fast enough for tests: the first retry after 1 s, sweeps every second, two tries per store request.
        "CLIP_RETRY_BASE_SECONDS": "1",
        "CLIP_RETRY_MAX_SECONDS": "2",
        "SWEEP_INTERVAL_SECONDS": "1",
        "S3_MAX_ATTEMPTS": "2",
    }
    try:
        yield Outage(redis=redis, s3=s3, env=env)
    finally:
        redis.stop()
        s3.stop()


def _port(url: str) -> int:
    return int(url.rsplit(":", 1)[1].split("/")[0])


@pytest.fixture
def app(outage, memoized_password_hashing, memoized_url_builders):
    """The portal on this test's private servers (the environment too, for the processes the test starts)."""
    from app import create_app
    from app.storage import Storage

    with _environment(outage.env):
        application = create_app({"TESTING": True, **outage.env})
        application.test_client_class = IsolatedClient
        Storage.from_config(application.config).ensure_bucket()
        yield application
        outage.redis.start()  # a test that failed half-way may have left them stopped
        outage.s3.start()
        _wipe(application, services=True)


def start_worker(log_path: Path, env: dict[str, str] | None = None) -> subprocess.Popen:
    """A long-running `flask --app wsgi worker`, as deployed, with its output in log_path."""
    log = open(log_path, "wb")  # noqa: SIM115 - the worker process owns it
    return subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "wsgi", "worker"],
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def stop_worker(proc: subprocess.Popen) -> None:
    """Stop a worker and its work-horse (two SIGTERMs: RQ's "stop now"), then make sure the group is gone."""
    from devtools.services import stop_processes

    stop_processes([proc], timeout=30, again_after=2)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)


# --- a private PostgreSQL server (initdb + pg_ctl on a free port) -------------------------------------------------


def postgres_bin(program: str) -> str | None:
    """The path of a PostgreSQL server program (Debian keeps them out of PATH, under /usr/lib/postgresql/N/bin)."""
    found = shutil.which(program)
    if found:
        return found
    versions = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{program}"), key=lambda p: int(p.parts[-3]))
    return str(versions[-1]) if versions else None


@dataclass
class PrivatePostgres:
    """A PostgreSQL cluster of our own: `url(db)` to reach it, stop()/start() to inject a restart."""

    data_dir: Path
    port: int
    as_user: list[str]

    def _ctl(self, *args: str) -> None:
        pg_ctl = postgres_bin("pg_ctl")
        assert pg_ctl
        subprocess.run(
            [*self.as_user, pg_ctl, "-D", str(self.data_dir), "-w", "-t", "120", *args],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
        )

    def running(self) -> bool:
        pg_ctl = postgres_bin("pg_ctl")
        assert pg_ctl
        done = subprocess.run([*self.as_user, pg_ctl, "-D", str(self.data_dir), "status"], capture_output=True)
        return done.returncode == 0

    def start(self) -> None:
        if self.running():
            return
        opts = f"-p {self.port} -k {self.data_dir} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._ctl("-l", str(self.data_dir / "server.log"), "-o", opts, "start")

    def stop(self) -> None:
        self._ctl("-m", "fast", "stop")

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        """Create an empty database; returns its URL."""
        from sqlalchemy import create_engine, text

        engine = create_engine(
            self.url().replace("postgresql://", "postgresql+psycopg://"), isolation_level="AUTOCOMMIT"
        )
        with engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        engine.dispose()
        return self.url(name)


@pytest.fixture(scope="session")
def private_postgres() -> Iterator[PrivatePostgres]:
    """initdb a throw-away cluster on a free port, start it, and remove it afterwards."""
    from devtools.services import free_port

    initdb = postgres_bin("initdb")
    if initdb is None:
        pytest.fail("initdb not found: run `make setup` (it installs the postgresql package)")
    root = os.geteuid() == 0
    # The server refuses to run as root: then it runs as the postgres account, in a directory that account owns.
    as_user = ["runuser", "-u", "postgres", "--"] if root else []
    base = Path(tempfile.mkdtemp(prefix="faults-pg-"))
    data_dir = base / "data"
    if root:
        shutil.chown(base, "postgres")
    subprocess.run(
        [*as_user, initdb, "-D", str(data_dir), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"],
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    server = PrivatePostgres(data_dir=data_dir, port=free_port(), as_user=as_user)
    server.start()
    try:
        yield server
    finally:
        with contextlib.suppress(subprocess.CalledProcessError):
            server.stop()
        shutil.rmtree(base, ignore_errors=True)
