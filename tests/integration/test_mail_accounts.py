"""Invitations, forgot password and the Outbox, end to end: mails go through a real SMTP server (aiosmtpd) and a real
RQ worker, and their links are followed like a person would."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.models import AccountToken, AuditEvent, MailKind, MailStatus, OutboxMessage, Role, TokenPurpose, User, utcnow
from app.services.mail import queue_mail
from tests.conftest import SMTP_TEST_PUBLIC_URL, Browser, IsolatedClient
from tests.factories import PASSWORD

NEW_PASSWORD = "blue kettle morning parade 42"
LINK_RE = re.compile(re.escape(SMTP_TEST_PUBLIC_URL) + r"(/(?:invitation|password/reset)/[A-Za-z0-9_\-]+)")


def link_path(received) -> str:
    """The path of the one-time link in a received mail (the same in its text and HTML parts)."""
    [text_link] = set(LINK_RE.findall(received.body("plain")))
    assert text_link in received.body("html")
    return text_link


def set_password(client, path: str, password: str = NEW_PASSWORD):
    page = client.get(path)
    assert page.status_code == 200, page.get_data(as_text=True)[:300]
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.get_data(as_text=True)).group(1)
    return client.post(path, data={"new_password": password, "csrf_token": token})


def fresh_browser(app) -> Browser:
    app.test_client_class = IsolatedClient
    return Browser(app.test_client())


def test_invitation_from_the_web_form_then_set_password_then_log_in(app, session, make, browser, smtp, deliver_mail):
    unit = make.unit(name="Phường Bến Nghé")
    make.contest(title="Cuộc thi video cải cách hành chính 2026")
    organiser = make.user(Role.ORGANISER)
    browser.login(organiser.email)
    resp = browser.post(
        "/org/accounts",
        data={"email": "Ben.Nghe@Example.vn", "name": "Chị Hoa", "role": "unit", "unit_id": unit.id, "password": ""},
    )
    assert resp.status_code == 302
    user = session.scalar(select(User).where(User.email == "ben.nghe@example.vn"))
    assert user.password_hash is None
    page = browser.get("/org/accounts").get_data(as_text=True)
    assert "Chưa nhận lời mời" in page and "Mời lại" in page  # not accepted yet; invite again

    assert deliver_mail() == 1
    [mail] = smtp.to("ben.nghe@example.vn")
    assert mail.message["Subject"] == "Tài khoản của bạn trên cổng cuộc thi: Cuộc thi video cải cách hành chính 2026"
    text = mail.body("plain")
    assert "Chào Chị Hoa," in text and "Phường Bến Nghé" in text and "7 ngày" in text
    assert "http" not in LINK_RE.sub("", text).replace(SMTP_TEST_PUBLIC_URL, "")  # no other links but PUBLIC_URL
    assert "<img" not in mail.body("html")
    path = link_path(mail)

    invitee = fresh_browser(app)
    page = invitee.get(path).get_data(as_text=True)
    assert "ben.nghe@example.vn" in page
    resp = set_password(invitee.client, path)
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/unit/")
    assert invitee.get("/unit/").status_code == 200  # logged in
    # The same link works once.
    again = invitee.get(path)
    assert again.status_code == 410 and "đã được sử dụng" in again.get_data(as_text=True)
    # And the password logs in anywhere.
    fresh_browser(app).login("ben.nghe@example.vn", NEW_PASSWORD)
    actions = set(session.scalars(select(AuditEvent.action).where(AuditEvent.object_id == str(user.id))))
    assert {"account.create", "account.invite", "account.invitation_accepted", "account.password"} <= actions
    assert "Đã nhận lời" in browser.get("/org/accounts").get_data(as_text=True)  # accepted


def test_users_add_takes_exactly_one_of_password_or_invite_and_never_prompts(app, session, make, smtp, deliver_mail):
    unit = make.unit(code="P-9")
    runner = app.test_cli_runner()
    args = ["users", "add", "cli@example.vn", "--name", "Anh Nam", "--role", "unit", "--unit", unit.code]
    for extra in ([], ["--password", "x-secret-pass-1", "--invite"]):
        result = runner.invoke(args=args + extra, input="")
        assert result.exit_code == 2 and "exactly one of --password P or --invite" in result.output
    result = runner.invoke(args=args + ["--invite"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert doc["email"] == "cli@example.vn" and doc["invited"] is True and isinstance(doc["id"], int)
    judge = ["users", "add", "p@example.vn", "--name", "P", "--role", "judge"]
    result = runner.invoke(args=[*judge, "--password", PASSWORD])
    assert json.loads(result.output)["invited"] is False
    assert deliver_mail() == 1
    [mail] = smtp.to("cli@example.vn")
    assert link_path(mail).startswith("/invitation/")


def test_expired_invitation_offers_a_new_one_and_reinvite_retires_old_links(app, session, make, smtp, deliver_mail):
    organiser = make.user(Role.ORGANISER)
    staff = fresh_browser(app)
    staff.login(organiser.email)
    unit = make.unit()
    staff.post("/org/accounts", data={"email": "late@example.vn", "name": "Late", "role": "unit", "unit_id": unit.id})
    deliver_mail()
    first = link_path(smtp.to("late@example.vn")[0])
    session.execute(AccountToken.__table__.update().values(expires_at=utcnow() - timedelta(minutes=1)))
    session.commit()

    invitee = fresh_browser(app)
    page = invitee.get(first)
    body = page.get_data(as_text=True)
    assert page.status_code == 410 and "Liên kết đã hết hạn" in body and "Gửi cho tôi lời mời mới" in body
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', body).group(1)
    resp = invitee.client.post("/invitation/renew", data={"token": first.rsplit("/", 1)[1], "csrf_token": token})
    assert resp.status_code == 302
    deliver_mail()
    second = link_path(smtp.to("late@example.vn")[1])
    assert second != first and invitee.get(second).status_code == 200

    # The organiser invites again: the second link stops working, the third works.
    user = session.scalar(select(User).where(User.email == "late@example.vn"))
    assert staff.post(f"/org/accounts/{user.id}/invite").status_code == 302
    deliver_mail()
    third = link_path(smtp.to("late@example.vn")[2])
    assert invitee.get(second).status_code == 410
    assert set_password(invitee.client, third).status_code == 302
    # Accepted: an old link now says so and offers to log in instead of a new invitation.
    body = invitee.get(first).get_data(as_text=True)
    assert "Tài khoản của bạn đã sẵn sàng" in body and "Gửi cho tôi lời mời mới" not in body
    # Nothing to renew any more: no mail is written.
    before = session.scalar(select(OutboxMessage.id).order_by(OutboxMessage.id.desc()).limit(1))
    invitee.client.post("/invitation/renew", data={"token": first.rsplit("/", 1)[1], "csrf_token": token})
    assert session.scalar(select(OutboxMessage.id).order_by(OutboxMessage.id.desc()).limit(1)) == before


def test_forgot_password_resets_once_ends_old_sessions_and_clears_the_lock(app, session, make, smtp, deliver_mail):
    judge = make.user(Role.JUDGE, email="judge.reset@example.vn")
    judge.locale = "en"
    session.commit()
    old = fresh_browser(app)
    old.login(judge.email)
    assert old.get("/judge/").status_code == 200
    locked = fresh_browser(app)
    for _ in range(10):
        locked.client.post("/login", data={"email": judge.email, "password": "wrong-pw", "csrf_token": locked.token()})

    anyone = fresh_browser(app)
    assert 'href="/password/forgot"' in anyone.get("/login").get_data(as_text=True)
    assert "Quên mật khẩu?" in anyone.get("/login").get_data(as_text=True)
    answers = []
    for email in (judge.email, "nobody@example.vn"):
        resp = anyone.post("/password/forgot", data={"email": email}, follow_redirects=True)
        # The same page but for the form's CSRF token (signed with the time, to the second).
        answers.append(re.sub(r'value="[^"]*"', "", resp.get_data(as_text=True).split("<main", 1)[1]))
    assert answers[0] == answers[1]  # the same neutral answer, account or not
    assert "Nếu có tài khoản dùng địa chỉ này" in answers[0]
    deliver_mail()
    [mail] = smtp.messages  # one mail only: none for the unknown address
    assert mail.recipients == [judge.email]
    assert mail.message["Subject"] == "Reset your password on the contest portal"  # the recipient's language
    assert "60 minutes" in mail.body("plain")
    path = link_path(mail)

    resp = set_password(anyone.client, path)
    assert resp.status_code == 302
    assert old.get("/judge/").status_code == 302  # the old session is dead
    assert anyone.get("/judge/").status_code == 200  # the resetting browser is logged in
    assert anyone.get(path).status_code == 410  # single use
    fresh_browser(app).login(judge.email, NEW_PASSWORD)  # the lock was cleared


def test_a_reset_link_lasts_one_hour_and_a_weak_password_keeps_it(app, session, make, smtp, deliver_mail):
    user = make.user(Role.UNIT, unit=make.unit())
    anyone = fresh_browser(app)
    anyone.post("/password/forgot", data={"email": user.email})
    deliver_mail()
    path = link_path(smtp.to(user.email)[0])
    row = session.scalar(select(AccountToken).where(AccountToken.purpose == TokenPurpose.PASSWORD_RESET))
    assert timedelta(minutes=59) < row.expires_at - row.created_at <= timedelta(hours=1)
    resp = set_password(anyone.client, path, "short")
    assert resp.status_code == 200  # refused, the form again
    assert anyone.get(path).status_code == 200  # the link still works
    row.expires_at = utcnow() - timedelta(seconds=1)
    session.commit()
    page = anyone.get(path)
    assert page.status_code == 410 and 'href="/password/forgot"' in page.get_data(as_text=True)
    assert anyone.get("/password/reset/not-a-token").status_code == 404


def test_reset_requests_are_rate_limited_like_login(app, make, smtp):
    anyone = fresh_browser(app)
    for _ in range(10):
        assert anyone.post("/password/forgot", data={"email": "x@example.vn"}).status_code == 302
    resp = anyone.post("/password/forgot", data={"email": "x@example.vn"})
    assert resp.status_code == 429 and "Yêu cầu quá nhiều lần" in resp.get_data(as_text=True)


def test_outbox_visibility_and_resend(app, session, make, smtp, deliver_mail):
    unit = make.unit()
    admin, organiser = make.user(Role.ADMIN), make.user(Role.ORGANISER)
    unit_user, other_organiser = make.user(Role.UNIT, unit=unit), make.user(Role.ORGANISER)
    smtp.sink.refuse.add(unit_user.email)
    to_unit = queue_mail(session, to_user=unit_user, kind=MailKind.OTHER, subject="Gửi đơn vị", text="a", html="a",
                         locale="vi")  # fmt: skip
    to_organiser = queue_mail(session, to_user=other_organiser, kind=MailKind.PASSWORD_RESET, subject="Gửi BTC",
                              text="secret link", html="b", locale="vi")  # fmt: skip
    session.commit()
    deliver_mail()

    staff = fresh_browser(app)
    staff.login(organiser.email)
    listing = staff.get("/org/outbox").get_data(as_text=True)
    assert "Gửi đơn vị" in listing and "Gửi BTC" not in listing
    assert staff.get(f"/org/outbox/{to_unit.id}").status_code == 200
    assert staff.get(f"/org/outbox/{to_organiser.id}").status_code == 404
    assert 'action="/org/outbox/' not in staff.get(f"/org/outbox/{to_unit.id}").get_data(as_text=True)
    assert staff.post(f"/org/outbox/{to_unit.id}/resend").status_code == 302
    session.expire_all()
    assert session.get(OutboxMessage, to_unit.id).status == MailStatus.FAILED  # organisers cannot re-send

    boss = fresh_browser(app)
    boss.login(admin.email)
    listing = boss.get("/org/outbox").get_data(as_text=True)
    assert "Gửi đơn vị" in listing and "Gửi BTC" in listing
    page = boss.get(f"/org/outbox/{to_unit.id}").get_data(as_text=True)
    assert "Gửi lại" in page and "550" in page
    smtp.sink.refuse.clear()
    assert boss.post(f"/org/outbox/{to_unit.id}/resend").status_code == 302
    deliver_mail()
    session.expire_all()
    row = session.get(OutboxMessage, to_unit.id)
    assert row.status == MailStatus.SENT and row.attempts == 2
    [got] = smtp.to(unit_user.email)
    assert got.message["Message-ID"] == row.message_id
    assert session.scalar(select(AuditEvent).where(AuditEvent.action == "mail.resend")).actor_id == admin.id
    assert fresh_browser(app).get("/org/outbox").status_code == 302  # not logged in: to the login page


def test_without_a_mail_server_an_organiser_passes_the_invitation_link_on(app, session, make):
    """A closed intranet: no SMTP_URL. The invitation waits in the Outbox, where the organiser opens it."""
    app.config["PUBLIC_URL"] = "https://cuocthi.example.gov.vn"
    organiser, unit = make.user(Role.ORGANISER), make.unit()
    staff = fresh_browser(app)
    staff.login(organiser.email)
    staff.post(
        "/org/accounts", data={"email": "noi.bo@example.vn", "name": "Nội Bộ", "role": "unit", "unit_id": unit.id}
    )
    listing = staff.get("/org/outbox").get_data(as_text=True)
    assert "Chức năng gửi thư đang tắt" in listing and "Chưa gửi" in listing
    [message] = session.scalars(select(OutboxMessage))
    page = staff.get(f"/org/outbox/{message.id}").get_data(as_text=True)
    [link] = re.findall(r"https://cuocthi\.example\.gov\.vn(/invitation/[A-Za-z0-9_\-]+)", page)
    invitee = fresh_browser(app)
    assert set_password(invitee.client, link).status_code == 302
    assert invitee.get("/unit/").status_code == 200


def test_an_smtp_url_that_is_not_one_stops_the_start(app):
    from config import ConfigError, check

    with pytest.raises(ConfigError, match="SMTP_URL must look like") as caught:
        check({**app.config, "SMTP_URL": "mail.example.vn:25"})
    assert "mail.example.vn" not in str(caught.value)  # never echoed: it may hold a password
    check({**app.config, "SMTP_URL": "smtps://u:p@mail.example.vn"})
