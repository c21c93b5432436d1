"""Organisers: contests, units, accounts, entries, participation."""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from wtforms import SelectChoice

from app import db
from app.clip_display import STATUS_LABELS, clip_reason
from app.committing import committing, save_form
from app.connections import enqueue_processing
from app.i18n import local_to_utc, utc_to_local
from app.labels import label
from app.lookups import contest_or_404
from app.models import Clip, Contest, Entry, Role, Round, Unit, User
from app.permissions import STAFF, can_manage_account, require_role
from app.public.previews import share_links
from app.services import accounts, exports, invitations
from app.services import contests as contest_service
from app.services.entries import participation
from app.services.results import latest_publication

from .forms import AccountForm, ContestForm, UnitForm

bp = Blueprint("organisers", __name__, url_prefix="/org")


require_role(bp, *STAFF)


@bp.route("/")
def dashboard():
    return render_template("organisers/dashboard.html", contests=contest_service.list_contests(db.session))


def _contest_fields(form: ContestForm, tz: str) -> dict:
    return dict(
        categories=(form.category_lines.data or "").splitlines(),
        title=form.title.data,
        description=form.description.data or "",
        rules_md=form.rules_md.data or "",
        opens_at=local_to_utc(form.opens_at.data, tz),
        closes_at=local_to_utc(form.closes_at.data, tz),
        min_duration_s=form.min_duration_s.data,
        max_duration_s=form.max_duration_s.data,
        min_height=form.min_height.data,
        max_entries_per_unit=form.max_entries_per_unit.data,
    )


def _contest_form(contest: Contest | None):
    """The contest form: a new contest, or editing `contest` (its slug then stays)."""
    form = ContestForm(obj=contest) if request.method == "GET" else ContestForm()
    if contest is not None:
        form.slug.render_kw = {"readonly": True}
        if request.method == "GET":
            form.opens_at.data = utc_to_local(contest.opens_at, contest.timezone)
            form.closes_at.data = utc_to_local(contest.closes_at, contest.timezone)
            form.category_lines.data = "\n".join(c.name for c in contest.categories)
        form.slug.data = contest.slug

    def save() -> Contest:
        fields = _contest_fields(form, contest.timezone if contest else "Asia/Ho_Chi_Minh")
        if contest is None:
            return contest_service.create_contest(db.session, actor=current_user, slug=form.slug.data, **fields)
        contest_service.update_contest(db.session, actor=current_user, contest=contest, **fields)
        return contest

    saved = save_form(form, _("Contest created.") if contest is None else _("Changes saved."), save)
    if saved.ok:
        return redirect(url_for("organisers.contest", slug=saved.value.slug))
    return render_template("organisers/contest_form.html", form=form, contest=contest)


@bp.route("/contests/new", methods=["GET", "POST"])
def new_contest():
    return _contest_form(None)


@bp.route("/c/<slug>/edit", methods=["GET", "POST"])
def edit_contest(slug: str):
    return _contest_form(contest_or_404(slug))


@bp.route("/c/<slug>")
def contest(slug: str):
    contest = contest_or_404(slug)
    entries = list(db.session.scalars(select(Entry).where(Entry.contest_id == contest.id).order_by(Entry.id)))
    rounds = list(db.session.scalars(select(Round).where(Round.contest_id == contest.id).order_by(Round.position)))
    return render_template(
        "organisers/contest.html",
        contest=contest,
        entries=entries,
        rounds=rounds,
        STATUS_LABELS=STATUS_LABELS,
        clip_reason=clip_reason,
        publication=latest_publication(db.session, contest),
        share=share_links(contest),
    )


@bp.route("/c/<slug>/intake", methods=["POST"])
def set_intake(slug: str):
    """Close entry intake before the deadline, or undo that."""
    contest = contest_or_404(slug)
    if request.form.get("intake") == "close":
        with committing(_("Entry intake is closed. Units can no longer create, change or submit entries."), "info"):
            contest_service.close_intake(db.session, actor=current_user, contest=contest)
    elif request.form.get("intake") == "reopen":
        with committing() as outcome:
            state = contest_service.reopen_intake(db.session, actor=current_user, contest=contest)
        if outcome.ok:
            flash(
                _("Entry intake is open again until the deadline.")
                if contest_service.accepts_entries(contest)
                else _("The organisers' closing was lifted, but intake stays closed: %(state)s.", state=label(state)),
                "info",
            )
    else:
        abort(400)
    return redirect(url_for("organisers.contest", slug=contest.slug))


