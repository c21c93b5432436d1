"""Password strength, hashing and verification (one place for the cost, the dummy hash and the rehash rule)."""

from __future__ import annotations

import functools
import secrets

from flask_babel import lazy_gettext as _l
from werkzeug.security import check_password_hash, generate_password_hash
from zxcvbn import zxcvbn

MIN_LENGTH = 10
MIN_SCORE = 3  # zxcvbn: 3 = "safely unguessable: moderate protection from offline slow-hash scenario"
DEFAULT_SCRYPT_N = 2**17  # OWASP; measured here: 0.35 s and 128 MiB per hash

_scrypt_n = DEFAULT_SCRYPT_N

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


def hash_password(password: str) -> str:
    """A salted scrypt hash at the configured cost."""
    return generate_password_hash(password, method=method())


@functools.cache
def _dummy_hash(hash_method: str) -> str:
    return generate_password_hash(secrets.token_urlsafe(16), method=hash_method)


def verify(password_hash: str | None, password: str) -> bool:
    """Check password against password_hash; with no hash (unknown account) spend the same time on a dummy one."""
    if not password_hash:
        check_password_hash(_dummy_hash(method()), password)
        return False
    return check_password_hash(password_hash, password)


def needs_rehash(password_hash: str) -> bool:
    """True when the hash was made with another method or cost than new hashes get."""
    return password_hash.split("$", 1)[0] != method()
