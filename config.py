"""Settings, read only from environment variables (12-factor).

Every setting has a default that suits the embedded single-machine mode (`make run`):
SQLite in ./var, and the Redis and S3 servers that `devtools/services.py` starts.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import overload

BASE_DIR = Path(__file__).resolve().parent
VAR_DIR = Path(os.environ.get("PORTAL_VAR_DIR", BASE_DIR / "var"))


@overload
def _env(name: str, default: str) -> str: ...
@overload
def _env(name: str, default: None = None) -> str | None: ...
def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def _int(name: str, default: int) -> int:
    return int(_env(name, str(default)))


class Config:
    """Configuration for one web node or worker; instantiate after the environment is final."""

    def __init__(self) -> None:
        self.SECRET_KEY = _env("SECRET_KEY", "dev-only-change-me")
        self.DATABASE_URL = _env("DATABASE_URL", f"sqlite:///{VAR_DIR / 'portal.sqlite3'}")
        self.REDIS_URL = _env("REDIS_URL", "redis://127.0.0.1:6390/0")
        self.S3_ENDPOINT_URL = _env("S3_ENDPOINT_URL", "http://127.0.0.1:9390")
        self.S3_BUCKET = _env("S3_BUCKET", "clip-portal")
        self.S3_REGION = _env("S3_REGION", "us-east-1")
        self.AWS_ACCESS_KEY_ID = _env("AWS_ACCESS_KEY_ID", "portal-access-key")
        self.AWS_SECRET_ACCESS_KEY = _env("AWS_SECRET_ACCESS_KEY", "portal-secret-key-change-me")
        self.RQ_QUEUE = _env("RQ_QUEUE", "clips")
        # A `processing` clip whose job has not sent a heartbeat for this long has lost its worker; sweepers requeue it.
        self.CLIP_STALE_SECONDS = _int("CLIP_STALE_SECONDS", 180)
        # How often each worker looks for stuck clips.
        self.SWEEP_INTERVAL_SECONDS = _int("SWEEP_INTERVAL_SECONDS", 60)
        # Largest clip accepted by the plain upload form (bytes). Default 2 GiB.
        self.MAX_CONTENT_LENGTH = _int("MAX_UPLOAD_BYTES", 2 * 1024**3)
        # Resumable uploads (app/uploads). `direct`: browsers PUT each part to a presigned S3 URL and the bytes never
        # touch the web nodes; `proxy`: parts stream through the portal (for stores browsers cannot reach, or without
        # CORS). Direct is the embedded default because `rclone serve s3 --allow-origin` answers CORS preflights and
        # exposes the ETag header that the uploader needs (see docs/performance.md, "Uploads").
        self.UPLOAD_MODE = _env("UPLOAD_MODE", "direct")
        if self.UPLOAD_MODE not in ("direct", "proxy"):
            raise ValueError(f"UPLOAD_MODE must be direct or proxy, not {self.UPLOAD_MODE!r}")
        # The store's address as browsers see it, used to presign part URLs in direct mode (default: S3_ENDPOINT_URL).
        self.S3_PUBLIC_ENDPOINT_URL = _env("S3_PUBLIC_ENDPOINT_URL")
        # Preferred part size (at least 5 MiB; grown for files that would need more than 10,000 parts).
        self.UPLOAD_PART_BYTES = _int("UPLOAD_PART_BYTES", 8 * 1024**2)
        # Lifetime of a part URL (presigned or proxy token).
        self.UPLOAD_URL_EXPIRES_SECONDS = _int("UPLOAD_URL_EXPIRES_SECONDS", 3600)
        # Unfinished uploads older than this are aborted by `flask uploads sweep` and at each worker's start.
        self.UPLOAD_ABANDON_HOURS = float(_env("UPLOAD_ABANDON_HOURS", "24"))
        # Uploads one unit may have in progress at once (each entry has at most one).
        self.UPLOAD_MAX_PENDING_PER_UNIT = _int("UPLOAD_MAX_PENDING_PER_UNIT", 10)
        self.BABEL_DEFAULT_LOCALE = _env("DEFAULT_LOCALE", "vi")
        self.BABEL_DEFAULT_TIMEZONE = _env("DEFAULT_TIMEZONE", "Asia/Ho_Chi_Minh")
        self.LANGUAGES = ("vi", "en")
        self.WTF_CSRF_TIME_LIMIT = None
        self.SESSION_COOKIE_HTTPONLY = True
        self.SESSION_COOKIE_SAMESITE = "Lax"
        self.SESSION_COOKIE_SECURE = _env("SESSION_COOKIE_SECURE", "0") == "1"
        self.TESTING = False

    def as_dict(self) -> dict:
        """Return the settings as a plain dict for `app.config.update`."""
        return {k: v for k, v in vars(self).items() if k.isupper()}
