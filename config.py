"""Settings, read only from environment variables (12-factor).

Every setting has a default that suits the embedded single-machine mode (`make run`):
SQLite in ./var, and the Redis and S3 servers that `devtools/services.py` starts.
"""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path
from typing import overload
from urllib.parse import urlsplit

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


class ConfigError(Exception):
    """A setting is missing or unsafe; the entry points print the message on one line and exit with status 2."""


MIN_SECRET_KEY_CHARS = 32
# The embedded S3 server's credentials (devtools/services.py): fine on this machine, refused for any other store.
DEFAULT_S3_ACCESS_KEY = "portal-access-key"
DEFAULT_S3_SECRET_KEY = "portal-secret-key-change-me"  # noqa: S105 - only accepted for a loopback endpoint
SECRET_KEY_HOWTO = (
    "SECRET_KEY must be set (at least 32 characters), or SECRET_KEY_FILE must name a file holding it; make one with: "
    "python3 -c 'import secrets; print(secrets.token_urlsafe(48))' > var/secret_key && chmod 600 var/secret_key"
)


def _secret_key() -> str | None:
    """SECRET_KEY, else the contents of the file SECRET_KEY_FILE names; never a built-in default."""
    key = os.environ.get("SECRET_KEY")
    if key:
        return key
    path = os.environ.get("SECRET_KEY_FILE")
    if path:
        try:
            return Path(path).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ConfigError(f"SECRET_KEY_FILE {path} cannot be read ({exc.strerror}). {SECRET_KEY_HOWTO}") from exc
    return None


