"""Organisers: rounds, rubrics, panels, assignment, results, awards, exports, publication, audit log."""

from __future__ import annotations

import re

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import func, select, true

from app import db
from app.audit_log import readable
from app.committing import committing
from app.connections import cache_redis
from app.i18n import local_to_utc
from app.models import (
    Assignment,
    AuditEvent,
    Award,
    Entry,
    PanelMember,
    Role,
    Round,
    RoundStatus,
    ScoreSheet,
    SheetStatus,
    User,
)
from app.paging import page_number
from app.permissions import STAFF, has_role, require_role
from app.services import board as board_service
from app.services import exports, rounds, scoring
from app.services import results as result_service
from app.services.contests import get_contest

from .forms import MAX_CRITERIA, AwardForm, CriterionForm, RoundForm

bp = Blueprint("organisers_judging", __name__, url_prefix="/org")
# Rubric rows as posted before the form had a FieldList: name0, max_points0 … (still accepted).
LEGACY_RUBRIC_KEY = re.compile(r"^(name|description|max_points|weight|step|levels)(\d+)$")

require_role(bp, *STAFF)


def _round(round_id: int) -> Round:
    return db.session.get(Round, round_id) or abort(404)


def _round_formdata():
    """The posted round form. Still accepted as posted before: rubric rows as name0 … (read as criteria-0-name …), and
    tie-break rules typed one per line (`criterion:<name>`, `median`, `first_places`), read as the choices."""
    data = request.form.copy()
    for key in list(data.keys()):
        match = LEGACY_RUBRIC_KEY.match(key)
        if match:
            data.setlist(f"criteria-{match[2]}-{match[1]}", data.poplist(key))
    if "tie_breaks" in data:
        indices = sorted({int(m[1]) for key in data if (m := re.match(r"^criteria-(\d+)-name$", key))})
        rows = {data.get(f"criteria-{index}-name", "").strip(): position for position, index in enumerate(indices)}
        rules = [line.strip() for line in data.pop("tie_breaks").splitlines() if line.strip()]
        for slot, rule in enumerate(rules):
            name = rule.removeprefix("criterion:")
            data[f"tie_breaks-{slot}"] = f"row:{rows[name]}" if rule.startswith("criterion:") and name in rows else rule
    return data


@bp.route("/c/<slug>/rounds/new", methods=["GET", "POST"])
def new_round(slug: str):
    contest = get_contest(db.session, slug) or abort(404)
    form = RoundForm(formdata=_round_formdata() if request.method == "POST" else None)
    adding = request.method == "POST" and "add_criterion" in request.form  # the no-JavaScript "add" button
    if adding and len(form.criteria) < MAX_CRITERIA:
        form.criteria.append_entry()
    form.set_tie_break_choices()
    if not adding and form.validate_on_submit():
        with committing(_("Round created. Now choose its judges.")) as outcome:
            rnd = rounds.create_round(
                db.session,
                actor=current_user,
                contest=contest,
                name=form.name.data,
                criteria=form.rubric(),
                blind=form.blind.data,
                aggregation=form.aggregation.data,
                tie_breaks=form.tie_break_rules(),
                trim=form.trim.data if form.trim.data is not None else 1,
                assignment_mode=form.assignment_mode.data,
                per_entry=form.per_entry.data,
                flag_threshold=form.flag_threshold.data,
                opens_at=local_to_utc(form.opens_at.data, contest.timezone),
                closes_at=local_to_utc(form.closes_at.data, contest.timezone),
            )
        if outcome.ok:
            return redirect(url_for("organisers_judging.round_view", round_id=rnd.id))
    for message in form.rubric_errors():
        flash(message, "error")
    return render_template(
        "organisers/round_form.html",
        form=form,
        contest=contest,
        blank_row=CriterionForm(prefix="criteria-__i__-"),
        max_criteria=MAX_CRITERIA,
    )


