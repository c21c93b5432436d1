"""The judge's side: which entries they score, score sheets, progress."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, selectinload

from app.db import DbSession, fetch_tuples
from app.models import (
    Assignment,
    AssignmentMode,
    Clip,
    ClipStatus,
    Conflict,
    Contest,
    Criterion,
    Entry,
    EntryStatus,
    PanelMember,
    Role,
    Round,
    RoundEntry,
    RoundStatus,
    Score,
    ScoreSheet,
    SheetStatus,
    User,
    utcnow,
)
from app.services import PortalError
from app.services.audit import record_event


def round_entries(session: DbSession, rnd: Round) -> list[Entry]:
    """Entries judged in this round: submitted with a ready clip, and on the shortlist when the round has one."""
    query = (
        select(Entry)
        .options(joinedload(Entry.unit))  # the judge's dashboard names each entry's unit: not one query per unit
        .join(Clip, Clip.id == Entry.clip_id)
        .where(
            Entry.contest_id == rnd.contest_id, Entry.status == EntryStatus.SUBMITTED, Clip.status == ClipStatus.READY
        )
        .order_by(Entry.id)
    )
    if rnd.uses_shortlist:
        query = query.join(RoundEntry, (RoundEntry.entry_id == Entry.id) & (RoundEntry.round_id == rnd.id))
    return list(session.scalars(query))


def in_panel(session: DbSession, judge: User, rnd: Round) -> bool:
    return session.get(PanelMember, (rnd.id, judge.id)) is not None


def conflicted(judge: User, entry: Entry) -> bool:
    """A judge never scores an entry of their own unit."""
    return judge.unit_id is not None and judge.unit_id == entry.unit_id


def assigned_entries(session: DbSession, *, judge: User, rnd: Round) -> list[Entry]:
    """The entries this judge scores in rnd: never own-unit, never declared conflicts."""
    if judge.role != Role.JUDGE or not in_panel(session, judge, rnd):
        return []
    declared = set(session.scalars(select(Conflict.entry_id).where(Conflict.judge_id == judge.id)))
    entries = round_entries(session, rnd)
    if rnd.assignment_mode == AssignmentMode.PER_ENTRY:
        mine = set(
            session.scalars(
                select(Assignment.entry_id).where(Assignment.round_id == rnd.id, Assignment.judge_id == judge.id)
            )
        )
        entries = [e for e in entries if e.id in mine]
    return [e for e in entries if not conflicted(judge, e) and e.id not in declared]


def is_assigned(session: DbSession, *, judge: User, rnd: Round, entry: Entry) -> bool:
    return any(e.id == entry.id for e in assigned_entries(session, judge=judge, rnd=rnd))


def judge_rounds(session: DbSession, judge: User) -> list[Round]:
    """Rounds, open or closed, whose panel includes the judge."""
    return list(
        session.scalars(
            select(Round)
            .join(PanelMember)
            .where(PanelMember.judge_id == judge.id, Round.status != RoundStatus.DRAFT)
            .order_by(Round.id.desc())
        )
    )


def get_sheet(session: DbSession, *, rnd: Round, entry: Entry, judge: User) -> ScoreSheet | None:
    return session.scalar(
        select(ScoreSheet)
        .options(selectinload(ScoreSheet.scores))
        .where(ScoreSheet.round_id == rnd.id, ScoreSheet.entry_id == entry.id, ScoreSheet.judge_id == judge.id)
    )


@dataclass(frozen=True)
class Progress:
    submitted: int
    drafts: int
    total: int


def judge_progress(session: DbSession, *, judge: User, rnd: Round, entries: list[Entry] | None = None) -> Progress:
    entries = assigned_entries(session, judge=judge, rnd=rnd) if entries is None else entries
    ids = {e.id for e in entries}
    sheets = session.scalars(select(ScoreSheet).where(ScoreSheet.round_id == rnd.id, ScoreSheet.judge_id == judge.id))
    states = [s.status for s in sheets if s.entry_id in ids]
    return Progress(
        submitted=states.count(SheetStatus.SUBMITTED), drafts=states.count(SheetStatus.DRAFT), total=len(ids)
    )


def panel_progress(session: DbSession, *, rnd: Round, judges: list[User]) -> dict[int, Progress]:
    """judge_progress for a whole panel with a fixed number of column-only queries (the results page shows it)."""
    query = (
        select(Entry.id, Entry.unit_id)
        .join(Clip, Clip.id == Entry.clip_id)
        .where(
            Entry.contest_id == rnd.contest_id, Entry.status == EntryStatus.SUBMITTED, Clip.status == ClipStatus.READY
        )
    )
    if rnd.uses_shortlist:
        query = query.join(RoundEntry, (RoundEntry.entry_id == Entry.id) & (RoundEntry.round_id == rnd.id))
    entries = fetch_tuples(session, query)
    e_ids = np.fromiter((e for e, _ in entries), dtype=np.int64, count=len(entries))
    e_units = np.fromiter((u for _, u in entries), dtype=np.int64, count=len(entries))
    declared: dict[int, list[int]] = {}
    for judge_id, entry_id in session.execute(
        select(Conflict.judge_id, Conflict.entry_id).where(Conflict.judge_id.in_([j.id for j in judges]))
    ):
        if entry_id is not None:
            declared.setdefault(judge_id, []).append(entry_id)
    assigned: dict[int, list[int]] = {}
    if rnd.assignment_mode == AssignmentMode.PER_ENTRY:
        for judge_id, entry_id in session.execute(
            select(Assignment.judge_id, Assignment.entry_id).where(Assignment.round_id == rnd.id)
        ):
            assigned.setdefault(judge_id, []).append(entry_id)
    submitted_sheets = ScoreSheet.status == SheetStatus.SUBMITTED.value
    sheets = fetch_tuples(
        session, select(ScoreSheet.judge_id, ScoreSheet.entry_id, submitted_sheets).where(ScoreSheet.round_id == rnd.id)
    )
    s_judge = np.fromiter((row[0] for row in sheets), dtype=np.int64, count=len(sheets))
    s_entry = np.fromiter((row[1] for row in sheets), dtype=np.int64, count=len(sheets))
    s_done = np.fromiter((bool(row[2]) for row in sheets), dtype=bool, count=len(sheets))
    out = {}
    # Array operations per judge: a national panel (200 judges × 20,000 entries) stays in milliseconds.
    for judge in judges:
        eligible = ~np.isin(e_ids, declared.get(judge.id, []))
        if judge.unit_id is not None:
            eligible &= e_units != judge.unit_id
        if rnd.assignment_mode == AssignmentMode.PER_ENTRY:
            eligible &= np.isin(e_ids, assigned.get(judge.id, []))
        mine = np.flatnonzero(s_judge == judge.id)
        counted = np.isin(s_entry[mine], e_ids[eligible])
        submitted = int(np.count_nonzero(s_done[mine][counted]))
        out[judge.id] = Progress(
            submitted=submitted, drafts=int(np.count_nonzero(counted)) - submitted, total=int(eligible.sum())
        )
    return out


def next_entry(session: DbSession, *, judge: User, rnd: Round) -> Entry | None:
    """The judge's unscored entry with the fewest submitted sheets so far (spreads the panel's work evenly)."""
    entries = assigned_entries(session, judge=judge, rnd=rnd)
    done = set(
        session.scalars(
            select(ScoreSheet.entry_id).where(
                ScoreSheet.round_id == rnd.id,
                ScoreSheet.judge_id == judge.id,
                ScoreSheet.status == SheetStatus.SUBMITTED,
            )
        )
    )
    counts = dict(
        session.execute(
            select(ScoreSheet.entry_id, func.count())
            .where(ScoreSheet.round_id == rnd.id, ScoreSheet.status == SheetStatus.SUBMITTED)
            .group_by(ScoreSheet.entry_id)
        ).all()
    )
    todo = [e for e in entries if e.id not in done]
    return min(todo, key=lambda e: (counts.get(e.id, 0), e.id)) if todo else None


def parse_points(criterion: Criterion, raw) -> float | None:
    """Validate one criterion's points (bounds and step); None when left empty."""
    if raw is None or str(raw).strip() == "":
        return None
    try:
        value = float(str(raw).strip().replace(",", "."))
    except ValueError:
        raise PortalError(_l("%(name)s: enter a number.", name=criterion.name), field=f"c{criterion.id}") from None
    if not math.isfinite(value) or value < 0 or value > criterion.max_points:
        raise PortalError(
            _l("%(name)s: points must be between 0 and %(max)s.", name=criterion.name, max=f"{criterion.max_points:g}"),
            field=f"c{criterion.id}",
        )
    steps = value / criterion.step
    if abs(steps - round(steps)) > 1e-6:
        raise PortalError(
            _l("%(name)s: points must be a multiple of %(step)s.", name=criterion.name, step=f"{criterion.step:g}"),
            field=f"c{criterion.id}",
        )
    return value


