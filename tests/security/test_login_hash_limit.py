"""A bounded number of password hashes at once per web process (LOGIN_HASH_CONCURRENCY, app/passwords.py): when no
slot comes free within LOGIN_HASH_WAIT_SECONDS, logins, password changes and resets answer 503 with Retry-After and
show their form again, e-mail kept. The tests hold every slot themselves: no timing, no threads racing."""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import select

from app import passwords
from app.auth.throttle import ACCOUNT_FAILURES
from app.models import Role, TokenPurpose, User
from app.services.invitations import issue_link
from config import Config, ConfigError, check
from tests.conftest import Browser
from tests.factories import PASSWORD

pytestmark = pytest.mark.database_only  # those that clear login locks in Redis ask for `services`

NEW_PASSWORD = "violet tractor sings at noon"
BUSY_VI = "Đang có nhiều người đăng nhập cùng lúc"


@pytest.fixture
def no_wait(app):
    """This process's slots as the app configured them, but refusing at once when all are taken."""
    passwords.configure_concurrency(int(app.config["LOGIN_HASH_CONCURRENCY"]), 0)
    yield passwords.hashing_slots()
    passwords.configure_concurrency(passwords.DEFAULT_CONCURRENCY, passwords.DEFAULT_WAIT_SECONDS)


@contextmanager
def all_slots_taken(slots) -> Iterator[None]:
    """Hold every hashing slot of this process, as concurrent logins would."""
    held = 0
    while slots.acquire(blocking=False):
        held += 1
    assert held == passwords.DEFAULT_CONCURRENCY
    try:
        yield
    finally:
        for _ in range(held):
            slots.release()


def _refused(resp) -> str:
    assert resp.status_code == 503, resp.status_code
    assert resp.headers["Retry-After"] == str(passwords.RETRY_AFTER_SECONDS)
    page = resp.get_data(as_text=True)
    assert BUSY_VI in page
    return page


def test_login_waits_for_a_slot_then_is_told_to_retry_with_the_form_kept(services, browser, make, no_wait):
    """A login that finds every hashing slot taken gets 503 + Retry-After (a few seconds, not the login limiter's
    window) and the login form with its e-mail; once a slot is free, the same login succeeds. Refusals are no failed
    logins (more than the 10 that lock an address), and unknown addresses are refused the same way."""
    user = make.user(Role.UNIT, make.unit())
    with all_slots_taken(no_wait):
        for email in [user.email] * (ACCOUNT_FAILURES + 1) + ["nobody@test.vn"]:
            page = _refused(browser.post("/login", data={"email": email, "password": PASSWORD}))
            assert f'value="{email}"' in page and 'name="password"' in page
            assert PASSWORD not in page
        assert browser.get("/unit/").status_code == 302  # not logged in
    browser.login(user.email)
    assert browser.get("/unit/").status_code == 200


def test_busy_page_in_english(browser, make, no_wait):
    """The refusal is translated."""
    user = make.user(Role.JUDGE)
    with all_slots_taken(no_wait):
        resp = browser.post("/login?lang=en", data={"email": user.email, "password": PASSWORD})
    assert resp.status_code == 503
    assert "Many people are logging in at this moment" in resp.get_data(as_text=True)


def test_password_change_refused_while_busy_changes_nothing(services, browser, make, session, no_wait):
    """Changing one's password checks the current one and hashes the new one: busy → 503, the old password stays."""
    user = make.user(Role.JUDGE)
    browser.login(user.email)
    form = {"current_password": PASSWORD, "new_password": NEW_PASSWORD}
    before = user.password_hash
    with all_slots_taken(no_wait):
        _refused(browser.post("/account/password", data=form))
    session.expire_all()
    assert session.get(User, user.id).password_hash == before
    assert browser.post("/account/password", data=form).status_code == 302
    browser.post("/logout")
    browser.login(user.email, NEW_PASSWORD)


def test_reset_link_refused_while_busy_stays_usable(services, app, make, session, no_wait):
    """Setting a password through a link hashes it: busy → 503 and the link still works afterwards."""
    user = make.user(Role.JUDGE)
    token = issue_link(session, user=user, purpose=TokenPurpose.PASSWORD_RESET)
    session.commit()
    visitor = Browser(app.test_client())
    path = f"/password/reset/{token}"
    with all_slots_taken(no_wait):
        _refused(visitor.post(path, data={"new_password": NEW_PASSWORD, "csrf_token": visitor.token(path)}))
    resp = visitor.post(path, data={"new_password": NEW_PASSWORD, "csrf_token": visitor.token(path)})
    assert resp.status_code == 302
    session.expire_all()
    assert passwords.verify(session.scalar(select(User.password_hash).where(User.id == user.id)), NEW_PASSWORD)


