"""The player as a judge meets it: storyboard previews while scrubbing, keyboard seeking; blind rounds hide the unit."""

from __future__ import annotations

import pytest

from app.connections import enqueue_processing
from app.models import Clip, ClipStatus, Role
from tests.conftest import make_clip
from tests.e2e.accessibility import assert_accessible
from tests.e2e.conftest import ARTIFACTS, PROCESSING_S, login
from tests.helpers_wait import wait_for

pytestmark = pytest.mark.e2e
FINAL = (ClipStatus.READY, ClipStatus.REJECTED, ClipStatus.FAILED)


def test_storyboard_preview_and_keyboard_seek(portal, new_page, make, session, tmp_path):
    unit = make.unit("SECRET-UNIT", "Đơn vị bí mật")
    contest = make.contest("player")
    judge = make.user(Role.JUDGE)
    rnd = make.round(contest, judges=[judge], blind=True)
    entry = make.entry(contest, unit, title="Clip có storyboard", clip_status=None)
    source = make_clip(tmp_path / "unit-name-in-file.mp4", duration=6, size="640x360")
    clip = make.uploaded_clip(entry, source)
    enqueue_processing(clip.id)  # the portal's own worker process picks it up
    wait_for(lambda: _status(session, clip.id) in FINAL, PROCESSING_S, "the portal's worker to process the clip")
    assert _status(session, clip.id) == ClipStatus.READY

    page = new_page()
    login(page, portal, judge.email)
    page.goto(f"{portal}/judge/rounds/{rnd.id}/entries/{entry.id}")
    page.wait_for_selector("video.player")
    scrub = page.locator("input.scrub")
    scrub.wait_for()
    assert_accessible(page, "score page of a blind round with the player")
    html = page.content()
    assert "Đơn vị bí mật" not in html and "SECRET-UNIT" not in html and "unit-name-in-file" not in html
    bar_before = scrub.bounding_box()
    scrub.hover(position={"x": 200, "y": 5})
    preview = page.locator(".storyboard-preview")
    preview.wait_for(state="visible")
    assert "storyboard.jpg" in preview.evaluate("e => e.style.backgroundImage")
    # The preview floats above the bar: shown in the flow, it pushed the bar from under the pointer, whose mouseleave
    # hid it again (a flicker, and this test waited 60 s for a moment it was visible, or failed).
    assert scrub.bounding_box() == bar_before
    box = preview.bounding_box()
    assert box is not None, "the preview hid itself again"
    assert box["y"] + box["height"] <= bar_before["y"] + 1 and box["x"] >= 0 and box["x"] + box["width"] <= 361
    page.screenshot(path=str(ARTIFACTS / "judge-storyboard.png"), full_page=True)
    scrub.focus()
    page.keyboard.press("End")
    page.wait_for_function("() => document.querySelector('video.player').currentTime > 4")


def _status(session, clip_id: int) -> ClipStatus:
    session.expire_all()
    return session.get(Clip, clip_id).status