@bp.route("/rounds/<int:round_id>", methods=["GET", "POST"])
def round_view(round_id: int):
    rnd = _round(round_id)
    judges = list(
        db.session.scalars(select(User).where(User.role == Role.JUDGE, User.active.is_(True)).order_by(User.name))
    )
    if request.method == "POST":
        chosen = {int(j) for j in request.form.getlist("judges") if j.isdigit()}
        with committing(_("Panel saved.")):
            rounds.set_panel(db.session, actor=current_user, rnd=rnd, judges=[j for j in judges if j.id in chosen])
        return redirect(url_for("organisers_judging.round_view", round_id=rnd.id))
    panel_ids = {m.judge_id for m in rnd.panel}
    panel = [j for j in judges if j.id in panel_ids]
    done = scoring.panel_progress(db.session, rnd=rnd, judges=panel)
    progress = [(j, done[j.id]) for j in panel]
    entries = scoring.round_entries(db.session, rnd)
    conflicts = rounds.declared_conflicts(db.session, entry_ids=[e.id for e in entries])
    assigned: dict[int, list[int]] = {}
    if rnd.assignment_mode == "per_entry":
        for assignment in db.session.scalars(select(Assignment).where(Assignment.round_id == rnd.id)):
            assigned.setdefault(assignment.entry_id, []).append(assignment.judge_id)
    others = list(
        db.session.scalars(
            select(Round).where(Round.contest_id == rnd.contest_id, Round.id != rnd.id).order_by(Round.position)
        )
    )
    sheets = list(
        db.session.scalars(
            select(ScoreSheet)
            .where(ScoreSheet.round_id == rnd.id, ScoreSheet.status == SheetStatus.SUBMITTED)
            .order_by(ScoreSheet.entry_id, ScoreSheet.judge_id)
        )
    )
    return render_template(
        "organisers/round.html",
        rnd=rnd,
        contest=rnd.contest,
        judges=judges,
        panel=panel,
        panel_ids=panel_ids,
        progress=progress,
        entries=entries,
        conflicts=conflicts,
        assigned=assigned,
        judge_names={j.id: j.name for j in judges},
        others=others,
        sheets=sheets,
        RoundStatus=RoundStatus,
    )


@bp.route("/rounds/<int:round_id>/status", methods=["POST"])
def round_status(round_id: int):
    rnd = _round(round_id)
    try:
        status = RoundStatus(request.form.get("status", ""))
    except ValueError:
        abort(400)
    with committing(
        _("The round is open for scoring.") if status == RoundStatus.OPEN else _("The round is closed."), "info"
    ):
        rounds.set_round_status(db.session, actor=current_user, rnd=rnd, status=status)
    return redirect(url_for("organisers_judging.round_view", round_id=rnd.id))


@bp.route("/rounds/<int:round_id>/assign", methods=["POST"])
def assign(round_id: int):
    rnd = _round(round_id)
    try:
        per_entry = int(request.form.get("per_entry", ""))
        seed = int(request.form.get("seed") or 0)
    except ValueError:
        flash(_("Give the number of judges per entry."), "error")
        return redirect(url_for("organisers_judging.round_view", round_id=rnd.id))
    with committing() as outcome:
        result = rounds.assign_per_entry(
            db.session,
            actor=current_user,
            rnd=rnd,
            per_entry=per_entry,
            seed=seed,
            entries=scoring.round_entries(db.session, rnd),
        )
    if outcome.ok:
        flash(_("%(n)d assignments made.", n=len(result.pairs)), "success")
        for item in result.unassignable:
            flash(
                _("Entry #%(entry)s could only get %(n)d eligible judge(s).", entry=item.entry, n=item.eligible),
                "error",
            )
    return redirect(url_for("organisers_judging.round_view", round_id=rnd.id))


@bp.route("/rounds/<int:round_id>/reassign", methods=["POST"])
def reassign(round_id: int):
    rnd = _round(round_id)
    entry = db.session.get(Entry, request.form.get("entry_id", type=int) or 0)
    source = db.session.get(User, request.form.get("from_judge", type=int) or 0)
    target = db.session.get(User, request.form.get("to_judge", type=int) or 0)
    if entry is None or source is None or target is None or entry.contest_id != rnd.contest_id:
        abort(404)
    with committing(_("Assignment moved.")):
        rounds.reassign(db.session, actor=current_user, rnd=rnd, entry=entry, from_judge=source, to_judge=target)
    return redirect(url_for("organisers_judging.round_view", round_id=rnd.id))


@bp.route("/rounds/<int:round_id>/advance", methods=["POST"])
def advance(round_id: int):
    rnd = _round(round_id)
    target = db.session.get(Round, request.form.get("target", type=int) or 0)
    if target is None:
        abort(404)
    top = request.form.get("top", type=int)
    picked = [int(entry_id) for entry_id in request.form.getlist("entries") if entry_id.isdigit()] or None
    with committing() as outcome:
        moved = rounds.advance(db.session, actor=current_user, source=rnd, target=target, top=top, entry_ids=picked)
    if outcome.ok:
        flash(_("%(n)d entries advance to %(round)s.", n=len(moved), round=target.name), "success")
    return redirect(url_for("organisers_judging.round_view", round_id=target.id))


