"""Own account page (name, language) and account editing by staff within their rights (issue 11), audited."""

from __future__ import annotations

import pytest

from app.models import AuditEvent, LoginSession, Role, User
from app.services import PermissionDenied, PortalError
from app.services.accounts import update_account
from tests.conftest import Browser

pytestmark = pytest.mark.database_only


def _event(session, action: str) -> AuditEvent:
    session.expire_all()
    return session.query(AuditEvent).filter_by(action=action).one()


def test_own_account_page_changes_name_and_language(browser, session, make):
    member = make.user(Role.UNIT, name="Nguyễn Văn A")
    browser.login(member.email)
    page = browser.get("/account").get_data(as_text=True)
    assert "Nguyễn Văn A" in page and 'value="en"' in page

    resp = browser.post("/account", data={"name": "Nguyễn Văn Anh", "locale": "en"})
    assert resp.status_code == 302
    session.expire_all()
    user = session.get(User, member.id)
    assert (user.name, user.locale) == ("Nguyễn Văn Anh", "en")
    event = _event(session, "account.profile")
    assert event.actor_id == member.id
    assert event.after == {"name": "Nguyễn Văn Anh", "locale": "en"}
    assert "Your account was saved." in browser.get("/account").get_data(as_text=True)

    browser.post("/account", data={"name": "Nguyễn Văn Anh", "locale": "vi"})
    page = browser.get("/account").get_data(as_text=True)
    assert '<html lang="vi">' in page and "Tài khoản của tôi" in page


def test_own_account_refuses_an_empty_name_and_unknown_language(browser, session, make):
    member = make.user(Role.JUDGE, name="Giám khảo B")
    browser.login(member.email)
    assert browser.post("/account", data={"name": " ", "locale": "vi"}).status_code == 200
    assert browser.post("/account", data={"name": "X", "locale": "fr"}).status_code == 200
    session.expire_all()
    assert session.get(User, member.id).name == "Giám khảo B"


def test_organiser_edits_a_unit_account_and_it_is_audited(browser, session, make):
    organiser = make.user(Role.ORGANISER)
    first, second = make.unit(code="E1"), make.unit(code="E2")
    member = make.user(Role.UNIT, unit=first, email="member@e1.vn")
    browser.login(organiser.email)
    form = browser.get(f"/org/accounts/{member.id}/edit").get_data(as_text=True)
    assert "member@e1.vn" in form and 'value="admin"' not in form and 'value="organiser"' not in form

    resp = browser.post(
        f"/org/accounts/{member.id}/edit",
        data={"email": "Member@E2.vn", "name": "Thành viên E2", "role": "unit", "unit_id": second.id, "active": "y"},
    )
    assert resp.status_code == 302
    session.expire_all()
    user = session.get(User, member.id)
    assert (user.email, user.name, user.unit_id, user.active) == ("member@e2.vn", "Thành viên E2", second.id, True)
    event = _event(session, "account.update")
    assert event.actor_id == organiser.id
    assert event.before == {"email": "member@e1.vn", "name": event.before["name"], "unit": "E1"}
    assert event.before["name"] != "Thành viên E2"
    assert event.after == {"email": "member@e2.vn", "name": "Thành viên E2", "unit": "E2"}


def test_organisers_may_not_edit_or_create_staff_accounts(browser, session, make):
    organiser = make.user(Role.ORGANISER)
    other = make.user(Role.ORGANISER)
    admin = make.user(Role.ADMIN)
    judge = make.user(Role.JUDGE)
    browser.login(organiser.email)
    assert browser.get(f"/org/accounts/{other.id}/edit").status_code == 403
    assert browser.get(f"/org/accounts/{admin.id}/edit").status_code == 403
    # Promoting a judge to organiser is beyond an organiser's rights, whatever the form says.
    browser.post(
        f"/org/accounts/{judge.id}/edit",
        data={"email": judge.email, "name": judge.name, "role": "organiser", "unit_id": 0, "active": "y"},
    )
    session.expire_all()
    assert session.get(User, judge.id).role == Role.JUDGE
    with pytest.raises(PermissionDenied):
        update_account(session, actor=organiser, user=judge, role=Role.ADMIN)
    session.rollback()


def test_admin_rules_nobody_disables_themselves_nor_the_last_admin(session, make):
    admin = make.user(Role.ADMIN)
    with pytest.raises(PortalError):
        update_account(session, actor=admin, user=admin, active=False)
    session.rollback()
    with pytest.raises(PortalError):
        update_account(session, actor=admin, user=admin, role=Role.ORGANISER)
    session.rollback()
    with pytest.raises(PortalError):  # the operator's command line: still not the last admin
        update_account(session, actor=None, user=admin, role=Role.ORGANISER)
    session.rollback()
    second = make.user(Role.ADMIN)
    update_account(session, actor=admin, user=second, role=Role.ORGANISER)
    session.commit()
    assert session.get(User, second.id).role == Role.ORGANISER


def test_role_change_or_disabling_ends_the_accounts_sessions(app, session, make):
    admin, judge, other = make.user(Role.ADMIN), make.user(Role.JUDGE), make.user(Role.JUDGE)
    judge_browser, other_browser = Browser(app.test_client()), Browser(app.test_client())
    judge_browser.login(judge.email)
    other_browser.login(other.email)
    update_account(session, actor=admin, user=judge, role=Role.ORGANISER)
    update_account(session, actor=admin, user=other, active=False)
    session.commit()
    for b in (judge_browser, other_browser):
        resp = b.get("/account")
        assert resp.status_code == 302 and resp.location.startswith("/login")


def test_a_unit_member_needs_a_unit_and_emails_stay_unique(session, make):
    admin = make.user(Role.ADMIN)
    judge = make.user(Role.JUDGE)
    member = make.user(Role.UNIT)
    with pytest.raises(PortalError):
        update_account(session, actor=admin, user=judge, role=Role.UNIT)
    session.rollback()
    with pytest.raises(PortalError):
        update_account(session, actor=admin, user=judge, email=member.email)
    session.rollback()
    assert update_account(session, actor=admin, user=judge, name=judge.name) == {}
    assert session.query(AuditEvent).filter_by(action="account.update").count() == 0
    assert session.query(LoginSession).count() == 0


def test_staff_send_a_reset_link_to_accounts_they_manage(browser, session, make):
    from app.models import MailKind, OutboxMessage

    organiser = make.user(Role.ORGANISER)
    member = make.user(Role.UNIT, email="quen@unit.vn")
    admin = make.user(Role.ADMIN)
    browser.login(organiser.email)
    assert "Send a password reset link" in browser.get(f"/org/accounts/{member.id}/edit").get_data(as_text=True) or (
        "Gửi đường dẫn đặt lại mật khẩu" in browser.get(f"/org/accounts/{member.id}/edit").get_data(as_text=True)
    )
    assert browser.post(f"/org/accounts/{member.id}/reset").status_code == 302
    session.expire_all()
    [mail] = session.query(OutboxMessage).filter_by(kind=MailKind.PASSWORD_RESET).all()
    assert mail.to_email == "quen@unit.vn" and "/reset/" in mail.body_text
    assert _event(session, "account.reset_link").actor_id == organiser.id
    assert browser.post(f"/org/accounts/{admin.id}/reset").status_code == 403
    assert session.query(OutboxMessage).count() == 1