def _parse_all(rnd: Round, points: Mapping[int, object]) -> dict[int, float | None]:
    """Every criterion's points; all the broken ones are reported together, each at its field."""
    parsed: dict[int, float | None] = {}
    errors: dict[str, object] = {}
    for criterion in rnd.criteria:
        try:
            parsed[criterion.id] = parse_points(criterion, points.get(criterion.id))
        except PortalError as exc:
            errors[exc.field or f"c{criterion.id}"] = exc.message
    if len(errors) == 1:
        field, message = next(iter(errors.items()))
        raise PortalError(message, field=field)
    if errors:
        raise PortalError(_l("%(n)d scores need correcting: see the message at each.", n=len(errors)), errors=errors)
    return parsed


def round_accepts_scores(rnd: Round, now=None) -> bool:
    """Open, and its planned closing time (if any) not yet passed."""
    now = now or utcnow()
    return rnd.status == RoundStatus.OPEN and (rnd.closes_at is None or now < rnd.closes_at)


def sheet_editable(rnd: Round, sheet: ScoreSheet | None) -> bool:
    """Open rounds accept changes; after closing, only sheets an organiser reopened."""
    return round_accepts_scores(rnd) or (
        sheet is not None and sheet.reopened_at is not None and sheet.status == SheetStatus.DRAFT
    )


