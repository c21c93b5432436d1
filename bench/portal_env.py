"""What the benches that run a real portal share: a private Redis and `rclone serve s3`, and this process's environment
pointed at them and at a fresh, migrated SQLite database (the gunicorn portals they start inherit it)."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from devtools.services import start_redis, start_s3, stop_processes

ROOT = Path(__file__).resolve().parents[1]
ACCESS_KEY = "bench-access-key"
SECRET_KEY = "bench-secret-key-123"


@contextlib.contextmanager
def scratch(prefix: str, parent: str | None) -> Iterator[tuple[Path, list[subprocess.Popen], list[IO[bytes]]]]:
    """A scratch directory, and the lists of the processes and log files a bench starts: on the way out, the processes
    are stopped, the logs closed and the directory removed."""
    tmp = Path(tempfile.mkdtemp(prefix=prefix, dir=parent))
    procs: list[subprocess.Popen] = []
    logs: list[IO[bytes]] = []
    try:
        yield tmp, procs, logs
    finally:
        stop_processes(procs, timeout=15)
        for log in logs:
            log.close()
        shutil.rmtree(tmp, ignore_errors=True)


def start_portal_services(
    tmp: Path, procs: list[subprocess.Popen], *, allow_origin: str | None = None, **extra_env: str
) -> dict[str, str]:
    """Start Redis and the S3 store with their data under tmp (their processes are added to procs), set the portal's
    environment (plus extra_env) in os.environ, and migrate the database; returns the variables set."""
    redis_proc, redis_url = start_redis(tmp / "redis")
    procs.append(redis_proc)
    s3_proc, s3_url = start_s3(tmp / "s3", ACCESS_KEY, SECRET_KEY, allow_origin=allow_origin)
    procs.append(s3_proc)
    env = {
        "REDIS_URL": redis_url,
        "S3_ENDPOINT_URL": s3_url,
        "AWS_ACCESS_KEY_ID": ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
        "S3_BUCKET": "bench",
        "SECRET_KEY": "bench-secret-key-for-this-run-only-0123456789",
        "DATABASE_URL": f"sqlite:///{tmp / 'portal.sqlite3'}",
        "RQ_QUEUE": "bench",
        **extra_env,
    }
    os.environ.update(env)
    subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"], cwd=ROOT, check=True, capture_output=True
    )
    return env