@bp.route("/sheets/<int:sheet_id>/reopen", methods=["POST"])
def reopen_sheet(sheet_id: int):
    sheet = db.session.get(ScoreSheet, sheet_id) or abort(404)
    with committing(_("The sheet is open again for its judge."), "info"):
        rounds.reopen_sheet(db.session, actor=current_user, sheet=sheet)
    return redirect(url_for("organisers_judging.round_view", round_id=sheet.round_id))


@bp.route("/rounds/<int:round_id>/results", methods=["GET", "POST"])
def results(round_id: int):
    rnd = _round(round_id)
    contest = rnd.contest
    form = AwardForm()
    if form.validate_on_submit():
        with committing(_("Award added.")):
            result_service.create_award(
                db.session,
                actor=current_user,
                contest=contest,
                name=form.name.data,
                count=form.count.data,
                kind=form.kind.data,
            )
        return redirect(url_for("organisers_judging.results", round_id=rnd.id))
    ttl = int(current_app.config["BOARD_CACHE_SECONDS"])
    redis = cache_redis()
    state = board_service.sheet_state(db.session, rnd)
    sheets = board_service.RoundSheets(db.session, rnd, redis, ttl=ttl, state=state)  # read once, if at all
    numbers = board_service.cached_numbers(db.session, rnd, redis, ttl=ttl, sheets=sheets)
    compare = request.args.get("compare") == "1"
    comparison = board_service.cached_comparison(sheets, numbers) if compare else None
    query = (request.args.get("q") or "")[:200]
    positions = board_service.matching_positions(db.session, rnd, numbers, query)
    page = page_number(request.args.get("page"), total=len(positions), per_page=board_service.PER_PAGE)
    board = board_service.board_page(db.session, rnd, numbers, positions, query=query, page=page, comparison=comparison)
    panel = list(
        db.session.scalars(
            select(User)
            .join(PanelMember, PanelMember.judge_id == User.id)
            .where(PanelMember.round_id == rnd.id)
            .order_by(User.name, User.id)
        )
    )
    done = board_service.cached_progress(db.session, rnd, panel, redis, ttl=ttl, state=state, sheets=sheets)
    progress = [(j, done[j.id]) for j in panel]
    awards = result_service.awards_of(db.session, contest)
    return render_template(
        "organisers/results.html",
        rnd=rnd,
        contest=contest,
        board=board,
        form=form,
        awards=awards,
        award_options=_award_options(awards),
        progress=progress,
        compare=compare,
        publication=result_service.latest_publication(db.session, contest),
    )


def _award_options(awards: list[Award]) -> dict[int | None, Markup]:
    """The <option> list of the award selects, once per possible selection (rendering it per row is slow)."""

    def options(selected: int | None) -> Markup:
        items = [Markup('<option value="">—</option>')] + [
            Markup('<option value="{}"{}>{}</option>').format(
                a.id, Markup(" selected") if a.id == selected else "", a.name
            )
            for a in awards
        ]
        return Markup("").join(items)

    return {None: options(None), **{a.id: options(a.id) for a in awards}}


@bp.route("/rounds/<int:round_id>/export.<fmt>")
def export(round_id: int, fmt: str):
    """Results and the full score matrix: ?what=results|scores|judging-scores|judging-rubric for CSV; XLSX has both
    the results and the matrix."""
    rnd = _round(round_id)
    board = result_service.results_board(db.session, rnd)
    name = f"{rnd.contest.slug}-{rnd.position}"
    if fmt == "xlsx":
        body = exports.to_xlsx(
            [
                ("Kết quả", exports.RESULT_HEADERS, exports.result_rows(board)),
                ("Ma trận điểm", exports.MATRIX_HEADERS, exports.matrix_rows(db.session, rnd)),
            ]
        )
        return Response(
            body,
            mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            headers={"Content-Disposition": f'attachment; filename="{name}-ket-qua.xlsx"'},
        )
    if fmt != "csv":
        abort(404)
    what = request.args.get("what")
    if what == "scores":
        body, suffix = exports.to_csv(exports.MATRIX_HEADERS, exports.matrix_rows(db.session, rnd)), "diem"
    elif what == "judging-scores":  # for `python -m judging rank SCORES.csv --rubric RUBRIC.csv`
        body = exports.to_csv(["entry", "judge", "criterion", "points"], exports.judging_scores_rows(db.session, rnd))
        suffix = "scores"
    elif what == "judging-rubric":
        body, suffix = exports.to_csv(["criterion", "max_points", "weight"], exports.judging_rubric_rows(rnd)), "rubric"
    else:
        body, suffix = exports.to_csv(exports.RESULT_HEADERS, exports.result_rows(board)), "ket-qua"
    return Response(
        body,
        mimetype="text/csv",  # Werkzeug adds "; charset=utf-8" to text types
        headers={"Content-Disposition": f'attachment; filename="{name}-{suffix}.csv"'},
    )


