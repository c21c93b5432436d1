"""The Outbox (Hộp thư đi): what the portal mailed, to whom, and whether it went out; re-send a failed message."""

from __future__ import annotations

from flask import abort, current_app, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select

from app import db
from app.committing import committing
from app.models import MailStatus, OutboxMessage
from app.paging import page_number
from app.permissions import can_resend_mail, can_view_mail
from app.services.mail import resend_message, visible_messages

from .routes import bp

PER_PAGE = 50


@bp.route("/outbox")
def outbox():
    status = request.args.get("status") or None
    if status is not None and status not in {s.value for s in MailStatus}:
        abort(404)
    query = visible_messages(current_user)
    if status:
        query = query.where(OutboxMessage.status == status)
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    page = page_number(request.args.get("page"), total=total, per_page=PER_PAGE)
    messages = list(db.session.scalars(query.limit(PER_PAGE).offset((page - 1) * PER_PAGE)))
    return render_template(
        "organisers/outbox.html",
        messages=messages,
        status=status,
        page=page,
        pages=max(1, -(-total // PER_PAGE)),
        total=total,
        mail_on=bool(current_app.config.get("SMTP_URL")),
    )


def _visible_or_404(message_id: int) -> OutboxMessage:
    message = db.session.get(OutboxMessage, message_id)
    if message is None or not can_view_mail(current_user, message):
        abort(404)
    return message


@bp.route("/outbox/<int:message_id>")
def outbox_message(message_id: int):
    message = _visible_or_404(message_id)
    return render_template(
        "organisers/outbox_message.html",
        message=message,
        can_resend=can_resend_mail(current_user) and message.status == MailStatus.FAILED,
        mail_on=bool(current_app.config.get("SMTP_URL")),
    )


@bp.route("/outbox/<int:message_id>/resend", methods=["POST"])
def resend_outbox_message(message_id: int):
    message = _visible_or_404(message_id)
    with committing(_("The message is queued to be sent again.")):
        resend_message(db.session, actor=current_user, message=message)
    return redirect(url_for("organisers.outbox_message", message_id=message.id))
