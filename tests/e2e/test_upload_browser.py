"""The resumable uploader in headless Chromium at phone width, in both upload modes: a real 60 MB video goes up in
parts, the network drops mid-upload and comes back, the upload completes and the worker makes the clip ready; and a
page reload mid-upload resumes without sending again the parts the store already holds."""

from __future__ import annotations

import re
import subprocess
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from app.models import Clip, ClipStatus, EntryStatus, Role
from tests.e2e.conftest import ARTIFACTS, login

pytestmark = pytest.mark.e2e

UPLOADER = "document.getElementById('uploader')"
SIGN_RE = re.compile(r"/uploads/\d+/parts/(\d+)$")


@pytest.fixture(scope="session")
def big_clip(tmp_path_factory) -> Path:
    """A real 8 s 1280x720 H.264/AAC clip of about 60 MB (noise keeps the encoder from compressing it), in ~3 s."""
    path = tmp_path_factory.mktemp("big-clip") / "clip-60mb.mp4"
    subprocess.run(
        [
            "ffmpeg",
            "-v",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=1280x720:rate=25:duration=8",
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=440:duration=8",
            "-vf",
            "noise=alls=30:allf=t",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-b:v",
            "60M",
            "-maxrate",
            "60M",
            "-bufsize",
            "60M",
            "-pix_fmt",
            "yuv420p",
            "-c:a",
            "aac",
            "-shortest",
            str(path),
        ],
        check=True,
    )
    assert path.stat().st_size >= 50 * 1024 * 1024
    return path


@pytest.fixture(params=["direct", "proxy"])
def upload_mode(request, monkeypatch):
    """Chosen before `portal` starts (request it first): the portal's processes read UPLOAD_MODE at start."""
    monkeypatch.setenv("UPLOAD_MODE", request.param)
    return request.param


