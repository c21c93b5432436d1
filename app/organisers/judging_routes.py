"""Organisers: rounds, rubrics, panels, results, awards, publication."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from app import db
from app.models import Award, Entry, Role, Round, RoundStatus, User
from app.permissions import is_staff
from app.services import PortalError
from app.services import results as result_service
from app.services import scoring
from app.services.audit import record_event
from app.services.contests import get_contest

from .forms import AwardForm, RoundForm

bp = Blueprint("organisers_judging", __name__, url_prefix="/org")
CRITERION_ROWS = 8


@bp.before_request
@login_required
def _staff_only():
    if not is_staff(current_user):
        abort(403)


def _round(round_id: int) -> Round:
    return db.session.get(Round, round_id) or abort(404)


@bp.route("/c/<slug>/rounds/new", methods=["GET", "POST"])
def new_round(slug: str):
    contest = get_contest(db.session, slug) or abort(404)
    form = RoundForm()
    rows = [{k: request.form.get(f"{k}{i}", "") for k in ("name", "description", "max_points", "weight", "step")}
            for i in range(CRITERION_ROWS)] if request.method == "POST" else [
        {"name": "", "description": "", "max_points": "", "weight": "1", "step": "0.5"}
        for _ in range(CRITERION_ROWS)]
    if form.validate_on_submit():
        try:
            criteria = []
            for row in rows:
                if not row["name"].strip():
                    continue
                try:
                    criteria.append({**row, "max_points": float(row["max_points"].replace(",", ".")),
                                     "weight": float((row["weight"] or "1").replace(",", ".")),
                                     "step": float((row["step"] or "0.5").replace(",", "."))})
                except ValueError:
                    raise PortalError(_("Criterion “%(name)s”: maximum points, weight and step must be numbers.",
                                        name=row["name"])) from None
            rnd = scoring.create_round(db.session, contest=contest, name=form.name.data, criteria=criteria,
                                       blind=form.blind.data, aggregation=form.aggregation.data)
            record_event(db.session, actor=current_user, action="round.create", obj=rnd, contest_id=contest.id,
                         after={"name": rnd.name, "criteria": [c["name"] for c in criteria]})
            db.session.commit()
        except PortalError as exc:
            db.session.rollback()
            flash(str(exc), "error")
        else:
            flash(_("Round created. Now choose its judges."), "success")
            return redirect(url_for("organisers_judging.round_view", round_id=rnd.id))
    return render_template("organisers/round_form.html", form=form, contest=contest, rows=rows)


@bp.route("/rounds/<int:round_id>", methods=["GET", "POST"])
def round_view(round_id: int):
    rnd = _round(round_id)
    judges = list(db.session.scalars(select(User).where(User.role == Role.JUDGE, User.active.is_(True))
                                     .order_by(User.name)))
    if request.method == "POST":
        chosen = {int(j) for j in request.form.getlist("judges") if j.isdigit()}
        try:
            scoring.set_panel(db.session, actor=current_user, rnd=rnd, judges=[j for j in judges if j.id in chosen])
            db.session.commit()
            flash(_("Panel saved."), "success")
        except PortalError as exc:
            db.session.rollback()
            flash(str(exc), "error")
        return redirect(url_for("organisers_judging.round_view", round_id=rnd.id))
    panel_ids = {m.judge_id for m in rnd.panel}
    progress = [(j, scoring.judge_progress(db.session, judge=j, rnd=rnd)) for j in judges if j.id in panel_ids]
    return render_template("organisers/round.html", rnd=rnd, contest=rnd.contest, judges=judges,
                           panel_ids=panel_ids, progress=progress,
                           entry_count=len(scoring.round_entries(db.session, rnd)), RoundStatus=RoundStatus)


@bp.route("/rounds/<int:round_id>/status", methods=["POST"])
def round_status(round_id: int):
    rnd = _round(round_id)
    try:
        status = RoundStatus(request.form.get("status", ""))
    except ValueError:
        abort(400)
    scoring.set_round_status(db.session, actor=current_user, rnd=rnd, status=status)
    db.session.commit()
    flash(_("The round is open for scoring.") if status == RoundStatus.OPEN else _("The round is closed."), "info")
    return redirect(url_for("organisers_judging.round_view", round_id=rnd.id))


@bp.route("/rounds/<int:round_id>/results", methods=["GET", "POST"])
def results(round_id: int):
    rnd = _round(round_id)
    contest = rnd.contest
    form = AwardForm()
    if form.validate_on_submit():
        try:
            result_service.create_award(db.session, actor=current_user, contest=contest, name=form.name.data,
                                        count=form.count.data)
            db.session.commit()
            flash(_("Award added."), "success")
        except PortalError as exc:
            db.session.rollback()
            flash(str(exc), "error")
        return redirect(url_for("organisers_judging.results", round_id=rnd.id))
    rows = result_service.ranking(db.session, rnd)
    return render_template("organisers/results.html", rnd=rnd, contest=contest, rows=rows, form=form,
                           awards=result_service.awards_of(db.session, contest),
                           publication=result_service.latest_publication(db.session, contest))


@bp.route("/rounds/<int:round_id>/grant", methods=["POST"])
def grant(round_id: int):
    rnd = _round(round_id)
    entry = db.session.get(Entry, request.form.get("entry_id", type=int) or 0)
    if entry is None or entry.contest_id != rnd.contest_id:
        abort(404)
    award_id = request.form.get("award_id", type=int)
    award = db.session.get(Award, award_id) if award_id else None
    try:
        result_service.grant_award(db.session, actor=current_user, entry=entry, award=award)
        db.session.commit()
        flash(_("Award updated."), "success")
    except PortalError as exc:
        db.session.rollback()
        flash(str(exc), "error")
    return redirect(url_for("organisers_judging.results", round_id=rnd.id))


@bp.route("/rounds/<int:round_id>/grant-from-ranking", methods=["POST"])
def grant_from_ranking(round_id: int):
    rnd = _round(round_id)
    made = result_service.grant_from_ranking(db.session, actor=current_user, contest=rnd.contest, rnd=rnd)
    db.session.commit()
    flash(_("%(n)d prizes granted from the ranking. Check ties before publishing.", n=made), "success")
    return redirect(url_for("organisers_judging.results", round_id=rnd.id))


@bp.route("/rounds/<int:round_id>/publish", methods=["POST"])
def publish(round_id: int):
    rnd = _round(round_id)
    try:
        result_service.publish(db.session, actor=current_user, contest=rnd.contest, rnd=rnd)
        db.session.commit()
    except PortalError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return redirect(url_for("organisers_judging.results", round_id=rnd.id))
    flash(_("Results published. The public winners page now shows this snapshot."), "success")
    return redirect(url_for("public.winners", slug=rnd.contest.slug))
