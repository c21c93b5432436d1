"""MEDIA_DELIVERY=redirect on the embedded store: the browser follows the 302 to a presigned URL at the store, which
answers a ranged GET with 200 + a correct Content-Range instead of 206 (DESIGN.md, decision 1). The player must still
seek: here to the last seconds of a clip whose index (moov) sits at the end of the file."""

from __future__ import annotations

import pytest

from app.models import ClipStatus, Role
from tests.conftest import make_clip
from tests.e2e.conftest import login

pytestmark = pytest.mark.e2e


@pytest.fixture(autouse=True)
def redirect_mode(monkeypatch):
    """Before the portal starts: it reads MEDIA_DELIVERY from the environment (CSP: media-src allows the store)."""
    monkeypatch.setenv("MEDIA_DELIVERY", "redirect")


def test_the_player_seeks_through_a_redirect_to_the_store(portal, new_page, make, session, tmp_path, app):
    from app.storage import Storage, derived_key

    contest = make.contest("redirect-player")
    judge = make.user(Role.JUDGE)
    rnd = make.round(contest, judges=[judge])
    entry = make.entry(contest, make.unit(), title="Clip qua chuyển hướng", clip_status=ClipStatus.READY)
    source = make_clip(tmp_path / "late-index.mp4", duration=20, size="320x240")  # no faststart: moov at the end
    key = derived_key(entry.clip.id, "240p.mp4")
    with open(source, "rb") as fh:
        Storage.from_config(app.config).put_stream(key, fh, content_type="video/mp4")
    entry.clip.renditions = [{"name": "240p", "key": key, "width": 320, "height": 240}]
    session.commit()

    page = new_page()
    answers: list[tuple[int, str]] = []
    store = app.config["S3_ENDPOINT_URL"]
    page.on(
        "response",
        lambda r: answers.append((r.status, r.headers.get("content-range", ""))) if r.url.startswith(store) else None,
    )
    login(page, portal, judge.email)
    page.goto(f"{portal}/judge/rounds/{rnd.id}/entries/{entry.id}")
    page.wait_for_selector("video.player")
    page.wait_for_function("() => { const v = document.querySelector('video.player'); return v.duration > 19; }")
    page.evaluate("() => { document.querySelector('video.player').currentTime = 18; }")
    page.wait_for_function(
        "() => { const v = document.querySelector('video.player');"
        " return !v.seeking && v.currentTime >= 18 && v.readyState >= 2; }"
    )
    assert answers, "the video did not come from the store"
    assert any(status == 200 and content_range for status, content_range in answers), answers  # rclone's way
