"""Finding 6: an unknown address costs the same password-hash work as a real account, so timing reveals nothing.

The test measures the work, not the wall clock: which hash each login checks, and the CPU time of the hashing thread
that checks it. A request's wall time on a machine whose cores are busy with other work says more about the other
work than about the portal (a median of 5 logins once differed by 2× under a loaded run)."""

from __future__ import annotations

import statistics
import time

from app import passwords
from app.models import Role
from app.services import accounts
from tests.conftest import Browser, IsolatedClient

COST = 2**15  # enough hash time (tens of ms) to stand well above the request's own cost


def test_unknown_address_takes_as_long_as_a_wrong_password(services, make, monkeypatch):
    """Finding 6: a wrong password for a real account and any password for an unknown address each check one hash of
    the same method and cost, and spend the same CPU time on it."""
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

    checks: list[tuple[str, float]] = []  # (method of the hash checked, CPU seconds of the check) per check
    real_check = passwords.check_password_hash

    def measured_check(pwhash: str, password: str) -> bool:
        started = time.thread_time()  # the hashing thread's own CPU time: other processes' load does not count
        try:
            return real_check(pwhash, password)
        finally:
            checks.append((pwhash.split("$", 1)[0], time.thread_time() - started))

    monkeypatch.setattr(passwords, "check_password_hash", measured_check)

    def login(email: str) -> tuple[str, float]:
        token = browser.token()
        before = len(checks)
        resp = browser.client.post("/login", data={"email": email, "password": "wrong-pass-x1", "csrf_token": token})
        assert resp.status_code == 200
        assert len(checks) == before + 1, checks[before:]  # exactly one hash checked, known address or not
        return checks[-1]

    login("warm-up@test.vn")  # the dummy hash is made once per cost
    known, unknown = [], []
    for n in range(5):
        known.append(login("timing@test.vn"))
        unknown.append(login(f"nobody{n}@test.vn"))
    assert {method for method, _ in known + unknown} == {f"scrypt:{COST}:8:1"}
    known_s = statistics.median(cpu for _, cpu in known)
    unknown_s = statistics.median(cpu for _, cpu in unknown)
    assert known_s > 0.01, known  # the hash is really checked
    assert unknown_s > 0.6 * known_s, (known, unknown)