def _throttle(page, bytes_per_second: int) -> None:
    """Slow the browser's uploads (Chromium devtools network emulation) so that the test can act mid-upload."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": bytes_per_second},
    )


def _progress(page) -> int:
    return page.evaluate(f"{UPLOADER}.uppy.getState().totalProgress")


def _settled_parts(store, clip, *, quiet_s: float = 1.5, limit_s: float = 15) -> set[int]:
    """The part numbers the store holds once no more arrive. A part the browser had fully sent before the reload can
    still be landing afterwards (in proxy mode the portal finishes streaming it to S3), and the resumed upload rightly
    finds it there; reading the store too early would count it as neither held nor re-sent."""
    deadline = time.monotonic() + limit_s
    held = {p["PartNumber"] for p in store.list_parts(clip.original_key, clip.upload_id)}
    while time.monotonic() < deadline:
        time.sleep(quiet_s)
        now = {p["PartNumber"] for p in store.list_parts(clip.original_key, clip.upload_id)}
        if now == held:
            return held
        held = now
    raise AssertionError(f"parts still arriving {limit_s} s after the reload: {sorted(held)}")


def _setup(make):
    unit = make.unit("P-DK", "UBND phường Đa Kao")
    member = make.user(Role.UNIT, unit)
    contest = make.contest(title="Chuyển đổi số", max_duration_s=60)
    entry = make.entry(contest, unit, title="Một cửa số", status=EntryStatus.DRAFT, clip_status=None)
    return member, entry


def test_upload_survives_a_network_cut_and_the_clip_is_processed(
    upload_mode, portal, new_page, make, session, big_clip
):
    member, entry = _setup(make)
    ARTIFACTS.mkdir(exist_ok=True)
    page = new_page()
    login(page, portal, member.email)
    page.goto(f"{portal}/unit/entries/{entry.id}")
    assert page.locator("html").get_attribute("lang") == "vi"
    assert page.locator("#uploader noscript").count() == 1
    page.set_input_files("#clip-file", str(big_clip))
    _throttle(page, 10 * 1024 * 1024)
    page.click("#uploader [data-role=start]")

    page.wait_for_function(f"() => {UPLOADER}.uppy.getState().totalProgress >= 20", timeout=30_000)
    page.wait_for_timeout(300)
    page.locator("#uploader").screenshot(path=str(ARTIFACTS / f"upload-progress-{upload_mode}.png"))
    bar = page.locator("#uploader .uppy-StatusBar")
    assert bar.is_visible() and "%" in bar.inner_text()
    assert "/s" in page.locator("#uploader [data-role=speed]").inner_text()

    # The network goes away mid-upload: parts in flight fail, Uppy waits for it to come back, then carries on.
    page.context.set_offline(True)
    page.wait_for_timeout(2_000)
    at_cut = _progress(page)
    assert at_cut < 100
    offline_text = page.evaluate("JSON.parse(document.getElementById('uploader-config').textContent).strings.offline")
    assert page.locator("#uploader [data-role=message]").inner_text() == offline_text
    page.context.set_offline(False)

    # On completion the page reloads; the status poller reloads it again when the worker has made the clip ready.
    page.wait_for_selector("video.player", timeout=90_000)
    page.screenshot(path=str(ARTIFACTS / f"upload-done-{upload_mode}.png"), full_page=True)
    session.expire_all()
    clip = session.scalars(select(Clip).where(Clip.entry_id == entry.id)).one()
    assert clip.status == ClipStatus.READY and clip.size_bytes == big_clip.stat().st_size
    assert (clip.width, clip.height) == (1280, 720) and clip.upload_id is None


def test_reload_mid_upload_resumes_without_resending_parts(
    upload_mode, portal, new_page, make, session, store, big_clip
):
    member, entry = _setup(make)
    page = new_page()
    login(page, portal, member.email)
    page.goto(f"{portal}/unit/entries/{entry.id}")
    page.set_input_files("#clip-file", str(big_clip))
    _throttle(page, 12 * 1024 * 1024)
    page.evaluate(f"window.partsDone = 0; {UPLOADER}.uppy.on('s3-multipart:part-uploaded', () => window.partsDone++)")
    page.click("#uploader [data-role=start]")
    page.wait_for_function("() => window.partsDone >= 1", timeout=30_000)

    # Pause and resume with the keyboard (Uppy's status bar buttons).
    toggle = page.locator("#uploader button[data-cy=togglePauseResume]")
    toggle.focus()
    page.keyboard.press("Enter")
    page.wait_for_function(f"() => {UPLOADER}.uppy.getFiles()[0].isPaused === true")
    page.wait_for_timeout(500)  # requests in flight are being cancelled
    paused_at = _progress(page)
    page.wait_for_timeout(1_000)
    assert _progress(page) == paused_at, f"progress moved while paused: {paused_at} -> {_progress(page)}"
    toggle.focus()
    page.keyboard.press("Space")
    page.wait_for_function(f"() => {UPLOADER}.uppy.getFiles()[0].isPaused === false")

    page.wait_for_function("() => window.partsDone >= 2", timeout=30_000)
    assert (at_reload := _progress(page)) < 90, f"too little left to resume: {at_reload} %"
    page.reload()  # the beforeunload question is accepted by the page fixture

    session.expire_all()
    clip = session.scalars(select(Clip).where(Clip.entry_id == entry.id)).one()
    held = _settled_parts(store, clip)
    assert held, "some parts should have arrived before the reload"
    assert page.locator("#uploader [data-role=pending]").is_visible()

    signed = []
    page.on("request", lambda r: signed.append(int(SIGN_RE.search(r.url).group(1))) if SIGN_RE.search(r.url) else None)
    page.set_input_files("#clip-file", str(big_clip))
    with page.expect_navigation(timeout=60_000):  # to the entry page, once the upload is complete
        page.click("#uploader [data-role=start]")
    page.wait_for_selector("#clip-status")
    session.expire_all()
    done = session.get(Clip, clip.id)
    assert done.status in (ClipStatus.UPLOADED, ClipStatus.QUEUED, ClipStatus.PROCESSING, ClipStatus.READY)
    assert done.size_bytes == big_clip.stat().st_size and done.upload_id is None
    assert signed and not (set(signed) & held), (sorted(signed), sorted(held))
    assert sorted(set(signed) | held) == list(range(1, max(set(signed) | held) + 1))


@pytest.fixture
def store(app):
    from app.connections import storage

    with app.app_context():
        yield storage()
