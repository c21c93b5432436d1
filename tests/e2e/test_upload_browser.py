"""The resumable uploader in headless Chromium at phone width, in both upload modes: a real 60 MB video goes up in
parts, the network drops mid-upload and comes back, the upload completes and the worker makes the clip ready; and a
page reload mid-upload resumes without sending again the parts the store already holds.

Each test sets its own pace: a PartGate holds the part requests, so "mid-upload" is a state the test makes, not a
moment it hopes to catch."""

from __future__ import annotations

import contextlib
import re
from pathlib import Path

import pytest
from playwright.sync_api import Error as PlaywrightError
from sqlalchemy import select

from app.demo_clips import X264_FAST, make_synthetic_clip
from app.models import Clip, ClipStatus, EntryStatus, Role
from tests.e2e.accessibility import assert_accessible
from tests.e2e.conftest import ARTIFACTS, PROCESSING_S, login

pytestmark = pytest.mark.e2e

UPLOADER = "document.getElementById('uploader')"
SIGN_RE = re.compile(r"/uploads/\d+/parts/(\d+)$")


@pytest.fixture(scope="session")
def big_clip(tmp_path_factory) -> Path:
    """A real 4 s 1280x720 H.264/AAC clip of about 60 MB (noise keeps the encoder from compressing it), in ~1 s.

    4 s at 120 Mbit/s rather than 8 s at 60: the same upload, half the frames for the worker to decode and encode."""
    path = tmp_path_factory.mktemp("big-clip") / "clip-60mb.mp4"
    make_synthetic_clip(
        path,
        size="1280x720",
        seconds=4,
        video_filter="noise=alls=30:allf=t",
        encode=(*X264_FAST, "-b:v", "120M", "-maxrate", "120M", "-bufsize", "120M"),
    )
    assert path.stat().st_size >= 50 * 1024 * 1024
    return path


@pytest.fixture(params=["direct", "proxy"])
def upload_mode(request, monkeypatch):
    """Chosen before `portal` starts (request it first): the portal's processes read UPLOAD_MODE at start."""
    monkeypatch.setenv("UPLOAD_MODE", request.param)
    return request.param


class PartGate:
    """Paces the browser's upload: lets through as many part PUTs (to S3 or to the portal) as the test allows and holds
    the others, unanswered, until the test decides. The test then acts mid-upload at a point it chose, however fast or
    slow the machine, instead of racing a real transfer."""

    def __init__(self, page, *, allow: int) -> None:
        self.allow = allow
        self.arrived = 0  # part PUTs the browser has started
        self.passed = 0  # of which let through
        self.held: list = []
        page.route(_is_part_url, self._on_part)

    def _on_part(self, route) -> None:
        if route.request.method != "PUT":
            route.continue_()
            return
        self.arrived += 1
        if self.allow > 0:
            self.allow -= 1
            self.passed += 1
            route.continue_()
        else:
            self.held.append(route)

    def open(self) -> None:
        """Let every later part through. Parts held so far stay held: their page is gone or the test aborted them."""
        self.allow = 1_000_000

    def cut(self) -> None:
        """The network dies under the held parts: they fail as a lost connection does, and later parts pass.

        Open first: a part that arrives while the held ones are being aborted (the handler runs during each abort
        call) must pass, not be held for ever."""
        held, self.held = self.held, []
        self.open()
        for route in held:
            with contextlib.suppress(PlaywrightError):  # Uppy may have cancelled it already
                route.abort("internetdisconnected")


def _is_part_url(url: str) -> bool:
    """A part's PUT: a presigned S3 URL (direct mode) or the portal's part URL (proxy mode)."""
    return "/uploads/part/" in url or ("partNumber=" in url and "uploadId=" in url)


def _throttle(page, bytes_per_second: int, cdp=None):
    """Slow the browser's uploads (Chromium devtools network emulation), so that the speed shown is measured over a
    few progress events rather than one burst; -1 lifts the limit. Returns the devtools session, to lift it with."""
    if cdp is None:
        cdp = page.context.new_cdp_session(page)
        cdp.send("Network.enable")
    cdp.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": bytes_per_second},
    )
    return cdp


def _progress(page) -> int:
    return page.evaluate(f"{UPLOADER}.uppy.getState().totalProgress")


