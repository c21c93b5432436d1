"""Round administration: rubrics, panels, assignment, shortlists, conflicts, reopening sheets."""

from __future__ import annotations

import re
from collections.abc import Sequence

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, select

import judging
from app.db import DbSession
from app.models import (
    AggregationMethod,
    Assignment,
    AssignmentMode,
    Conflict,
    Contest,
    Criterion,
    Entry,
    PanelMember,
    Role,
    Round,
    RoundEntry,
    RoundStatus,
    ScoreSheet,
    SheetStatus,
    User,
    utcnow,
)
from app.services import PortalError
from app.services.audit import add_created, record_event
from app.services.notifications import notify_round_opened

TIE_BREAK_RE = re.compile(r"^(criterion:.+|median|first_places)$")
LEVEL_RE = re.compile(r"^\s*(\d+(?:[.,]\d+)?)\s*[:=]\s*(.+?)\s*$")


def parse_levels(text: str) -> list[dict] | None:
    """'8: Excellent; 5: Good' (or one per line) -> [{"points": 8.0, "label": "Excellent"}, ...]."""
    levels = []
    for part in re.split(r"[;\n]", text or ""):
        if not part.strip():
            continue
        match = LEVEL_RE.match(part)
        if not match:
            raise PortalError(_l("Level descriptions look like “8: Excellent; 5: Good”."), field="criteria")
        levels.append({"points": float(match.group(1).replace(",", ".")), "label": match.group(2)})
    return sorted(levels, key=lambda lv: -lv["points"]) or None


def check_tie_breaks(rules: list[str], criteria_names: set[str]) -> list[str]:
    """Validate tie-break rules; criterion rules must name a criterion of the round."""
    clean = [r.strip() for r in rules if r.strip()]
    for rule in clean:
        if not TIE_BREAK_RE.match(rule) or (rule.startswith("criterion:") and rule[10:] not in criteria_names):
            raise PortalError(_l("Unknown tie-break rule “%(rule)s”.", rule=rule), field="tie_breaks")
    return clean


def create_round(
    session: DbSession,
    *,
    actor: User | None = None,
    contest: Contest,
    name: str,
    criteria: list[dict],
    blind: bool = False,
    aggregation: AggregationMethod | str = AggregationMethod.MEAN,
    tie_breaks: Sequence[str] = (),
    trim: int = 1,
    assignment_mode: AssignmentMode | str = AssignmentMode.PANEL,
    per_entry: int | None = None,
    flag_threshold: float | None = None,
    opens_at=None,
    closes_at=None,
) -> Round:
    """Add a round with its rubric (audited): criteria are dicts of name, description, max_points, weight, step,
    levels."""
    if not name.strip():
        raise PortalError(_l("The round needs a name."), field="name")
    if aggregation not in set(AggregationMethod):
        raise PortalError(_l("Unknown aggregation method."), field="aggregation")
    if not criteria:
        raise PortalError(_l("A round needs at least one criterion."), field="criteria")
    if assignment_mode not in set(AssignmentMode):
        raise PortalError(_l("Unknown assignment mode."), field="assignment_mode")
    if assignment_mode == AssignmentMode.PER_ENTRY and not (per_entry and per_entry >= 1):
        raise PortalError(_l("Give the number of judges per entry."), field="per_entry")
    if trim < 0:
        raise PortalError(_l("The trim must be 0 or more."), field="trim")
    if opens_at and closes_at and closes_at <= opens_at:
        raise PortalError(_l("The round must close after it opens."), field="closes_at")
    position = (session.scalar(select(func.max(Round.position)).where(Round.contest_id == contest.id)) or 0) + 1
    rnd = Round(
        contest_id=contest.id,
        name=name.strip(),
        position=position,
        blind=blind,
        aggregation=AggregationMethod(aggregation),
        trim=trim,
        assignment_mode=AssignmentMode(assignment_mode),
        per_entry=per_entry if assignment_mode == AssignmentMode.PER_ENTRY else None,
        flag_threshold=flag_threshold,
        uses_shortlist=position > 1,
        opens_at=opens_at,
        closes_at=closes_at,
    )
    names: set[str] = set()
    for position_in_rubric, criterion in enumerate(criteria):
        cname = (criterion.get("name") or "").strip()
        if not cname or cname in names:
            raise PortalError(_l("Each criterion needs a distinct name."), field="criteria")
        names.add(cname)
        max_points = float(criterion["max_points"])
        weight, step = float(criterion.get("weight") or 1), float(criterion.get("step") or 0.5)
        if max_points <= 0 or weight <= 0 or step <= 0:
            raise PortalError(_l("Maximum points, weight and step must be positive."), field="criteria")
        levels = criterion.get("levels")
        levels = parse_levels(levels) if isinstance(levels, str) else levels
        rnd.criteria.append(
            Criterion(
                name=cname,
                description=(criterion.get("description") or "").strip(),
                max_points=max_points,
                weight=weight,
                step=step,
                position=position_in_rubric,
                levels=levels,
            )
        )
    rnd.tie_breaks = check_tie_breaks(list(tie_breaks), names)
    after = {"name": rnd.name, "criteria": [c.name for c in rnd.criteria]}
    return add_created(session, rnd, actor=actor, action="round.create", after=after)


