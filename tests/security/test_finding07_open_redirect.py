"""Finding 7: open redirects. Every redirect target from the request goes through one safe_next()."""

from __future__ import annotations

from urllib.parse import urljoin, urlsplit

import pytest

from app.models import Role

HOSTILE = [
    "/\t/evil.example",
    "/\n/evil.example",
    "/\r\n/evil.example/x",
    "//evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "/\\/evil.example",
    "https://evil.example/",
    "http:/evil.example",
    "javascript:alert(1)",
    " //evil.example",
    "evil.example",
    "/%09/evil.example\x00",
    "",
]


def _stays_here(location: str) -> bool:
    """Whether a browser following `location` from http://localhost/ would stay on this site."""
    cleaned = "".join(ch for ch in location if ch not in "\t\r\n").replace("\\", "/")
    target = urlsplit(urljoin("http://localhost/language/en", cleaned))
    return target.scheme == "http" and target.netloc == "localhost"


@pytest.mark.parametrize("target", HOSTILE)
def test_language_switch_refuses_foreign_targets(browser, target):
    """Finding 7: the language switch never redirects off-site (tab, backslash, scheme, host, control characters)."""
    resp = browser.post("/language/en", data={"next": target})
    assert resp.status_code == 302
    assert resp.location == "/", resp.location
    assert _stays_here(resp.location)


@pytest.mark.parametrize("target", HOSTILE)
def test_login_next_refuses_foreign_targets(browser, make, target):
    """Finding 7: after login, a foreign ?next= is replaced by the user's home page."""
    unit = make.user(Role.UNIT)
    resp = browser.client.post(
        "/login",
        query_string={"next": target},
        data={"email": unit.email, "password": "secret-pass-1", "csrf_token": browser.token()},
    )
    assert resp.status_code == 302
    assert resp.location == "/unit/", resp.location


def test_local_targets_still_work(browser, make):
    """Finding 7: ordinary same-site paths with a query are kept, for the language switch and for login."""
    resp = browser.post("/language/en", data={"next": "/c/some-contest?tab=rules"})
    assert resp.location == "/c/some-contest?tab=rules"
    unit = make.user(Role.UNIT)
    resp = browser.client.post(
        "/login",
        query_string={"next": "/unit/entries/1"},
        data={"email": unit.email, "password": "secret-pass-1", "csrf_token": browser.token()},
    )
    assert resp.location == "/unit/entries/1"
