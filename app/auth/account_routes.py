"""One's own account: name and language (the password has its own page)."""

from __future__ import annotations

from flask import flash, redirect, render_template, session, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app import db
from app.committing import committing
from app.services import accounts

from .forms import ProfileForm
from .routes import bp


@bp.route("/account", methods=["GET", "POST"])
@login_required
def account():
    user = current_user._get_current_object()
    form = ProfileForm(data={"name": user.name, "locale": user.locale or "vi"})
    if form.validate_on_submit():
        with committing() as outcome:
            accounts.update_profile(db.session, actor=user, name=form.name.data, locale=form.locale.data)
        if outcome.ok:
            session["lang"] = user.locale  # the interface follows at once
            with force_locale(user.locale):
                flash(_("Your account was saved."), "success")
            return redirect(url_for("auth.account"))
    return render_template("auth/account.html", form=form, user=user)
