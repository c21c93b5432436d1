"""Finding 6: an unknown address costs the same password-hash time as a real account, so timing reveals nothing."""

from __future__ import annotations

import statistics
import time

from app.models import Role
from app.services import accounts
from tests.conftest import Browser, IsolatedClient

COST = 2**15  # enough hash time (tens of ms) to stand well above the request's own cost


def test_unknown_address_takes_as_long_as_a_wrong_password(services, make):
    """Finding 6: a wrong password for a real account and any password for an unknown address take the same time."""
    from app import create_app, db

    app = create_app({"TESTING": True, **services, "PASSWORD_SCRYPT_N": COST})
    app.test_client_class = IsolatedClient
    unit = make.unit()
    with app.app_context():
        user = accounts.create_user(
            db.session, email="timing@test.vn", name="Timing", password="secret-pass-1", role=Role.UNIT, unit=unit
        )
        db.session.commit()
        assert user.password_hash.startswith(f"scrypt:{COST}:")
    browser = Browser(app.test_client())

    def timed(email: str) -> float:
        token = browser.token()
        started = time.perf_counter()
        resp = browser.client.post("/login", data={"email": email, "password": "wrong-pass-x1", "csrf_token": token})
        elapsed = time.perf_counter() - started
        assert resp.status_code == 200
        return elapsed

    timed("warm-up@test.vn")  # the dummy hash is made once per cost
    known, unknown = [], []
    for n in range(5):
        known.append(timed("timing@test.vn"))
        unknown.append(timed(f"nobody{n}@test.vn"))
    known_s, unknown_s = statistics.median(known), statistics.median(unknown)
    assert known_s > 0.01, known  # the hash is really checked
    assert unknown_s > 0.6 * known_s, (known, unknown)
