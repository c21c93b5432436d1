"""The whole journey in a real browser at phone width: the organiser creates a unit account → the invitation mail's
link sets its password → unit uploads → worker processes → judge scores → organiser publishes → the public winners
page plays the clip."""

from __future__ import annotations

import re

import pytest

from app.models import Role
from tests.conftest import SMTP_TEST_PUBLIC_URL, make_clip
from tests.e2e.accessibility import assert_accessible
from tests.e2e.conftest import ARTIFACTS, PROCESSING_S, login, logout
from tests.helpers_wait import wait_for

pytestmark = pytest.mark.e2e

MEMBER = "van.thu.bennghe@example.vn"
INVITATION_RE = re.compile(re.escape(SMTP_TEST_PUBLIC_URL) + r"(/invitation/[A-Za-z0-9_\-]+)")


def test_whole_journey_in_a_browser(smtp, portal, new_page, make, tmp_path):
    unit = make.unit("P-BN", "UBND phường Bến Nghé")
    contest = make.contest("e2e", title="Truyền thông bình đẳng giới", max_duration_s=60)
    judge = make.user(Role.JUDGE)
    rnd = make.round(contest, judges=[judge])
    organiser = make.user(Role.ORGANISER)
    clip = make_clip(tmp_path / "phuong-ben-nghe.mp4", duration=3, size="640x360")
    ARTIFACTS.mkdir(exist_ok=True)

    # Organiser: a new unit account, without a password: the portal mails an invitation.
    page = new_page()
    login(page, portal, organiser.email)
    page.goto(f"{portal}/org/accounts")
    page.fill("#email", MEMBER)
    page.fill("#name", "Võ Thị Văn Thư")
    page.select_option("#role", "unit")
    page.select_option("#unit_id", str(unit.id))
    page.click("form.narrow button[type=submit]")
    page.wait_for_load_state()
    assert "Chưa nhận lời mời" in page.content()  # not accepted yet
    logout(page)

    # Unit member, in Vietnamese (the default): the link in the mail (sent by the portal's worker) sets a password.
    wait_for(lambda: smtp.to(MEMBER), PROCESSING_S, "the invitation mail")
    [mail] = smtp.to(MEMBER)
    path = INVITATION_RE.search(mail.body("plain")).group(1)
    page.goto(portal + path)
    page.fill("#new_password", "blue kettle morning parade 42")
    page.click("main form button[type=submit]")
    page.wait_for_url("**/unit/")
    assert page.locator("html").get_attribute("lang") == "vi"
    assert_accessible(page, "unit dashboard")
    page.goto(f"{portal}/unit/c/{contest.slug}/entries/new")
    assert_accessible(page, "new entry form")
    page.fill("#title", "Bố mẹ cùng làm việc nhà")
    page.fill("#summary", "Mô hình gia đình chia sẻ việc nhà.")
    page.click("main form button[type=submit]")
    page.wait_for_url("**/unit/entries/*")
    entry_url = page.url
    assert_accessible(page, "entry page with the uploader")
    page.set_input_files("#clip-file", str(clip))  # the resumable uploader (Uppy)
    with page.expect_navigation(url=entry_url, timeout=120_000):  # back to the entry page once the upload is complete
        page.click("#uploader [data-role=start]")
    # The status poller reloads the page once the worker has made the clip ready.
    page.wait_for_selector("video.player", timeout=PROCESSING_S * 1000)
    page.screenshot(path=str(ARTIFACTS / "unit-entry-ready.png"), full_page=True)
    assert_accessible(page, "entry page with the ready clip")
    page.click("form[action$='/submit'] button")
    page.wait_for_load_state()
    assert page.locator(".entry-status").inner_text().startswith(("Đã nộp", "Submitted"))
    assert_accessible(page, "submitted entry")
    logout(page)

    # Judge: next entry, score it, submit.
    login(page, portal, judge.email)
    assert_accessible(page, "review dashboard")
    page.click(f"a[href='/judge/rounds/{rnd.id}/next']")
    page.wait_for_selector("form.sheet")
    assert_accessible(page, "score sheet")
    for criterion, points in zip(rnd.criteria, ("8.5", "7"), strict=False):
        page.fill(f"#c{criterion.id}", points)
    assert page.locator("[data-role=total]").inner_text() == "24"
    page.screenshot(path=str(ARTIFACTS / "judge-score-sheet.png"), full_page=True)
    page.click("button[name=action][value=submit]")
    page.wait_for_url("**/judge/")
    assert "1 / 1" in page.locator(".progress-text").inner_text()
    logout(page)

    # Organiser: add an award, fill it from the ranking, publish.
    login(page, portal, organiser.email)
    page.goto(f"{portal}/org/rounds/{rnd.id}/results")
    assert "24,00" in page.locator("table.results").inner_text()  # Vietnamese decimal comma (issue 12)
    assert_accessible(page, "results")
    page.fill("#name", "Giải Nhất")
    page.fill("#count", "1")
    page.click("form.narrow button[type=submit]")
    page.wait_for_load_state()
    page.click("form[action$='/grant-from-ranking'] button")
    page.wait_for_load_state()
    page.click("form[action$='/publish'] button.primary")  # publish, keep entry intake open
    page.wait_for_url("**/c/e2e/winners")
    assert_accessible(page, "winners (vi)")

    # The public, in English this time: the winner's clip plays.
    public = new_page()
    public.goto(f"{portal}/c/e2e/winners?lang=en")
    assert "Giải Nhất" in public.content() and "Bố mẹ cùng làm việc nhà" in public.content()
    video = public.locator("video.player")
    video.evaluate("v => { v.muted = true; return v.play(); }")
    public.wait_for_function("() => document.querySelector('video.player').currentTime > 0.5", timeout=20_000)
    assert video.evaluate("v => v.videoWidth") == 640
    public.screenshot(path=str(ARTIFACTS / "public-winners.png"), full_page=True)
    assert_accessible(public, "winners (en)")
    public.goto(f"{portal}/c/e2e")
    assert_accessible(public, "contest page (en)")
