"""Rounds, rubrics, panels and score sheets."""
from __future__ import annotations

import math
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from app.models import (Clip, ClipStatus, Contest, Criterion, Entry, EntryStatus, PanelMember, Role, Round,
                        RoundStatus, Score, ScoreSheet, SheetStatus, User, utcnow)
from app.services import PortalError
from app.services.audit import record_event
from judging import METHODS


def create_round(session: Session, *, contest: Contest, name: str, criteria: list[dict], blind: bool = False,
                 aggregation: str = "mean") -> Round:
    """Add a round with its rubric: criteria are dicts of name, description, max_points, weight, step."""
    if not name.strip():
        raise PortalError(_l("The round needs a name."), field="name")
    if aggregation not in METHODS:
        raise PortalError(_l("Unknown aggregation method."), field="aggregation")
    if not criteria:
        raise PortalError(_l("A round needs at least one criterion."), field="criteria")
    position = (session.scalar(select(func.max(Round.position)).where(Round.contest_id == contest.id)) or 0) + 1
    rnd = Round(contest_id=contest.id, name=name.strip(), position=position, blind=blind, aggregation=aggregation)
    names = set()
    for i, c in enumerate(criteria):
        cname = (c.get("name") or "").strip()
        if not cname or cname in names:
            raise PortalError(_l("Each criterion needs a distinct name."), field="criteria")
        names.add(cname)
        max_points, weight, step = float(c["max_points"]), float(c.get("weight") or 1), float(c.get("step") or 0.5)
        if max_points <= 0 or weight <= 0 or step <= 0:
            raise PortalError(_l("Maximum points, weight and step must be positive."), field="criteria")
        rnd.criteria.append(Criterion(name=cname, description=(c.get("description") or "").strip(),
                                      max_points=max_points, weight=weight, step=step, position=i))
    session.add(rnd)
    session.flush()
    return rnd


def set_round_status(session: Session, *, actor: User, rnd: Round, status: RoundStatus) -> None:
    """Open or close a round (audited)."""
    before = rnd.status.value
    rnd.status = status
    if status == RoundStatus.OPEN and rnd.opens_at is None:
        rnd.opens_at = utcnow()
    if status == RoundStatus.CLOSED:
        rnd.closes_at = utcnow()
    record_event(session, actor=actor, action="round.status", obj=rnd, contest_id=rnd.contest_id,
                 before={"status": before}, after={"status": status.value})
    session.flush()


def set_panel(session: Session, *, actor: User, rnd: Round, judges: list[User]) -> None:
    """Replace the round's panel (the whole panel scores every eligible entry)."""
    for judge in judges:
        if judge.role != Role.JUDGE:
            raise PortalError(_l("%(name)s is not a judge.", name=judge.name))
    before = sorted(m.judge_id for m in rnd.panel)
    rnd.panel = [PanelMember(judge_id=j.id) for j in judges]
    record_event(session, actor=actor, action="panel.set", obj=rnd, contest_id=rnd.contest_id,
                 before={"judges": before}, after={"judges": sorted(j.id for j in judges)})
    session.flush()


def round_entries(session: Session, rnd: Round) -> list[Entry]:
    """Entries judged in this round: submitted, with a ready clip."""
    return list(session.scalars(
        select(Entry).join(Clip, Clip.id == Entry.clip_id)
        .where(Entry.contest_id == rnd.contest_id, Entry.status == EntryStatus.SUBMITTED,
               Clip.status == ClipStatus.READY).order_by(Entry.id)))


def in_panel(session: Session, judge: User, rnd: Round) -> bool:
    return session.get(PanelMember, (rnd.id, judge.id)) is not None


def conflicted(judge: User, entry: Entry) -> bool:
    """A judge never scores an entry of their own unit."""
    return judge.unit_id is not None and judge.unit_id == entry.unit_id


def assigned_entries(session: Session, *, judge: User, rnd: Round) -> list[Entry]:
    """The entries this judge is to score in rnd (none when not on the panel)."""
    if judge.role != Role.JUDGE or not in_panel(session, judge, rnd):
        return []
    return [e for e in round_entries(session, rnd) if not conflicted(judge, e)]


def is_assigned(session: Session, *, judge: User, rnd: Round, entry: Entry) -> bool:
    return any(e.id == entry.id for e in assigned_entries(session, judge=judge, rnd=rnd))


