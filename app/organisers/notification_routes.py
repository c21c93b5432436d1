"""Organisers: a contest's notification switches, and reminders to the units that have not taken part."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import BooleanField

from app import db
from app.committing import committing, save_form
from app.lookups import contest_or_404
from app.models import MailKind, utcnow
from app.services import notifications

from .routes import bp

# What each notification is, as the settings page describes it (the switch's label).
DESCRIPTIONS = {
    MailKind.ENTRY_RECEIPT: _l("Units: a receipt when an entry is submitted"),
    MailKind.CLIP_READY: _l("Units: their clip is ready"),
    MailKind.CLIP_REJECTED: _l("Units: their clip was rejected, with the reason"),
    MailKind.DEADLINE_REMINDER: _l(
        "Units: reminders 3 days and 1 day before the deadline (units with an unsubmitted draft or no entry)"
    ),
    MailKind.ROUND_OPENED: _l("Judges: a round opened with entries assigned to them"),
    MailKind.ROUND_REMINDER: _l(
        "Judges: reminders 48 hours and 24 hours before a round closes (judges with unsubmitted sheets)"
    ),
    MailKind.INVITATION: _l("Invitation to a new account (link to set a password)"),
    MailKind.PASSWORD_RESET: _l("Password reset link"),
}


class NotificationsForm(FlaskForm):
    """The switches are checkboxes named after MailKind values, read from request.form by the view."""


class ReminderForm(FlaskForm):
    include_recent = BooleanField(_l("Also remind the units already reminded in the last 24 hours"))


@bp.route("/c/<slug>/notifications", methods=["GET", "POST"])
def contest_notifications(slug: str):
    contest = contest_or_404(slug)
    form = NotificationsForm()
    chosen = [kind for kind in notifications.SWITCHABLE if request.form.get(kind.value)]
    saved = save_form(
        form,
        _("Notifications saved."),
        lambda: notifications.set_notifications(db.session, actor=current_user, contest=contest, enabled=chosen),
    )
    if saved.ok:
        return redirect(url_for("organisers.contest_notifications", slug=contest.slug))
    return render_template(
        "organisers/notifications.html",
        contest=contest,
        form=form,
        enabled=notifications.enabled_kinds(db.session, contest),
        switchable=notifications.SWITCHABLE,
        mandatory=notifications.MANDATORY,
        descriptions=DESCRIPTIONS,
    )


@bp.route("/c/<slug>/participation/remind", methods=["GET", "POST"])
def remind_units(slug: str):
    """GET: who would get the reminder, how many, and the message; POST: send it (audited)."""
    contest = contest_or_404(slug)
    form = ReminderForm()
    if form.validate_on_submit():
        with committing() as outcome:
            result = notifications.send_participation_reminders(
                db.session,
                actor=current_user,
                contest=contest,
                now=utcnow(),
                include_recent=bool(form.include_recent.data),
            )
        if outcome.ok:
            flash(
                _(
                    "Reminder sent to %(units)d units (%(messages)d messages); %(skipped)d units left out.",
                    units=result["units"],
                    messages=result["messages"],
                    skipped=result["skipped"],
                ),
                "success",
            )
            return redirect(url_for("organisers.participation_view", slug=contest.slug))
    targets = notifications.participation_reminder_targets(db.session, contest=contest, now=utcnow())
    sample = next((t.members[0] for t in targets if t.members), None)
    preview = notifications.preview_participation_reminder(db.session, contest=contest, user=sample) if sample else None
    return render_template(
        "organisers/remind_units.html",
        contest=contest,
        form=form,
        targets=targets,
        due=[t for t in targets if t.members and not t.recent],
        recent=[t for t in targets if t.members and t.recent],
        without_account=[t for t in targets if not t.members],
        preview=preview,
        sample=sample,
    )
