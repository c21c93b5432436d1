"""Password strength, hashing and verification (one place for the cost, the dummy hash and the rehash rule)."""

from __future__ import annotations

import functools
import logging
import os
import secrets
import sys
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import TypeVar

from flask_babel import lazy_gettext as _l
from werkzeug.security import check_password_hash, generate_password_hash
from zxcvbn import zxcvbn

from app.services import PortalError

log = logging.getLogger(__name__)
T = TypeVar("T")

MIN_LENGTH = 10
MIN_SCORE = 3  # zxcvbn: 3 = "safely unguessable: moderate protection from offline slow-hash scenario"
DEFAULT_SCRYPT_N = 2**17  # OWASP; measured here: 0.35 s and 128 MiB per hash

_scrypt_n = DEFAULT_SCRYPT_N

DEFAULT_CONCURRENCY = 1  # hashes at once per process, and requests waiting for one (LOGIN_HASH_CONCURRENCY)
DEFAULT_WAIT_SECONDS = 2.0  # the longest wait for a free slot before refusing (LOGIN_HASH_WAIT_SECONDS)
DEFAULT_NICE = 10  # added to the hashing threads' nice value (LOGIN_HASH_NICE; 0: as the page threads)
MAX_NICE = 19  # the lowest priority Linux has
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


def _lower_priority(nice: int) -> None:
    """Run by each hashing thread once, as it starts: add `nice` to its own nice value, at most up to MAX_NICE (Linux:
    a thread is a task of its own, and setpriority(PRIO_PROCESS, tid) renices that thread alone; relative, so that a
    server started under `nice` keeps the difference). An unprivileged process cannot lower it back, which is why the
    threads are dedicated to hashing and stay niced."""
    if not nice:
        return
    if not sys.platform.startswith("linux"):  # elsewhere the native id is no pid: that call could renice another one
        log.warning("LOGIN_HASH_NICE=%d ignored: per-thread priority needs Linux", nice)
        return
    tid = threading.get_native_id()
    try:
        os.setpriority(os.PRIO_PROCESS, tid, min(MAX_NICE, os.getpriority(os.PRIO_PROCESS, tid) + nice))
    except OSError as exc:  # a sandbox refusing it: the hashes still run, at the page threads' priority
        log.warning("password-hashing thread not reniced by %d: %s", nice, exc)


class _Slots:
    """At most `size` password hashes at once in this process, run by `size` dedicated threads reniced by `nice`; at
    most `size` more callers waiting, each at most `wait` seconds, for a slot.

    scrypt at the production cost takes a few hundred CPU milliseconds and 128 MiB, and releases the GIL: without a
    bound, a wave of logins runs one hash per server thread (16 per node with `-w 4 --threads 4`), and page views
    queue behind them. The bound on hashes alone is not enough: the requests waiting for a slot hold server threads
    too, and with 2 hashing and 2 waiting every thread of a `--threads 4` process was a login's, the pages queued
    behind them for seconds (docs/performance.md, "Load scenarios"). So a request that finds `size` others waiting
    is told to come back (503) at once, and at most 2 × `size` threads per process are logins'. The hashes running
    still compete with the page threads for the cores: the niced threads give a page view the CPU first, and take
    whatever the pages leave."""

    def __init__(self, size: int, wait: float, nice: int = DEFAULT_NICE) -> None:
        if size < 1:
            raise ValueError(f"LOGIN_HASH_CONCURRENCY must be at least 1, not {size}")
        if wait < 0:
            raise ValueError(f"LOGIN_HASH_WAIT_SECONDS must not be negative, not {wait}")
        if not 0 <= nice <= MAX_NICE:
            raise ValueError(f"LOGIN_HASH_NICE must be from 0 to {MAX_NICE}, not {nice}")
        self.size, self.wait, self.nice = size, wait, nice
        self.semaphore = threading.BoundedSemaphore(size)
        self.admitted = threading.BoundedSemaphore(2 * size)  # hashing or waiting for a slot
        self._pool: ThreadPoolExecutor | None = None
        self._pool_lock = threading.Lock()

    def _executor(self) -> ThreadPoolExecutor:
        """The hashing threads, started at the first hash (in the gunicorn worker, never in the master before the
        fork); a forked child starts its own, its parent's threads are not in it."""
        with self._pool_lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(
                    self.size, thread_name_prefix="password-hash", initializer=_lower_priority, initargs=(self.nice,)
                )
            return self._pool

    def _forget_pool(self) -> None:
        self._pool, self._pool_lock = None, threading.Lock()

    @contextmanager
    def slot(self) -> Iterator[None]:
        if not self.admitted.acquire(blocking=False):  # as many wait already as hash: no request thread more
            raise HashingBusy()
        try:
            if not self.semaphore.acquire(timeout=self.wait):
                raise HashingBusy()
            try:
                yield
            finally:
                self.semaphore.release()
        finally:
            self.admitted.release()

    def run(self, fn: Callable[..., T], *args: str) -> T:
        """fn(*args) on a hashing thread, in a slot (HashingBusy when none comes free in time); the caller waits.
        A held slot always finds a thread free: there are as many threads as slots."""
        with self.slot():
            return self._executor().submit(fn, *args).result()


_slots = _Slots(DEFAULT_CONCURRENCY, DEFAULT_WAIT_SECONDS)
os.register_at_fork(after_in_child=lambda: _slots._forget_pool())


def configure_concurrency(size: int, wait: float, nice: int | None = None) -> None:
    """Set the number of hashes at once, the longest wait for a slot and the hashing threads' nice value (create_app
    passes LOGIN_HASH_CONCURRENCY, LOGIN_HASH_WAIT_SECONDS and LOGIN_HASH_NICE; None keeps the nice value). The same
    values keep the slots as they are, held ones included."""
    global _slots
    nice = _slots.nice if nice is None else nice
    if (size, wait, nice) != (_slots.size, _slots.wait, _slots.nice):
        _slots = _Slots(size, wait, nice)


def hashing_slots() -> threading.BoundedSemaphore:
    """This process's hashing slots (tests hold them all to see a login refused)."""
    return _slots.semaphore


def run_hashing(fn: Callable[..., T], *args: str) -> T:
    """fn(*args) as a password hash runs: in a slot, on a hashing thread (tests look at that thread)."""
    return _slots.run(fn, *args)


def hash_password(password: str) -> str:
    """A salted scrypt hash at the configured cost (on a hashing thread, in a slot; HashingBusy when none comes free
    in time)."""
    return _slots.run(generate_password_hash, password, method())


@functools.cache
def _dummy_hash(hash_method: str) -> str:
    return generate_password_hash(secrets.token_urlsafe(16), method=hash_method)


def verify(password_hash: str | None, password: str) -> bool:
    """Check password against password_hash; with no hash (unknown account) spend the same time on a dummy one.

    On a hashing thread, as `hash_password`: HashingBusy when no slot comes free in time, for known and unknown
    accounts alike (the refusal reveals nothing)."""
    if not password_hash:
        _slots.run(_check_dummy, method(), password)
        return False
    return _slots.run(check_password_hash, password_hash, password)


def _check_dummy(hash_method: str, password: str) -> bool:
    return check_password_hash(_dummy_hash(hash_method), password)


def needs_rehash(password_hash: str) -> bool:
    """True when the hash was made with another method or cost than new hashes get."""
    return password_hash.split("$", 1)[0] != method()
