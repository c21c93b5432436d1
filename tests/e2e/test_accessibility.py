"""Issue 12, the accessibility gate: every page of the journey, for every role, in Vietnamese at phone width (360 px)
and in English at desktop width (1280 px), has no WCAG 2.1 A/AA violation that axe-core finds. The header keeps the
user's name on one line at 360 px, and the journey's actions work from the keyboard alone."""

from __future__ import annotations

import pytest

from app.models import Clip, ClipStatus, EntryStatus, Role, RoundStatus, UnitKind
from app.services import accounts, results, rounds, scoring
from tests.e2e.accessibility import assert_accessible
from tests.e2e.conftest import login, logout
from tests.pages import journey_pages

pytestmark = [pytest.mark.e2e, pytest.mark.no_worker]


@pytest.fixture
def site(make, session):
    """A contest in the middle of its life: entries in every state, an open round with scores, a published result."""
    unit = accounts.create_unit(session, code="P-BN", name="UBND phường Bến Nghé", kind=UnitKind.WARD)
    other = accounts.create_unit(session, code="X-TN", name="UBND xã Tân Nhựt", kind=UnitKind.COMMUNE)
    session.commit()
    member = make.user(Role.UNIT, unit, name="Võ Thị Văn Thư (P. Bến Nghé)")
    judge = make.user(Role.JUDGE, name="Trần Văn Giám Khảo")
    organiser = make.user(Role.ORGANISER, name="Nguyễn Thị Ban Tổ Chức")
    admin = make.user(Role.ADMIN, name="Quản Trị Viên Hệ Thống")
    contest = make.contest(
        "a11y",
        title="Truyền thông bình đẳng giới",
        description="Cuộc thi clip về bình đẳng giới.",
        rules_md="## Thể lệ cuộc thi\n\n1. Clip dài từ 2 đến 7 phút.\n2. Mỗi đơn vị gửi **tối đa 3** tác phẩm.",
        max_entries_per_unit=4,
        min_duration_s=120,
        max_duration_s=420,
        categories=["Sáng kiến", "Mô hình"],
    )
    ready = make.entry(contest, unit, title="Bố mẹ cùng làm việc nhà")
    unscored = make.entry(contest, other, title="Gia đình bình đẳng")
    draft = make.entry(contest, unit, title="Bản nháp chưa có clip", status=EntryStatus.DRAFT, clip_status=None)
    rejected = make.entry(
        contest, unit, title="Clip quá ngắn", status=EntryStatus.DRAFT, clip_status=ClipStatus.REJECTED
    )
    clip = session.get(Clip, rejected.clip_id)
    clip.reason_code, clip.reason_params = "too_short", {"duration": "0:03", "min": "2:00"}
    clip.rejections = [
        {"code": "too_short", "params": {"duration": "0:03", "min": "2:00"}},
        {"code": "resolution_too_low", "params": {"size": "426×240", "min": 720}},
    ]
    rnd = make.round(contest, judges=[judge], name="Sơ khảo")
    make.round(contest, name="Chung khảo", judges=[judge], status=RoundStatus.DRAFT)
    first, second = rnd.criteria
    scoring.save_sheet(session, judge=judge, rnd=rnd, entry=ready, points={first.id: 8.5, second.id: 7}, submit=True)
    session.commit()
    published = make.contest("a11y-done", title="Cuộc thi đã công bố", description="Kết quả đã công bố.")
    done_rnd = make.round(published, judges=[judge])
    winner = make.entry(published, unit, title="Tác phẩm đoạt giải")
    a, b = done_rnd.criteria
    scoring.save_sheet(session, judge=judge, rnd=done_rnd, entry=winner, points={a.id: 9, b.id: 8}, submit=True)
    results.create_award(session, actor=organiser, contest=published, name="Giải Nhất", count=1)
    session.flush()
    results.grant_from_ranking(session, actor=organiser, contest=published, rnd=done_rnd)
    results.publish(session, actor=organiser, contest=published, rnd=done_rnd)
    rounds.set_round_status(session, actor=organiser, rnd=done_rnd, status=RoundStatus.CLOSED)
    session.commit()
    return dict(
        member=member,
        judge=judge,
        organiser=organiser,
        admin=admin,
        contest=contest,
        rnd=rnd,
        ready=ready,
        unscored=unscored,
        draft=draft,
        rejected=rejected,
    )


