"""The answer when no password-hashing slot comes free in time (app/passwords.py, LOGIN_HASH_CONCURRENCY): 503 with
Retry-After, the form shown again with what was typed in it (passwords aside) and a message saying to try again."""

from __future__ import annotations

from flask import Flask, Response, flash, g, make_response, render_template, request
from flask_babel import lazy_gettext as _l

from app import db
from app.passwords import RETRY_AFTER_SECONDS, HashingBusy


def busy_page(exc: HashingBusy, template: str, **context) -> Response:
    """`template` again (its form keeps what was typed) with the refusal flashed, as a 503 with Retry-After."""
    db.session.rollback()
    flash(str(exc), "error")
    g.hashing_busy = True
    return make_response(render_template(template, **context), 503)


def init_app(app: Flask) -> None:
    """Call before the login limiter's init_app (app/auth/throttle.py): Flask runs after-request functions in reverse
    order of registration, and Flask-Limiter sets Retry-After on every response of a limited view to the end of its
    15-minute window; a refused hash must say a few seconds instead."""

    @app.after_request
    def _retry_after(response: Response) -> Response:
        if g.get("hashing_busy"):
            response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response

    @app.errorhandler(HashingBusy)
    def _busy(exc: HashingBusy):
        """A view that does not catch HashingBusy itself still answers 503 with Retry-After, never 500."""
        db.session.rollback()
        g.hashing_busy = True
        message = str(exc)
        if request.accept_mimetypes.best == "application/json":
            return {"error": message}, 503
        return render_template("error.html", code=503, title=_l("Temporarily unavailable"), message=message), 503
