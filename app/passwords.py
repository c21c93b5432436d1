"""Password strength, hashing and verification (one place for the cost, the dummy hash and the rehash rule)."""

from __future__ import annotations

import functools
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from flask_babel import lazy_gettext as _l
from werkzeug.security import check_password_hash, generate_password_hash
from zxcvbn import zxcvbn

from app.services import PortalError

MIN_LENGTH = 10
MIN_SCORE = 3  # zxcvbn: 3 = "safely unguessable: moderate protection from offline slow-hash scenario"
DEFAULT_SCRYPT_N = 2**17  # OWASP; measured here: 0.35 s and 128 MiB per hash

_scrypt_n = DEFAULT_SCRYPT_N

DEFAULT_CONCURRENCY = 2  # hashes at once per process (LOGIN_HASH_CONCURRENCY)
DEFAULT_WAIT_SECONDS = 2.0  # the longest wait for a free slot before refusing (LOGIN_HASH_WAIT_SECONDS)
RETRY_AFTER_SECONDS = 5  # what a refused request is told (Retry-After)

# The demo logins' password is published (README, `make run`). It is accepted only for the accounts that `demo seed`
# creates, which all use the reserved domain below; nobody can set it on any other account, nor log in with it there.
DEMO_PASSWORD = "demo-pass-2026"  # noqa: S105 - published on purpose, see above
DEMO_EMAIL_DOMAIN = "@demo.vn"


def is_demo_account(email: str) -> bool:
    """True for an account of the seeded demo data (the reserved e-mail domain)."""
    return email.strip().lower().endswith(DEMO_EMAIL_DOMAIN)


def configure(scrypt_n: int) -> None:
    """Set the cost of new hashes (create_app passes PASSWORD_SCRYPT_N; the test suite lowers it)."""
    global _scrypt_n
    if scrypt_n < 2 or scrypt_n & (scrypt_n - 1):
        raise ValueError(f"PASSWORD_SCRYPT_N must be a power of two, not {scrypt_n}")
    _scrypt_n = scrypt_n


def method() -> str:
    """The werkzeug hash method for new hashes."""
    return f"scrypt:{_scrypt_n}:8:1"


def strength_problem(password: str, *, user_inputs: tuple[str, ...] = ()) -> str | None:
    """Why the password is too weak (a translated sentence), or None when it is acceptable."""
    if password == DEMO_PASSWORD:
        return str(_l("This password is published with the demo data. Choose another one."))
    if len(password) < MIN_LENGTH:
        return str(_l("The password must have at least %(count)d characters.", count=MIN_LENGTH))
    # zxcvbn is slow on very long inputs and gains nothing past 100 characters.
    if zxcvbn(password[:100], user_inputs=[s for s in user_inputs if s])["score"] < MIN_SCORE:
        return str(
            _l(
                "This password is too easy to guess: it is made of common words, names, dates, keyboard patterns, "
                "sequences or repeats, or of your own name or e-mail. Use a phrase of several unrelated words."
            )
        )
    return None


class HashingBusy(PortalError):
    """Every password-hashing slot of this process stayed taken for longer than the wait allows: answer 503 with
    `Retry-After: RETRY_AFTER_SECONDS` and keep the form, do not queue more."""

    def __init__(self) -> None:
        super().__init__(
            _l("Many people are logging in at this moment. Please wait a few seconds and try again."), field=None
        )


class _Slots:
    """At most `size` password hashes at once in this process, a caller waiting at most `wait` seconds for a slot.

    scrypt at the production cost takes a few hundred CPU milliseconds and 128 MiB, and releases the GIL: without a
    bound, a wave of logins runs one hash per server thread (16 per node with `-w 4 --threads 4`), and page views
    queue behind them. With it, the other threads stay free for pages, and a login that cannot get a slot soon is
    told to come back (503) instead of holding a thread."""

    def __init__(self, size: int, wait: float) -> None:
        if size < 1:
            raise ValueError(f"LOGIN_HASH_CONCURRENCY must be at least 1, not {size}")
        if wait < 0:
            raise ValueError(f"LOGIN_HASH_WAIT_SECONDS must not be negative, not {wait}")
        self.size, self.wait = size, wait
        self.semaphore = threading.BoundedSemaphore(size)

    @contextmanager
    def slot(self) -> Iterator[None]:
        if not self.semaphore.acquire(timeout=self.wait):
            raise HashingBusy()
        try:
            yield
        finally:
            self.semaphore.release()


_slots = _Slots(DEFAULT_CONCURRENCY, DEFAULT_WAIT_SECONDS)


def configure_concurrency(size: int, wait: float) -> None:
    """Set the number of hashes at once and the longest wait for a slot (create_app passes LOGIN_HASH_CONCURRENCY and
    LOGIN_HASH_WAIT_SECONDS). The same values keep the slots as they are, held ones included."""
    global _slots
    if (size, wait) != (_slots.size, _slots.wait):
        _slots = _Slots(size, wait)


def hashing_slots() -> threading.BoundedSemaphore:
    """This process's hashing slots (tests hold them all to see a login refused)."""
    return _slots.semaphore


def hash_password(password: str) -> str:
    """A salted scrypt hash at the configured cost (in a hashing slot; HashingBusy when none comes free in time)."""
    with _slots.slot():
        return generate_password_hash(password, method=method())


@functools.cache
def _dummy_hash(hash_method: str) -> str:
    return generate_password_hash(secrets.token_urlsafe(16), method=hash_method)


def verify(password_hash: str | None, password: str) -> bool:
    """Check password against password_hash; with no hash (unknown account) spend the same time on a dummy one.

    In a hashing slot, as `hash_password`: HashingBusy when none comes free in time, for known and unknown accounts
    alike (the refusal reveals nothing)."""
    with _slots.slot():
        if not password_hash:
            check_password_hash(_dummy_hash(method()), password)
            return False
        return check_password_hash(password_hash, password)


def needs_rehash(password_hash: str) -> bool:
    """True when the hash was made with another method or cost than new hashes get."""
    return password_hash.split("$", 1)[0] != method()
