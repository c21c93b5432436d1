"""Contest lifecycle (issue 12, point 1): entry intake, judging and publication are separate phases.

Publishing never closes intake unless the organiser chose it; messages give the true reason intake is shut; an entry
under judging or in a published snapshot is no longer its unit's to change, even while intake is open."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest

from app.models import AuditEvent, Award, Contest, Entry, EntryStatus, Role, RoundStatus, Score, ScoreSheet, utcnow
from app.models import SheetStatus as Sheet
from app.services import PortalError, results
from app.services import contests as contest_service
from app.services import entries as entry_service
from tests.helpers_uploads import upload_one_part

pytestmark = pytest.mark.database_only

DEADLINE_PASSED_VI = "Đã quá hạn nộp"


def _score(session, rnd, entry, judge, points=5):
    sheet = ScoreSheet(round_id=rnd.id, entry_id=entry.id, judge_id=judge.id, status=Sheet.SUBMITTED)
    sheet.scores = [Score(criterion_id=c.id, points=points) for c in rnd.criteria]
    session.add(sheet)
    session.commit()


@pytest.fixture
def english(app):
    """A request context in English, for the services' messages."""
    with app.test_request_context("/?lang=en"):
        yield


@pytest.fixture
def judged(make, session):
    """A contest with a deadline far ahead, one round scored, an award granted: ready to publish."""
    unit = make.unit(name="Phường Một")
    member = make.user(Role.UNIT, unit)
    organiser = make.user(Role.ORGANISER)
    judge = make.user(Role.JUDGE)
    contest = make.contest(closes_at=utcnow() + timedelta(days=400))
    rnd = make.round(contest, judges=[judge], status=RoundStatus.CLOSED)
    winner = make.entry(contest, unit, title="Winner")
    _score(session, rnd, winner, judge)
    award = Award(contest_id=contest.id, name="Giải Nhất", count=1)
    session.add(award)
    session.commit()
    results.grant_award(session, actor=organiser, entry=winner, award=award)
    session.commit()
    return dict(unit=unit, member=member, organiser=organiser, contest=contest, rnd=rnd, winner=winner)


def test_publishing_keeps_intake_open_and_says_so(browser, session, judged):
    contest, rnd = judged["contest"], judged["rnd"]
    browser.login(judged["organiser"].email)
    page = browser.get(f"/org/rounds/{rnd.id}/results?lang=en").get_data(as_text=True)
    assert "Publish, keep entry intake open" in page and "Publish and close entry intake" in page
    assert "Entry intake stays open: units can still create and submit new entries until the deadline" in page
    assert browser.post(f"/org/rounds/{rnd.id}/publish").status_code == 302
    session.expire_all()
    assert session.get(Contest, contest.id).published_at is not None
    assert session.get(Contest, contest.id).intake_closed_at is None

    # The public page still counts down and offers to submit, besides the published results.
    public = browser.get(f"/c/{contest.slug}?lang=en").get_data(as_text=True)
    assert 'class="countdown"' in public and "Submit an entry" in public and "see the winners" in public

    # The unit still may create entries; nothing claims the deadline has passed.
    browser.client.post("/logout", data={"csrf_token": browser.token("/")})
    browser.login(judged["member"].email)
    dashboard = browser.get("/unit/").get_data(as_text=True)
    assert DEADLINE_PASSED_VI not in dashboard and f"/unit/c/{contest.slug}/entries/new" in dashboard
    resp = browser.post(f"/unit/c/{contest.slug}/entries/new", data={"title": "After publication", "category_id": "0"})
    assert resp.status_code == 302
    assert session.query(Entry).filter_by(title="After publication").count() == 1


def test_published_entry_cannot_be_changed_while_intake_is_open(app, browser, session, judged):
    contest, winner = judged["contest"], judged["winner"]
    results.publish(session, actor=judged["organiser"], contest=contest, rnd=judged["rnd"])
    session.commit()
    browser.login(judged["member"].email)
    page = browser.get(f"/unit/entries/{winner.id}?lang=en").get_data(as_text=True)
    assert "part of the published results" in page and "/withdraw" not in page and 'type="file"' not in page
    browser.post(f"/unit/entries/{winner.id}/withdraw")
    browser.post(f"/unit/entries/{winner.id}/edit", data={"title": "Renamed", "category_id": "0"})
    session.expire_all()
    fresh = session.get(Entry, winner.id)
    assert (fresh.status, fresh.title) == (EntryStatus.SUBMITTED, "Winner")
    with app.test_request_context("/?lang=en"), pytest.raises(PortalError, match="published results"):
        entry_service.withdraw_entry(session, user=judged["member"], entry=fresh)


