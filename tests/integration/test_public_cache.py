"""Public pages that caches may keep (issue 15, §3): strong ETags, `Cache-Control: public`, 304s, bodies stable for
the same content and shared through Redis; logged-in pages stay `no-store`; the language switch works for anonymous
visitors without a per-session token, and refuses other sites."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import event

from app import db
from app.models import NewsPost, NewsStatus, Publication, Role, utcnow
from app.services import contests

PUBLIC_URL = "https://cuocthi.example.gov.vn"


@pytest.fixture
def contest(app, make):
    app.config["PUBLIC_URL"] = PUBLIC_URL
    return make.contest("cache-2027", title="Cuộc thi bộ nhớ đệm", closes_at=utcnow() + timedelta(days=30))


def _publish(session, contest) -> None:
    snapshot = {"title": contest.title, "awards": [], "ranking": []}
    session.add(Publication(contest_id=contest.id, snapshot=snapshot))
    contest.published_at = utcnow()
    session.commit()


class QueryCounter:
    """Counts the SQL statements sent while it is active."""

    def __init__(self, engine) -> None:
        self.engine, self.statements = engine, []

    def _record(self, conn, cursor, statement, *args) -> None:
        self.statements.append(statement)

    def __enter__(self):
        event.listen(self.engine, "before_cursor_execute", self._record)
        return self

    def __exit__(self, *exc) -> None:
        event.remove(self.engine, "before_cursor_execute", self._record)


def _cacheable(resp) -> str:
    assert resp.status_code == 200, resp.status_code
    etag = resp.headers["ETag"]
    assert etag.startswith('"') and not etag.startswith("W/"), etag  # strong
    assert resp.headers["Cache-Control"] == "public, max-age=60"
    assert "Set-Cookie" not in resp.headers
    assert "csrf_token" not in resp.get_data(as_text=True)
    return etag


@pytest.mark.parametrize("path", ["/c/cache-2027", "/c/cache-2027/news", "/c/cache-2027/winners"])
def test_anonymous_pages_are_stable_cacheable_and_answer_304(app, session, contest, path):
    _publish(session, contest)
    first, second = app.test_client().get(path), app.test_client().get(path)  # two visitors
    etag = _cacheable(first)
    assert _cacheable(second) == etag
    assert first.data == second.data
    again = app.test_client().get(path, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b"" and again.headers["ETag"] == etag


def test_a_change_of_content_is_a_new_etag_and_body_at_once(app, session, make, contest):
    client = app.test_client()
    before = client.get("/c/cache-2027")
    organiser = make.user(Role.ORGANISER)
    contests.update_contest(session, actor=organiser, contest=contest, title="Tên mới của cuộc thi")
    session.commit()
    after = client.get("/c/cache-2027", headers={"If-None-Match": before.headers["ETag"]})
    assert after.status_code == 200 and "Tên mới của cuộc thi" in after.get_data(as_text=True)
    post = NewsPost(contest_id=contest.id, title="Gia hạn nộp bài", body_md="x", status=NewsStatus.PUBLISHED)
    post.published_at = utcnow()
    session.add(post)
    session.commit()
    with_news = client.get("/c/cache-2027", headers={"If-None-Match": after.headers["ETag"]})
    assert with_news.status_code == 200 and "Gia hạn nộp bài" in with_news.get_data(as_text=True)
    _publish(session, contest)
    published = client.get("/c/cache-2027")
    assert published.headers["ETag"] != with_news.headers["ETag"]
    assert "/c/cache-2027/winners" in published.get_data(as_text=True)


def test_a_cached_page_costs_one_query_and_each_language_has_its_own_copy(app, contest):
    app.config["PAGE_VERSION_SECONDS"] = 0  # the version asked on every request: the one query of a hit
    client = app.test_client()
    vi = client.get("/c/cache-2027")  # fills the cache
    with app.app_context(), QueryCounter(db.engine()) as counter:
        hit = app.test_client().get("/c/cache-2027")
    assert hit.data == vi.data
    assert len(counter.statements) == 1, counter.statements
    english = app.test_client()
    english.get("/c/cache-2027?lang=en")  # remembered in this visitor's session, never served from the shared copy
    en = english.get("/c/cache-2027")
    assert en.headers["ETag"] != vi.headers["ETag"]
    assert "<dt>Deadline</dt>" in en.get_data(as_text=True) and "<dt>Deadline</dt>" not in vi.get_data(as_text=True)


def test_logged_in_pages_stay_no_store(browser, make, contest):
    browser.login(make.user(Role.UNIT, unit=make.unit()).email)
    resp = browser.get("/c/cache-2027")
    assert resp.status_code == 200
    assert resp.headers["Cache-Control"] == "no-store"
    assert "ETag" not in resp.headers
    assert "csrf_token" in resp.get_data(as_text=True)  # the logout and language forms


def test_language_switch_without_token_for_anonymous_visitors_from_this_site_only(app, contest):
    client = app.test_client()
    page = client.get("/c/cache-2027").get_data(as_text=True)
    assert 'action="/language/en"' in page
    resp = client.post("/language/en", data={"next": "/c/cache-2027"}, headers={"Sec-Fetch-Site": "same-origin"})
    assert resp.status_code == 302 and resp.headers["Location"] == "/c/cache-2027"
    assert "<dt>Deadline</dt>" in client.get("/c/cache-2027").get_data(as_text=True)
    for headers in (
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site"},
        {"Origin": "https://evil.example"},
    ):
        other = app.test_client()
        assert other.post("/language/en", data={"next": "/"}, headers=headers).status_code == 403
    assert app.test_client().post("/language/en", headers={"Origin": PUBLIC_URL}).status_code == 302


def test_language_switch_of_a_logged_in_user_still_needs_the_token(browser, make, contest):
    browser.login(make.user(Role.UNIT, unit=make.unit()).email)
    headers = {"Sec-Fetch-Site": "same-origin"}
    assert browser.client.post("/language/en", data={"next": "/"}, headers=headers).status_code == 400
    assert browser.post("/language/en", data={"next": "/"}, headers=headers).status_code == 302


def test_flashed_messages_are_never_served_from_or_into_the_shared_copy(app, browser, make, contest):
    browser.login(make.user(Role.UNIT, unit=make.unit()).email)
    browser.post("/logout")  # flashes "You have logged out." for the next page
    page = browser.get("/c/cache-2027")
    assert "Cache-Control" not in page.headers or "public" not in page.headers["Cache-Control"]
    assert "flash" in page.get_data(as_text=True)
    assert "flash info" not in app.test_client().get("/c/cache-2027").get_data(as_text=True)


@pytest.mark.database_only
def test_without_redis_pages_are_rendered_and_still_carry_their_etag(app, contest):
    first = app.test_client().get("/c/cache-2027")
    etag = _cacheable(first)
    assert app.test_client().get("/c/cache-2027", headers={"If-None-Match": etag}).status_code == 304


def test_web_nodes_share_the_rendered_page_through_redis(app, contest, services):
    from app import create_app

    first = app.test_client().get("/c/cache-2027")
    other_node = create_app({"TESTING": True, **services, "PUBLIC_URL": PUBLIC_URL})
    with other_node.app_context(), QueryCounter(db.engine()) as counter:
        hit = other_node.test_client().get("/c/cache-2027")
    assert hit.data == first.data and hit.headers["ETag"] == first.headers["ETag"]
    assert len(counter.statements) == 1, counter.statements  # the version query; the body came from Redis


def test_a_hot_page_needs_no_query_and_a_local_commit_shows_at_once(app, session, make, contest):
    """The default (PAGE_VERSION_SECONDS > 0): a process reuses the version; its own commits forget it at once."""
    app.config["PAGE_VERSION_SECONDS"] = 3600  # far longer than the test: only a commit may end the reuse
    first = app.test_client().get("/c/cache-2027")
    with app.app_context(), QueryCounter(db.engine()) as counter:
        hit = app.test_client().get("/c/cache-2027")
    assert hit.data == first.data and counter.statements == []
    contest = contests.get_contest(session, "cache-2027")  # the app context above ended the fixture's session
    contests.update_contest(session, actor=make.user(Role.ORGANISER), contest=contest, title="Renamed contest 2027")
    session.commit()
    renamed = app.test_client().get("/c/cache-2027", headers={"If-None-Match": first.headers["ETag"]})
    assert renamed.status_code == 200 and "Renamed contest 2027" in renamed.get_data(as_text=True)


def test_a_change_from_another_process_shows_within_page_version_seconds(app, contest, monkeypatch):
    """A write this process did not commit (another node, a worker, raw SQL) is seen once the reused version ends."""
    from sqlalchemy import text

    from app.public import caching

    app.config["PAGE_VERSION_SECONDS"] = 5
    first = app.test_client().get("/c/cache-2027")
    with db.engine().begin() as conn:  # no ORM session: this process's commit hooks do not see it
        conn.execute(text("UPDATE contest SET title = 'Đổi tên từ nơi khác' WHERE slug = 'cache-2027'"))
    stale = app.test_client().get("/c/cache-2027")
    assert stale.data == first.data  # within the bound, the reused version still names the old body
    now = caching._clock()
    monkeypatch.setattr(caching, "_clock", lambda: now + 5.001)  # the bound has passed
    fresh = app.test_client().get("/c/cache-2027")
    assert "Đổi tên từ nơi khác" in fresh.get_data(as_text=True) and fresh.headers["ETag"] != first.headers["ETag"]
