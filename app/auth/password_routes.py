"""Change one's own password: every other session of the account ends; this browser gets a fresh one."""

from __future__ import annotations

from flask import flash, redirect, render_template
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app import db, passwords
from app.passwords import HashingBusy
from app.services import PortalError, accounts

from . import login_session
from .busy import busy_page
from .forms import PasswordChangeForm
from .routes import bp, home_for
from .throttle import clear_account_lock, current_password_throttled, mark_failed


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
@current_password_throttled
def change_password():
    form = PasswordChangeForm()
    if form.validate_on_submit():
        try:
            done = _change_password(form)
        except HashingBusy as exc:  # no hashing slot came free in time: nothing changed, the form stays
            return busy_page(exc, "auth/password.html", form=form)
        if done is not None:
            return done
    return render_template("auth/password.html", form=form)


def _change_password(form: PasswordChangeForm):
    """Check the current password and set the new one: a redirect when done, None to show the form again (with its
    errors). HashingBusy passes through."""
    user = current_user._get_current_object()
    if not passwords.verify(user.password_hash, form.current_password.data):
        mark_failed()
        form.current_password.errors.append(_("The current password is wrong."))
        return None
    try:
        accounts.set_password(db.session, actor=user, user=user, password=form.new_password.data)
    except HashingBusy:
        raise
    except PortalError as exc:
        db.session.rollback()
        form.new_password.errors.append(str(exc))
        return None
    login_session.begin(user)
    db.session.commit()
    clear_account_lock(user.email)
    flash(_("Your password was changed. Every other session of your account was logged out."), "success")
    return redirect(home_for(user))
