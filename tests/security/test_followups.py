"""Follow-ups of the security review (findings 2, 3, 10 and 13, and the demo data rule), each on the real services."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from app import demo, passwords
from app.models import Contest, LoginSession, Role, User, utcnow
from app.services import PortalError, accounts
from tests.conftest import Browser
from tests.factories import PASSWORD

STRONG = "violet tractor sings at noon"


# Finding 3: a login session has a maximum age, and expired rows do not pile up.


def test_a_session_ends_after_its_maximum_age(app, browser, make, session):
    """Finding 3: LOGIN_SESSION_HOURS after the login the cookie opens nothing, whatever the activity."""
    judge = make.user(Role.JUDGE)
    browser.login(judge.email)
    assert browser.get("/judge/").status_code == 200
    hours = float(app.config["LOGIN_SESSION_HOURS"])
    session.execute(update(LoginSession).values(created_at=utcnow() - timedelta(hours=hours, minutes=1)))
    session.commit()
    resp = browser.get("/judge/")
    assert resp.status_code == 302 and resp.location.startswith("/login")


def test_a_session_just_within_its_maximum_age_still_works(app, browser, make, session):
    """Finding 3: the limit is the configured age, not less."""
    judge = make.user(Role.JUDGE)
    browser.login(judge.email)
    hours = float(app.config["LOGIN_SESSION_HOURS"])
    session.execute(update(LoginSession).values(created_at=utcnow() - timedelta(hours=hours) + timedelta(minutes=5)))
    session.commit()
    assert browser.get("/judge/").status_code == 200


def test_expired_sessions_are_deleted_at_the_next_login(app, make, session):
    """Finding 3: expired session rows of every user are removed when anyone logs in; live ones stay."""
    old, live, newcomer = (make.user(Role.JUDGE) for _ in range(3))
    for user in (old, live):
        Browser(app.test_client()).login(user.email)
    hours = float(app.config["LOGIN_SESSION_HOURS"])
    session.execute(
        update(LoginSession)
        .where(LoginSession.user_id == old.id)
        .values(created_at=utcnow() - timedelta(hours=hours + 1))
    )
    session.commit()
    Browser(app.test_client()).login(newcomer.email)
    session.expire_all()
    owners = set(session.scalars(select(LoginSession.user_id)))
    assert owners == {live.id, newcomer.id}


# Finding 2: the current password on /account/password cannot be guessed without limit.


def _change(browser: Browser, current: str):
    return browser.client.post(
        "/account/password",
        data={
            "current_password": current,
            "new_password": STRONG,
            "confirm": STRONG,
            "csrf_token": browser.token("/account/password"),
        },
    )


def test_wrong_current_passwords_are_throttled(browser, make, session):
    """Finding 2: 10 wrong current passwords within 15 minutes lock the form (429), even for the right one."""
    unit_user = make.user(Role.UNIT)
    browser.login(unit_user.email)
    for _ in range(10):
        resp = _change(browser, "not-my-password")
        assert resp.status_code == 200
        assert "Mật khẩu hiện tại không đúng" in resp.get_data(as_text=True)
    resp = _change(browser, PASSWORD)
    assert resp.status_code == 429
    assert "Retry-After" in resp.headers
    session.refresh(unit_user)
    assert passwords.verify(unit_user.password_hash, PASSWORD)  # unchanged


def test_right_current_password_is_not_counted(browser, make):
    """Finding 2: successful changes never count towards the lock."""
    judge = make.user(Role.JUDGE)
    browser.login(judge.email)
    resp = _change(browser, PASSWORD)
    assert resp.status_code == 302


# The demo data rule: the published demo password works only in data seeded by `demo seed`.


def test_demo_password_cannot_be_set_on_any_account(app, make, session):
    """Demo rule: neither creating an account nor changing a password accepts the published demo password."""
    judge = make.user(Role.JUDGE)
    with app.test_request_context(), pytest.raises(PortalError):
        accounts.create_user(
            session, email="clerk@ward.gov.vn", name="Clerk", password=demo.DEMO_PASSWORD, role=Role.JUDGE
        )
    with app.test_request_context(), pytest.raises(PortalError):
        accounts.set_password(session, user=judge, password=demo.DEMO_PASSWORD)
    with (
        app.test_request_context(),
        pytest.raises(PortalError),
    ):  # not even on a demo-domain address outside `demo seed`
        accounts.create_user(session, email="extra@demo.vn", name="Extra", password=demo.DEMO_PASSWORD, role=Role.JUDGE)


def test_demo_password_opens_no_account_outside_the_demo_data(app, make, session):
    """Demo rule: an account whose hash somehow matches the demo password still cannot log in with it."""
    judge = make.user(Role.JUDGE)
    judge.password_hash = passwords.hash_password(demo.DEMO_PASSWORD)
    session.commit()
    browser = Browser(app.test_client())
    resp = browser.client.post(
        "/login", data={"email": judge.email, "password": demo.DEMO_PASSWORD, "csrf_token": browser.token()}
    )
    assert resp.status_code == 200 and browser.get("/judge/").status_code == 302


def test_demo_seed_accounts_log_in_with_the_demo_password(app, session):
    """Demo rule: `demo seed` still gives working demo logins."""
    result = app.test_cli_runner().invoke(args=["demo", "seed"])
    assert result.exit_code == 0, result.output
    assert session.scalar(select(func.count()).select_from(User).where(User.email.like("%@demo.vn"))) >= 3
    Browser(app.test_client()).login("judge1@demo.vn", demo.DEMO_PASSWORD)


# Finding 13: numbers too large for the database in forms are refused with a message, never a 500.


@pytest.mark.parametrize("field", ["max_entries_per_unit", "min_height", "max_duration_s"])
def test_huge_numbers_in_the_contest_form_are_refused(browser, make, session, field):
    """Finding 13: a huge number in a contest field is a form error (200), nothing is written."""
    contest = make.contest()
    browser.login(make.user(Role.ORGANISER).email)
    data = {"slug": contest.slug, "title": "Changed title", field: "99999999999999999999"}
    resp = browser.post(f"/org/c/{contest.slug}/edit", data=data)
    assert resp.status_code == 200
    session.expire_all()
    assert session.get(Contest, contest.id).title == contest.title


def test_huge_judges_per_entry_is_refused(browser, make, session):
    """Finding 13: assigning with a huge number of judges per entry is refused with a message, not a 500."""
    contest = make.contest()
    judges = [make.user(Role.JUDGE) for _ in range(2)]
    rnd = make.round(contest, judges=judges)
    browser.login(make.user(Role.ORGANISER).email)
    for value in ("99999999999999999999", "2147483648", "3"):
        resp = browser.post(
            f"/org/rounds/{rnd.id}/assign", data={"per_entry": value, "seed": "1"}, follow_redirects=True
        )
        assert resp.status_code == 200, value
        assert "phải từ 1 đến số thành viên hội đồng (2)" in resp.get_data(as_text=True), value
    session.expire_all()
    assert rnd.per_entry is None