def test_publishing_may_close_intake_when_the_organiser_chooses(browser, session, judged):
    contest, rnd = judged["contest"], judged["rnd"]
    browser.login(judged["organiser"].email)
    browser.post(f"/org/rounds/{rnd.id}/publish", data={"close_intake": "1"})
    session.expire_all()
    assert session.get(Contest, contest.id).intake_closed_at is not None
    actions = [e.action for e in session.query(AuditEvent).order_by(AuditEvent.id)]
    assert actions[-2:] == ["contest.publish", "contest.intake_close"]

    browser.client.post("/logout", data={"csrf_token": browser.token("/")})
    browser.login(judged["member"].email)
    dashboard = browser.get("/unit/?lang=en").get_data(as_text=True)
    assert "The organisers have closed entry intake" in dashboard and "/entries/new" not in dashboard
    resp = browser.post(
        f"/unit/c/{contest.slug}/entries/new?lang=en",
        data={"title": "Too late", "category_id": "0"},
        follow_redirects=True,
    )
    assert "The organisers have closed entry intake" in resp.get_data(as_text=True)
    assert session.query(Entry).filter_by(title="Too late").count() == 0


def test_refusals_tell_the_true_reason(english, make, session):
    unit = make.unit()
    member = make.user(Role.UNIT, unit)
    past = make.contest(closed=True)
    with pytest.raises(PortalError) as refused:
        entry_service.create_entry(session, user=member, contest=past, unit=unit, title="X")
    assert "deadline has passed" in str(refused.value)

    shut = make.contest(closes_at=utcnow() + timedelta(days=3))
    contest_service.close_intake(session, actor=None, contest=shut)
    with pytest.raises(PortalError) as refused:
        entry_service.create_entry(session, user=member, contest=shut, unit=unit, title="X")
    assert "organisers have closed entry intake" in str(refused.value)

    upcoming = make.contest(opens_at=utcnow() + timedelta(days=3))
    with pytest.raises(PortalError) as refused:
        entry_service.create_entry(session, user=member, contest=upcoming, unit=unit, title="X")
    assert "not open for entries yet" in str(refused.value)


def test_entry_in_a_started_round_is_locked_while_drafts_stay_editable(browser, make, session, sample_clip):
    unit = make.unit()
    member = make.user(Role.UNIT, unit)
    contest = make.contest(closes_at=utcnow() + timedelta(days=30))
    judged = make.entry(contest, unit, title="Judged")
    draft = make.entry(contest, unit, title="Draft", status=EntryStatus.DRAFT)
    rnd = make.round(contest, judges=[make.user(Role.JUDGE)], status=RoundStatus.DRAFT, name="Sơ khảo")

    # Before the round starts, the unit may still change its submitted entry.
    browser.login(member.email)
    assert "/edit" in browser.get(f"/unit/entries/{judged.id}").get_data(as_text=True)

    rnd.status = RoundStatus.OPEN
    session.commit()
    page = browser.get(f"/unit/entries/{judged.id}?lang=en").get_data(as_text=True)
    assert "being judged in “Sơ khảo”" in page
    assert "/withdraw" not in page and "/edit" not in page and 'type="file"' not in page
    browser.post(f"/unit/entries/{judged.id}/withdraw")
    browser.post(f"/unit/entries/{judged.id}/edit", data={"title": "Renamed", "category_id": "0"})
    with sample_clip.open("rb") as fh:
        browser.post(
            f"/unit/entries/{judged.id}/clip", data={"file": (fh, "new.mp4")}, content_type="multipart/form-data"
        )
    session.expire_all()
    fresh = session.get(Entry, judged.id)
    assert (fresh.status, fresh.title, fresh.clip.filename) == (EntryStatus.SUBMITTED, "Judged", "clip.mp4")

    # The draft is not judged yet: the unit still edits it, since intake is open.
    assert "/edit" in browser.get(f"/unit/entries/{draft.id}").get_data(as_text=True)
    assert browser.post(f"/unit/entries/{draft.id}/edit", data={"title": "Draft 2", "category_id": "0"}).status_code
    session.expire_all()
    assert session.get(Entry, draft.id).title == "Draft 2"


