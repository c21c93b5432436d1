"""Contest rules as a unit member and the public meet them: deadlines, local times, rules text, limits,
participation, and publication that later edits cannot change."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from app.models import Entry, EntryStatus, Role, utcnow
from app.services.entries import participation

pytestmark = pytest.mark.database_only  # but for the tests that ask for `services`: they store clips


def test_nothing_can_change_after_the_deadline(browser, make, session, sample_clip):
    unit = make.unit()
    member = make.user(Role.UNIT, unit)
    contest = make.contest(closed=True)
    entry = make.entry(contest, unit, status=EntryStatus.DRAFT)
    clip_before = entry.clip_id
    browser.login(member.email)
    page = browser.get(f"/unit/entries/{entry.id}").get_data(as_text=True)
    assert 'type="file"' not in page
    assert browser.post(f"/unit/entries/{entry.id}/submit").status_code == 302
    with sample_clip.open("rb") as fh:
        browser.post(
            f"/unit/entries/{entry.id}/clip", data={"file": (fh, "late.mp4")}, content_type="multipart/form-data"
        )
    browser.post(f"/unit/entries/{entry.id}/edit", data={"title": "Changed", "category_id": "0"})
    resp = browser.post(f"/unit/c/{contest.slug}/entries/new", data={"title": "New", "category_id": "0"})
    assert resp.status_code == 302
    session.expire_all()
    fresh = session.get(Entry, entry.id)
    assert (fresh.status, fresh.title, fresh.clip_id) == (EntryStatus.DRAFT, "An entry", clip_before)
    assert session.query(Entry).count() == 1


def test_replace_clip_before_deadline_keeps_the_old_original(services, app, browser, make, session, sample_clip):
    from app.connections import storage

    unit = make.unit()
    member = make.user(Role.UNIT, unit)
    contest = make.contest()
    entry = make.entry(contest, unit, status=EntryStatus.DRAFT, clip_status=None)
    browser.login(member.email)
    keys = []
    for name in ("first.mp4", "second.mov"):
        with sample_clip.open("rb") as fh:
            assert (
                browser.post(
                    f"/unit/entries/{entry.id}/clip", data={"file": (fh, name)}, content_type="multipart/form-data"
                ).status_code
                == 302
            )
        session.expire_all()
        keys.append(session.get(Entry, entry.id).clip.original_key)
    assert keys[0] != keys[1] and keys[1].endswith(".mov")
    assert all(storage().exists(k) for k in keys)


def test_upload_refuses_a_non_video_name_and_leaves_nothing(services, app, browser, make, session, tmp_path):
    from app.connections import storage
    from app.models import Clip

    unit = make.unit()
    member = make.user(Role.UNIT, unit)
    entry = make.entry(make.contest(), unit, status=EntryStatus.DRAFT, clip_status=None)
    browser.login(member.email)
    before = set(storage().keys("originals/"))
    resp = browser.post(
        f"/unit/entries/{entry.id}/clip",
        data={"file": (io.BytesIO(Path(__file__).read_bytes()), "virus.exe")},
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    assert "MP4" in resp.get_data(as_text=True) or ".mp4" in resp.get_data(as_text=True)
    assert session.query(Clip).count() == 0 and set(storage().keys("originals/")) == before


def test_entry_limit_per_unit(browser, make, session):
    unit = make.unit()
    member = make.user(Role.UNIT, unit)
    contest = make.contest(max_entries_per_unit=1)
    browser.login(member.email)
    for title in ("One", "Two"):
        browser.post(f"/unit/c/{contest.slug}/entries/new", data={"title": title, "category_id": "0"})
    assert [e.title for e in session.query(Entry).all()] == ["One"]


def test_contest_page_shows_rules_deadline_in_vietnam_time(client, make):
    closes = datetime(2030, 5, 31, 16, 59, tzinfo=UTC)  # 23:59 in Asia/Ho_Chi_Minh
    make.contest(
        "rules-page",
        title="Cuộc thi",
        opens_at=utcnow() - timedelta(days=1),
        closes_at=closes,
        rules_md="## Thể lệ\n\n1. **Clip** 2–7 phút\n\n<script>alert(1)</script>",
    )
    page = client.get("/c/rules-page").get_data(as_text=True)
    assert "23:59, 31/05/2030 (GMT+7)" in page
    assert 'datetime="2030-05-31T16:59:00Z"' in page and "data-deadline" in page
    assert "<h2>Thể lệ</h2>" in page and "<strong>Clip</strong>" in page
    assert "<script>alert(1)" not in page


def test_participation_lists_units_that_took_part_and_those_that_did_not(make, session, browser):
    contest = make.contest()
    active, idle = make.unit("ACTIVE"), make.unit("IDLE")
    make.user(Role.UNIT, active)
    make.user(Role.UNIT, idle)
    make.entry(contest, active)
    rows = {r.unit.code: r for r in participation(session, contest=contest)}
    assert rows["ACTIVE"].took_part and rows["ACTIVE"].submitted == 1 and rows["ACTIVE"].members == 1
    assert not rows["IDLE"].took_part and rows["IDLE"].entries == 0
    browser.login(make.user(Role.ORGANISER).email)
    page = browser.get(f"/org/c/{contest.slug}/participation").get_data(as_text=True)
    assert "ACTIVE" in page and "IDLE" in page
    text = browser.get(f"/org/c/{contest.slug}/participation?format=csv").data.decode("utf-8")
    lines = text.lstrip("\ufeff").splitlines()
    assert lines[0].startswith("Mã đơn vị,") and lines[1].startswith("ACTIVE,") and ",có," in lines[1]
    assert lines[2].startswith("IDLE,") and ",chưa," in lines[2]
    assert browser.get(f"/org/c/{contest.slug}/participation?format=xlsx").data[:2] == b"PK"


def test_publication_is_a_frozen_snapshot(app, make, session, client):
    from app.models import Award, Score, ScoreSheet, SheetStatus
    from app.services import results

    unit = make.unit(name="Đơn vị A")
    contest = make.contest("frozen")
    judge = make.user(Role.JUDGE)
    organiser = make.user(Role.ORGANISER)
    rnd = make.round(contest, judges=[judge])
    entry = make.entry(contest, unit, title="Before")
    sheet = ScoreSheet(round_id=rnd.id, entry_id=entry.id, judge_id=judge.id, status=SheetStatus.SUBMITTED)
    sheet.scores = [Score(criterion_id=c.id, points=5) for c in rnd.criteria]
    session.add(sheet)
    award = Award(contest_id=contest.id, name="Giải Nhất", count=1)
    session.add(award)
    session.commit()
    results.grant_award(session, actor=organiser, entry=entry, award=award)
    results.publish(session, actor=organiser, contest=contest, rnd=rnd)
    session.commit()
    entry.title = "After"
    sheet.scores[0].points = 1
    session.commit()
    page = client.get("/c/frozen/winners").get_data(as_text=True)
    assert "Before" in page and "After" not in page and "Giải Nhất" in page
    snapshot = results.latest_publication(session, contest).snapshot
    assert snapshot["ranking"][0]["score"] == 15.0


def test_organiser_creates_and_edits_a_contest_in_vietnam_time(browser, make, session):
    from app.models import Contest

    browser.login(make.user(Role.ORGANISER).email)
    resp = browser.post(
        "/org/contests/new",
        data={
            "slug": "binh-dang-gioi-2030",
            "title": "Bình đẳng giới 2030",
            "rules_md": "## Thể lệ",
            "opens_at": "2030-03-01T08:00",
            "closes_at": "2030-05-31T23:59",
            "min_duration_s": "120",
            "max_duration_s": "420",
            "min_height": "720",
            "max_entries_per_unit": "3",
            "category_lines": "Sáng kiến\nMô hình\n",
        },
    )
    assert resp.status_code == 302
    contest = session.query(Contest).filter_by(slug="binh-dang-gioi-2030").one()
    assert contest.opens_at.isoformat() == "2030-03-01T01:00:00+00:00"
    assert contest.closes_at.isoformat() == "2030-05-31T16:59:00+00:00"
    assert sorted(c.name for c in contest.categories) == ["Mô hình", "Sáng kiến"]
    page = browser.get("/org/c/binh-dang-gioi-2030/edit").get_data(as_text=True)
    assert 'value="2030-05-31T23:59"' in page
    bad = browser.post(
        "/org/c/binh-dang-gioi-2030/edit",
        data={
            "slug": "binh-dang-gioi-2030",
            "title": "X",
            "opens_at": "2030-06-01T08:00",
            "closes_at": "2030-05-31T23:59",
        },
        follow_redirects=True,
    )
    assert bad.status_code == 200
    session.expire_all()
    assert session.query(Contest).filter_by(slug="binh-dang-gioi-2030").one().title == "Bình đẳng giới 2030"