def set_round_status(session: DbSession, *, actor: User | None, rnd: Round, status: RoundStatus) -> None:
    """Open or close a round (audited)."""
    before = rnd.status.value
    rnd.status = status
    if status == RoundStatus.OPEN:
        rnd.opens_at = rnd.opens_at or utcnow()
        if rnd.closes_at is not None and rnd.closes_at <= utcnow():
            rnd.closes_at = None  # reopened after its planned close: open until closed by hand
    if status == RoundStatus.CLOSED:
        rnd.closes_at = utcnow()
    record_event(
        session, actor=actor, action="round.status", obj=rnd, before={"status": before}, after={"status": status.value}
    )
    session.flush()
    if status == RoundStatus.OPEN:
        notify_round_opened(session, rnd=rnd)


def set_panel(session: DbSession, *, actor: User | None, rnd: Round, judges: list[User]) -> None:
    """Replace the round's panel."""
    for judge in judges:
        if judge.role != Role.JUDGE:
            raise PortalError(_l("%(name)s is not a judge.", name=judge.name))
    before = sorted(m.judge_id for m in rnd.panel)
    rnd.panel = [PanelMember(judge_id=j.id) for j in judges]
    record_event(
        session,
        actor=actor,
        action="panel.set",
        obj=rnd,
        before={"judges": before},
        after={"judges": sorted(j.id for j in judges)},
    )
    session.flush()


def declared_conflicts(session: DbSession, *, entry_ids=None, judge_id: int | None = None) -> list[Conflict]:
    query = select(Conflict)
    if judge_id is not None:
        query = query.where(Conflict.judge_id == judge_id)
    if entry_ids is not None:
        query = query.where(Conflict.entry_id.in_(list(entry_ids)))
    return list(session.scalars(query.order_by(Conflict.declared_at)))


def assign_per_entry(
    session: DbSession, *, actor: User, rnd: Round, entries: list[Entry], per_entry: int, seed: int = 0
) -> judging.Assignment:
    """Give every entry `per_entry` panel judges, balanced, never own-unit or declared-conflict (audited)."""
    panel = [m.judge for m in rnd.panel]
    if not panel:
        raise PortalError(_l("Choose the panel before assigning."))
    if not 1 <= per_entry <= len(panel):
        raise PortalError(
            _l("Judges per entry must be between 1 and the size of the panel (%(count)d).", count=len(panel)),
            field="per_entry",
        )
    conflicts = {(c.judge_id, c.entry_id) for c in declared_conflicts(session, entry_ids=[e.id for e in entries])}
    # The library keeps judges off their own unit's entries; declared conflicts are repaired afterwards.
    entry_units = {str(e.id): f"u{e.unit_id}" for e in entries}
    judge_units = {str(j.id): f"u{j.unit_id}" if j.unit_id else None for j in panel}
    result = judging.assign(entry_units, judge_units, per_entry=per_entry, seed=seed)
    pairs = [(int(e), int(j)) for e, j in result.pairs]
    bad = [p for p in pairs if (p[1], p[0]) in conflicts]
    if bad:
        pairs = _repair_conflicts(
            pairs,
            bad,
            conflicts,
            [j.id for j in panel],
            {e.id: e.unit_id for e in entries},
            {j.id: j.unit_id for j in panel},
        )
    session.execute(delete(Assignment).where(Assignment.round_id == rnd.id))
    session.add_all(Assignment(round_id=rnd.id, entry_id=e, judge_id=j) for e, j in pairs)
    rnd.assignment_mode, rnd.per_entry = AssignmentMode.PER_ENTRY, per_entry
    record_event(
        session,
        actor=actor,
        action="assignment.generate",
        obj=rnd,
        after={
            "per_entry": per_entry,
            "seed": seed,
            "pairs": len(pairs),
            "unassignable": [u.entry for u in result.unassignable],
        },
    )
    session.flush()
    return result


