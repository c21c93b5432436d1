"""Results: rankings from the judging library, awards, and frozen publication."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload

import judging
from app.db import DbSession, fetch_tuples
from app.models import (
    Award,
    AwardGrant,
    AwardKind,
    Clip,
    ClipStatus,
    Contest,
    Entry,
    Publication,
    Round,
    Score,
    ScoreSheet,
    SheetStatus,
    User,
    utcnow,
)
from app.services import PortalError
from app.services.audit import record_event
from app.services.contests import close_intake as close_contest_intake
from judging.ranking import rank_table
from judging.reliability import agreement_table
from judging.table import ScoreTable, build_table


@dataclass(frozen=True)
class ResultRow:
    rank: int
    entry: Entry
    score: float
    judges: int
    tied: bool
    award: Award | None
    tie_break: str | None = None
    totals: dict | None = None


def round_table(session: DbSession, rnd: Round) -> ScoreTable | None:
    """Every submitted score of a round as the judging library's validated table (None when there is none).

    Built straight from columns: constructing one object per score would dominate the results page's time."""
    names = {c.id: c.name for c in rnd.criteria}
    rubric = [judging.Criterion(name=c.name, max_points=c.max_points, weight=c.weight) for c in rnd.criteria]
    query = (
        select(ScoreSheet.entry_id, ScoreSheet.judge_id, Score.criterion_id, Score.points)
        .join(Score, Score.sheet_id == ScoreSheet.id)
        .where(ScoreSheet.round_id == rnd.id, ScoreSheet.status == SheetStatus.SUBMITTED)
    )
    rows = fetch_tuples(session, query)
    if not rows:
        return None
    entries, judges, criteria, points = zip(*rows, strict=True)
    return build_table(
        list(map(str, entries)),
        list(map(str, judges)),
        [names[c] for c in criteria],
        np.asarray(points, dtype=np.float64),
        rubric,
        label=lambda i: f"score #{i + 1}",
    )


def ranking(session: DbSession, rnd: Round, *, method: str | None = None) -> list[ResultRow]:
    """Entries ranked by the round's (or the given) method over submitted sheets."""
    table = round_table(session, rnd)
    if table is None:
        return []
    ranked = rank_table(table, method=method or rnd.aggregation, tie_breaks=tuple(rnd.tie_breaks or ()), trim=rnd.trim)
    return _rows(session, rnd, ranked)


def awards_by_entry(session: DbSession, contest_id: int, *, entry_ids: list[int] | None = None) -> dict[int, Award]:
    """The award granted to each entry of a contest (or of the given entries) that has one."""
    query = select(AwardGrant).options(selectinload(AwardGrant.award)).join(Award).where(Award.contest_id == contest_id)
    if entry_ids is not None:
        query = query.where(AwardGrant.entry_id.in_(entry_ids))
    return {g.entry_id: g.award for g in session.scalars(query)}


def _rows(session: DbSession, rnd: Round, ranked) -> list[ResultRow]:
    entries = {
        e.id: e
        for e in session.scalars(
            select(Entry).options(selectinload(Entry.unit)).where(Entry.id.in_([int(r.entry) for r in ranked]))
        )
    }
    grants = awards_by_entry(session, rnd.contest_id)
    return [
        ResultRow(
            rank=r.rank,
            entry=entries[int(r.entry)],
            score=r.score,
            judges=r.judges,
            tied=r.tied,
            award=grants.get(int(r.entry)),
            tie_break=r.tie_break,
            totals=r.totals,
        )
        for r in ranked
    ]


@dataclass(frozen=True)
class BoardRow:
    official: ResultRow
    by_method: dict[str, tuple[int, float]]
    delta: dict[str, int]  # official rank minus the method's rank (positive: the method ranks it higher)
    spread: judging.EntryAgreement | None


@dataclass(frozen=True)
class Board:
    """The full table of a round (the exports): every entry's official row and its rank by every method."""

    rows: list[BoardRow]
    methods: tuple[str, ...]


