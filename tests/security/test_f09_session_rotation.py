"""Finding 9: logging in starts from an empty session: a new CSRF secret, nothing planted before login survives."""

from __future__ import annotations

from app.models import Role


def test_login_clears_the_session_and_rotates_the_csrf_secret(browser, make):
    """Finding 9: the CSRF secret and any value set before login are gone after login; the language choice stays."""
    judge = make.user(Role.JUDGE)
    browser.token()  # the login page makes a CSRF secret in the session
    with browser.client.session_transaction() as sess:
        before = sess["csrf_token"]
        sess["planted"] = "attacker-chosen"
        sess["lang"] = "en"
    browser.login(judge.email)
    browser.get("/judge/")
    with browser.client.session_transaction() as sess:
        assert "planted" not in sess
        assert sess.get("csrf_token") != before
        assert sess.get("lang") == "en"