def test_organiser_closes_and_reopens_intake_with_audit(browser, make, session):
    organiser = make.user(Role.ORGANISER)
    contest = make.contest(closes_at=utcnow() + timedelta(days=30))
    browser.login(organiser.email)
    page = browser.get(f"/org/c/{contest.slug}?lang=en").get_data(as_text=True)
    assert "Open for entries" in page and "Close entry intake now" in page and "not published" in page
    assert browser.post(f"/org/c/{contest.slug}/intake", data={"intake": "close"}).status_code == 302
    session.expire_all()
    assert contest_service.intake_state(session.get(Contest, contest.id)) == "closed_by_organiser"
    page = browser.get(f"/org/c/{contest.slug}?lang=en").get_data(as_text=True)
    assert "Entries closed by the organisers" in page and "Reopen entry intake" in page
    browser.post(f"/org/c/{contest.slug}/intake", data={"intake": "reopen"})
    session.expire_all()
    assert contest_service.accepts_entries(session.get(Contest, contest.id))
    actions = [e.action for e in session.query(AuditEvent).filter_by(contest_id=contest.id)]
    assert "contest.intake_close" in actions and "contest.intake_reopen" in actions


def test_unit_cannot_reach_the_intake_switch(browser, make):
    member = make.user(Role.UNIT)
    contest = make.contest()
    browser.login(member.email)
    assert browser.post(f"/org/c/{contest.slug}/intake", data={"intake": "close"}).status_code == 403


def test_upload_is_refused_for_an_entry_under_judging(english, make, session):
    unit = make.unit()
    member = make.user(Role.UNIT, unit)
    contest = make.contest()
    entry = make.entry(contest, unit)
    make.round(contest, judges=[make.user(Role.JUDGE)], status=RoundStatus.OPEN, name="Chung khảo")
    with pytest.raises(PortalError, match="Chung khảo"):
        entry_service.store_upload(  # the rights check refuses before the store is touched
            session,
            None,
            user=member,
            entry=entry,
            stream=io.BytesIO(b"x"),
            filename="x.mp4",
            content_type="video/mp4",
        )


def test_an_upload_cannot_complete_once_its_entry_is_judged(services, app, english, session, make):
    """A replacement started before the round opened is cancelled when it completes: judges keep the judged clip."""
    from app.connections import storage
    from app.services import uploads

    unit = make.unit()
    member = make.user(Role.UNIT, unit)
    contest = make.contest()
    entry = make.entry(contest, unit)
    judged_clip = entry.clip_id
    rnd = make.round(contest, judges=[make.user(Role.JUDGE)], status=RoundStatus.DRAFT, name="Sơ khảo")
    store = storage()
    clip, rules = upload_one_part(session, store, member=member, entry=entry, filename="moi.mp4")
    rnd.status = RoundStatus.OPEN
    session.commit()
    with pytest.raises(uploads.UploadDiscarded, match="Sơ khảo"):
        uploads.complete_upload(session, store, user=member, clip=clip, upload_id=clip.upload_id, rules=rules)
    session.commit()
    session.expire_all()
    assert session.get(Entry, entry.id).clip_id == judged_clip


def test_opening_a_round_says_what_it_does_to_entries_and_intake(browser, make):
    organiser = make.user(Role.ORGANISER)
    rnd = make.round(make.contest(), status=RoundStatus.DRAFT)
    browser.login(organiser.email)
    page = browser.get(f"/org/rounds/{rnd.id}?lang=en").get_data(as_text=True)
    assert "the entries it judges can no longer be edited, replaced or withdrawn by their units" in page
    assert "Entry intake is not affected." in page


def test_a_closed_round_locks_only_what_it_scored(make, session):
    """Entries submitted after the first round closed (intake still open) stay the unit's to change."""
    from app.services.entry_locks import entry_lock

    unit = make.unit()
    contest = make.contest()
    judge = make.user(Role.JUDGE)
    rnd = make.round(contest, judges=[judge], status=RoundStatus.OPEN, name="Sơ khảo")
    scored = make.entry(contest, unit, title="Scored")
    _score(session, rnd, scored, judge)
    rnd.status = RoundStatus.CLOSED
    session.commit()
    late = make.entry(contest, unit, title="Late")
    assert entry_lock(session, scored) is not None
    assert entry_lock(session, late) is None
