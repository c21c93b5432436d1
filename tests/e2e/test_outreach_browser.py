"""Outreach in a real browser: another site frames the contest card (and cannot frame anything else), and the share
panel's copy button puts the contest link on the clipboard."""

from __future__ import annotations

import io
import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from app.connections import storage
from app.models import Role, utcnow
from app.services import materials, news
from tests.e2e.conftest import ARTIFACTS, login
from tests.helpers_wait import wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.no_worker]

PUBLIC_URL = "https://cuocthi.example.gov.vn"


@pytest.fixture
def outreach_portal(monkeypatch, request):
    """The portal, started with a PUBLIC_URL (the share panel needs one)."""
    monkeypatch.setenv("PUBLIC_URL", PUBLIC_URL)
    return request.getfixturevalue("portal")


@pytest.fixture
def unit_site() -> Iterator[dict]:
    """Another website (another origin: its own port) whose page is `site["html"]`. It is on the loopback address
    like the portal: Chromium refuses frames from a public origin into a private network, whatever the CSP says."""
    site: dict = {"html": ""}

    class Page(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = site["html"].encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Page)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    site["url"] = f"http://127.0.0.1:{server.server_address[1]}/"
    try:
        yield site
    finally:
        server.shutdown()
        server.server_close()


def test_a_unit_site_frames_the_card_but_not_the_contest_page(outreach_portal, unit_site, chromium, make):
    contest = make.contest("nhung-the", title="Video «Chuyển đổi số» 2027", closes_at=utcnow() + timedelta(days=3))
    context = chromium.new_context(viewport={"width": 360, "height": 780})
    context.set_default_timeout(60_000)
    refused: list[str] = []
    try:
        page = context.new_page()
        page.on("console", lambda m: refused.append(m.text) if "frame-ancestors" in m.text else None)
        unit_site["html"] = (
            "<!doctype html><html lang='vi'><title>Cổng thông tin đơn vị</title><h1>Tin tức đơn vị</h1>"
            f'<iframe id="card" src="{outreach_portal}/c/{contest.slug}/embed" width="340" height="230"></iframe>'
            f'<iframe id="page" src="{outreach_portal}/c/{contest.slug}" width="340" height="230"></iframe>'
        )
        assert unit_site["url"].rsplit(":", 1)[1] != outreach_portal.rsplit(":", 1)[1]  # another origin
        page.goto(unit_site["url"])

        card = page.frame_locator("#card")
        button = card.locator("a.button")
        button.wait_for()
        assert button.inner_text() == "Tham gia"
        assert button.get_attribute("href") == f"{PUBLIC_URL}/c/{contest.slug}"
        assert "Chuyển đổi số" in card.locator("h1").inner_text()
        # The countdown runs inside the frame (the portal's own script, allowed by its CSP).
        card.locator(".countdown-value").filter(has_text="2 ").wait_for()

        wait_for(lambda: refused, 60, "Chromium refusing to frame the contest page")
        framed = page.locator("#page").element_handle().content_frame()
        assert framed is not None and "Chuyển đổi số" not in framed.content()
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "outreach-embedded-card.png"), full_page=True)
    finally:
        context.close()


def test_copy_button_puts_the_contest_link_on_the_clipboard(outreach_portal, new_page, make):
    contest = make.contest("chia-se", title="Cuộc thi chia sẻ", closes_at=utcnow() + timedelta(days=3))
    organiser = make.user(Role.ORGANISER)
    news.create_post(
        make.session,
        actor=organiser,
        contest=contest,
        title="Phát động cuộc thi",
        body_md="**Mời** tham gia.",
        publish=True,
    )
    materials.add_material(
        make.session,
        storage(),
        actor=organiser,
        contest=contest,
        stream=io.BytesIO(b"%PDF-1.4\n%%EOF\n"),
        filename="Thể lệ cuộc thi.pdf",
    )
    make.session.commit()
    page = new_page(permissions=["clipboard-read", "clipboard-write"])
    page.goto(f"{outreach_portal}/c/{contest.slug}")
    page.click("button[data-copy=share-url]")
    page.locator("button[data-copy=share-url]", has_text="Đã sao chép").wait_for()
    assert page.evaluate("navigator.clipboard.readText()") == f"{PUBLIC_URL}/c/{contest.slug}"
    page.wait_for_function("() => { const i = document.querySelector('.qr img'); return i && i.naturalWidth > 0; }")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "outreach-share-panel.png"), full_page=True)
    with page.expect_download() as download:
        page.click("ul.materials a")
    assert download.value.suggested_filename == "Thể lệ cuộc thi.pdf"

    login(page, outreach_portal, organiser.email)
    page.goto(f"{outreach_portal}/org/c/{contest.slug}/showcase")
    page.wait_for_function("() => document.querySelector('img.banner').naturalWidth > 0")  # the generated card
    page.screenshot(path=str(ARTIFACTS / "outreach-organiser-showcase.png"), full_page=True)
