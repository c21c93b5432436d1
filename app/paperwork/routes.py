"""Organisers make certificates and minutes from the published results; anyone verifies a certificate by its code."""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from redis.exceptions import RedisError
from sqlalchemy import func, select

from app import db
from app.committing import committing, save_form
from app.connections import queue, storage
from app.lookups import contest_or_404, contest_row_or_404
from app.models import Certificate
from app.permissions import STAFF, require_role
from app.services import PortalError, paperwork
from app.services import contests as contest_service
from app.services.results import latest_publication
from app.urls import PublicUrlMissing

from . import jobs
from .forms import PaperSettingsForm
from .links import loopback_warning, verify_url_maker
from .render import certificate_filename, render_certificates, render_minutes

RUNNING = ("queued", "started", "deferred", "scheduled")
bp = Blueprint("paperwork", __name__, url_prefix="/org")
require_role(bp, *STAFF)
public_bp = Blueprint("paperwork_public", __name__)

NO_PUBLIC_URL = _l(
    "PUBLIC_URL is not set: certificates would carry QR codes that lead nowhere. Ask the administrator to set it to "
    "the portal's address."
)


def _pdf(body: bytes, filename: str, *, inline: bool = False) -> Response:
    disposition = "inline" if inline else "attachment"
    return Response(
        body,
        mimetype="application/pdf",
        headers={"Content-Disposition": f'{disposition}; filename="{filename}"', "Cache-Control": "private, no-store"},
    )


@bp.route("/c/<slug>/paperwork", methods=["GET", "POST"])
def overview(slug: str):
    """Paper settings, the certificates of the latest publication, the ZIP's progress and the minutes."""
    contest = contest_or_404(slug)
    form = PaperSettingsForm(obj=contest)
    saved = save_form(
        form,
        _("Changes saved."),
        lambda: contest_service.update_contest(
            db.session,
            actor=current_user,
            contest=contest,
            paper_place=(form.paper_place.data or "").strip(),
            paper_date=form.paper_date.data,
            signer_title=(form.signer_title.data or "").strip(),
            signer_name=(form.signer_name.data or "").strip(),
            panel_head_name=(form.panel_head_name.data or "").strip(),
        ),
    )
    if saved.ok:
        return redirect(url_for("paperwork.overview", slug=slug))
    pub = latest_publication(db.session, contest)
    certificates, progress, ready = [], None, False
    if pub is not None:
        certificates = list(
            db.session.scalars(
                select(Certificate).where(Certificate.publication_id == pub.id).order_by(Certificate.position)
            )
        )
        if certificates:
            key = jobs.zip_key(contest, pub, len(certificates))
            ready = storage().exists(key)
            if not ready:
                try:
                    progress = jobs.zip_progress(queue(), key)
                except RedisError:
                    progress = None
    public_url_ok = _public_url()
    page = render_template(
        "paperwork/overview.html",
        contest=contest,
        form=form,
        publication=pub,
        certificates=certificates,
        progress=progress,
        ready=ready,
        public_url_ok=public_url_ok,
        loopback=public_url_ok and loopback_warning(),
    )
    response = Response(page)
    if progress and progress["status"] in RUNNING:
        response.headers["Refresh"] = "3"  # follow the job's progress without a script
    return response


def _public_url() -> bool:
    try:
        verify_url_maker()
    except PublicUrlMissing:
        return False
    return True


@bp.route("/c/<slug>/certificates", methods=["POST"])
def issue(slug: str):
    """Issue the certificates of the latest publication (codes for the QR links) and queue the ZIP's rendering."""
    contest = contest_or_404(slug)
    if not _public_url():
        flash(NO_PUBLIC_URL, "error")
        return redirect(url_for("paperwork.overview", slug=slug))
    with committing() as outcome:
        certificates = paperwork.issue_certificates(db.session, actor=current_user, contest=contest)
    if not outcome.ok:
        return redirect(url_for("paperwork.overview", slug=slug))
    if loopback_warning():
        flash(_("PUBLIC_URL is a loopback address: the QR codes work on this machine only."), "warning")
    pub = latest_publication(db.session, contest)
    if certificates and pub is not None:
        try:
            jobs.enqueue_zip(
                queue(), contest_id=contest.id, publication_id=pub.id, key=jobs.zip_key(contest, pub, len(certificates))
            )
            flash(_("%(n)d certificates are being prepared.", n=len(certificates)), "success")
        except RedisError:
            flash(_("The job queue is unavailable; try again in a moment."), "error")
    return redirect(url_for("paperwork.overview", slug=slug))


@bp.route("/c/<slug>/certificates.zip")
def download_zip(slug: str):
    contest = contest_or_404(slug)
    pub = latest_publication(db.session, contest) or abort(404)
    count = db.session.scalar(select(func.count()).select_from(Certificate).where(Certificate.publication_id == pub.id))
    key = jobs.zip_key(contest, pub, count or 0)
    if not count or not storage().exists(key):
        abort(404)
    return Response(
        storage().open_range(key),
        mimetype="application/zip",
        headers={
            "Content-Disposition": f'attachment; filename="{contest.slug}-giay-chung-nhan.zip"',
            "Cache-Control": "private, no-store",
        },
    )


@bp.route("/c/<slug>/certificates/<int:certificate_id>.pdf")
def certificate_pdf(slug: str, certificate_id: int):
    """One certificate, rendered now (one page is quick; the whole set goes through the job)."""
    contest = contest_or_404(slug)
    cert = contest_row_or_404(Certificate, certificate_id, contest)
    try:
        make_url = verify_url_maker()
    except PublicUrlMissing:
        flash(NO_PUBLIC_URL, "error")
        return redirect(url_for("paperwork.overview", slug=slug))
    (rendered,) = render_certificates(contest, cert.publication, [cert], make_url)
    return _pdf(rendered.pdf, certificate_filename(cert))


@bp.route("/c/<slug>/minutes.pdf")
def minutes_pdf(slug: str):
    contest = contest_or_404(slug)
    try:
        minutes = paperwork.minutes_of(db.session, contest)
    except PortalError as exc:
        flash(str(exc), "error")
        return redirect(url_for("paperwork.overview", slug=slug))
    return _pdf(render_minutes(minutes, contest), f"{contest.slug}-bien-ban.pdf")


@public_bp.route("/verify/<code>")
def verify(code: str):
    """The public check of a certificate: what it certifies, for whom, from which publication."""
    cert = paperwork.certificate_by_code(db.session, code)
    if cert is None:
        return render_template("paperwork/verify.html", cert=None), 404
    return render_template(
        "paperwork/verify.html",
        cert=cert,
        contest=cert.contest,
        current=paperwork.is_current(db.session, cert),
    )
