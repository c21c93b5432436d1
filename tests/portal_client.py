"""What a browser does against a running portal, with urllib: a session cookie, the login form, plain GETs."""

from __future__ import annotations

import http.cookiejar
import re
import urllib.error
import urllib.parse
import urllib.request

from tests.factories import PASSWORD

CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):  # noqa: PLR0913 - urllib's signature
        return None


class PortalClient:
    """One browser: its own cookie jar (shareable with another client to play the same browser on another node)."""

    def __init__(self, base: str, jar: http.cookiejar.CookieJar | None = None) -> None:
        self.base = base
        self.jar = jar if jar is not None else http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar), _NoRedirect)
        self.csrf: str | None = None

    def request(self, method: str, path: str, *, data: bytes | None = None, headers: dict | None = None):
        """(status, headers, body) of one request; redirects are not followed."""
        req = urllib.request.Request(
            urllib.parse.urljoin(self.base, path), method=method, data=data, headers=headers or {}
        )
        try:
            with self.opener.open(req, timeout=120) as resp:
                return resp.status, resp.headers, resp.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.headers, exc.read()

    def get(self, path: str, headers: dict | None = None):
        return self.request("GET", path, headers=headers)

    def token(self, path: str = "/login") -> str:
        status, headers, html = self.get(path)
        for _ in range(5):  # a signed-in user's home page redirects to their dashboard
            if status not in (301, 302, 303):
                break
            status, headers, html = self.get(headers["Location"])
        match = CSRF_RE.search(html.decode())
        assert match, f"no CSRF token on {path}"
        return match.group(1)

    def login(self, email: str, password: str = PASSWORD) -> None:
        data = urllib.parse.urlencode({"email": email, "password": password, "csrf_token": self.token()}).encode()
        status, headers, body = self.request("POST", "/login", data=data)
        assert status == 302 and "/login" not in headers.get("Location", ""), body[:500]
        self.csrf = self.token("/")

    def logout(self) -> None:
        data = urllib.parse.urlencode({"csrf_token": self.csrf or self.token("/")}).encode()
        status, _, body = self.request("POST", "/logout", data=data)
        assert status == 302, body[:500]

    def logged_in(self) -> bool:
        """True when the portal knows this browser's session: a page for signed-in users answers, not a redirect."""
        status, _, _ = self.get("/account/password")
        assert status in (200, 302), status
        return status == 200
