"""Staff edit an account within their rights: name, e-mail, unit, role, active."""

from __future__ import annotations

from flask import abort, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app import db
from app.committing import committing, save_form
from app.labels import choices
from app.models import Role, User
from app.permissions import can_manage_account
from app.services import accounts

from .forms import AccountEditForm
from .routes import bp, chosen_unit, unit_choices


def _managed_account_or_404(user_id: int) -> User:
    user = db.session.get(User, user_id) or abort(404)
    if not can_manage_account(current_user, user.role):
        abort(403)
    return user


@bp.route("/accounts/<int:user_id>/edit", methods=["GET", "POST"])
def edit_account(user_id: int):
    user = _managed_account_or_404(user_id)
    form = AccountEditForm(obj=user) if request.method == "GET" else AccountEditForm()
    form.role.choices = choices(Role, [role for role in Role if can_manage_account(current_user, role)])
    form.unit_id.choices = unit_choices()
    if request.method == "GET":
        form.role.data = user.role.value
        form.unit_id.data = user.unit_id or 0
    saved = save_form(
        form,
        _("Account %(email)s saved.", email=form.email.data),
        lambda: accounts.update_account(
            db.session,
            actor=current_user,
            user=user,
            name=form.name.data,
            email=form.email.data,
            role=Role(form.role.data),
            unit=chosen_unit(form.unit_id.data),
            active=form.active.data,
        ),
    )
    if saved.ok:
        return redirect(url_for("organisers.accounts_view"))
    return render_template("organisers/account_edit.html", form=form, account=user)


@bp.route("/accounts/<int:user_id>/reset", methods=["POST"])
def send_reset_link(user_id: int):
    """Mail the account a one-time link to choose a new password (its current password keeps working until then)."""
    user = _managed_account_or_404(user_id)
    with committing(_("A password reset link was sent to %(email)s.", email=user.email)):
        accounts.send_reset_link(db.session, actor=current_user, user=user)
    return redirect(url_for("organisers.edit_account", user_id=user.id))
