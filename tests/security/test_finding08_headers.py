"""Finding 8: security headers on every response (CSP, nosniff, Referrer-Policy, no-store for logged-in pages)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from app.models import Role
from tests.conftest import ROOT


def _csp(resp) -> dict[str, str]:
    policy = resp.headers.get("Content-Security-Policy", "")
    return {d.split(" ", 1)[0]: d.split(" ", 1)[1] if " " in d else "" for d in policy.split("; ") if d}


def _assert_secure(resp, url):
    csp = _csp(resp)
    assert csp.get("default-src") == "'self'", url
    assert csp.get("script-src") == "'self'", url
    assert csp.get("object-src") == "'none'", url
    assert csp.get("base-uri") == "'self'", url
    assert csp.get("frame-ancestors") == "'none'", url
    assert resp.headers.get("X-Content-Type-Options") == "nosniff", url
    assert resp.headers.get("Referrer-Policy") == "strict-origin-when-cross-origin", url


def test_every_kind_of_response_carries_the_headers(app, browser, make):
    """Finding 8: pages, static files, errors, redirects, JSON and exports all carry CSP, nosniff, Referrer-Policy."""
    contest = make.contest()
    organiser = make.user(Role.ORGANISER)
    anonymous = ["/", "/login", f"/c/{contest.slug}", "/static/css/app.css", "/no-such-page", "/unit/"]
    for url in anonymous:
        _assert_secure(browser.get(url), url)
    _assert_secure(browser.client.post("/login", data={}), "POST /login without CSRF")
    browser.login(organiser.email)
    for url in ("/org/", f"/org/c/{contest.slug}/audit", f"/org/c/{contest.slug}/participation?format=csv"):
        _assert_secure(browser.get(url), url)


def test_pages_for_logged_in_users_are_not_stored(browser, make):
    """Finding 8: `Cache-Control: no-store` for logged-in users' pages; public pages stay cacheable."""
    contest = make.contest()
    assert "no-store" not in browser.get(f"/c/{contest.slug}").headers.get("Cache-Control", "")
    unit = make.unit()
    member = make.user(Role.UNIT, unit)
    entry = make.entry(contest, unit)
    browser.login(member.email)
    for url in ("/unit/", f"/unit/entries/{entry.id}", f"/unit/entries/{entry.id}/status.json", f"/c/{contest.slug}"):
        resp = browser.get(url)
        assert resp.status_code == 200, url
        assert resp.headers.get("Cache-Control") == "no-store", url


def test_store_origin_is_allowed_only_in_direct_upload_mode(services):
    """Finding 8: connect-src, media-src and img-src add S3_PUBLIC_ENDPOINT_URL's origin (else S3_ENDPOINT_URL's)
    when browsers talk to the store directly (direct uploads, media redirected to it); otherwise everything stays on
    this origin."""
    from app import create_app

    def policy(**config):
        app = create_app({"TESTING": True, **services, **config})
        return _csp(app.test_client().get("/login"))

    direct = policy(UPLOAD_MODE="direct", S3_PUBLIC_ENDPOINT_URL="https://media.example.vn:8443/some/path")
    for directive in ("connect-src", "media-src", "img-src"):
        assert direct[directive].split()[0] == "'self'"
        assert "https://media.example.vn:8443" in direct[directive].split(), directive
    fallback = policy(UPLOAD_MODE="direct", S3_PUBLIC_ENDPOINT_URL=None)
    origin = services["S3_ENDPOINT_URL"].rstrip("/")
    assert origin in fallback["connect-src"].split()
    proxy = policy(UPLOAD_MODE="proxy", S3_PUBLIC_ENDPOINT_URL="https://media.example.vn")
    for directive in ("connect-src", "media-src", "img-src"):
        assert not [s for s in proxy[directive].split() if s.startswith("http")], directive
    redirected = policy(
        UPLOAD_MODE="proxy", MEDIA_DELIVERY="redirect", S3_PUBLIC_ENDPOINT_URL="https://media.example.vn"
    )
    assert "https://media.example.vn" in redirected["media-src"].split()  # a delivery mode that redirects to the store


def test_only_a_view_made_to_be_embedded_may_be_framed(services):
    """Finding 8: frame-ancestors 'none' everywhere except on a view marked @embeddable."""
    from app import create_app
    from app.security import embeddable

    app = create_app({"TESTING": True, **services})

    @app.route("/embed-test")
    @embeddable
    def embed_test():
        return "embeddable"

    @app.route("/embed-partner")
    @embeddable(ancestors="https://partner.example")
    def embed_partner():
        return "partner"

    client = app.test_client()
    assert _csp(client.get("/embed-test"))["frame-ancestors"] == "*"
    assert _csp(client.get("/embed-partner"))["frame-ancestors"] == "https://partner.example"
    assert _csp(client.get("/embed-partner"))["script-src"] == "'self'"
    assert _csp(client.get("/login"))["frame-ancestors"] == "'none'"


INLINE = [
    (re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.I), "inline <script>"),
    (re.compile(r"\son[a-z]+\s*=", re.I), "inline event handler"),
    (re.compile(r"\sstyle\s*=", re.I), "inline style attribute"),
    (re.compile(r"<style", re.I), "inline <style>"),
    (re.compile(r"javascript:", re.I), "javascript: URL"),
]


# Mail bodies are not pages: mail clients need inline styles, and no browser shows them under the portal's CSP.
PAGE_TEMPLATES = sorted(p for p in (ROOT / "app" / "templates").rglob("*.html") if "mail" not in p.parent.parts)


@pytest.mark.parametrize("template", PAGE_TEMPLATES, ids=lambda p: str(p.relative_to(ROOT / "app" / "templates")))
def test_templates_have_nothing_inline_that_the_csp_blocks(template: Path):
    """Finding 8: no inline scripts, event handlers or styles in page templates (the CSP would block them)."""
    text = template.read_text(encoding="utf-8")
    for pattern, what in INLINE:
        match = pattern.search(text)
        assert match is None, f"{what} in {template.relative_to(ROOT)}: {match.group(0) if match else ''}"