@bp.route("/rounds/<int:round_id>/grant", methods=["POST"])
def grant(round_id: int):
    rnd = _round(round_id)
    entry = db.session.get(Entry, request.form.get("entry_id", type=int) or 0)
    if entry is None or entry.contest_id != rnd.contest_id:
        abort(404)
    award_id = request.form.get("award_id", type=int)
    award = db.session.get(Award, award_id) if award_id else None
    with committing(_("Award updated.")):
        result_service.grant_award(db.session, actor=current_user, entry=entry, award=award)
    return redirect(url_for("organisers_judging.results", round_id=rnd.id))


@bp.route("/rounds/<int:round_id>/grant-from-ranking", methods=["POST"])
def grant_from_ranking(round_id: int):
    rnd = _round(round_id)
    with committing() as outcome:
        made = result_service.grant_from_ranking(db.session, actor=current_user, contest=rnd.contest, rnd=rnd)
    if outcome.ok:
        flash(_("%(n)d prizes granted from the ranking. Check ties before publishing.", n=made), "success")
    return redirect(url_for("organisers_judging.results", round_id=rnd.id))


@bp.route("/rounds/<int:round_id>/publish", methods=["POST"])
def publish(round_id: int):
    rnd = _round(round_id)
    close_intake = request.form.get("close_intake") == "1"
    done = (
        _("Results published and entry intake closed. The public winners page now shows this snapshot.")
        if close_intake
        else _("Results published. The public winners page now shows this snapshot; entry intake is unchanged.")
    )
    with committing(done) as outcome:
        result_service.publish(db.session, actor=current_user, contest=rnd.contest, rnd=rnd, close_intake=close_intake)
    if not outcome.ok:
        return redirect(url_for("organisers_judging.results", round_id=rnd.id))
    return redirect(url_for("public.winners", slug=rnd.contest.slug))


AUDIT_PAGE = 100


def _audit_page(query, count_query, **page_args):
    """One page of audit events, newest first, as readable lines."""
    total = db.session.scalar(count_query)
    page = page_number(request.args.get("page"), total=total, per_page=AUDIT_PAGE)
    events = db.session.scalars(
        query.order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).limit(AUDIT_PAGE).offset((page - 1) * AUDIT_PAGE)
    ).all()
    return dict(lines=readable(db.session, events), page=page, total=total, per_page=AUDIT_PAGE, **page_args)


def _audit_csv(rows, filename: str) -> Response:
    return Response(
        exports.to_csv(exports.AUDIT_HEADERS, rows),
        mimetype="text/csv",  # Werkzeug adds "; charset=utf-8" to text types
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@bp.route("/c/<slug>/audit")
def audit(slug: str):
    """Every audited change of the contest, newest first, as sentences; ?format=csv exports the raw records."""
    contest = get_contest(db.session, slug) or abort(404)
    if request.args.get("format") == "csv":
        return _audit_csv(exports.audit_rows(db.session, contest.id, contest.timezone), f"{contest.slug}-nhat-ky.csv")
    where = AuditEvent.contest_id == contest.id
    return render_template(
        "organisers/audit.html",
        contest=contest,
        tz=contest.timezone,
        **_audit_page(select(AuditEvent).where(where), select(func.count(AuditEvent.id)).where(where)),
    )


@bp.route("/audit")
def audit_all():
    """Administrators: events that belong to no contest (accounts, units, logins), or ?scope=all for every event."""
    if not has_role(current_user, Role.ADMIN):
        abort(403)
    everything = request.args.get("scope") == "all"
    where = true() if everything else AuditEvent.contest_id.is_(None)
    if request.args.get("format") == "csv":
        rows = exports.audit_rows(db.session, None, current_app.config["BABEL_DEFAULT_TIMEZONE"], everything=everything)
        return _audit_csv(rows, "nhat-ky-he-thong.csv" if not everything else "nhat-ky-toan-bo.csv")
    return render_template(
        "organisers/audit.html",
        contest=None,
        everything=everything,
        tz=current_app.config["BABEL_DEFAULT_TIMEZONE"],
        **_audit_page(select(AuditEvent).where(where), select(func.count(AuditEvent.id)).where(where)),
    )
