"""Finding 3: sessions live on the server (in the database): logout, a password change or reset and disabling an account
end them everywhere; a replayed or remember-me cookie alone gets the login page."""

from __future__ import annotations

from flask_login.utils import encode_cookie

from app.models import Role
from app.services import accounts
from tests.conftest import Browser


def _session_cookie(client) -> str:
    cookie = client.get_cookie("session")
    assert cookie is not None
    return cookie.value


def test_replayed_cookie_after_logout_gets_the_login_page(browser, make):
    """Finding 3: the cookie saved before `POST /logout` no longer opens any page afterwards."""
    judge = make.user(Role.JUDGE)
    browser.login(judge.email)
    assert browser.get("/judge/").status_code == 200
    saved = _session_cookie(browser.client)
    assert browser.post("/logout").status_code == 302
    browser.client.set_cookie("session", saved)
    resp = browser.get("/judge/")
    assert resp.status_code == 302 and resp.location.startswith("/login")


def test_password_change_ends_every_session(app, make, session):
    """Finding 3: changing a password ends the account's sessions on every browser (and every web node)."""
    judge = make.user(Role.JUDGE)
    browsers = [Browser(app.test_client()) for _ in range(2)]
    for b in browsers:
        b.login(judge.email)
        assert b.get("/judge/").status_code == 200
    accounts.set_password(session, user=judge, password="violet tractor sings at noon")
    session.commit()
    for b in browsers:
        resp = b.get("/judge/")
        assert resp.status_code == 302 and resp.location.startswith("/login")


def test_password_reset_command_ends_every_session(app, browser, make):
    """Finding 3: `flask users set-password` (the operator's reset) ends the account's sessions."""
    judge = make.user(Role.JUDGE)
    browser.login(judge.email)
    result = app.test_cli_runner().invoke(
        args=["users", "set-password", judge.email, "--password", "violet tractor sings at noon"]
    )
    assert result.exit_code == 0, result.output
    assert browser.get("/judge/").status_code == 302


def test_disabling_an_account_ends_its_sessions(app, make):
    """Finding 3: an organiser disabling an account logs it out everywhere."""
    organiser, judge = make.user(Role.ORGANISER), make.user(Role.JUDGE)
    staff, victim = Browser(app.test_client()), Browser(app.test_client())
    victim.login(judge.email)
    staff.login(organiser.email)
    assert staff.post(f"/org/accounts/{judge.id}/active").status_code == 302
    assert victim.get("/judge/").status_code == 302


def test_remember_cookie_does_not_bypass_revocation(app, make):
    """Finding 3: a valid remember-me cookie without a live server-side session logs nobody in."""
    judge = make.user(Role.JUDGE)
    client = app.test_client()
    with app.test_request_context():
        remember = encode_cookie(str(judge.id))
    client.set_cookie("remember_token", remember)
    resp = client.get("/judge/")
    assert resp.status_code == 302 and resp.location.startswith("/login")


def test_changing_ones_password_logs_out_other_browsers(app, make):
    """Finding 3: a user who changes their password stays logged in here; their other sessions end."""
    judge = make.user(Role.JUDGE)
    here, elsewhere = Browser(app.test_client()), Browser(app.test_client())
    here.login(judge.email)
    elsewhere.login(judge.email)
    new_password = "violet tractor sings at noon"
    form = {"current_password": "wrong-pass-x1", "new_password": new_password}
    assert here.post("/account/password", data=form).status_code == 200  # wrong current password: nothing changes
    assert elsewhere.get("/judge/").status_code == 200
    form["current_password"] = "secret-pass-1"
    assert here.post("/account/password", data=form).status_code == 302
    assert here.get("/judge/").status_code == 200
    assert elsewhere.get("/judge/").status_code == 302
    here.post("/logout")
    here.login(judge.email, new_password)


def test_status_poll_checks_the_session_as_every_page_does(app, make, session):
    """Finding 3: the status poll checks the login session inside its own query (no account loaded): a replayed
    cookie after logout, an expired session and a disabled account get the login page there as on the entry page;
    another role gets 403, another unit's entry 404."""
    from datetime import timedelta

    from app.models import LoginSession

    member, entry = make.member_entry()
    other_member, other_entry = make.member_entry()
    poll, page = f"/unit/entries/{entry.id}/status.json", f"/unit/entries/{entry.id}"

    def answers(b: Browser) -> tuple[int, int]:
        return b.get(poll).status_code, b.get(page).status_code

    def to_login(b: Browser) -> None:
        for path in (poll, page):
            resp = b.get(path)
            assert resp.status_code == 302 and resp.location.startswith("/login?next="), (path, resp.status_code)

    anonymous = Browser(app.test_client())
    to_login(anonymous)

    live = Browser(app.test_client())
    live.login(member.email)
    assert answers(live) == (200, 200)
    assert live.get(f"/unit/entries/{other_entry.id}/status.json").status_code == 404
    assert live.get("/unit/entries/2147483647/status.json").status_code == 404

    saved = _session_cookie(live.client)
    assert live.post("/logout").status_code == 302
    live.client.set_cookie("session", saved)
    to_login(live)

    expired = Browser(app.test_client())
    expired.login(member.email)
    for row in session.query(LoginSession).filter_by(user_id=member.id):
        row.created_at -= timedelta(hours=float(app.config["LOGIN_SESSION_HOURS"]) + 1)
    session.commit()
    to_login(expired)

    disabled = Browser(app.test_client())
    disabled.login(other_member.email)
    assert disabled.get(f"/unit/entries/{other_entry.id}/status.json").status_code == 200
    other_member.active = False  # directly, so that the session row stays: the account's flag alone must refuse
    session.commit()
    resp = disabled.get(f"/unit/entries/{other_entry.id}/status.json")
    assert resp.status_code == 302 and resp.location.startswith("/login")

    for role in (Role.JUDGE, Role.ORGANISER):
        staff = Browser(app.test_client())
        staff.login(make.user(role).email)
        assert answers(staff) == (403, 403)


def test_status_poll_refusal_pages_name_the_account(app, make):
    """The poll's 403 and 404 pages are full pages, with the logged-in account's name as everywhere."""
    judge = make.user(Role.JUDGE, name="Giám Khảo Tên Riêng")
    member, _entry = make.member_entry()
    _other_member, other_entry = make.member_entry()
    for user, expected in ((judge, 403), (member, 404)):
        b = Browser(app.test_client())
        b.login(user.email)
        resp = b.get(f"/unit/entries/{other_entry.id}/status.json")
        assert resp.status_code == expected
        assert user.name in resp.get_data(as_text=True)
