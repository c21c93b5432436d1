"""The published demo in a real browser: the winners page, a certificate downloaded by the organiser (its QR code
decodes to the verification page), and that public page showing the recipient."""

from __future__ import annotations

import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from app.demo import DEMO_PASSWORD
from tests.conftest import DEMO_PUBLIC_URL

# The demo is seeded once per run (tests/conftest.py: published_demo), shared with test_demo_published.py.
pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.xdist_group("published-demo")]


@pytest.fixture
def public_url(monkeypatch):
    """PUBLIC_URL for the app and the portal's processes (requested before `portal`, which copies the environment)."""
    monkeypatch.setenv("PUBLIC_URL", DEMO_PUBLIC_URL)


def test_published_demo_winners_certificate_and_verification(
    public_url, app, portal, new_page, tmp_path, published_demo
):
    assert published_demo.output["published"]["certificates"] == 7
    published_demo.restore(app)

    page = new_page(accept_downloads=True)
    page.goto(f"{portal}/c/demo-published/winners")
    assert page.locator("h1").inner_text()
    assert page.get_by_text("Bữa cơm chiều chia đôi việc nhà").count() == 1
    assert page.locator("video.player").count() >= 1

    page.goto(f"{portal}/login")
    page.fill("#email", "organiser@demo.vn")
    page.fill("#password", DEMO_PASSWORD)
    page.click("main form button[type=submit]")
    page.wait_for_load_state()
    page.goto(f"{portal}/org/c/demo-published/paperwork")
    row = page.locator("tbody tr", has_text="Nguyễn Thị Bình")
    with page.expect_download() as info:
        row.locator("a[href$='.pdf']").click()
    pdf = tmp_path / "certificate.pdf"
    info.value.save_as(pdf)
    text = " ".join(subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True).stdout.split())
    assert "Nguyễn Thị Bình" in text and "Giải Tác giả xuất sắc" in text

    subprocess.run(["pdftoppm", "-r", "150", "-png", str(pdf), str(tmp_path / "page")], check=True)
    (png,) = sorted(Path(tmp_path).glob("page*.png"))
    url = subprocess.run(["zbarimg", "--raw", "-q", str(png)], capture_output=True, text=True).stdout.strip()
    assert url.startswith(f"{DEMO_PUBLIC_URL}/verify/")

    public = new_page()  # anyone, not logged in
    public.goto(portal + urlsplit(url).path)
    assert "Nguyễn Thị Bình" in public.locator("main").inner_text()
    assert "Giải Tác giả xuất sắc" in public.locator("main").inner_text()
