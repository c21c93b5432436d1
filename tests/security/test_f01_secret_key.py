"""Finding 1: no default SECRET_KEY; the key comes from the environment or a file; bad settings stop every entry."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from config import ConfigError

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
GOOD_KEY = "k" * 40


@pytest.fixture
def clean_env(monkeypatch):
    """An environment with no key at all, on the embedded (loopback) store defaults."""
    for name in ("SECRET_KEY", "SECRET_KEY_FILE", "S3_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def _env_without_key() -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "SECRET_KEY_FILE")}
    env["PYTHONUNBUFFERED"] = "1"
    return env


@pytest.mark.parametrize("key", [None, "", "short-key-of-31-characters-xxxx"])
def test_create_app_refuses_a_missing_empty_or_short_key(clean_env, key):
    """Finding 1: without a key, with an empty one or one under 32 characters, create_app raises ConfigError."""
    from app import create_app

    if key is not None:
        clean_env.setenv("SECRET_KEY", key)
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        create_app()


def test_key_is_read_from_secret_key_file(clean_env, tmp_path):
    """Finding 1: SECRET_KEY_FILE names a file holding the key."""
    from app import create_app

    path = tmp_path / "secret_key"
    path.write_text(GOOD_KEY + "\n")
    clean_env.setenv("SECRET_KEY_FILE", str(path))
    assert create_app().config["SECRET_KEY"] == GOOD_KEY
    clean_env.setenv("SECRET_KEY_FILE", str(tmp_path / "missing"))
    with pytest.raises(ConfigError, match="SECRET_KEY_FILE"):
        create_app()


def test_no_default_secret_left_in_the_code():
    """Finding 1: the old forgeable default is gone from every source file."""
    old_default = "dev-only-" + "change-me"
    files = subprocess.run(["git", "ls-files", "*.py"], cwd=ROOT, capture_output=True, text=True, check=True)
    hits = [name for name in files.stdout.split() if old_default in (ROOT / name).read_text(encoding="utf-8")]
    assert hits == []


@pytest.mark.parametrize("args", [["db", "upgrade"], ["worker", "--burst"]])
def test_flask_cli_and_worker_print_one_line_and_exit_2(args):
    """Finding 1: `flask --app wsgi ...` and the worker print one line naming SECRET_KEY, no traceback, status 2."""
    proc = subprocess.run(
        [str(BIN / "flask"), "--app", "wsgi", *args], cwd=ROOT, env=_env_without_key(), capture_output=True, text=True
    )
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "SECRET_KEY" in lines[0] and "secrets" in lines[0], proc.stderr
    assert "Traceback" not in proc.stderr


def test_gunicorn_without_key_exits_within_seconds():
    """Finding 1: a production-style `gunicorn wsgi:app` with no key stops at once with the message and status 2."""
    proc = subprocess.run(
        [str(BIN / "gunicorn"), "--bind", "127.0.0.1:0", "--no-control-socket", "wsgi:app"],
        cwd=ROOT,
        env=_env_without_key(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2, proc.stderr
    assert "SECRET_KEY" in proc.stderr and "Traceback" not in proc.stderr


def test_make_run_keeps_a_private_generated_key(tmp_path):
    """Finding 1: `make run` makes var/secret_key once (mode 0600, at least 32 characters) and reuses it."""
    from devtools.run import ensure_secret_key

    path = ensure_secret_key(tmp_path)
    key = path.read_text().strip()
    assert len(key) >= 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert ensure_secret_key(tmp_path).read_text().strip() == key


def test_default_store_credentials_refused_off_loopback(clean_env):
    """Finding 1: the embedded store's default credentials are refused unless S3_ENDPOINT_URL is a loopback address."""
    from app import create_app

    clean_env.setenv("SECRET_KEY", GOOD_KEY)
    assert create_app().config["S3_ENDPOINT_URL"] == "http://127.0.0.1:9390"
    for endpoint in ("http://[::1]:9000", "http://localhost:9000"):
        clean_env.setenv("S3_ENDPOINT_URL", endpoint)
        create_app()
    for endpoint in ("https://s3.example.com", "http://10.0.0.5:9000", ""):
        clean_env.setenv("S3_ENDPOINT_URL", endpoint)
        with pytest.raises(ConfigError, match="AWS_ACCESS_KEY_ID"):
            create_app()
    clean_env.setenv("AWS_ACCESS_KEY_ID", "real-access-key")
    clean_env.setenv("AWS_SECRET_ACCESS_KEY", "real-secret-key")
    clean_env.setenv("S3_ENDPOINT_URL", "https://s3.example.com")
    assert create_app().config["S3_ENDPOINT_URL"] == "https://s3.example.com"


def test_empty_s3_endpoint_means_aws(clean_env):
    """Finding 1: an empty S3_ENDPOINT_URL means AWS S3 (boto3's own endpoint), as the README says."""
    from app import create_app
    from app.storage import Storage

    clean_env.setenv("SECRET_KEY", GOOD_KEY)
    clean_env.setenv("AWS_ACCESS_KEY_ID", "real-access-key")
    clean_env.setenv("AWS_SECRET_ACCESS_KEY", "real-secret-key")
    clean_env.setenv("S3_ENDPOINT_URL", "")
    app = create_app()
    assert app.config["S3_ENDPOINT_URL"] is None
    assert "amazonaws.com" in Storage.from_config(app.config).client.meta.endpoint_url