def judge_rounds(session: Session, judge: User) -> list[Round]:
    """Rounds, open or closed, whose panel includes the judge."""
    return list(session.scalars(select(Round).join(PanelMember).where(
        PanelMember.judge_id == judge.id, Round.status != RoundStatus.DRAFT).order_by(Round.id.desc())))


def get_sheet(session: Session, *, rnd: Round, entry: Entry, judge: User) -> ScoreSheet | None:
    return session.scalar(select(ScoreSheet).options(selectinload(ScoreSheet.scores)).where(
        ScoreSheet.round_id == rnd.id, ScoreSheet.entry_id == entry.id, ScoreSheet.judge_id == judge.id))


@dataclass(frozen=True)
class Progress:
    submitted: int
    drafts: int
    total: int


def judge_progress(session: Session, *, judge: User, rnd: Round, entries: list[Entry] | None = None) -> Progress:
    entries = assigned_entries(session, judge=judge, rnd=rnd) if entries is None else entries
    ids = {e.id for e in entries}
    sheets = session.scalars(select(ScoreSheet).where(ScoreSheet.round_id == rnd.id, ScoreSheet.judge_id == judge.id))
    states = [s.status for s in sheets if s.entry_id in ids]
    return Progress(submitted=states.count(SheetStatus.SUBMITTED), drafts=states.count(SheetStatus.DRAFT),
                    total=len(ids))


def parse_points(criterion: Criterion, raw) -> float | None:
    """Validate one criterion's points (bounds and step); None when left empty."""
    if raw is None or str(raw).strip() == "":
        return None
    try:
        value = float(str(raw).strip().replace(",", "."))
    except ValueError:
        raise PortalError(_l("%(name)s: enter a number.", name=criterion.name), field=f"c{criterion.id}") from None
    if not math.isfinite(value) or value < 0 or value > criterion.max_points:
        raise PortalError(_l("%(name)s: points must be between 0 and %(max)s.", name=criterion.name,
                             max=f"{criterion.max_points:g}"), field=f"c{criterion.id}")
    steps = value / criterion.step
    if abs(steps - round(steps)) > 1e-6:
        raise PortalError(_l("%(name)s: points must be a multiple of %(step)s.", name=criterion.name,
                             step=f"{criterion.step:g}"), field=f"c{criterion.id}")
    return value


def save_sheet(session: Session, *, judge: User, rnd: Round, entry: Entry, points: dict[int, object],
               comment: str = "", submit: bool = False) -> ScoreSheet:
    """Save a judge's draft or submit it complete; only while the round is open, only for assigned entries."""
    if rnd.status != RoundStatus.OPEN:
        raise PortalError(_l("The round is not open; scores can no longer be changed."))
    if not is_assigned(session, judge=judge, rnd=rnd, entry=entry):
        raise PortalError(_l("This entry is not assigned to you."))
    parsed = {c.id: parse_points(c, points.get(c.id)) for c in rnd.criteria}
    if submit and any(v is None for v in parsed.values()):
        raise PortalError(_l("Score every criterion before submitting."))
    sheet = get_sheet(session, rnd=rnd, entry=entry, judge=judge)
    before = None
    if sheet is None:
        sheet = ScoreSheet(round_id=rnd.id, entry_id=entry.id, judge_id=judge.id)
        session.add(sheet)
    else:
        before = _sheet_state(sheet)
        if sheet.status == SheetStatus.SUBMITTED and not submit:
            raise PortalError(_l("This sheet was submitted; change it with “Update submitted scores”."))
    sheet.comment = (comment or "").strip()
    sheet.scores = [Score(criterion_id=cid, points=v) for cid, v in parsed.items() if v is not None]
    if submit:
        sheet.status = SheetStatus.SUBMITTED
        sheet.submitted_at = utcnow()
    session.flush()
    record_event(session, actor=judge, action="sheet.submit" if submit else "sheet.draft", obj=sheet,
                 contest_id=rnd.contest_id, before=before, after=_sheet_state(sheet))
    return sheet


def _sheet_state(sheet: ScoreSheet) -> dict:
    return {"status": sheet.status.value if sheet.status else "draft", "comment": sheet.comment,
            "points": {str(s.criterion_id): s.points for s in sheet.scores}}


def current_round(session: Session, contest: Contest) -> Round | None:
    """The latest round that is not a draft, else the latest round."""
    rounds = list(session.scalars(select(Round).where(Round.contest_id == contest.id).order_by(Round.position)))
    active = [r for r in rounds if r.status != RoundStatus.DRAFT]
    return (active or rounds or [None])[-1]