def _pages(site) -> dict[str | None, list[str]]:
    """The journey's pages (tests/pages.py), and the states and pages only this site has."""
    c, r = site["contest"].slug, site["rnd"].id
    pages = journey_pages(contest=c, entry=site["ready"].id, rnd=r)
    pages[None] += ["/c/a11y-done", "/c/a11y-done/winners", "/no-such-page"]
    pages["member"] += [
        f"/unit/entries/{site['draft'].id}",
        f"/unit/entries/{site['rejected'].id}",
        "/account/password",
        "/org/",  # a page the member may not see: the 403 page
    ]
    pages["judge"].append(f"/judge/rounds/{r}/entries/{site['ready'].id}")
    pages["admin"] = ["/org/", "/org/accounts"]
    return pages


def _check_all(page, base: str, site, lang: str) -> None:
    """Visit every page and report every page's violations together (one run shows all there is to fix)."""
    failures: list[str] = []

    def check(where: str) -> None:
        try:
            assert_accessible(page, where)
        except AssertionError as exc:
            failures.append(str(exc))

    for who, paths in _pages(site).items():
        if who:
            login(page, base, site[who].email)
        for n, path in enumerate(paths):
            page.goto(f"{base}{path}" + (f"?lang={lang}" if n == 0 else ""))
            assert page.locator("html").get_attribute("lang") == lang, path
            check(f"{path} ({who or 'public'}, {lang})")
        if who == "judge":
            # The score sheet with errors shown at their fields.
            first, second = site["rnd"].criteria
            page.fill(f"#c{first.id}", "11")
            page.fill(f"#c{second.id}", "2.5")
            page.click("button[name=action][value=submit]")
            page.wait_for_selector(f"#c{second.id}-err")
            check(f"score sheet with errors ({lang})")
        if who:
            logout(page)
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize(("lang", "width"), [("vi", 360), ("en", 1280)])
def test_every_page_passes_axe(portal, new_page, site, lang, width):
    """Each language once and each width once: the pages' markup is the same in both languages (the words differ) and
    their layout depends on the width alone, so vi at phone width (the default reader, the narrowest layout) and en at
    desktop width meet every rule either can break, at two passes over the site instead of three."""
    page = new_page()
    page.set_viewport_size({"width": width, "height": 780 if width == 360 else 900})
    _check_all(page, portal, site, lang)


def test_header_name_is_readable_and_on_one_line_at_360_px(portal, new_page, site):
    page = new_page()
    login(page, portal, site["member"].email)
    name = page.locator("header .user-name")
    assert name.inner_text() == "Võ Thị Văn Thư (P. Bến Nghé)"
    line = name.evaluate("e => parseFloat(getComputedStyle(e).lineHeight)")
    box = name.bounding_box()
    assert box["height"] < 1.5 * line, box  # one line, not two centred ones
    assert box["x"] >= 0 and box["x"] + box["width"] <= 360, box
    assert name.evaluate("e => getComputedStyle(e).color") == "rgb(255, 255, 255)"


def test_the_journey_by_keyboard_alone(portal, new_page, site):
    """Log in, open the new-entry form, create an entry, then score as a judge: Tab, typing and Enter only."""
    page = new_page()
    page.goto(f"{portal}/login?lang=en")
    page.focus("#email")  # where a person's first Tab presses land after the skip link and the header
    page.keyboard.type(site["member"].email)
    page.keyboard.press("Tab")
    page.keyboard.type("secret-pass-1")
    page.keyboard.press("Enter")
    page.wait_for_url("**/unit/")
    _tab_to(page, f"a[href='/unit/c/{site['contest'].slug}/entries/new']")
    page.keyboard.press("Enter")
    page.wait_for_selector("#title")
    _tab_to(page, "#title")
    page.keyboard.type("Clip làm bằng bàn phím")
    page.keyboard.press("Enter")
    page.wait_for_url("**/unit/entries/*")
    assert page.locator("h1").inner_text() == "Clip làm bằng bàn phím"
    _tab_to(page, "header form[action='/logout'] button")
    with page.expect_navigation():  # logged out before the next login starts
        page.keyboard.press("Enter")

    login(page, portal, site["judge"].email)
    page.goto(f"{portal}/judge/rounds/{site['rnd'].id}/entries/{site['unscored'].id}")
    first, second = site["rnd"].criteria
    _tab_to(page, f"#c{first.id}")
    page.keyboard.type("9")
    _tab_to(page, f"#c{second.id}")
    page.keyboard.type("6")
    _tab_to(page, "button[name=action][value=submit]")
    page.keyboard.press("Enter")
    page.wait_for_url("**/judge/**")


def _tab_to(page, selector: str, limit: int = 80) -> None:
    """Press Tab until the element matching selector has the focus (fail after `limit` presses)."""
    target = page.locator(selector).first
    for _ in range(limit):
        if target.evaluate("e => e === document.activeElement"):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"{selector} cannot be reached with the Tab key")
