"""Finding 13: bad or huge paging input on paged views (the audit log) answers 404, never 500."""

from __future__ import annotations

import pytest

from app.models import Role


@pytest.fixture
def audited(make):
    contest = make.contest()
    make.round(contest, judges=[make.user(Role.JUDGE)])  # one audited event (panel.set)
    return contest, make.user(Role.ORGANISER)


@pytest.mark.parametrize(
    "page", ["99999999999999999999", "9223372036854775808", "2", "0", "-1", "abc", "1.5", "١", "1e3", " 1"]
)
def test_bad_audit_page_is_not_found(browser, audited, page):
    """Finding 13: a page that cannot exist (too big, not a number, below 1, past the end) is a 404."""
    contest, organiser = audited
    browser.login(organiser.email)
    resp = browser.get(f"/org/c/{contest.slug}/audit", query_string={"page": page})
    assert resp.status_code == 404, (page, resp.status_code)


def test_existing_audit_pages_still_render(browser, audited):
    """Finding 13: page 1 (with or without ?page=) still shows the log."""
    contest, organiser = audited
    browser.login(organiser.email)
    for query in ({}, {"page": "1"}):
        resp = browser.get(f"/org/c/{contest.slug}/audit", query_string=query)
        # The panel.set event, as the log reads it since issue 12.
        assert resp.status_code == 200 and "đã chọn hội đồng giám khảo cho “Round 1”" in resp.get_data(as_text=True)


def test_huge_ids_in_urls_are_not_found(browser, make):
    """Finding 13: an id beyond the database's integer range in any URL is a 404 like an unknown id, never a 500."""
    organiser = make.user(Role.ORGANISER)
    browser.login(organiser.email)
    for url in (
        "/org/rounds/99999999999999999999/results",
        "/org/rounds/2147483648/export.csv",
        "/media/clips/9223372036854775808/play.mp4",
    ):
        assert browser.get(url).status_code == 404, url
    browser.post("/logout")
    browser.login(make.user(Role.UNIT).email)
    assert browser.get("/unit/entries/99999999999999999999").status_code == 404
