"""Notifications and reminders (issue 11): who gets each one, its text in Vietnamese and English, the per-contest
switches, the organiser's participation reminder, and the scheduled reminders exactly once (time is passed in as
`now`, never waited for)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.models import (
    AuditEvent,
    ClipStatus,
    EntryStatus,
    MailKind,
    OutboxMessage,
    Role,
    RoundStatus,
    ScoreSheet,
    SheetStatus,
    utcnow,
)
from app.notification_jobs import notify_clip, send_reminders
from app.services import accounts, entries, notifications, rounds, scoring

pytestmark = pytest.mark.database_only


def _mails(session, kind: MailKind | None = None) -> list[OutboxMessage]:
    session.expire_all()
    query = select(OutboxMessage).order_by(OutboxMessage.id)
    if kind is not None:
        query = query.where(OutboxMessage.kind == kind)
    return list(session.scalars(query))


def _by_email(messages) -> dict[str, OutboxMessage]:
    return {m.to_email: m for m in messages}


@pytest.fixture
def unit_pair(make, session):
    """A unit with a Vietnamese-speaking member, an English-speaking one and a disabled one."""
    unit = make.unit(code="PBN", name="Phường Bến Nghé")
    vi = make.user(Role.UNIT, unit=unit, email="vi@pbn.vn", name="Nguyễn Văn An")
    en = make.user(Role.UNIT, unit=unit, email="en@pbn.vn", name="Tran Binh")
    en.locale = "en"
    off = make.user(Role.UNIT, unit=unit, email="off@pbn.vn")
    accounts.set_active(session, actor=None, user=off, active=False)
    session.commit()
    return unit, vi, en


def test_submitting_an_entry_sends_a_receipt_to_each_active_member(session, make, unit_pair):
    unit, vi, en = unit_pair
    contest = make.contest(title="Chuyển đổi số 2026")
    entry = make.entry(contest, unit, title="Phường số", status=EntryStatus.DRAFT)
    entries.submit_entry(session, user=vi, entry=entry)
    session.commit()
    mails = _by_email(_mails(session, MailKind.ENTRY_RECEIPT))
    assert set(mails) == {"vi@pbn.vn", "en@pbn.vn"}
    english, vietnamese = mails["en@pbn.vn"], mails["vi@pbn.vn"]
    assert english.locale == "en" and english.subject == "Entry received: Phường số"
    assert "was submitted to the contest “Chuyển đổi số 2026”" in english.body_text
    assert "(GMT+7)" in english.body_text and "What happens next" in english.body_text
    assert f"/unit/entries/{entry.id}" in english.body_text and f"/unit/entries/{entry.id}" in english.body_html
    assert vietnamese.locale == "vi" and vietnamese.subject == "Đã nhận tác phẩm: Phường số"
    assert "Chuyển đổi số 2026" in vietnamese.body_text and "(GMT+7)" in vietnamese.body_text
    assert vietnamese.contest_id == contest.id


def test_a_switched_off_notification_is_not_sent_and_the_switch_is_audited(session, make, unit_pair, browser):
    unit, vi, _en = unit_pair
    organiser = make.user(Role.ORGANISER)
    contest = make.contest()
    browser.login(organiser.email)
    page = browser.get(f"/org/c/{contest.slug}/notifications").get_data(as_text=True)
    assert 'name="entry_receipt"' in page and "disabled" in page  # mandatory mails shown, not switchable
    keep = [k.value for k in notifications.SWITCHABLE if k != MailKind.ENTRY_RECEIPT]
    resp = browser.post(f"/org/c/{contest.slug}/notifications", data=dict.fromkeys(keep, "1"))
    assert resp.status_code == 302
    event = session.query(AuditEvent).filter_by(action="contest.notifications").one()
    assert event.actor_id == organiser.id and "entry_receipt" not in event.after["enabled"]
    entry = make.entry(contest, unit, status=EntryStatus.DRAFT)
    entries.submit_entry(session, user=vi, entry=entry)
    session.commit()
    assert _mails(session) == []


def test_clip_ready_and_rejected_go_to_the_unit_with_the_translated_reason(app, session, make, unit_pair):
    unit, _vi, _en = unit_pair
    contest = make.contest()
    entry = make.entry(contest, unit, title="Góc phố", status=EntryStatus.DRAFT, clip_status=ClipStatus.REJECTED)
    clip = entry.clip
    clip.reason_code, clip.reason_params = "too_short", {"duration": "0:02", "min": "2:00"}
    session.commit()
    assert notify_clip(clip.id) == 2
    assert notify_clip(clip.id) == 0  # the job ran twice: no second mail
    mails = _by_email(_mails(session, MailKind.CLIP_REJECTED))
    assert "The clip is 0:02 long; the contest requires clips of at least 2:00." in mails["en@pbn.vn"].body_text
    assert mails["en@pbn.vn"].subject == "Clip rejected: Góc phố"
    assert "Clip dài 0:02" in mails["vi@pbn.vn"].body_text or "0:02" in mails["vi@pbn.vn"].body_text
    assert mails["vi@pbn.vn"].body_text != mails["en@pbn.vn"].body_text
    assert f"/unit/entries/{entry.id}" in mails["vi@pbn.vn"].body_text

    ready = make.entry(contest, unit, title="Phố đêm", status=EntryStatus.DRAFT, clip_status=ClipStatus.READY)
    assert notify_clip(ready.clip_id) == 2
    mails = _by_email(_mails(session, MailKind.CLIP_READY))
    assert "is ready" in mails["en@pbn.vn"].body_text and "still a draft" in mails["en@pbn.vn"].body_text
    assert mails["vi@pbn.vn"].subject == "Video đã sẵn sàng: Phố đêm"
    assert "đã sẵn sàng" in mails["vi@pbn.vn"].body_text and "bản nháp" in mails["vi@pbn.vn"].body_text


def test_deadline_reminders_reach_only_units_with_drafts_or_no_entry_once_per_occasion(session, make):
    closes = utcnow() + timedelta(days=10)
    contest = make.contest(title="Hội thi", opens_at=utcnow() - timedelta(days=1), closes_at=closes)
    members = {}
    for code in ("NONE", "DRAFT", "DONE", "MIXED", "GONE"):
        unit = make.unit(code=code)
        members[code] = make.user(Role.UNIT, unit=unit, email=f"{code.lower()}@test.vn")
    make.entry(contest, members["DRAFT"].unit, status=EntryStatus.DRAFT)
    make.entry(contest, members["DONE"].unit, status=EntryStatus.SUBMITTED)
    make.entry(contest, members["MIXED"].unit, status=EntryStatus.SUBMITTED)
    make.entry(contest, members["MIXED"].unit, status=EntryStatus.DRAFT)
    make.entry(contest, members["GONE"].unit, status=EntryStatus.WITHDRAWN)
    members["NONE"].locale = "en"
    session.commit()

    assert send_reminders(closes - timedelta(days=4))["deadline_reminders"] == 0  # too early
    assert send_reminders(closes - timedelta(days=2, hours=20))["deadline_reminders"] == 4
    assert send_reminders(closes - timedelta(days=2))["deadline_reminders"] == 0  # the 3-day one went already
    sent = _by_email(_mails(session, MailKind.DEADLINE_REMINDER))
    assert set(sent) == {"none@test.vn", "draft@test.vn", "mixed@test.vn", "gone@test.vn"}
    assert sent["none@test.vn"].subject == "Three days left: Hội thi"
    assert "Your unit has not submitted an entry yet." in sent["none@test.vn"].body_text
    assert "1 entry that is not submitted yet" not in sent["none@test.vn"].body_text
    assert sent["draft@test.vn"].locale == "vi" and sent["draft@test.vn"].subject == "Còn ba ngày: Hội thi"
    assert "Đơn vị của bạn còn 1 tác phẩm chưa nộp." in sent["draft@test.vn"].body_text
    assert "Đơn vị của bạn chưa nộp tác phẩm nào." in sent["gone@test.vn"].body_text

    assert send_reminders(closes - timedelta(hours=20))["deadline_reminders"] == 4
    assert send_reminders(closes - timedelta(hours=2))["deadline_reminders"] == 0
    assert send_reminders(closes + timedelta(hours=1))["deadline_reminders"] == 0  # closed
    one_day = [m for m in _mails(session, MailKind.DEADLINE_REMINDER) if m.to_email == "none@test.vn"][-1]
    assert one_day.subject == "One day left: Hội thi"


def test_a_moved_deadline_arms_the_reminders_again(session, make):
    closes = utcnow() + timedelta(days=10)
    contest = make.contest(opens_at=utcnow() - timedelta(days=1), closes_at=closes)
    make.user(Role.UNIT)
    assert send_reminders(closes - timedelta(hours=12))["deadline_reminders"] == 1
    contest.closes_at = closes + timedelta(days=7)
    session.commit()
    assert send_reminders(contest.closes_at - timedelta(hours=12))["deadline_reminders"] == 1


@pytest.fixture
def judging_world(make, session):
    contest = make.contest(title="Giải báo chí")
    units = [make.unit(code=f"J{i}") for i in range(2)]
    entries_ = [make.entry(contest, units[i % 2], title=f"Tác phẩm {i}") for i in range(3)]
    busy = make.user(Role.JUDGE, email="busy@judge.vn", name="Lê Thị Cúc")
    busy.locale = "en"
    own_unit = make.user(Role.JUDGE, unit=units[0], email="own@judge.vn")  # 1 entry of another unit left
    session.commit()
    return contest, entries_, busy, own_unit


def test_opening_a_round_tells_each_judge_how_many_entries_and_until_when(session, make, judging_world):
    contest, _entries, busy, own_unit = judging_world
    idle = make.user(Role.JUDGE, email="idle@judge.vn")
    closes = utcnow() + timedelta(days=5)
    rnd = make.round(contest, judges=[busy, own_unit], status=RoundStatus.DRAFT, name="Sơ khảo", closes_at=closes)
    rounds.set_round_status(session, actor=None, rnd=rnd, status=RoundStatus.OPEN)
    session.commit()
    mails = _by_email(_mails(session, MailKind.ROUND_OPENED))
    assert set(mails) == {"busy@judge.vn", "own@judge.vn"} and idle.email not in mails
    assert mails["busy@judge.vn"].subject == "Scoring open: Sơ khảo — Giải báo chí"
    assert "3 entries are assigned to you" in mails["busy@judge.vn"].body_text
    assert "Scoring closes at" in mails["busy@judge.vn"].body_text
    assert "/judge/" in mails["busy@judge.vn"].body_text
    assert mails["own@judge.vn"].locale == "vi"
    assert mails["own@judge.vn"].subject == "Mở vòng chấm: Sơ khảo — Giải báo chí"
    assert "bạn được phân công chấm 1 tác phẩm" in mails["own@judge.vn"].body_text
    rounds.set_round_status(session, actor=None, rnd=rnd, status=RoundStatus.CLOSED)
    rounds.set_round_status(session, actor=None, rnd=rnd, status=RoundStatus.OPEN)
    session.commit()
    assert len(_mails(session, MailKind.ROUND_OPENED)) == 2  # reopening does not announce it again


def test_round_reminders_go_to_judges_with_unsubmitted_sheets(session, make, judging_world):
    contest, _entries, busy, own_unit = judging_world
    closes = utcnow() + timedelta(days=5)
    rnd = make.round(contest, judges=[busy, own_unit], name="Chung khảo", closes_at=closes)
    for entry in scoring.assigned_entries(session, judge=own_unit, rnd=rnd):
        points = {c.id: 5 for c in rnd.criteria}
        scoring.save_sheet(session, judge=own_unit, rnd=rnd, entry=entry, points=points, submit=True)
    session.commit()

    assert send_reminders(closes - timedelta(hours=60))["round_reminders"] == 0
    assert send_reminders(closes - timedelta(hours=47))["round_reminders"] == 1
    assert send_reminders(closes - timedelta(hours=30))["round_reminders"] == 0
    assert send_reminders(closes - timedelta(hours=23))["round_reminders"] == 1
    mails = _mails(session, MailKind.ROUND_REMINDER)
    assert [m.to_email for m in mails] == ["busy@judge.vn", "busy@judge.vn"]
    assert mails[0].subject == "48 hours left to score: Chung khảo"
    assert "You have submitted 0 of 3 score sheets; 3 remain." in mails[0].body_text
    assert mails[1].subject == "24 hours left to score: Chung khảo"
    own_unit.locale, busy.locale = "en", "vi"
    session.commit()
    rounds.set_round_status(session, actor=None, rnd=rnd, status=RoundStatus.OPEN)  # nothing new: no sheet changed
    rnd.closes_at = closes + timedelta(days=1)  # a moved closing time arms the reminders again
    session.commit()
    assert send_reminders(rnd.closes_at - timedelta(hours=23))["round_reminders"] == 1
    vietnamese = _mails(session, MailKind.ROUND_REMINDER)[-1]
    assert vietnamese.subject == "Còn 24 giờ để chấm điểm: Chung khảo"
    assert "Bạn đã nộp 0/3 phiếu chấm; còn 3 phiếu chưa nộp." in vietnamese.body_text
    sheets = session.query(ScoreSheet).filter_by(judge_id=own_unit.id).all()
    assert sheets and all(s.status == SheetStatus.SUBMITTED for s in sheets)


def test_participation_reminder_previews_counts_and_pauses_24_hours(session, make, browser):
    organiser = make.user(Role.ORGANISER)
    contest = make.contest(title="Cuộc thi video")
    took_part, lazy, english = make.unit(code="OK"), make.unit(code="LAZY"), make.unit(code="EN")
    make.entry(contest, took_part)
    make.user(Role.UNIT, unit=took_part, email="ok@u.vn")
    make.user(Role.UNIT, unit=lazy, email="lazy@u.vn", name="Phạm Hà")
    make.user(Role.UNIT, unit=english, email="en@u.vn").locale = "en"
    make.unit(code="EMPTY")  # no account: cannot be reminded
    session.commit()
    browser.login(organiser.email)
    assert f"/org/c/{contest.slug}/participation/remind" in browser.get(
        f"/org/c/{contest.slug}/participation"
    ).get_data(as_text=True)

    preview = browser.get(f"/org/c/{contest.slug}/participation/remind").get_data(as_text=True)
    assert "2 units will get the reminder." in preview or "2 đơn vị sẽ nhận" in preview
    assert "Cuộc thi video" in preview and _mails(session) == []

    assert browser.post(f"/org/c/{contest.slug}/participation/remind").status_code == 302
    sent = _by_email(_mails(session, MailKind.PARTICIPATION_REMINDER))
    assert set(sent) == {"lazy@u.vn", "en@u.vn"}
    assert sent["en@u.vn"].subject == "Reminder: take part in Cuộc thi video"
    assert "has not submitted an entry yet" in sent["en@u.vn"].body_text
    assert sent["lazy@u.vn"].subject == "Thư nhắc: mời tham gia Cuộc thi video"
    assert "Kính gửi Phạm Hà," in sent["lazy@u.vn"].body_text or "Chào Phạm Hà," in sent["lazy@u.vn"].body_text
    assert "đơn vị của bạn chưa nộp tác phẩm dự thi" in sent["lazy@u.vn"].body_text
    event = session.query(AuditEvent).filter_by(action="contest.participation_reminder").one()
    assert event.actor_id == organiser.id and event.after["units"] == 2

    again = browser.get(f"/org/c/{contest.slug}/participation/remind").get_data(as_text=True)
    assert "0 units will get the reminder." in again or "0 đơn vị sẽ nhận" in again
    assert 'name="include_recent"' in again
    browser.post(f"/org/c/{contest.slug}/participation/remind")
    assert len(_mails(session, MailKind.PARTICIPATION_REMINDER)) == 2  # not twice within 24 h
    browser.post(f"/org/c/{contest.slug}/participation/remind", data={"include_recent": "y"})
    assert len(_mails(session, MailKind.PARTICIPATION_REMINDER)) == 4  # confirmed again

    later = notifications.participation_reminder_targets(session, contest=contest, now=utcnow() + timedelta(hours=25))
    assert {t.unit.code for t in later if t.members and not t.recent} == {"LAZY", "EN"}


def test_units_and_judges_cannot_send_reminders(browser, make):
    contest = make.contest()
    browser.login(make.user(Role.UNIT).email)
    assert browser.post(f"/org/c/{contest.slug}/participation/remind").status_code == 403
    assert browser.get(f"/org/c/{contest.slug}/notifications").status_code == 403


def test_a_failed_clip_is_mailed_to_organisers_and_admins_once(app, session, make):
    """Issue 14 with mail: a clip that failed for good reaches every active organiser and admin, with its error id."""
    from app.services.clip_processing import fail_clip

    organiser = make.user(Role.ORGANISER)
    admin = make.user(Role.ADMIN)
    admin.locale = "en"
    make.user(Role.JUDGE)
    entry = make.entry(make.contest(), make.unit(name="Phường Một"), title="Góc phố", clip_status=ClipStatus.QUEUED)
    session.commit()
    with app.app_context():
        for _ in range(2):  # the same failure recorded twice (a sweeper and a job): one mail each
            fail_clip(
                session, clip=entry.clip, error_id="abc123def456", reason_code="processing_failed", reason_text="x"
            )
        session.commit()
    mails = _mails(session, MailKind.OTHER)
    assert sorted(m.to_email for m in mails) == sorted([organiser.email, admin.email])
    by = _by_email(mails)
    assert "abc123def456" in by[organiser.email].body_text and "Góc phố" in by[organiser.email].subject
    assert by[organiser.email].subject.startswith("Một clip xử lý không thành công")
    assert "could not be processed" in by[admin.email].body_text and "Phường Một" in by[admin.email].body_text
    assert f"/org/c/{entry.contest.slug}" in by[admin.email].body_text
