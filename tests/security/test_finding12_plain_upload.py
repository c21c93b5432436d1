"""Finding 12: the plain-form upload applies the resumable path's checks (entry state, rights, allowed types)."""

from __future__ import annotations

import io

import pytest

from app.models import Clip, Entry, EntryStatus, Role


def _post_clip(browser, entry_id, data: bytes, name: str, content_type: str):
    return browser.post(
        f"/unit/entries/{entry_id}/clip",
        data={"file": (io.BytesIO(data), name, content_type)},
        content_type="multipart/form-data",
        follow_redirects=True,
    )


@pytest.fixture
def stored(app):
    from app.connections import storage

    def keys() -> set[str]:
        with app.app_context():
            return set(storage().keys("originals/"))

    return keys


@pytest.mark.parametrize("status", [EntryStatus.WITHDRAWN, EntryStatus.DISQUALIFIED])
def test_withdrawn_or_disqualified_entry_takes_no_clip(browser, make, session, sample_clip, stored, status):
    """Finding 12: a withdrawn (or disqualified) entry is refused a new clip by the plain form, nothing is stored."""
    unit = make.unit()
    member = make.user(Role.UNIT, unit)
    entry = make.entry(make.contest(), unit, status=status, clip_status=None)
    browser.login(member.email)
    before = stored()
    resp = _post_clip(browser, entry.id, sample_clip.read_bytes(), "clip.mp4", "video/mp4")
    assert resp.status_code == 200
    session.expire_all()
    assert session.get(Entry, entry.id).clip_id is None
    assert session.query(Clip).count() == 0 and stored() == before


@pytest.mark.parametrize("content_type", ["image/png", "text/html", "application/pdf", "application/x-msdownload"])
def test_only_video_types_are_accepted(browser, make, session, sample_clip, stored, content_type):
    """Finding 12: the declared Content-Type must be on the same allow-list as the resumable path."""
    unit = make.unit()
    member = make.user(Role.UNIT, unit)
    entry = make.entry(make.contest(), unit, status=EntryStatus.DRAFT, clip_status=None)
    browser.login(member.email)
    before = stored()
    resp = _post_clip(browser, entry.id, sample_clip.read_bytes(), "clip.mp4", content_type)
    assert content_type in resp.get_data(as_text=True)  # the refusal names the type
    session.expire_all()
    assert session.get(Entry, entry.id).clip_id is None
    assert session.query(Clip).count() == 0 and stored() == before


def test_rights_are_checked(browser, make, session, sample_clip, stored):
    """Finding 12: another unit's member cannot upload (404); judges and organisers cannot either (403)."""
    unit = make.unit()
    entry = make.entry(make.contest(), unit, status=EntryStatus.DRAFT, clip_status=None)
    for user, code in ((make.user(Role.UNIT), 404), (make.user(Role.JUDGE), 403), (make.user(Role.ORGANISER), 403)):
        browser.login(user.email)
        resp = browser.client.post(
            f"/unit/entries/{entry.id}/clip",
            data={
                "file": (io.BytesIO(sample_clip.read_bytes()), "clip.mp4", "video/mp4"),
                "csrf_token": browser.token("/"),
            },
            content_type="multipart/form-data",
        )
        assert resp.status_code == code, (user.role, resp.status_code)
        browser.post("/logout")
    assert [(c.entry_id, c.status, c.uploaded_by_id) for c in session.query(Clip)] == [] and stored() == set()


@pytest.mark.parametrize("content_type", ["video/mp4", "video/quicktime", "application/octet-stream", ""])
def test_a_video_is_still_accepted(browser, make, session, sample_clip, content_type):
    """Finding 12: real video uploads keep working (types browsers really send, including none); the stored type is
    normalised from the file name, as on the resumable path."""
    unit = make.unit()
    member = make.user(Role.UNIT, unit)
    entry = make.entry(make.contest(), unit, status=EntryStatus.DRAFT, clip_status=None)
    browser.login(member.email)
    _post_clip(browser, entry.id, sample_clip.read_bytes(), "clip.mp4", content_type)
    session.expire_all()
    clip = session.get(Entry, entry.id).clip
    assert clip is not None and clip.content_type in ("video/mp4", "video/quicktime")