def test_slots_bound_concurrent_hashes_and_refuse_beyond():
    """The slots admit LOGIN_HASH_CONCURRENCY hashes at once; one more waits, then is refused."""
    slots = passwords._Slots(3, 0)
    with slots.slot(), slots.slot(), slots.slot(), pytest.raises(passwords.HashingBusy), slots.slot():
        pass
    with slots.slot():
        pass


def test_no_more_requests_wait_than_hash():
    """At most LOGIN_HASH_CONCURRENCY requests wait for a slot: one more is refused at once, even with a long wait
    allowed, so that the logins never hold more than twice that many server threads of a process."""
    slots = passwords._Slots(2, 3600)
    held = 0
    while slots.admitted.acquire(blocking=False):  # 2 hashing and 2 waiting, as concurrent logins would
        held += 1
    assert held == 4
    try:
        with pytest.raises(passwords.HashingBusy), slots.slot():
            pass
        assert slots.semaphore.acquire(blocking=False)  # the hashing slots were never the reason
        slots.semaphore.release()
    finally:
        for _ in range(held):
            slots.admitted.release()
    with slots.slot():
        pass


def _thread_nice() -> tuple[int, int, str]:
    """The calling thread's native id, its nice value as the kernel reports it (field 19 of /proc/self/task/<tid>/stat,
    after the parenthesised name) and its name."""
    tid = threading.get_native_id()
    with open(f"/proc/self/task/{tid}/stat") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return tid, int(fields[16]), threading.current_thread().name


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread nice values are Linux's")
@pytest.mark.parametrize("nice", [passwords.DEFAULT_NICE, 0])
def test_hashes_run_on_dedicated_threads_at_the_configured_nice_value(app, nice):
    """Every hash runs on one of LOGIN_HASH_CONCURRENCY dedicated threads reniced to LOGIN_HASH_NICE, so that page
    views keep the cores during a wave of logins (10 more than the process's); the request's own thread keeps its
    priority, and hashes made and
    checked there verify as before."""
    before = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    passwords.configure_concurrency(2, 0, nice)
    try:
        seen = {passwords.run_hashing(_thread_nice) for _ in range(6)}
        digest = passwords.hash_password(NEW_PASSWORD)
        assert passwords.verify(digest, NEW_PASSWORD)
        assert not passwords.verify(digest, PASSWORD)
        assert not passwords.verify(None, NEW_PASSWORD)
        seen |= {passwords.run_hashing(_thread_nice) for _ in range(6)}
    finally:
        passwords.configure_concurrency(
            passwords.DEFAULT_CONCURRENCY, passwords.DEFAULT_WAIT_SECONDS, int(app.config["LOGIN_HASH_NICE"])
        )
    assert {value for _, value, _ in seen} == {min(passwords.MAX_NICE, before + nice)}
    assert all(name.startswith("password-hash") for _, _, name in seen)
    assert 1 <= len({tid for tid, _, _ in seen}) <= 2
    assert threading.get_native_id() not in {tid for tid, _, _ in seen}
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == before


def test_hash_concurrency_is_a_setting(monkeypatch):
    """LOGIN_HASH_CONCURRENCY (default 1), LOGIN_HASH_WAIT_SECONDS (default 2) and LOGIN_HASH_NICE (default 10) come
    from the environment, and impossible values are refused at start."""
    monkeypatch.setenv("SECRET_KEY", "k" * 40)
    config = Config().as_dict()
    names = ("LOGIN_HASH_CONCURRENCY", "LOGIN_HASH_WAIT_SECONDS", "LOGIN_HASH_NICE")
    assert tuple(config[name] for name in names) == (1, 2.0, 10)
    monkeypatch.setenv("LOGIN_HASH_CONCURRENCY", "4")
    monkeypatch.setenv("LOGIN_HASH_WAIT_SECONDS", "0.5")
    monkeypatch.setenv("LOGIN_HASH_NICE", "0")
    config = Config().as_dict()
    assert tuple(config[name] for name in names) == (4, 0.5, 0)
    for name, value in (
        ("LOGIN_HASH_CONCURRENCY", 0),
        ("LOGIN_HASH_WAIT_SECONDS", -1),
        ("LOGIN_HASH_NICE", -1),
        ("LOGIN_HASH_NICE", 20),
    ):
        with pytest.raises(ConfigError, match=name):
            check({**config, name: value})
