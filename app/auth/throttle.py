"""Login throttling with Flask-Limiter on the portal's Redis: failed logins only, per e-mail address and per client.

- Per address: after ACCOUNT_FAILURES failures for one e-mail (known or not, so that 429 reveals nothing) within a
  moving 15-minute window, attempts are answered 429 with Retry-After before the password is checked.
- Per client IP: LOGIN_IP_FAILURES failures per 15 minutes. Successes never count (shared NAT, load tests).
- Per account, for a logged-in user re-entering the current password (/account/password): the same ACCOUNT_FAILURES
  per 15 minutes, so that a borrowed session cannot be used to guess the password.
- Redis down: login fails closed with 503; nothing else depends on this limiter.

Password-reset requests (and requests for a new invitation) are limited with the same numbers, counting every request
instead of failures only: ACCOUNT_FAILURES per e-mail address (or link) and LOGIN_IP_FAILURES per client address per
15 minutes, failing closed the same way.
"""

from __future__ import annotations

from flask import Flask, current_app, flash, g, render_template, request
from flask_babel import gettext as _
from flask_limiter import Limiter, RateLimitExceeded
from flask_limiter.util import get_remote_address
from limits import parse
from limits.errors import StorageError

WINDOW = "15 minutes"
ACCOUNT_FAILURES = 10
ACCOUNT_SCOPE = "login-account"
IP_SCOPE = "login-ip"
CURRENT_PASSWORD_SCOPE = "current-password"  # noqa: S105 - a limiter scope name
KEY_PREFIX = "portal-login"

limiter = Limiter(
    key_func=get_remote_address,
    key_prefix=KEY_PREFIX,
    strategy="moving-window",
    headers_enabled=True,
    swallow_errors=False,
)


def _login_email() -> str:
    return (request.form.get("email") or "").strip().lower()[:200]


def _current_user_key() -> str:
    from flask_login import current_user

    return f"user-{current_user.get_id()}"


def _ip_limit() -> str:
    return f"{current_app.config['LOGIN_IP_FAILURES']} per {WINDOW}"


def _failed(_response) -> bool:
    return bool(g.get("login_failed"))


def mark_failed() -> None:
    """Tell the limiter that this request was a failed login (the only kind that counts)."""
    g.login_failed = True


def throttled(view):
    """Decorate the login view with both limits (POST only)."""
    view = limiter.shared_limit(
        _ip_limit, IP_SCOPE, key_func=get_remote_address, methods=["POST"], deduct_when=_failed
    )(view)
    return limiter.shared_limit(
        f"{ACCOUNT_FAILURES} per {WINDOW}", ACCOUNT_SCOPE, key_func=_login_email, methods=["POST"], deduct_when=_failed
    )(view)


def current_password_throttled(view):
    """Decorate a view that checks the logged-in user's current password: failures count per account (POST only)."""
    return limiter.limit(
        f"{ACCOUNT_FAILURES} per {WINDOW}",
        scope=CURRENT_PASSWORD_SCOPE,
        key_func=_current_user_key,
        methods=["POST"],
        deduct_when=_failed,
    )(view)


RESET_ACCOUNT_SCOPE = "reset-account"
RESET_IP_SCOPE = "reset-ip"
RESET_ENDPOINTS = ("auth.forgot_password", "auth.renew_invitation")


def _reset_key() -> str:
    return _login_email() or (request.form.get("token") or "")[:100]


def reset_throttled(view):
    """Decorate a view that sends a mail on request (reset, new invitation): every POST counts."""
    view = limiter.shared_limit(_ip_limit, RESET_IP_SCOPE, key_func=get_remote_address, methods=["POST"])(view)
    return limiter.shared_limit(
        f"{ACCOUNT_FAILURES} per {WINDOW}", RESET_ACCOUNT_SCOPE, key_func=_reset_key, methods=["POST"]
    )(view)


def clear_account_lock(email: str) -> None:
    """Forget the failures counted for this e-mail address (after a completed password reset)."""
    item = parse(f"{ACCOUNT_FAILURES} per {WINDOW}")
    limiter.limiter.clear(item, KEY_PREFIX, email.strip().lower(), ACCOUNT_SCOPE)


def init_app(app: Flask) -> None:
    """Bind the limiter to the app's Redis, with a 429 login page and a fail-closed 503."""
    app.config.setdefault("RATELIMIT_STORAGE_URI", app.config["REDIS_URL"])
    app.config.setdefault(
        "RATELIMIT_STORAGE_OPTIONS", {"wrap_exceptions": True, "socket_connect_timeout": 3, "socket_timeout": 3}
    )
    app.config.setdefault("RATELIMIT_ENABLED", True)  # the limiter is shared: never inherit another app's off
    limiter.init_app(app)

    @app.errorhandler(RateLimitExceeded)
    def _locked(exc):
        from app.auth.events import record_login_event
        from app.auth.forms import ForgotPasswordForm, LoginForm, PasswordChangeForm

        if request.endpoint == "auth.change_password":
            flash(_("Too many wrong current passwords. Wait 15 minutes and try again."), "error")
            return render_template("auth/password.html", form=PasswordChangeForm()), 429
        if request.endpoint in RESET_ENDPOINTS:
            flash(_("Too many requests. Wait 15 minutes and try again."), "error")
            return render_template("auth/forgot.html", form=ForgotPasswordForm()), 429

        record_login_event("auth.login_locked", email=_login_email(), user=None, once_per_window=True)
        message = _("Too many failed logins. Wait 15 minutes and try again, or ask an organiser to reset the password.")
        flash(message, "error")
        return render_template("auth/login.html", form=LoginForm()), 429

    @app.errorhandler(StorageError)
    def _store_down(_exc):
        current_app.logger.error("login refused: the rate-limit store (Redis) is unreachable")
        message = _("Logging in is unavailable for a moment. Please try again in a few minutes.")
        if request.accept_mimetypes.best == "application/json":
            return {"error": message}, 503
        return render_template("error.html", code=503, title=_("Temporarily unavailable"), message=message), 503
