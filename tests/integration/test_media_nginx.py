"""MEDIA_DELIVERY=accel through a real nginx (Debian's, as an ordinary process with the config of docs/deploy.md):
the permission check stays in the portal (404 for the refused, nothing of the store reachable from outside), the bytes
come from the store through nginx, identical, and ranges answer 206 although the embedded store answers 200."""

from __future__ import annotations

import hashlib
import os

import pytest

from app.models import Role
from devtools.services import start_nginx, start_web, stop_processes
from tests.conftest import ROOT
from tests.portal_client import PortalClient

BODY = hashlib.sha256(b"seed").digest() * 32768  # 1 MiB; every 32-byte block the same, so offsets are checked below
BODY = bytes((b + i // 32) % 256 for i, b in enumerate(BODY))  # …and every block different
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("media-nginx")]


@pytest.fixture(scope="module")
def behind_nginx(services, tmp_path_factory):
    """gunicorn in accel mode behind nginx, both started once for the module; yields nginx's base URL."""
    work = tmp_path_factory.mktemp("nginx")
    log = open(work / "web.log", "wb")  # noqa: SIM115 - closed below
    env = {**os.environ, "MEDIA_DELIVERY": "accel", "PROXY_HOPS": "1", "PYTHONUNBUFFERED": "1"}
    procs = []
    try:
        web, web_base = start_web(env, log, cwd=ROOT)
        procs.append(web)
        nginx, base = start_nginx(
            work / "nginx", portals=[web_base.removeprefix("http://")], store_url=services["S3_ENDPOINT_URL"]
        )
        procs.append(nginx)
        yield base
    finally:
        stop_processes(procs, timeout=15)
        log.close()


@pytest.fixture
def clip(make):
    return make.rendered_clip(BODY, unit=make.unit(name="Phường Bí Mật"))


def test_refused_viewers_get_404_and_the_store_location_is_internal(behind_nginx, make, clip, app):
    path = f"/media/clips/{clip.id}/play.mp4"
    anonymous = PortalClient(behind_nginx)
    stranger = PortalClient(behind_nginx)
    stranger.login(make.user(Role.UNIT).email)
    for who in (anonymous, stranger):
        status, headers, body = who.get(path)
        assert status == 404 and BODY[:64] not in body
        assert "X-Accel-Redirect" not in headers
    # The internal location cannot be asked for from outside, even with a valid presigned query.
    organiser = PortalClient(behind_nginx)
    organiser.login(make.user(Role.ORGANISER).email)
    bucket = app.config["S3_BUCKET"]
    status, _, _ = organiser.get(f"/_store/{bucket}/{clip.renditions[0]['key']}")
    assert status == 404


def test_allowed_viewer_gets_identical_bytes_and_206_ranges(behind_nginx, make, clip):
    viewer = PortalClient(behind_nginx)
    viewer.login(make.user(Role.ORGANISER).email)
    path = f"/media/clips/{clip.id}/play.mp4"

    status, headers, body = viewer.get(path)
    assert status == 200 and body == BODY
    assert headers["Content-Type"].startswith("video/mp4")
    assert headers.get_all("Content-Disposition") == [f'inline; filename="clip-{clip.id}-play.mp4"']
    assert headers["Cache-Control"].startswith("private")
    assert headers["X-Content-Type-Options"] == "nosniff"
    leaked = ("x-amz", "x-accel", "access-control", "set-cookie")
    assert not [name for name in headers if name.lower().startswith(leaked)]

    size = len(BODY)
    for asked, (start, stop) in {
        "bytes=1000-1999": (1000, 2000),
        f"bytes={size - 10}-": (size - 10, size),
        "bytes=-100": (size - 100, size),
        "bytes=0-": (0, size),
    }.items():
        status, headers, body = viewer.get(path, headers={"Range": asked})
        assert status == 206, (asked, status)
        assert headers["Content-Range"] == f"bytes {start}-{stop - 1}/{size}", asked
        assert body == BODY[start:stop], asked
    status, headers, _ = viewer.get(path, headers={"Range": f"bytes={size}-"})
    assert status == 416 and headers["Content-Range"] == f"bytes */{size}"