def results_board(session: DbSession, rnd: Round) -> Board:
    """Every entry ranked by every method, from one score table; the page shows app.services.board instead."""
    table = round_table(session, rnd)
    if table is None:
        return Board(rows=[], methods=judging.METHODS)
    tie_breaks = tuple(rnd.tie_breaks or ())
    by_method = {m: rank_table(table, method=m, tie_breaks=tie_breaks, trim=rnd.trim) for m in judging.METHODS}
    lookup = {m: {r.entry: (r.rank, r.score) for r in ranked} for m, ranked in by_method.items()}
    spreads = {int(a.entry): a for a in agreement_table(table, flag_threshold=rnd.flag_threshold).per_entry}
    rows = []
    for row in _rows(session, rnd, by_method[rnd.aggregation]):
        methods = {m: lookup[m][str(row.entry.id)] for m in judging.METHODS}
        rows.append(
            BoardRow(
                official=row,
                by_method=methods,
                delta={m: row.rank - methods[m][0] for m in judging.METHODS},
                spread=spreads.get(row.entry.id),
            )
        )
    return Board(rows=rows, methods=judging.METHODS)


def create_award(
    session: DbSession, *, actor: User, contest: Contest, name: str, count: int, kind: AwardKind | str = AwardKind.GROUP
) -> Award:
    if not name.strip():
        raise PortalError(_l("The award needs a name."), field="name")
    if count < 1:
        raise PortalError(_l("The number of prizes must be at least 1."), field="count")
    if session.scalar(select(Award).where(Award.contest_id == contest.id, Award.name == name.strip())):
        raise PortalError(_l("An award with this name exists already."), field="name")
    position = len(session.scalars(select(Award.id).where(Award.contest_id == contest.id)).all()) + 1
    if kind not in set(AwardKind):
        raise PortalError(_l("Unknown kind of award."), field="kind")
    award = Award(contest_id=contest.id, name=name.strip(), count=count, position=position, kind=AwardKind(kind))
    session.add(award)
    session.flush()
    record_event(
        session,
        actor=actor,
        action="award.create",
        obj=award,
        contest_id=contest.id,
        after={"name": award.name, "count": count},
    )
    return award


def awards_of(session: DbSession, contest: Contest) -> list[Award]:
    return list(
        session.scalars(
            select(Award)
            .options(selectinload(Award.grants))
            .where(Award.contest_id == contest.id)
            .order_by(Award.position, Award.id)
        )
    )


def grant_award(session: DbSession, *, actor: User, entry: Entry, award: Award | None) -> None:
    """Give entry the award (or none), respecting the award's number of prizes."""
    current = session.scalar(select(AwardGrant).where(AwardGrant.entry_id == entry.id))
    before = {"award": current.award.name} if current else None
    if award is not None and award.contest_id != entry.contest_id:
        raise PortalError(_l("That award belongs to another contest."))
    if award is not None and (current is None or current.award_id != award.id) and len(award.grants) >= award.count:
        raise PortalError(_l("“%(name)s” has already been given %(n)d time(s).", name=award.name, n=award.count))
    if current is not None:
        session.delete(current)
        session.flush()
    if award is not None:
        session.add(AwardGrant(award_id=award.id, entry_id=entry.id))
    session.flush()
    session.expire_all()
    record_event(
        session,
        actor=actor,
        action="award.grant",
        obj=entry,
        contest_id=entry.contest_id,
        before=before,
        after={"award": award.name} if award else None,
    )


def grant_from_ranking(session: DbSession, *, actor: User, contest: Contest, rnd: Round) -> int:
    """Fill every award in order from the top of the ranking (ties are left to the organiser); returns grants made."""
    rows = ranking(session, rnd)
    awards = awards_of(session, contest)
    for award in awards:
        for grant in list(award.grants):
            session.delete(grant)
    session.flush()
    made = 0
    queue = [r.entry for r in rows]
    for award in awards:
        for _ in range(award.count):
            if not queue:
                break
            session.add(AwardGrant(award_id=award.id, entry_id=queue.pop(0).id))
            made += 1
    session.flush()
    session.expire_all()
    record_event(session, actor=actor, action="award.fill", obj=contest, contest_id=contest.id, after={"grants": made})
    return made


