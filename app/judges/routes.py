"""Judges: the review dashboard and score sheets."""

from __future__ import annotations

from collections.abc import Mapping

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from app import db
from app.committing import committing
from app.models import Entry, Role, Round, RoundStatus, ScoreSheet, SheetStatus, utcnow
from app.permissions import require_role
from app.services import rounds, scoring

bp = Blueprint("judges", __name__, url_prefix="/judge")


require_role(bp, Role.JUDGE)


@bp.before_request
def _seen() -> None:
    current_user.last_seen_at = utcnow()  # committed by the view (participation figures)


@bp.route("/")
def dashboard():
    rows = []
    for rnd in scoring.judge_rounds(db.session, current_user):
        entries = scoring.assigned_entries(db.session, judge=current_user, rnd=rnd)
        sheets = {
            sheet.entry_id: sheet
            for sheet in db.session.scalars(
                select(ScoreSheet).where(ScoreSheet.round_id == rnd.id, ScoreSheet.judge_id == current_user.id)
            )
        }
        progress = scoring.judge_progress(db.session, judge=current_user, rnd=rnd, entries=entries)
        rows.append((rnd, entries, sheets, progress))
    db.session.commit()
    return render_template("judges/dashboard.html", rounds=rows, accepts=scoring.round_accepts_scores)


def _assigned(round_id: int, entry_id: int) -> tuple[Round, Entry, list[Entry]]:
    """Round, entry and the judge's assigned entries, only when the entry is one of them (404 otherwise: reveal
    nothing)."""
    rnd = db.session.get(Round, round_id)
    entry = db.session.get(Entry, entry_id)
    if rnd is None or entry is None or rnd.status == RoundStatus.DRAFT:
        abort(404)
    entries = scoring.assigned_entries(db.session, judge=current_user, rnd=rnd)
    if all(assigned.id != entry.id for assigned in entries):
        abort(404)
    return rnd, entry, entries


@bp.route("/rounds/<int:round_id>/entries/<int:entry_id>", methods=["GET", "POST"])
def score(round_id: int, entry_id: int):
    rnd, entry, entries = _assigned(round_id, entry_id)
    sheet = scoring.get_sheet(db.session, rnd=rnd, entry=entry, judge=current_user)
    values: Mapping[int, object] = {score.criterion_id: score.points for score in sheet.scores} if sheet else {}
    comment = sheet.comment if sheet else ""
    errors: dict[str, str] = {}
    notes = {int(k): v for k, v in (sheet.criterion_comments or {}).items()} if sheet else {}
    if request.method == "POST":
        points = {c.id: request.form.get(f"c{c.id}", "") for c in rnd.criteria}
        notes = {c.id: request.form.get(f"n{c.id}", "") for c in rnd.criteria}
        comment = request.form.get("comment", "")
        submit = request.form.get("action") == "submit"
        with committing(_("Scores submitted.") if submit else _("Draft saved.")) as outcome:
            scoring.save_sheet(
                db.session,
                judge=current_user,
                rnd=rnd,
                entry=entry,
                points=points,
                comment=comment,
                criterion_comments=notes,
                submit=submit,
            )
        if outcome.ok and submit:
            return redirect(url_for("judges.next_entry", round_id=rnd.id))
        if outcome.ok:
            return redirect(url_for("judges.score", round_id=rnd.id, entry_id=entry.id))
        if outcome.error is not None:
            errors.update({field: str(message) for field, message in outcome.error.errors.items()})
        values = points
    position = next((number for number, assigned in enumerate(entries, 1) if assigned.id == entry.id), 1)
    return render_template(
        "judges/score.html",
        rnd=rnd,
        entry=entry,
        sheet=sheet,
        values=values,
        comment=comment,
        notes=notes,
        errors=errors,
        editable=scoring.sheet_editable(rnd, sheet),
        position=position,
        count=len(entries),
        SheetStatus=SheetStatus,
    )


@bp.route("/rounds/<int:round_id>/entries/<int:entry_id>/conflict", methods=["POST"])
def declare_conflict(round_id: int, entry_id: int):
    """Declare a conflict of interest or recuse: the entry leaves the judge's list; organisers see the reason."""
    rnd, entry, _entries = _assigned(round_id, entry_id)
    with committing(
        _("Conflict recorded. The entry was removed from your list and the organisers were informed."), "info"
    ) as outcome:
        rounds.declare_conflict(
            db.session, judge=current_user, rnd=rnd, entry=entry, reason=request.form.get("reason", "")
        )
    if not outcome.ok:
        return redirect(url_for("judges.score", round_id=rnd.id, entry_id=entry.id))
    return redirect(url_for("judges.dashboard"))


@bp.route("/rounds/<int:round_id>/next")
def next_entry(round_id: int):
    """Open the unscored assigned entry with the fewest submitted sheets, else go back to the dashboard."""
    rnd = db.session.get(Round, round_id) or abort(404)
    entry = scoring.next_entry(db.session, judge=current_user, rnd=rnd)
    if entry is not None:
        return redirect(url_for("judges.score", round_id=rnd.id, entry_id=entry.id))
    flash(_("You have scored every assigned entry in this round. Thank you!"), "success")
    return redirect(url_for("judges.dashboard"))
