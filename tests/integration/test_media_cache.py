"""Media that caches may keep (issue 15, §3): strong ETags and 304s on every clip file, a year's `immutable` only on
the versioned URL (`?v=`) of a clip the public may watch; an absent or outdated `v`, and clips that only logged-in
users may see, keep the short private policy. The version changes when processing rewrites the clip, and tells
nothing about the unit (blind rounds). Real Redis, real S3 (rclone), real database."""

from __future__ import annotations

import io
import re

import pytest

from app.media.routes import IMMUTABLE_MEDIA_CACHE, PRIVATE_MEDIA_CACHE
from app.models import Publication, Role, utcnow

POSTER = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 8  # a stand-in JPEG: only the bytes matter here
VIDEO = bytes(range(256)) * 32


@pytest.fixture
def clip(app, make, session):
    from app.storage import Storage, derived_key

    contest = make.contest("media-cache-2027", title="Cuộc thi phương tiện")
    entry = make.entry(contest, make.unit(name="Phường Bí Mật"), title="Bài dự thi đoạt giải")
    clip = entry.clip
    store = Storage.from_config(app.config)
    poster, video = derived_key(clip.id, "poster.jpg"), derived_key(clip.id, "360p.mp4")
    store.put_stream(poster, io.BytesIO(POSTER), content_type="image/jpeg")
    store.put_stream(video, io.BytesIO(VIDEO), content_type="video/mp4")
    clip.poster_key = poster
    clip.renditions = [{"name": "360p", "key": video, "width": 640, "height": 360}]
    session.commit()
    return clip


def _publish_winner(session, clip) -> None:
    contest = clip.entry.contest
    winner = {"title": clip.entry.title, "unit": "Phường Bí Mật", "clip_id": clip.id}
    snapshot = {"title": contest.title, "awards": [{"name": "Giải Nhất", "winners": [winner]}], "ranking": []}
    session.add(Publication(contest_id=contest.id, snapshot=snapshot))
    contest.published_at = utcnow()
    session.commit()


def _page_urls(client, path: str) -> dict[str, str]:
    """The media URLs a page emits, by file name."""
    html = client.get(path).get_data(as_text=True)
    return {
        m.group(1): m.group(0).replace("&amp;", "&") for m in re.finditer(r"/media/clips/\d+/([\w.]+)\?v=\w+", html)
    }


def test_published_winner_media_versioned_urls_are_immutable_and_answer_304(app, session, clip):
    _publish_winner(session, clip)
    urls = _page_urls(app.test_client(), "/c/media-cache-2027/winners")
    assert set(urls) == {"poster.jpg", "play.mp4"}
    for name, body in (("poster.jpg", POSTER), ("play.mp4", VIDEO)):
        first, second = app.test_client().get(urls[name]), app.test_client().get(urls[name])
        assert first.status_code == 200 and first.data == body and second.data == body
        assert first.headers["Cache-Control"] == IMMUTABLE_MEDIA_CACHE
        etag = first.headers["ETag"]
        assert etag.startswith('"') and not etag.startswith("W/") and second.headers["ETag"] == etag
        again = app.test_client().get(urls[name], headers={"If-None-Match": etag})
        assert again.status_code == 304 and again.data == b""
        assert again.headers["ETag"] == etag and again.headers["Cache-Control"] == IMMUTABLE_MEDIA_CACHE
    ranged = app.test_client().get(urls["play.mp4"], headers={"Range": "bytes=0-99"})
    assert ranged.status_code == 206 and ranged.data == VIDEO[:100]
    assert ranged.headers["Cache-Control"] == IMMUTABLE_MEDIA_CACHE


def test_absent_or_wrong_version_keeps_the_short_private_policy(app, session, clip):
    _publish_winner(session, clip)
    url = _page_urls(app.test_client(), "/c/media-cache-2027/winners")["poster.jpg"]
    versioned = app.test_client().get(url)
    for other in (url.split("?")[0], url.split("?")[0] + "?v=0123456789abcdef0123", url + "x"):
        resp = app.test_client().get(other)
        assert resp.status_code == 200 and resp.data == POSTER
        assert resp.headers["Cache-Control"] == PRIVATE_MEDIA_CACHE
        assert resp.headers["ETag"] == versioned.headers["ETag"]  # same bytes, same strong validator


def test_reprocessing_changes_the_version_and_the_page_at_once(app, session, clip):
    from app.storage import Storage

    _publish_winner(session, clip)
    client = app.test_client()
    before = _page_urls(client, "/c/media-cache-2027/winners")["poster.jpg"]
    old_etag = client.get(before).headers["ETag"]
    # What the media worker does when a clip is processed again: same deterministic keys, new bytes, a row update.
    Storage.from_config(app.config).put_stream(clip.poster_key, io.BytesIO(POSTER[::-1]), content_type="image/jpeg")
    clip.stage = "poster"
    session.commit()
    after = _page_urls(client, "/c/media-cache-2027/winners")["poster.jpg"]
    assert after != before
    fresh = client.get(after, headers={"If-None-Match": old_etag})
    assert fresh.status_code == 200 and fresh.data == POSTER[::-1]
    assert fresh.headers["ETag"] != old_etag and fresh.headers["Cache-Control"] == IMMUTABLE_MEDIA_CACHE
    assert client.get(before).headers["Cache-Control"] == PRIVATE_MEDIA_CACHE  # the old URL is no longer forever


def test_private_clip_media_stay_private_and_the_version_names_no_unit(app, browser, make, session, clip):
    """A judge's player gets versioned URLs with ETags, but never a public or long policy; anonymous visitors 404."""
    from app.media.routes import clip_version

    browser.login(make.user(Role.ORGANISER).email)
    with app.test_request_context():
        version = clip_version(clip.id, clip.updated_at)
    assert re.fullmatch(r"[0-9a-f]{20}", version)
    url = f"/media/clips/{clip.id}/poster.jpg?v={version}"
    resp = browser.get(url)
    assert resp.status_code == 200 and resp.headers["Cache-Control"] == PRIVATE_MEDIA_CACHE
    assert "Bí Mật" not in resp.headers["ETag"] + resp.headers["Content-Disposition"]
    again = browser.get(url, headers={"If-None-Match": resp.headers["ETag"]})
    assert again.status_code == 304 and again.headers["Cache-Control"] == PRIVATE_MEDIA_CACHE
    for headers in ({}, {"If-None-Match": resp.headers["ETag"]}):
        assert app.test_client().get(url, headers=headers).status_code == 404  # no 304 leaks that it exists


def test_logged_in_viewer_of_a_public_clip_gets_the_public_policy(app, browser, make, session, clip):
    _publish_winner(session, clip)
    url = _page_urls(app.test_client(), "/c/media-cache-2027/winners")["play.mp4"]
    browser.login(make.user(Role.UNIT, unit=make.unit()).email)
    resp = browser.get(url)
    assert resp.status_code == 200 and resp.headers["Cache-Control"] == IMMUTABLE_MEDIA_CACHE