def is_loopback_url(url: str | None) -> bool:
    """True when url points at this machine (127.0.0.0/8, ::1, localhost); None (AWS) is not."""
    host = urlsplit(url).hostname if url else None
    if not host:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check(config: dict) -> None:
    """Refuse to run with a missing or short secret key, an SMTP_URL that is not one, or with the embedded store's
    credentials on a real store."""
    key = config.get("SECRET_KEY")
    if not key or len(str(key)) < MIN_SECRET_KEY_CHARS:
        state = "is not set" if not key else f"has only {len(str(key))} characters"
        raise ConfigError(f"SECRET_KEY {state}. {SECRET_KEY_HOWTO}")
    defaults = (
        config.get("AWS_ACCESS_KEY_ID") == DEFAULT_S3_ACCESS_KEY
        or config.get("AWS_SECRET_ACCESS_KEY") == DEFAULT_S3_SECRET_KEY
    )
    smtp_url = config.get("SMTP_URL")
    if smtp_url:
        parts = urlsplit(smtp_url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ConfigError(
                "SMTP_URL must look like smtp://user:pass@host:587?starttls=1, smtps://user:pass@host:465 or "
                "smtp://host:25"
            )
    if int(config.get("LOGIN_HASH_CONCURRENCY", 1)) < 1:
        raise ConfigError("LOGIN_HASH_CONCURRENCY must be at least 1 (password hashes at once per web process)")
    if float(config.get("LOGIN_HASH_WAIT_SECONDS", 0)) < 0:
        raise ConfigError("LOGIN_HASH_WAIT_SECONDS must not be negative")
    if not 0 <= int(config.get("LOGIN_HASH_NICE", 0)) <= 19:
        raise ConfigError(
            "LOGIN_HASH_NICE must be from 0 (off) to 19 (added to the password-hashing threads' nice value)"
        )
    if defaults and not is_loopback_url(config.get("S3_ENDPOINT_URL")):
        store = config.get("S3_ENDPOINT_URL") or "AWS S3"
        raise ConfigError(
            f"AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY are the embedded store's defaults, refused for {store}: "
            "set the store's own credentials"
        )


class Config:
    """Configuration for one web node or worker; instantiate after the environment is final."""

    def __init__(self) -> None:
        # No default: create_app refuses to start without a key of at least 32 characters (config.check).
        self.SECRET_KEY = _secret_key()
        self.DATABASE_URL = _env("DATABASE_URL", f"sqlite:///{VAR_DIR / 'portal.sqlite3'}")
        self.REDIS_URL = _env("REDIS_URL", "redis://127.0.0.1:6390/0")
        # Unset: the embedded server; set but empty: AWS S3 itself (boto3's own endpoint for S3_REGION).
        self.S3_ENDPOINT_URL = os.environ.get("S3_ENDPOINT_URL", "http://127.0.0.1:9390") or None
        self.S3_BUCKET = _env("S3_BUCKET", "clip-portal")
        self.S3_REGION = _env("S3_REGION", "us-east-1")
        self.AWS_ACCESS_KEY_ID = _env("AWS_ACCESS_KEY_ID", DEFAULT_S3_ACCESS_KEY)
        self.AWS_SECRET_ACCESS_KEY = _env("AWS_SECRET_ACCESS_KEY", DEFAULT_S3_SECRET_KEY)
        # Tries per store request before an error reaches the caller (botocore's standard retry mode, with backoff).
        self.S3_MAX_ATTEMPTS = _int("S3_MAX_ATTEMPTS", 5)
        self.RQ_QUEUE = _env("RQ_QUEUE", "clips")
        # A `processing` clip whose job has not sent a heartbeat for this long has lost its worker; sweepers requeue it.
        self.CLIP_STALE_SECONDS = _int("CLIP_STALE_SECONDS", 180)
        # How often each worker looks for stuck clips and for retries that are due.
        self.SWEEP_INTERVAL_SECONDS = _int("SWEEP_INTERVAL_SECONDS", 60)
        # After an infrastructure error (store, database or queue unreachable, timeouts, no disk space) a clip goes back
        # to `queued` and is retried with backoff: the first wait is CLIP_RETRY_BASE_SECONDS, each next one doubles, up
        # to CLIP_RETRY_MAX_SECONDS; after CLIP_RETRY_HOURS of such errors it becomes `failed` (organisers are told).
        self.CLIP_RETRY_BASE_SECONDS = float(_env("CLIP_RETRY_BASE_SECONDS", "30"))
        self.CLIP_RETRY_MAX_SECONDS = float(_env("CLIP_RETRY_MAX_SECONDS", "900"))
        self.CLIP_RETRY_HOURS = float(_env("CLIP_RETRY_HOURS", "24"))
        # Lifetime of an anonymous public page's rendered body in Redis (app/public/caching.py). Content changes make a
        # new cache key at once; this only bounds how long unused copies stay.
        self.PAGE_CACHE_SECONDS = _int("PAGE_CACHE_SECONDS", 600)
        # Seconds a web process may reuse a contest's content version for anonymous pages without asking the database
        # (0: ask on every request). A change made elsewhere (another node or worker process) shows up on this process's
        # anonymous pages at most this late; its own commits show at once. See docs/performance.md, "Public pages".
        self.PAGE_VERSION_SECONDS = float(_env("PAGE_VERSION_SECONDS", "1") or 0)
        # Lifetime of a round's computed results board in Redis (app/services/board.py); a changed sheet is a new key.
        self.BOARD_CACHE_SECONDS = _int("BOARD_CACHE_SECONDS", 86400)
        # Quick path: an H.264/AAC source whose video bitrate is at most this (bits/s) becomes the top rung by stream
        # copy instead of a re-encode. Unset: twice the top rung's cap (12 Mbit/s at 1080p30); 0: always re-encode.
        quick = _env("QUICK_MAX_BITRATE")
        self.QUICK_MAX_BITRATE: int | None = int(quick) if quick is not None else None
        # Threads per ffmpeg stage for the worker's transcodes; 0: ffmpeg's choice (about 1.5 per core).
        self.MEDIA_FFMPEG_THREADS = _int("MEDIA_FFMPEG_THREADS", 0)
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
        # The portal's absolute base URL as its users reach it (https://cuocthi.example.gov.vn), without a trailing
        # slash: every link that leaves the browser (mails, QR codes, og:url, certificate verification) starts with it.
        # `make run` sets it to its own address; see app/urls.py.
        self.PUBLIC_URL = (_env("PUBLIC_URL") or "").rstrip("/") or None
        # How authorised media bytes reach browsers (the permission check always stays in the portal):
        # `stream` through the web process; `redirect`: a 302 to a short-lived presigned GET at the store's public
        # address; `accel`: an `X-Accel-Redirect` to nginx's internal location MEDIA_ACCEL_PREFIX, which proxies to
        # the store (docs/deploy.md has the nginx configuration).
        self.MEDIA_DELIVERY = _env("MEDIA_DELIVERY", "stream")
        if self.MEDIA_DELIVERY not in ("stream", "redirect", "accel"):
            raise ValueError(f"MEDIA_DELIVERY must be stream, redirect or accel, not {self.MEDIA_DELIVERY!r}")
        # Lifetime of a presigned media URL (redirect and accel); players re-ask the portal when it has passed.
        self.MEDIA_URL_EXPIRES_SECONDS = _int("MEDIA_URL_EXPIRES_SECONDS", 600)
        self.MEDIA_ACCEL_PREFIX = "/" + _env("MEDIA_ACCEL_PREFIX", "/_store").strip("/")
        # Outgoing mail (app/services/mail.py, app/mailer.py). Unset SMTP_URL: messages are written to the outbox and
        # shown as not sent. smtp://user:pass@host:587?starttls=1, smtps://user:pass@host:465, smtp://host:25.
        self.SMTP_URL = _env("SMTP_URL")
        self.MAIL_FROM = _env("MAIL_FROM", "Cổng cuộc thi video <no-reply@localhost>")
        # The RQ queue of the send jobs: a worker of its own (`flask worker --queue mail`) keeps mail off transcodes.
        self.MAIL_QUEUE = _env("MAIL_QUEUE", "mail")
        # Seconds an SMTP connection may take to answer before the attempt counts as failed (and is retried).
        self.SMTP_TIMEOUT_SECONDS = _int("SMTP_TIMEOUT_SECONDS", 30)
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
        # Failed logins one address may make per 15 minutes, over all accounts (app/auth/throttle.py).
        self.LOGIN_IP_FAILURES = _int("LOGIN_IP_FAILURES", 100)
        # Reverse proxies in front of the web nodes (nginx: 1). The client address (login throttling, audit) is then
        # taken from that many X-Forwarded-For entries; 0 trusts no such header.
        self.PROXY_HOPS = _int("PROXY_HOPS", 0)
        # scrypt cost N for new password hashes (2^17 = OWASP: 0.35 s and 128 MiB each); older hashes are rehashed at
        # the next login. The test suite lowers it.
        self.PASSWORD_SCRYPT_N = _int("PASSWORD_SCRYPT_N", 2**17)
        # Password hashes (logins, password changes and resets) at once per web process, as many requests more may
        # wait for one, and the longest wait for a free slot before the request is answered 503 with Retry-After
        # (app/passwords.py): a wave of logins must not take every server thread from the page views (1: at most 2
        # of gunicorn's 4 threads per process; docs/performance.md, "Load scenarios").
        self.LOGIN_HASH_CONCURRENCY = _int("LOGIN_HASH_CONCURRENCY", 1)
        self.LOGIN_HASH_WAIT_SECONDS = float(_env("LOGIN_HASH_WAIT_SECONDS", "2"))
        # The hashes run on dedicated threads whose nice value is this much higher than the process's (Linux), so that
        # page views get the cores first during a wave of logins; 0 leaves them at the page threads' priority.
        self.LOGIN_HASH_NICE = _int("LOGIN_HASH_NICE", 10)
        # A login session ends this many hours after the login, whatever the activity (a working day and some: an
        # upload that started late still finishes); expired rows are deleted at the next login of anyone.
        self.LOGIN_SESSION_HOURS = float(_env("LOGIN_SESSION_HOURS", "12"))
        self.TESTING = False

    def as_dict(self) -> dict:
        """Return the settings as a plain dict for `app.config.update`."""
        return {k: v for k, v in vars(self).items() if k.isupper()}