def publish(
    session: DbSession, *, actor: User, contest: Contest, rnd: Round, close_intake: bool = False
) -> Publication:
    """Freeze ranking, scores and awards into a snapshot that the public page shows; later edits do not change it.

    Entry intake is a separate phase: it stays as it is unless the organiser chose `close_intake`."""
    rows = ranking(session, rnd)
    if not rows:
        raise PortalError(_l("There are no submitted scores to publish."))
    awards = awards_of(session, contest)
    if not any(a.grants for a in awards):
        raise PortalError(_l("Grant at least one award before publishing."))
    now = utcnow()

    def entry_doc(entry: Entry) -> dict:
        clip: Clip | None = entry.clip
        return {
            "entry_id": entry.id,
            "title": entry.title,
            "summary": entry.summary,
            "authors": ", ".join(entry.author_names),
            "author_names": entry.author_names,
            "unit": entry.unit.name,
            "unit_code": entry.unit.code,
            "clip_id": clip.id if clip and clip.status == ClipStatus.READY else None,
        }

    by_entry = {r.entry.id: r for r in rows}
    snapshot: dict[str, Any] = {
        "contest": contest.slug,
        "title": contest.title,
        "round": rnd.name,
        "round_id": rnd.id,
        "method": rnd.aggregation,
        "tie_breaks": list(rnd.tie_breaks or ()),
        "trim": rnd.trim,
        # The panel as it stood at publication (minutes list them and give each a signature line).
        "judges": sorted((m.judge.name for m in rnd.panel), key=_name_key),
        "published_at": now.isoformat(),
        "ranking": [
            {
                "rank": r.rank,
                "score": round(r.score, 4),
                "judges": r.judges,
                "tied": r.tied,
                "award": r.award.name if r.award else None,
                **entry_doc(r.entry),
            }
            for r in rows
        ],
        "awards": [
            {
                "name": a.name,
                "count": a.count,
                "kind": a.kind,
                "winners": [
                    {
                        **entry_doc(g.entry),
                        "rank": by_entry[g.entry_id].rank if g.entry_id in by_entry else None,
                        "score": round(by_entry[g.entry_id].score, 4) if g.entry_id in by_entry else None,
                    }
                    for g in sorted(
                        a.grants, key=lambda g: by_entry[g.entry_id].rank if g.entry_id in by_entry else 10**9
                    )
                ],
            }
            for a in awards
        ],
    }
    pub = Publication(contest_id=contest.id, published_at=now, published_by_id=actor.id, snapshot=snapshot)
    session.add(pub)
    contest.published_at = now
    session.flush()
    record_event(
        session,
        actor=actor,
        action="contest.publish",
        obj=contest,
        contest_id=contest.id,
        after={"publication": pub.id, "winners": sum(len(a["winners"]) for a in snapshot["awards"])},
    )
    if close_intake:
        close_contest_intake(session, actor=actor, contest=contest)
    return pub


def _name_key(name: str) -> tuple[str, str]:
    """Vietnamese alphabetical order by given name (the last word), then the whole name."""
    return (name.split()[-1].casefold() if name.split() else "", name.casefold())


def latest_publication(session: DbSession, contest: Contest) -> Publication | None:
    return session.scalar(
        select(Publication)
        .where(Publication.contest_id == contest.id)
        .order_by(Publication.published_at.desc(), Publication.id.desc())
        .limit(1)
    )


def published_clip_ids(session: DbSession, contest: Contest) -> set[int]:
    """Clips the public may watch: the winners of the latest publication."""
    pub = latest_publication(session, contest)
    if pub is None:
        return set()
    return {w["clip_id"] for a in pub.snapshot["awards"] for w in a["winners"] if w.get("clip_id")}
