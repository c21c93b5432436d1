"""Finding 2: failed logins are throttled on Redis per e-mail address and per client address; fails closed."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.models import AuditEvent, Role
from tests.conftest import CSRF_RE, Browser, IsolatedClient
from tests.factories import PASSWORD

LOCKED_VI = "Đăng nhập sai quá nhiều lần"


def attempt(browser: Browser, email: str, password: str):
    return browser.client.post("/login", data={"email": email, "password": password, "csrf_token": browser.token()})


def test_ten_failures_lock_the_address_even_for_the_right_password(browser, make):
    """Finding 2: after 10 failures for one address, even the right password gets 429 with Retry-After ≤ 900 s."""
    judge = make.user(Role.JUDGE)
    for _ in range(10):
        assert attempt(browser, judge.email, "wrong-password-x").status_code == 200
    resp = attempt(browser, judge.email, PASSWORD)
    assert resp.status_code == 429
    assert 0 < int(resp.headers["Retry-After"]) <= 900
    assert LOCKED_VI in resp.get_data(as_text=True)
    assert browser.get("/judge/").status_code == 302  # not logged in
    # The lock is per address: another account still logs in.
    other = make.user(Role.JUDGE)
    assert attempt(browser, other.email.upper(), PASSWORD).status_code == 302


def test_locked_attempts_do_not_check_the_password(browser, make, session):
    """Finding 2: a locked address is answered before the password is checked (no hash is upgraded, no login)."""
    judge = make.user(Role.JUDGE)
    for _ in range(10):
        attempt(browser, judge.email, "wrong-password-x")
    judge.password_hash = "scrypt:16384:8:1$old$" + "0" * 64  # would be rehashed by a checked, correct login
    session.commit()
    assert attempt(browser, judge.email, PASSWORD).status_code == 429
    session.refresh(judge)
    assert judge.password_hash.startswith("scrypt:16384:8:1$old$")


def test_unknown_addresses_are_locked_the_same_way(browser):
    """Finding 2: an address with no account is counted and locked the same way, so 429 reveals nothing."""
    for _ in range(10):
        assert attempt(browser, "nobody@test.vn", "wrong-password-x").status_code == 200
    resp = attempt(browser, "nobody@test.vn", "wrong-password-x")
    assert resp.status_code == 429 and 0 < int(resp.headers["Retry-After"]) <= 900


def test_ip_limit_counts_failures_only(app, browser, make):
    """Finding 2: LOGIN_IP_FAILURES failures per address lock it; successful logins never count."""
    app.config["LOGIN_IP_FAILURES"] = 3
    unit = make.unit()
    users = [make.user(Role.UNIT, unit=unit) for _ in range(6)]
    for user in users:  # many people behind one NAT address log in: none of this counts
        browser.login(user.email)
        browser.post("/logout")
    for n in range(3):
        assert attempt(browser, f"typo{n}@test.vn", "wrong-password-x").status_code == 200
    resp = attempt(browser, users[0].email, PASSWORD)
    assert resp.status_code == 429 and 0 < int(resp.headers["Retry-After"]) <= 900


def test_password_reset_clears_the_lock(app, browser, make):
    """Finding 2: a completed password reset (`flask users set-password`) lifts the lock at once."""
    judge = make.user(Role.JUDGE)
    for _ in range(10):
        attempt(browser, judge.email, "wrong-password-x")
    assert attempt(browser, judge.email, PASSWORD).status_code == 429
    new_password = "violet tractor sings at noon"
    result = app.test_cli_runner().invoke(args=["users", "set-password", judge.email, "--password", new_password])
    assert result.exit_code == 0, result.output
    assert attempt(browser, judge.email, new_password).status_code == 302


def test_logins_failures_and_lockouts_are_audited(browser, make, session):
    """Finding 2: failures, lockouts and successful logins are audit events with the account and the client address."""
    judge = make.user(Role.JUDGE)
    browser.login(judge.email)
    browser.post("/logout")
    for _ in range(11):
        attempt(browser, judge.email, "wrong-password-x")
    attempt(browser, "ghost@test.vn", "wrong-password-x")
    events = list(session.scalars(select(AuditEvent).order_by(AuditEvent.id)))
    by_action: dict[str, list[AuditEvent]] = {}
    for event in events:
        by_action.setdefault(event.action, []).append(event)
    assert len(by_action["auth.login"]) == 1 and by_action["auth.login"][0].actor_id == judge.id
    assert len(by_action["auth.login_failed"]) == 11
    assert len(by_action["auth.login_locked"]) == 1
    for event in by_action["auth.login"] + by_action["auth.login_locked"] + by_action["auth.login_failed"][:10]:
        assert event.object_id == str(judge.id) and event.after["email"] == judge.email
        assert event.after["ip"] == "127.0.0.1"
    ghost = by_action["auth.login_failed"][-1]
    assert ghost.object_id == "" and ghost.after["email"] == "ghost@test.vn"


def test_login_fails_closed_when_redis_is_down(services, make, tmp_path):
    """Finding 2: with the limiter's Redis stopped, login answers a translated 503 and logs nobody in."""
    from app import create_app
    from devtools.services import start_redis

    judge = make.user(Role.JUDGE)
    proc, url = start_redis(tmp_path / "redis")  # a private Redis: the suite's own one stays up
    try:
        app = create_app({"TESTING": True, **services, "REDIS_URL": url})
        app.test_client_class = IsolatedClient
        client = app.test_client()
        token = CSRF_RE.search(client.get("/login").get_data(as_text=True)).group(1)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    resp = client.post("/login", data={"email": judge.email, "password": PASSWORD, "csrf_token": token})
    assert resp.status_code == 503
    assert "Tạm thời" in resp.get_data(as_text=True) or "tạm thời" in resp.get_data(as_text=True)
    assert client.get("/judge/").status_code == 302


@pytest.fixture(autouse=True)
def _fresh_limits(app):
    """Every test starts with no counted failures (the suite's Redis is flushed between tests; this is a guard)."""
    from app.auth.throttle import limiter

    limiter.reset()
    yield


def test_behind_a_proxy_each_client_is_counted_apart(services, make):
    """Finding 2: with PROXY_HOPS=1 (nginx in front) failures count per client address, not for the proxy."""
    from app import create_app

    app = create_app({"TESTING": True, **services, "PROXY_HOPS": 1, "LOGIN_IP_FAILURES": 2})
    app.test_client_class = IsolatedClient
    judge = make.user(Role.JUDGE)

    def from_client(ip: str, email: str, password: str):
        browser = Browser(app.test_client())
        browser.client.environ_base["HTTP_X_FORWARDED_FOR"] = ip
        return attempt(browser, email, password)

    for n in range(2):
        assert from_client("203.0.113.7", f"typo{n}@test.vn", "wrong-password-x").status_code == 200
    assert from_client("203.0.113.7", judge.email, PASSWORD).status_code == 429
    assert from_client("198.51.100.9", judge.email, PASSWORD).status_code == 302
