"""Log in, log out, language choice."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app import db
from app.extensions import csrf
from app.models import Role
from app.passwords import HashingBusy
from app.security import safe_next, same_origin_request
from app.services.accounts import authenticate

from . import login_session
from .busy import busy_page
from .events import record_login_event
from .forms import LoginForm
from .throttle import mark_failed, throttled

bp = Blueprint("auth", __name__)


def home_for(user) -> str:
    """Where a user lands after logging in."""
    return {
        Role.UNIT: url_for("units.dashboard"),
        Role.JUDGE: url_for("judges.dashboard"),
        Role.ORGANISER: url_for("organisers.dashboard"),
        Role.ADMIN: url_for("organisers.dashboard"),
    }[user.role]


@bp.route("/login", methods=["GET", "POST"])
@throttled
def login():
    if current_user.is_authenticated:
        return redirect(home_for(current_user))
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = authenticate(db.session, email=form.email.data, password=form.password.data)
        except HashingBusy as exc:  # a wave of logins: come back in a few seconds (neither a failure nor a lockout)
            return busy_page(exc, "auth/login.html", form=form)
        if user is None:
            mark_failed()
            record_login_event("auth.login_failed", email=form.email.data.strip().lower(), user=None)
            flash(_("Wrong e-mail or password, or the account is disabled."), "error")
        else:
            login_session.begin(user)
            record_login_event("auth.login", email=user.email, user=user)
            # Only same-site paths: an open redirect would help phishing.
            return redirect(safe_next(request.args.get("next"), home_for(user)))
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    login_session.end()
    db.session.commit()
    flash(_("You have logged out."), "info")
    return redirect(url_for("public.index"))


@bp.route("/language/<code>", methods=["POST"])
@csrf.exempt
def set_language(code: str):
    """Switch the interface language and remember it (for the account too).

    Logged-in users send the form's CSRF token. Anonymous pages carry none (caches share them), so for anonymous
    visitors the browser's own Sec-Fetch-Site / Origin headers must say the form came from this site.
    """
    from flask import current_app

    if current_user.is_authenticated:
        csrf.protect()
    elif not same_origin_request():
        abort(403)
    if code in current_app.config["LANGUAGES"]:
        session["lang"] = code
        if current_user.is_authenticated:
            current_user.locale = code
            db.session.commit()
    return redirect(safe_next(request.form.get("next")))
