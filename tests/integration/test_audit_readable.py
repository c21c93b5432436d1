"""The audit log reads as sentences (issue 12, point 2): who did what to which object by name, before → after, in the
reader's language; no codes, no \\u escapes, no "ScoreSheet #4", criteria by name. The CSV keeps the raw records."""

from __future__ import annotations

import re

import pytest

from app.audit_log import readable, register_sentence
from app.models import AuditEvent, Award, Clip, ClipStatus, EntryStatus, Role
from app.services import accounts, results, scoring
from app.services import entries as entry_service
from app.services.audit import record_event

pytestmark = pytest.mark.database_only

CODE = re.compile(r"\b[a-z]+\.[a-z_]+\b")  # contest.publish, sheet.submit …


@pytest.fixture
def story(make, session):
    """A unit's entry scored by a judge on named criteria, with an award and a renamed entry."""
    unit = make.unit(name="Phường Bến Nghé")
    member = make.user(Role.UNIT, unit, name="Nguyễn Văn Đơn")
    organiser = make.user(Role.ORGANISER, name="Trần Thị Tổ")
    judge = make.user(Role.JUDGE, name="Lê Giám Khảo")
    contest = make.contest(title="Bình đẳng giới")
    entry = entry_service.create_entry(session, user=member, contest=contest, unit=unit, title="Chia sẻ việc nhà")
    entry_service.update_entry(
        session, user=member, entry=entry, title="Nam nữ chia sẻ việc nhà", summary="", authors="", category_id=None
    )
    session.commit()
    # The unit's clip actions (the bytes do not matter here: only the records are read).
    for name in ("dau-tien.mp4", "thay-the.mp4"):
        clip = Clip(entry_id=entry.id, original_key=f"originals/{name}", filename=name, status=ClipStatus.READY)
        session.add(clip)
        session.flush()
        entry_service.record_clip_upload(session, actor=member, entry=entry, clip=clip)
    entry_service.submit_entry(session, user=member, entry=entry)
    entry_service.withdraw_entry(session, user=member, entry=entry)
    session.commit()
    rnd = make.round(
        contest,
        judges=[judge],
        name="Sơ khảo",
        criteria=[{"name": "Nội dung", "max_points": 40}, {"name": "Kỹ thuật", "max_points": 20}],
    )
    make_ready = make.entry(contest, unit, title="Sẵn sàng", status=EntryStatus.SUBMITTED)
    content, technique = rnd.criteria
    scoring.save_sheet(
        session, judge=judge, rnd=rnd, entry=make_ready, points={content.id: "36", technique.id: "15"}, submit=True
    )
    award = Award(contest_id=contest.id, name="Giải Nhì", count=1)
    session.add(award)
    session.flush()
    results.grant_award(session, actor=organiser, entry=make_ready, award=award)
    session.commit()
    return dict(contest=contest, organiser=organiser, member=member, judge=judge, entry=entry)


def test_contest_log_reads_as_sentences_in_vietnamese(browser, session, story):
    browser.login(story["organiser"].email)
    page = browser.get(f"/org/c/{story['contest'].slug}/audit").get_data(as_text=True)
    body = page[page.index("<tbody>") : page.index("</tbody>")]
    assert "\\u" not in body and "ScoreSheet" not in body and "#" not in body
    assert not CODE.findall(re.sub(r"<[^>]+>", " ", body)), CODE.findall(body)
    # Objects go by their current name; the change shows the earlier one.
    assert "Nguyễn Văn Đơn đã tạo tác phẩm “Nam nữ chia sẻ việc nhà”" in body
    assert "Chia sẻ việc nhà” → “Nam nữ chia sẻ việc nhà" not in body  # values are shown plain, not quoted twice
    assert "Chia sẻ việc nhà → Nam nữ chia sẻ việc nhà" in body
    assert "Lê Giám Khảo đã nộp phiếu chấm cho “Sẵn sàng”" in body
    assert "Nguyễn Văn Đơn đã tải lên video “dau-tien.mp4” của tác phẩm “Nam nữ chia sẻ việc nhà”" in body
    assert "Nguyễn Văn Đơn đã thay video bằng “thay-the.mp4” của tác phẩm" in body
    assert "“dau-tien.mp4” → “thay-the.mp4”" in body
    assert "Nguyễn Văn Đơn đã nộp tác phẩm “Nam nữ chia sẻ việc nhà”" in body and "Bản nháp → Đã nộp" in body
    assert "Nguyễn Văn Đơn đã rút tác phẩm “Nam nữ chia sẻ việc nhà”" in body
    assert "Nội dung: 36; Kỹ thuật: 15" in body
    assert "Giải Nhì" in body


def test_contest_log_in_english_and_the_raw_csv(browser, session, story):
    browser.login(story["organiser"].email)
    page = browser.get(f"/org/c/{story['contest'].slug}/audit?lang=en").get_data(as_text=True)
    assert "Nguyễn Văn Đơn edited the entry “Nam nữ chia sẻ việc nhà”" in page
    assert "Lê Giám Khảo submitted a score sheet for “Sẵn sàng”" in page
    assert "Trần Thị Tổ gave “Sẵn sàng” an award" in page
    raw = browser.get(f"/org/c/{story['contest'].slug}/audit?format=csv").data.decode("utf-8")
    assert "entry.update" in raw and "sheet.submit" in raw  # the export keeps the raw record


def test_unknown_actions_read_as_a_generic_sentence_and_new_ones_can_be_added(app, session, story):
    contest, organiser = story["contest"], story["organiser"]
    record_event(session, actor=organiser, action="mail.reminder", obj=contest, contest_id=contest.id, after={"to": 3})
    session.commit()
    event = session.query(AuditEvent).filter_by(action="mail.reminder").one()
    with app.test_request_context("/?lang=en"):
        line = readable(session, [event])[0]
        assert line.sentence == "Trần Thị Tổ made a change to “Bình đẳng giới”"
        assert [(c.field, c.after) for c in line.changes] == [("to", "3")]
        register_sentence("mail.reminder", "%(who)s sent reminders about %(object)s")
        assert readable(session, [event])[0].sentence == "Trần Thị Tổ sent reminders about “Bình đẳng giới”"


def test_admin_sees_account_and_login_events_that_belong_to_no_contest(browser, make, session):
    admin = make.user(Role.ADMIN, name="Quản Trị")
    organiser = make.user(Role.ORGANISER, email="to-chuc@test.vn")
    account = accounts.create_user(
        session, actor=admin, email="moi@test.vn", name="Người Mới", password="mật-khẩu-dài-2026", role=Role.JUDGE
    )
    accounts.set_active(session, actor=admin, user=account, active=False)
    session.commit()
    browser.client.post("/login", data={"email": "moi@test.vn", "password": "wrong", "csrf_token": browser.token()})

    browser.login(organiser.email)
    assert browser.get("/org/audit").status_code == 403
    browser.client.post("/logout", data={"csrf_token": browser.token("/")})

    browser.login(admin.email)
    page = browser.get("/org/audit?lang=en").get_data(as_text=True)
    assert "Quản Trị created the account Người Mới (moi@test.vn)" in page
    assert "Quản Trị disabled the account of Người Mới (moi@test.vn)" in page
    assert "Failed login for Người Mới (moi@test.vn)" in page
    assert "Quản Trị logged in" in page
    assert "auth.login" not in page and "account.create" not in page
    raw = browser.get("/org/audit?format=csv").data.decode("utf-8")
    assert "account.active" in raw and "auth.login_failed" in raw
