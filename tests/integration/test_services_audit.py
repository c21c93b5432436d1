"""Every state change goes through a service, and the service writes the audit event (DESIGN decision 10): the unit's
actions, the organiser's, and the policy rules those services enforce."""

from __future__ import annotations

import io

import pytest

from app.models import AuditEvent, Clip, Contest, Entry, EntryStatus, Role, Round, Unit, User
from tests.helpers_uploads import SMALL_MP4, upload_one_part


def _events(session, action: str | None = None) -> list[AuditEvent]:
    session.expire_all()
    query = session.query(AuditEvent).order_by(AuditEvent.id)
    return list(query.filter_by(action=action) if action else query)


def _who_what(event: AuditEvent) -> tuple:
    """Who did it, to what (type and id), in which contest."""
    return event.actor_id, event.object_type, event.object_id, event.contest_id


def _only(session, action: str) -> AuditEvent:
    events = _events(session, action)
    assert len(events) == 1, [(e.action, e.object_type, e.object_id) for e in _events(session)]
    return events[0]


@pytest.fixture
def unit_world(make):
    unit = make.unit()
    contest = make.contest(title="Audited", categories=["Phóng sự"])
    return {"unit": unit, "member": make.user(Role.UNIT, unit), "contest": contest}


def test_the_units_actions_through_the_web_are_audited(browser, session, unit_world, sample_clip):
    member, contest = unit_world["member"], unit_world["contest"]
    browser.login(member.email)

    resp = browser.post(f"/unit/c/{contest.slug}/entries/new", data={"title": "Phóng sự xã", "category_id": "0"})
    assert resp.status_code == 302
    entry = session.query(Entry).one()
    created = _only(session, "entry.create")
    assert _who_what(created) == (member.id, "Entry", str(entry.id), contest.id)
    assert created.after["title"] == "Phóng sự xã"

    browser.post(f"/unit/entries/{entry.id}/edit", data={"title": "Phóng sự phường", "category_id": "0"})
    edited = _only(session, "entry.update")
    assert (edited.actor_id, edited.object_id, edited.before, edited.after) == (
        member.id,
        str(entry.id),
        {"title": "Phóng sự xã"},
        {"title": "Phóng sự phường"},
    )

    clips = []
    for name in ("first.mp4", "second.mp4"):
        with sample_clip.open("rb") as fh:
            browser.post(
                f"/unit/entries/{entry.id}/clip", data={"file": (fh, name)}, content_type="multipart/form-data"
            )
        session.expire_all()
        clips.append(session.get(Entry, entry.id).clip_id)
    uploaded, replaced = _only(session, "clip.upload"), _only(session, "clip.replace")
    assert _who_what(uploaded) == (member.id, "Clip", str(clips[0]), contest.id)
    assert uploaded.after["entry_id"] == entry.id and uploaded.after["size"] == sample_clip.stat().st_size
    assert (replaced.actor_id, replaced.object_id, replaced.before) == (member.id, str(clips[1]), {"clip_id": clips[0]})

    browser.post(f"/unit/entries/{entry.id}/submit")
    submitted = _only(session, "entry.submit")
    assert (submitted.actor_id, submitted.object_id, submitted.before, submitted.after) == (
        member.id,
        str(entry.id),
        {"status": "draft"},
        {"status": "submitted", "clip_id": clips[1]},
    )

    browser.post(f"/unit/entries/{entry.id}/withdraw")
    withdrawn = _only(session, "entry.withdraw")
    assert (withdrawn.actor_id, withdrawn.object_id, withdrawn.after) == (
        member.id,
        str(entry.id),
        {"status": "withdrawn"},
    )
    assert session.get(Entry, entry.id).status == EntryStatus.WITHDRAWN


def test_an_edit_that_changes_nothing_and_a_refused_action_leave_no_event(browser, session, unit_world, make):
    member, contest = unit_world["member"], unit_world["contest"]
    entry = make.entry(contest, unit_world["unit"], title="Same", status=EntryStatus.DRAFT, clip_status=None)
    browser.login(member.email)
    browser.post(f"/unit/entries/{entry.id}/edit", data={"title": "Same", "category_id": "0"})
    browser.post(f"/unit/entries/{entry.id}/submit")  # refused: no clip yet
    assert session.get(Entry, entry.id).status == EntryStatus.DRAFT
    assert [e.action for e in _events(session) if e.object_type in ("Entry", "Clip")] == []


def test_a_completed_resumable_upload_is_audited_once(app, session, unit_world, make):
    from app.connections import storage
    from app.services import uploads

    member, contest = unit_world["member"], unit_world["contest"]
    entry = make.entry(contest, unit_world["unit"], status=EntryStatus.DRAFT, clip_status=None)
    with app.app_context():
        store = storage()
        clip, rules = upload_one_part(session, store, member=member, entry=entry, filename="a.mp4")
        assert _events(session, "clip.upload") == []  # started and sent, not completed: not uploaded yet
        upload_id = clip.upload_id
        assert uploads.complete_upload(session, store, user=member, clip=clip, upload_id=upload_id, rules=rules)
        session.commit()
        assert not uploads.complete_upload(session, store, user=member, clip=clip, upload_id=upload_id, rules=rules)
        session.commit()
        store.delete(clip.original_key)
    event = _only(session, "clip.upload")
    assert _who_what(event) == (member.id, "Clip", str(clip.id), contest.id)
    assert event.after == {"clip_id": clip.id, "entry_id": entry.id, "filename": "a.mp4", "size": len(SMALL_MP4)}


