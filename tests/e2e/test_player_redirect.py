"""Seeking where the moov index sits at the end of the file, so that the player must fetch a byte range before it can
play at all, then seek to the last seconds.

- `stream`: the portal answers 206; the player loads and seeks.
- `redirect` on the embedded store: the browser follows the 302 to a presigned URL, and `rclone serve s3` answers every
  ranged GET with **200** and a correct Content-Range (DESIGN.md, decision 1). Chromium takes a 200 as the whole file
  from byte 0, so it never finds the index: the video stays at readyState 0, "loading" for ever (measured with
  Chromium 156.0.8078.114 on Debian 12, 2026-12-03). Marked as an expected failure, not strict: on a machine at load
  average 20 it passed once (2026-12-03, XPASS), presumably because a slow Chromium had read the whole file from the
  first 200 before it asked for the end; whether the player copes depends on timing, so a pass fails nothing.
  AWS S3 and MinIO answer 206; with rclone, deploy `stream` or `accel`.
"""

from __future__ import annotations

import pytest

from app.models import ClipStatus, Role
from tests.conftest import make_clip
from tests.e2e.conftest import login

pytestmark = pytest.mark.e2e
ROUTE = "rclone answers ranged GETs on presigned URLs with 200 + Content-Range; Chromium cannot use that"


@pytest.fixture(
    autouse=True,
    params=["stream", pytest.param("redirect", marks=pytest.mark.xfail(strict=False, reason=ROUTE))],
)
def delivery(request, monkeypatch):
    """Before the portal starts: it reads MEDIA_DELIVERY from the environment (CSP: media-src allows the store)."""
    monkeypatch.setenv("MEDIA_DELIVERY", request.param)
    return request.param


def test_the_player_loads_and_seeks_a_clip_indexed_at_its_end(delivery, portal, new_page, make, session, tmp_path, app):
    from app.storage import Storage, derived_key

    contest = make.contest("seek-player")
    judge = make.user(Role.JUDGE)
    rnd = make.round(contest, judges=[judge])
    entry = make.entry(contest, make.unit(), title="Clip tua", clip_status=ClipStatus.READY)
    source = make_clip(tmp_path / "late-index.mp4", duration=20, size="320x240")  # no faststart: moov at the end
    key = derived_key(entry.clip.id, "240p.mp4")
    with open(source, "rb") as fh:
        Storage.from_config(app.config).put_stream(key, fh, content_type="video/mp4")
    entry.clip.renditions = [{"name": "240p", "key": key, "width": 320, "height": 240}]
    session.commit()

    page = new_page()
    login(page, portal, judge.email)
    # Not "load": a video that never loads its metadata keeps the page loading.
    page.goto(f"{portal}/judge/rounds/{rnd.id}/entries/{entry.id}", wait_until="domcontentloaded")
    # `stream` gets the page's ample bound (a loaded machine). `redirect` is expected to stay at readyState 0 for ever,
    # and it gives no sign of having given up that a test could wait for: after 20 s it is still at readyState 0,
    # networkState 2 (LOADING), no error (measured 2026-12-04). A player that can load does so in under 2 s on an idle
    # machine (`stream`: readyState 4 by then), so 5 s of watching it not load show the failure as well as 60 s.
    page.wait_for_function(
        "() => document.querySelector('video.player').duration > 19", timeout=None if delivery == "stream" else 5_000
    )
    page.evaluate("() => { document.querySelector('video.player').currentTime = 18; }")
    page.wait_for_function(
        "() => { const v = document.querySelector('video.player');"
        " return !v.seeking && v.currentTime >= 18 && v.readyState >= 2; }"
    )
