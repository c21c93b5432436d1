"""The pages behind the links in mails: accept an invitation, forgot password, reset password."""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from redis.exceptions import RedisError

from app import db
from app.mail_jobs import enqueue_password_reset
from app.models import TokenPurpose
from app.passwords import HashingBusy
from app.services import PortalError
from app.services.invitations import (
    LIFETIMES,
    LinkNotValid,
    LinkState,
    check_link,
    is_invitation_pending,
    redeem_link,
    renew_invitation,
)

from . import login_session
from .busy import busy_page
from .events import record_login_event
from .forms import ForgotPasswordForm, SetPasswordForm
from .routes import bp, home_for
from .throttle import clear_account_lock, reset_throttled

RESET_MINUTES = int(LIFETIMES[TokenPurpose.PASSWORD_RESET].total_seconds() // 60)


@bp.route("/password/forgot", methods=["GET", "POST"])
@reset_throttled
def forgot_password():
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        try:
            enqueue_password_reset(current_app.config, form.email.data)
        except (RedisError, OSError):
            current_app.logger.error("password reset refused: the queue (Redis) is unreachable")
            message = _("This is unavailable for a moment. Please try again in a few minutes.")
            return render_template("error.html", code=503, title=_("Temporarily unavailable"), message=message), 503
        flash(
            _(
                "If an account uses this address, a link to choose a new password is on its way. "
                "It is valid for %(minutes)d minutes.",
                minutes=RESET_MINUTES,
            ),
            "info",
        )
        return redirect(url_for("auth.login"))
    return render_template("auth/forgot.html", form=form)


def _link_page(token: str, purpose: TokenPurpose):
    """The set-password page of a link: the form while the link is valid, else a page that says why."""
    state, row = check_link(db.session, token=token, purpose=purpose)
    if state != LinkState.VALID or row is None:
        return _invalid(state, token, purpose, row.user if row else None)
    form = SetPasswordForm()
    if form.validate_on_submit():
        try:
            user = redeem_link(db.session, token=token, purpose=purpose, password=form.new_password.data)
        except LinkNotValid as exc:
            db.session.rollback()
            return _invalid(exc.state, token, purpose, row.user)
        except HashingBusy as exc:  # rolled back: the link stays usable
            return busy_page(exc, "auth/set_password.html", form=form, purpose=purpose.value, user=row.user)
        except PortalError as exc:
            db.session.rollback()
            form.new_password.errors.append(str(exc))
        else:
            login_session.begin(user)
            record_login_event("auth.login", email=user.email, user=user)
            db.session.commit()
            clear_account_lock(user.email)
            if purpose == TokenPurpose.INVITATION:
                flash(_("Welcome! Your password is set and you are logged in."), "success")
            else:
                flash(_("Your new password is set. Every other session of your account was logged out."), "success")
            return redirect(home_for(user))
    return render_template("auth/set_password.html", form=form, purpose=purpose.value, user=row.user)


def _invalid(state: LinkState, token: str, purpose: TokenPurpose, user):
    # An invitation to an account that has set its password meanwhile: nothing to renew, just log in.
    accepted = purpose == TokenPurpose.INVITATION and user is not None and not is_invitation_pending(user)
    return (
        render_template(
            "auth/link_invalid.html", state=state.value, purpose=purpose.value, token=token, accepted=accepted
        ),
        410 if state != LinkState.UNKNOWN else 404,
    )


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    return _link_page(token, TokenPurpose.PASSWORD_RESET)


@bp.route("/invitation/<token>", methods=["GET", "POST"])
def accept_invitation(token: str):
    return _link_page(token, TokenPurpose.INVITATION)


@bp.route("/invitation/renew", methods=["POST"], endpoint="renew_invitation")
@reset_throttled
def renew_invitation_view():
    token = (request.form.get("token") or "")[:100]
    renew_invitation(db.session, token=token)
    db.session.commit()
    flash(_("If this invitation can still be renewed, a new link is on its way to the same address."), "info")
    return redirect(url_for("auth.login"))