def save_sheet(
    session: DbSession,
    *,
    judge: User,
    rnd: Round,
    entry: Entry,
    points: Mapping[int, object],
    comment: str = "",
    criterion_comments: Mapping[int, str] | None = None,
    submit: bool = False,
) -> ScoreSheet:
    """Save a judge's draft or submit it complete; only while editable, only for assigned entries (audited)."""
    sheet = get_sheet(session, rnd=rnd, entry=entry, judge=judge)
    if rnd.status == RoundStatus.DRAFT or not sheet_editable(rnd, sheet):
        raise PortalError(_l("The round is not open; scores can no longer be changed."))
    if not is_assigned(session, judge=judge, rnd=rnd, entry=entry):
        raise PortalError(_l("This entry is not assigned to you."))
    parsed = _parse_all(rnd, points)
    if submit and any(v is None for v in parsed.values()):
        raise PortalError(_l("Score every criterion before submitting."))
    before = None
    if sheet is None:
        sheet = ScoreSheet(round_id=rnd.id, entry_id=entry.id, judge_id=judge.id)
        session.add(sheet)
    else:
        before = _sheet_state(sheet)
        if sheet.status == SheetStatus.SUBMITTED and not submit:
            raise PortalError(_l("This sheet was submitted; change it with “Update submitted scores”."))
    sheet.comment = (comment or "").strip()
    sheet.criterion_comments = {str(k): v.strip() for k, v in (criterion_comments or {}).items() if v and v.strip()}
    sheet.scores = [Score(criterion_id=cid, points=v) for cid, v in parsed.items() if v is not None]
    sheet.updated_at = utcnow()  # the results board's cache key follows it (app/services/board.py)
    if submit:
        sheet.status = SheetStatus.SUBMITTED
        sheet.submitted_at = utcnow()
    record_event(
        session,
        actor=judge,
        action="sheet.submit" if submit else "sheet.draft",
        obj=sheet,
        contest_id=rnd.contest_id,
        before=before,
        after=_sheet_state(sheet),
    )
    return sheet


def _sheet_state(sheet: ScoreSheet) -> dict:
    return {
        "status": sheet.status.value if sheet.status else "draft",
        "comment": sheet.comment,
        "entry": sheet.entry_id,
        "points": {str(s.criterion_id): s.points for s in sheet.scores},
    }


def current_round(session: DbSession, contest: Contest) -> Round | None:
    """The latest round that is not a draft, else the latest round."""
    rounds = list(session.scalars(select(Round).where(Round.contest_id == contest.id).order_by(Round.position)))
    active = [rnd for rnd in rounds if rnd.status != RoundStatus.DRAFT]
    latest = active or rounds
    return latest[-1] if latest else None
