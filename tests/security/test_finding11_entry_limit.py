"""Finding 11: the per-unit entry limit cannot be bypassed by withdrawing, creating another and resubmitting."""

from __future__ import annotations

from sqlalchemy import func, select

from app.models import Entry, EntryStatus


def _active(session, contest) -> int:
    session.expire_all()
    return session.scalar(
        select(func.count(Entry.id)).where(
            Entry.contest_id == contest.id, Entry.status.in_((EntryStatus.DRAFT, EntryStatus.SUBMITTED))
        )
    )


def test_withdraw_create_resubmit_is_refused_at_the_limit(browser, make, session):
    """Finding 11: withdraw, create another entry, submit the withdrawn one → refused; the unit keeps one entry."""
    contest = make.contest(max_entries_per_unit=1)
    member, first = make.member_entry(contest, title="First")
    browser.login(member.email)
    assert browser.post(f"/unit/entries/{first.id}/withdraw").status_code == 302
    browser.post(f"/unit/c/{contest.slug}/entries/new", data={"title": "Second", "category_id": "0"})
    assert _active(session, contest) == 1
    resp = browser.post(f"/unit/entries/{first.id}/submit", follow_redirects=True)
    assert resp.status_code == 200
    assert session.get(Entry, first.id).status == EntryStatus.WITHDRAWN
    assert _active(session, contest) == 1


def test_a_withdrawn_entry_can_come_back_while_there_is_room(browser, make, session):
    """Finding 11: the fix only refuses what exceeds the limit; a withdrawn entry may be resubmitted within it."""
    contest = make.contest(max_entries_per_unit=2)
    member, first = make.member_entry(contest, title="First")
    browser.login(member.email)
    browser.post(f"/unit/entries/{first.id}/withdraw")
    browser.post(f"/unit/c/{contest.slug}/entries/new", data={"title": "Second", "category_id": "0"})
    browser.post(f"/unit/entries/{first.id}/submit")
    session.expire_all()
    assert session.get(Entry, first.id).status == EntryStatus.SUBMITTED
    assert _active(session, contest) == 2
