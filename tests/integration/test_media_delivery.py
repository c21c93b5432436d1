"""MEDIA_DELIVERY: the permission check is the same in every mode; only the road of the bytes differs.

`stream` answers the bytes; `redirect` a 302 to a presigned URL at the store's public address; `accel` an empty answer
whose X-Accel-Redirect names nginx's internal location plus the presigned path (tests/integration/test_media_nginx.py
runs it through a real nginx). The presigned URLs are fetched from the real store here.
"""

from __future__ import annotations

import urllib.request
from urllib.parse import urlsplit

import pytest

from app.models import Role

BODY = bytes(range(256)) * 64  # 16 KiB, every offset recognisable
MODES = ["stream", "redirect", "accel"]


@pytest.fixture(params=MODES)
def mode(request, app):
    app.config["MEDIA_DELIVERY"] = request.param
    return request.param


@pytest.fixture
def clip(make):
    return make.rendered_clip(BODY, unit=make.unit(name="Phường Bí Mật"))


def fetch(app, resp, mode: str, headers: dict | None = None):
    """Follow the answer as a browser (redirect) or nginx (accel) would; returns (status, headers, body)."""
    if mode == "stream":
        return resp.status_code, resp.headers, resp.data
    if mode == "redirect":
        assert resp.status_code == 302
        url = resp.headers["Location"]
        public = app.config.get("S3_PUBLIC_ENDPOINT_URL") or app.config["S3_ENDPOINT_URL"]
        assert urlsplit(url).netloc == urlsplit(public).netloc
    else:
        assert resp.status_code == 200 and resp.data == b""
        internal = resp.headers["X-Accel-Redirect"]
        prefix = app.config["MEDIA_ACCEL_PREFIX"]
        assert internal.startswith(prefix + "/")
        url = app.config["S3_ENDPOINT_URL"].rstrip("/") + internal[len(prefix) :]
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {})) as answer:  # noqa: S310
        return answer.status, answer.headers, answer.read()


def test_allowed_viewer_gets_the_bytes_named_by_clip_id_only(app, browser, make, clip, mode):
    """Every mode: the organiser gets the rendition, named clip-<id>-play.mp4 (no unit name), typed video/mp4."""
    browser.login(make.user(Role.ORGANISER).email)
    resp = browser.get(f"/media/clips/{clip.id}/play.mp4")
    status, headers, body = fetch(app, resp, mode)
    assert status == 200 and body == BODY
    assert headers["Content-Type"].startswith("video/mp4")
    assert headers["Content-Disposition"] == f'inline; filename="clip-{clip.id}-play.mp4"'
    assert "Bí Mật" not in resp.headers.get("Location", "") + resp.headers.get("X-Accel-Redirect", "")
    assert resp.headers["Cache-Control"].startswith("private")


def test_refused_viewers_get_404_before_any_url_is_made(browser, client, make, clip, mode):
    """Every mode: a member of another unit and an anonymous visitor get 404, never a presigned URL."""
    for who in (client, browser):
        if who is browser:
            browser.login(make.user(Role.UNIT).email)
        resp = who.get(f"/media/clips/{clip.id}/play.mp4")
        assert resp.status_code == 404
        assert "Location" not in resp.headers and "X-Accel-Redirect" not in resp.headers


def test_a_range_reaches_the_right_bytes(app, browser, make, clip, mode):
    """Every mode: a byte range comes back with its Content-Range (the embedded store answers 200 to presigned ranges,
    stream and nginx answer 206; see docs/deploy.md)."""
    browser.login(make.user(Role.ORGANISER).email)
    resp = browser.get(f"/media/clips/{clip.id}/play.mp4", headers={"Range": "bytes=1000-1999"})
    status, headers, body = fetch(app, resp, mode, headers={"Range": "bytes=1000-1999"})
    assert body == BODY[1000:2000]
    assert headers["Content-Range"] == f"bytes 1000-1999/{len(BODY)}"
    assert status in ((206,) if mode == "stream" else (200, 206))


def test_the_embedded_store_answers_a_presigned_range_with_200(app, browser, make, clip):
    """The fact behind docs/deploy.md's "do not use `redirect` with the embedded rclone store" and behind the skip of
    tests/e2e/test_player_redirect.py[redirect]: `rclone serve s3` answers a ranged GET on a presigned URL with the
    right bytes and Content-Range, but with status 200, which Chromium takes for the whole file."""
    app.config["MEDIA_DELIVERY"] = "redirect"
    browser.login(make.user(Role.ORGANISER).email)
    resp = browser.get(f"/media/clips/{clip.id}/play.mp4", headers={"Range": "bytes=1000-1999"})
    status, headers, body = fetch(app, resp, "redirect", headers={"Range": "bytes=1000-1999"})
    assert body == BODY[1000:2000] and headers["Content-Range"] == f"bytes 1000-1999/{len(BODY)}"
    assert status == 200, (
        f"the embedded store now answers a presigned range with {status}: the browser test of `redirect` runs again "
        "(tests/e2e/test_player_redirect.py), and docs/deploy.md's warning about rclone and `redirect` can go"
    )


def test_presigned_urls_expire(app, browser, make, clip):
    """redirect: the URL carries the configured lifetime (players ask the portal again afterwards)."""
    app.config.update(MEDIA_DELIVERY="redirect", MEDIA_URL_EXPIRES_SECONDS=120)
    browser.login(make.user(Role.ORGANISER).email)
    resp = browser.get(f"/media/clips/{clip.id}/poster.jpg")
    assert resp.status_code == 404  # no poster on this clip: unknown names stay 404 in every mode
    resp = browser.get(f"/media/clips/{clip.id}/play.mp4")
    assert "X-Amz-Expires=120" in resp.headers["Location"]
    assert resp.headers["Cache-Control"] == "private, max-age=60"