def test_organiser_actions_are_audited_by_their_services(browser, session, make):
    organiser = make.user(Role.ORGANISER)
    browser.login(organiser.email)
    browser.post("/org/contests/new", data={"slug": "audited", "title": "Audited", "category_lines": ""})
    contest = session.query(Contest).filter_by(slug="audited").one()
    browser.post("/org/c/audited/edit", data={"slug": "audited", "title": "Audited, renamed", "category_lines": ""})
    browser.post("/org/units", data={"code": "px1", "name": "Phường 1", "kind": "ward"})
    unit = session.query(Unit).filter_by(code="PX1").one()
    browser.post(
        "/org/accounts",
        data={
            "email": "new@test.vn",
            "name": "New",
            "role": "unit",
            "unit_id": str(unit.id),
            "password": "long-pass-1",
        },
    )
    account = session.query(User).filter_by(email="new@test.vn").one()
    browser.post(f"/org/accounts/{account.id}/active")
    browser.post(
        "/org/c/audited/rounds/new",
        data={"name": "Sơ khảo", "aggregation": "mean", "assignment_mode": "panel", "criteria-0-name": "Nội dung",
              "criteria-0-max_points": "10"},
    )  # fmt: skip
    rnd = session.query(Round).one()
    got = {
        (e.action, e.object_type, e.object_id, e.actor_id, e.contest_id)
        for e in _events(session)
        if e.actor_id is not None  # the factories' own set-up is audited too, without an actor
    }
    assert got == {
        ("auth.login", "User", str(organiser.id), organiser.id, None),
        ("contest.create", "Contest", str(contest.id), organiser.id, contest.id),
        ("contest.update", "Contest", str(contest.id), organiser.id, contest.id),
        ("unit.create", "Unit", str(unit.id), organiser.id, None),
        ("account.create", "User", str(account.id), organiser.id, None),
        ("account.active", "User", str(account.id), organiser.id, None),
        ("round.create", "Round", str(rnd.id), organiser.id, contest.id),
    }
    assert _only(session, "contest.update").after == {"title": "Audited, renamed"}
    assert _only(session, "account.active").after == {"active": False}
    assert _only(session, "round.create").after == {"name": "Sơ khảo", "criteria": ["Nội dung"]}


def test_nobody_can_disable_their_own_account(browser, session, make):
    from app.services import PermissionDenied, accounts

    # Admins (who manage organiser and admin accounts; an organiser gets 403 for its own) are refused with a message.
    organiser, other = make.user(Role.ADMIN), make.user(Role.ADMIN)
    with pytest.raises(PermissionDenied):
        accounts.set_active(session, actor=organiser, user=organiser, active=False)
    session.rollback()
    accounts.set_active(session, actor=other, user=organiser, active=False)  # someone else may
    accounts.set_active(session, actor=other, user=organiser, active=True)
    session.commit()
    browser.login(organiser.email)
    page = browser.post(f"/org/accounts/{organiser.id}/active", follow_redirects=True).get_data(as_text=True)
    assert "Bạn không thể khóa tài khoản của chính mình." in page
    session.expire_all()
    assert session.get(User, organiser.id).active
    assert [e.after for e in _events(session, "account.active")] == [{"active": False}, {"active": True}]


def test_policy_functions_raise_the_error_the_service_chooses(session, make):
    from app.permissions import require_accepting_entries, require_unit_member
    from app.services import PermissionDenied, PortalError
    from app.services.uploads import UploadForbidden

    unit, other = make.unit(), make.unit()
    member, judge = make.user(Role.UNIT, unit), make.user(Role.JUDGE, unit)
    require_unit_member(member, unit.id)
    for user, unit_id in ((member, other.id), (judge, unit.id), (None, unit.id)):
        with pytest.raises(PermissionDenied):
            require_unit_member(user, unit_id)
        with pytest.raises(UploadForbidden):
            require_unit_member(user, unit_id, error=UploadForbidden)
    require_accepting_entries(make.contest())
    closed = make.contest(closed=True)
    with pytest.raises(PortalError) as refused:
        require_accepting_entries(closed)
    assert not isinstance(refused.value, PermissionDenied)
    with pytest.raises(UploadForbidden):
        require_accepting_entries(closed, error=UploadForbidden)


def test_store_upload_without_a_member_is_refused_before_anything_is_stored(app, session, unit_world, make):
    from app.connections import storage
    from app.services import PermissionDenied
    from app.services.entries import store_upload

    entry = make.entry(unit_world["contest"], unit_world["unit"], status=EntryStatus.DRAFT, clip_status=None)
    stranger = make.user(Role.UNIT)
    with app.app_context():
        store = storage()
        before = set(store.keys("originals/"))
        for user in (stranger, None):
            with pytest.raises(PermissionDenied):
                store_upload(
                    session, store, user=user, entry=entry, stream=io.BytesIO(b"x"), filename="a.mp4",
                    content_type="video/mp4",
                )  # fmt: skip
            session.rollback()
        assert set(store.keys("originals/")) == before
    assert session.query(Clip).count() == 0
    assert [e for e in _events(session) if e.object_type in ("Entry", "Clip")] == []