@bp.route("/c/<slug>/participation")
def participation_view(slug: str):
    contest = contest_or_404(slug)
    rows = participation(db.session, contest=contest)
    fmt = request.args.get("format")
    if fmt in ("csv", "xlsx"):
        table = exports.participation_rows(rows, contest.timezone)
        if fmt == "csv":
            body, mime = exports.to_csv(exports.PARTICIPATION_HEADERS, table), "text/csv"
        else:
            body = exports.to_xlsx([("Tham gia", exports.PARTICIPATION_HEADERS, table)])
            mime = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        return Response(
            body,
            mimetype=mime,
            headers={"Content-Disposition": f'attachment; filename="{contest.slug}-tham-gia.{fmt}"'},
        )
    took_part = sum(1 for r in rows if r.took_part)
    return render_template("organisers/participation.html", contest=contest, rows=rows, took_part=took_part)


@bp.route("/units", methods=["GET", "POST"])
def units():
    form = UnitForm()
    if form.validate_on_submit():
        with committing() as outcome:
            unit = accounts.create_unit(
                db.session, actor=current_user, code=form.code.data, name=form.name.data, kind=form.kind.data
            )
        if outcome.ok:
            flash(_("Unit %(code)s added.", code=unit.code), "success")
            return redirect(url_for("organisers.units"))
    all_units = list(db.session.scalars(select(Unit).order_by(Unit.code)))
    return render_template("organisers/units.html", form=form, units=all_units)


def unit_choices() -> list[SelectChoice]:
    """The unit select of the account forms: none, then every unit by code."""
    units = db.session.scalars(select(Unit).order_by(Unit.code))
    return [SelectChoice(0, _("— none —"))] + [SelectChoice(u.id, f"{u.code} — {u.name}") for u in units]


def chosen_unit(unit_id: int | None) -> Unit | None:
    """The unit picked in `unit_choices()` (0: none)."""
    return db.session.get(Unit, unit_id) if unit_id else None


@bp.route("/accounts", methods=["GET", "POST"])
def accounts_view():
    form = AccountForm()
    form.unit_id.choices = unit_choices()
    if form.validate_on_submit():
        if not can_manage_account(current_user, Role(form.role.data)):
            abort(403)
        invite = not form.password.data
        with committing() as outcome:
            user = accounts.create_user(
                db.session,
                actor=current_user,
                email=form.email.data,
                name=form.name.data,
                password=form.password.data or None,
                role=Role(form.role.data),
                unit=chosen_unit(form.unit_id.data),
            )
            if invite:
                invitations.invite_user(db.session, user=user, actor=current_user)
        if outcome.ok:
            if invite:
                flash(
                    _("Account %(email)s created; an invitation to choose a password was sent.", email=user.email),
                    "success",
                )
            else:
                flash(_("Account %(email)s created.", email=user.email), "success")
            return redirect(url_for("organisers.accounts_view"))
    users = list(db.session.scalars(select(User).order_by(User.role, User.email)))
    return render_template(
        "organisers/accounts.html",
        form=form,
        users=users,
        pending=invitations.pending_invitations(db.session, users),
        can_manage=lambda u: can_manage_account(current_user, u.role),
    )


@bp.route("/accounts/<int:user_id>/invite", methods=["POST"])
def reinvite_account(user_id: int):
    user = db.session.get(User, user_id) or abort(404)
    if not can_manage_account(current_user, user.role):
        abort(403)
    with committing(_("A new invitation was sent to %(email)s; earlier links no longer work.", email=user.email)):
        invitations.invite_user(db.session, user=user, actor=current_user)
    return redirect(url_for("organisers.accounts_view"))


@bp.route("/accounts/<int:user_id>/active", methods=["POST"])
def toggle_account(user_id: int):
    user = db.session.get(User, user_id) or abort(404)
    if not can_manage_account(current_user, user.role):
        abort(403)
    active = not user.active
    with committing(_("Account enabled.") if active else _("Account disabled."), "info"):
        accounts.set_active(db.session, actor=current_user, user=user, active=active)
    return redirect(url_for("organisers.accounts_view"))


@bp.route("/clips/<int:clip_id>/requeue", methods=["POST"])
def requeue_clip(clip_id: int):
    clip = db.session.get(Clip, clip_id) or abort(404)
    ok = enqueue_processing(clip.id)
    flash(_("Processing queued again.") if ok else _("This clip cannot be queued now."), "info" if ok else "error")
    return redirect(url_for("organisers.contest", slug=clip.entry.contest.slug))