def _repair_conflicts(pairs, bad, conflicts, judges, entry_unit, judge_unit):
    """Move each conflicted pair to the least-loaded eligible judge not already on that entry."""
    pairs = [pair for pair in pairs if pair not in bad]
    load = {judge: 0 for judge in judges}
    for _entry, judge in pairs:
        load[judge] += 1
    for entry_id, _judge in bad:
        taken = {judge for entry, judge in pairs if entry == entry_id}
        options = [
            judge
            for judge in judges
            if judge not in taken
            and (judge, entry_id) not in conflicts
            and (judge_unit[judge] is None or judge_unit[judge] != entry_unit[entry_id])
        ]
        if options:
            best = min(options, key=lambda j: (load[j], j))
            pairs.append((entry_id, best))
            load[best] += 1
    return pairs


def reassign(session: DbSession, *, actor: User, rnd: Round, entry: Entry, from_judge: User, to_judge: User) -> None:
    """Move one assignment to another panel judge (after a conflict or recusal)."""
    if session.get(PanelMember, (rnd.id, to_judge.id)) is None:
        raise PortalError(_l("%(name)s is not on this round's panel.", name=to_judge.name))
    if to_judge.unit_id is not None and to_judge.unit_id == entry.unit_id:
        raise PortalError(_l("%(name)s belongs to the entry's unit.", name=to_judge.name))
    if session.scalar(select(Conflict).where(Conflict.judge_id == to_judge.id, Conflict.entry_id == entry.id)):
        raise PortalError(_l("%(name)s declared a conflict with this entry.", name=to_judge.name))
    if session.get(Assignment, (rnd.id, entry.id, to_judge.id)):
        raise PortalError(_l("%(name)s is already assigned to this entry.", name=to_judge.name))
    old = session.get(Assignment, (rnd.id, entry.id, from_judge.id))
    if old is not None:
        session.delete(old)
    session.add(Assignment(round_id=rnd.id, entry_id=entry.id, judge_id=to_judge.id))
    record_event(
        session,
        actor=actor,
        action="assignment.move",
        obj=entry,
        contest_id=rnd.contest_id,
        before={"round": rnd.id, "judge": from_judge.id},
        after={"round": rnd.id, "judge": to_judge.id},
    )
    session.flush()


def declare_conflict(session: DbSession, *, judge: User, rnd: Round, entry: Entry, reason: str) -> Conflict:
    """A judge declares a conflict of interest or recuses; the entry leaves their list (audited)."""
    reason = (reason or "").strip()
    if len(reason) < 5:
        raise PortalError(_l("Give a short reason (at least 5 characters)."), field="reason")
    conflict = session.scalar(select(Conflict).where(Conflict.judge_id == judge.id, Conflict.entry_id == entry.id))
    if conflict is None:
        conflict = Conflict(judge_id=judge.id, entry_id=entry.id, round_id=rnd.id, reason=reason)
        session.add(conflict)
    record_event(
        session,
        actor=judge,
        action="conflict.declare",
        obj=conflict,
        contest_id=rnd.contest_id,
        after={"entry": entry.id, "round": rnd.id, "reason": reason},
    )
    return conflict


def advance(
    session: DbSession,
    *,
    actor: User,
    source: Round,
    target: Round,
    top: int | None = None,
    entry_ids: list[int] | None = None,
) -> list[int]:
    """Put the top N of source's ranking (ties at the cut included) or a hand-picked shortlist into target."""
    from app.services.results import ranking

    if target.contest_id != source.contest_id or target.id == source.id:
        raise PortalError(_l("Choose another round of the same contest."))
    if entry_ids is None:
        if not top or top < 1:
            raise PortalError(_l("Give how many entries advance."), field="top")
        rows = ranking(session, source)
        cut = rows[top - 1].rank if len(rows) >= top else None
        entry_ids = [r.entry.id for r in rows if cut is None or r.rank <= cut]
    valid = {e.id for e in session.scalars(select(Entry).where(Entry.contest_id == source.contest_id))}
    if not set(entry_ids) <= valid:
        raise PortalError(_l("Some chosen entries do not belong to this contest."))
    session.execute(delete(RoundEntry).where(RoundEntry.round_id == target.id))
    session.add_all(RoundEntry(round_id=target.id, entry_id=e) for e in entry_ids)
    target.uses_shortlist = True
    record_event(
        session,
        actor=actor,
        action="round.advance",
        obj=target,
        after={"from": source.id, "entries": sorted(entry_ids)},
    )
    session.flush()
    return entry_ids


def reopen_sheet(session: DbSession, *, actor: User, sheet: ScoreSheet) -> None:
    """Let a judge change a submitted sheet again, even after the round closed (audited)."""
    before = {"status": sheet.status.value}
    sheet.status = SheetStatus.DRAFT
    sheet.reopened_at = utcnow()
    record_event(
        session,
        actor=actor,
        action="sheet.reopen",
        obj=sheet,
        contest_id=sheet.round.contest_id,
        before=before,
        after={"status": "draft", "judge": sheet.judge_id, "entry": sheet.entry_id},
    )
    session.flush()