def _count_finished_parts(page) -> None:
    page.evaluate(f"window.partsDone = 0; {UPLOADER}.uppy.on('s3-multipart:part-uploaded', () => window.partsDone++)")


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
    gate = PartGate(page, allow=2)  # 2 of the 8 parts go; the next ones wait for the network cut
    devtools = _throttle(page, 10 * 1024 * 1024)
    _count_finished_parts(page)
    page.click("#uploader [data-role=start]")

    page.wait_for_function("() => window.partsDone >= 2", timeout=60_000)
    # Sent, speed (/giây) and time left, in the page's language and number format (issue 12).
    page.wait_for_function("() => /\\/giây/.test(document.querySelector('#uploader [data-role=speed]').textContent)")
    page.locator("#uploader").screenshot(path=str(ARTIFACTS / f"upload-progress-{upload_mode}.png"))
    bar = page.locator("#uploader .uppy-StatusBar")
    assert bar.is_visible() and "%" in bar.inner_text()
    assert re.search(r"Đã gửi \d+(,\d)? MB / \d+(,\d)? MB", page.locator("#uploader [data-role=speed]").inner_text())
    assert_accessible(page, "entry page mid-upload (status bar with pause and cancel)")

    # The network goes away mid-upload: parts in flight fail, Uppy waits for it to come back, then carries on.
    page.context.set_offline(True)
    gate.cut()
    offline_text = page.evaluate("JSON.parse(document.getElementById('uploader-config').textContent).strings.offline")
    page.wait_for_function(
        "text => document.querySelector('#uploader [data-role=message]').textContent === text", arg=offline_text
    )
    assert (at_cut := _progress(page)) < 100, at_cut
    _throttle(page, -1, devtools)  # the speed shown has been checked: the rest goes at the machine's pace
    page.context.set_offline(False)

    # On completion the page reloads; the status poller reloads it again when the worker has made the clip ready.
    page.wait_for_selector("video.player", timeout=PROCESSING_S * 1000)
    page.screenshot(path=str(ARTIFACTS / f"upload-done-{upload_mode}.png"), full_page=True)
    assert gate.arrived > gate.passed >= 2  # the held parts were sent again
    session.expire_all()
    clip = session.scalars(select(Clip).where(Clip.entry_id == entry.id)).one()
    assert clip.status == ClipStatus.READY and clip.size_bytes == big_clip.stat().st_size
    assert (clip.width, clip.height) == (1280, 720) and clip.upload_id is None


@pytest.mark.no_worker  # the clip is checked as uploaded; processing it is the other test's part
def test_reload_mid_upload_resumes_without_resending_parts(
    upload_mode, portal, new_page, make, session, store, big_clip
):
    member, entry = _setup(make)
    page = new_page()
    login(page, portal, member.email)
    page.goto(f"{portal}/unit/entries/{entry.id}")
    page.set_input_files("#clip-file", str(big_clip))
    gate = PartGate(page, allow=1)
    _count_finished_parts(page)
    page.click("#uploader [data-role=start]")
    page.wait_for_function("() => window.partsDone >= 1", timeout=60_000)

    # Pause and resume with the keyboard (Uppy's status bar buttons). The gate sees every part the browser starts, so
    # a paused uploader that sent anything would show, whether or not it got through.
    toggle = page.locator("#uploader button[data-cy=togglePauseResume]")
    toggle.focus()
    page.keyboard.press("Enter")
    page.wait_for_function(f"() => {UPLOADER}.uppy.getFiles()[0].isPaused === true")
    page.wait_for_timeout(500)  # requests in flight are being cancelled
    paused_at, arrived = _progress(page), gate.arrived
    page.wait_for_timeout(1_000)
    assert _progress(page) == paused_at, f"progress moved while paused: {paused_at} -> {_progress(page)}"
    assert gate.arrived == arrived, f"{gate.arrived - arrived} parts were started while paused"
    gate.allow = 1  # the first part sent after resuming goes through; the ones beside it are held
    toggle.focus()
    page.keyboard.press("Space")
    page.wait_for_function(f"() => {UPLOADER}.uppy.getFiles()[0].isPaused === false")

    page.wait_for_function("() => window.partsDone >= 2", timeout=60_000)
    assert (at_reload := _progress(page)) < 90, f"too little left to resume: {at_reload} %"
    page.reload()  # the beforeunload question is accepted by the page fixture; the held parts die with the page
    gate.open()

    session.expire_all()
    clip = session.scalars(select(Clip).where(Clip.entry_id == entry.id)).one()
    held = {p["PartNumber"] for p in store.list_parts(clip.original_key, clip.upload_id)}
    assert len(held) == gate.passed == 2, (sorted(held), gate.passed)  # exactly the parts let through, all answered
    assert page.locator("#uploader [data-role=pending]").is_visible()

    signed = []
    page.on("request", lambda r: signed.append(int(SIGN_RE.search(r.url).group(1))) if SIGN_RE.search(r.url) else None)
    page.set_input_files("#clip-file", str(big_clip))
    with page.expect_navigation(timeout=120_000):  # to the entry page, once the upload is complete
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


@pytest.mark.no_worker
def test_a_document_is_refused_in_plain_words(portal, new_page, make, tmp_path):
    """Issue 12: choosing a .docx says it is not a video, in words a clerk understands (no MIME types)."""
    member, entry = _setup(make)
    document = tmp_path / "Báo cáo.docx"
    document.write_bytes(b"PK\x03\x04 not a video")
    page = new_page()
    login(page, portal, member.email)
    page.goto(f"{portal}/unit/entries/{entry.id}")
    page.set_input_files("#clip-file", str(document))
    page.click("#uploader [data-role=start]")
    message = page.locator("#uploader [data-role=message]")
    page.wait_for_function("() => document.querySelector('#uploader [data-role=message]').textContent !== ''")
    assert message.inner_text() == (
        "Tệp “Báo cáo.docx” không phải là video. Hãy chọn một tệp video: tốt nhất là MP4; cũng chấp nhận MOV, AVI, "
        "MKV và WebM."
    )
    assert "video/*" not in page.locator("#uploader").inner_text()
    assert_accessible(page, "entry page after a refused file")
