"""The organiser's results board at national scale: numbers computed once per version of a round's sheets, cached in
Redis (shared by every web node, never in process memory), shown a page at a time with search.

The cache key names its content: the round's judging settings and rubric, and one aggregate query over its sheets
(count and latest `updated_at`; saving or reopening a sheet moves it). A changed sheet is therefore a new key at once,
with nothing to invalidate; old keys expire (BOARD_CACHE_SECONDS). The cached numbers are plain JSON columns in the
official order; titles, units and awards are read for the rows of the page only, so renaming an entry or granting
an award shows at once without recomputing anything.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

from redis import Redis
from redis.exceptions import RedisError
from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

import judging
from app.db import DbSession
from app.models import Award, AwardGrant, Entry, Round, ScoreSheet, SheetStatus, Unit, User
from app.services.results import BoardRow, ResultRow, round_table
from judging.ranking import rank_table
from judging.reliability import agreement_table

log = logging.getLogger(__name__)

PER_PAGE = 50
FORMAT = 1  # bump when the cached document's shape changes


def board_version(session: DbSession, rnd: Round) -> str:
    """A digest of everything the board's numbers depend on: settings, rubric and the round's sheets."""
    count, latest = session.execute(
        select(func.count(ScoreSheet.id), func.max(ScoreSheet.updated_at)).where(
            ScoreSheet.round_id == rnd.id, ScoreSheet.status == SheetStatus.SUBMITTED
        )
    ).one()
    settings = (
        FORMAT,
        rnd.id,
        rnd.aggregation,
        list(rnd.tie_breaks or ()),
        rnd.trim,
        rnd.flag_threshold,
        [(c.id, c.name, c.max_points, c.weight) for c in rnd.criteria],
        count,
        str(latest),
    )
    return hashlib.sha256(repr(settings).encode()).hexdigest()[:32]


def compute_numbers(session: DbSession, rnd: Round) -> dict[str, Any]:
    """The board's numbers as plain JSON columns (official order), from one score query fetched as arrays."""
    max_total = sum(c.max_points * c.weight for c in rnd.criteria)
    table = round_table(session, rnd)
    if table is None:
        return {"entries": [], "methods": list(judging.METHODS), "max_total": max_total, "agreement": None}
    tie_breaks = tuple(rnd.tie_breaks or ())
    by_method = {m: rank_table(table, method=m, tie_breaks=tie_breaks, trim=rnd.trim) for m in judging.METHODS}
    official = by_method[rnd.aggregation]
    order = [r.entry for r in official]
    report = agreement_table(table, flag_threshold=rnd.flag_threshold)
    spreads = {a.entry: a for a in report.per_entry}
    per_judge: dict[str, list[float]] = {}
    for ranked in official:
        for judge, total in ranked.totals.items():
            per_judge.setdefault(judge, []).append(total)
    every = [t for ts in per_judge.values() for t in ts]
    panel_mean = sum(every) / len(every)
    methods = {}
    for m, ranked in by_method.items():
        lookup = {r.entry: (r.rank, r.score) for r in ranked}
        methods[m] = [lookup[e] for e in order]
    return {
        "entries": [int(e) for e in order],
        "rank": [r.rank for r in official],
        "score": [r.score for r in official],
        "judges": [r.judges for r in official],
        "tied": [r.tied for r in official],
        "tie_break": [r.tie_break for r in official],
        "spread": [[spreads[e].range, spreads[e].flag] if e in spreads else None for e in order],
        "by_method": methods,
        "methods": list(judging.METHODS),
        "max_total": max_total,
        "panel_mean": panel_mean,
        "agreement": {
            "kendall_w": report.kendall_w,
            "icc": report.icc,
            "note": report.note,
            "threshold": report.threshold,
        },
        "leniency": sorted(
            ([int(j), len(ts), sum(ts) / len(ts), sum(ts) / len(ts) - panel_mean] for j, ts in per_judge.items()),
            key=lambda x: -x[3],
        ),
    }


def cached_numbers(session: DbSession, rnd: Round, redis: Redis | None, *, ttl: int) -> dict[str, Any]:
    """compute_numbers through the Redis cache (computed and stored on a miss; computed alone when Redis is down)."""
    key = f"board:{rnd.id}:{board_version(session, rnd)}"
    if redis is not None:
        try:
            raw = redis.get(key)
            if raw is not None:
                return json.loads(raw)
        except RedisError as exc:
            log.warning("board cache unreachable: %s", exc)
            redis = None
    numbers = compute_numbers(session, rnd)
    if redis is not None:
        try:
            redis.set(key, json.dumps(numbers, separators=(",", ":")), ex=ttl)
        except RedisError as exc:
            log.warning("board cache unreachable: %s", exc)
    return numbers


@dataclass(frozen=True)
class BoardPage:
    rows: list[BoardRow]
    methods: tuple[str, ...]
    agreement: Any
    leniency: list[Any]
    panel_mean: float | None
    max_total: float
    total: int  # rows matching the search
    page: int
    pages: int
    query: str


def matching_positions(session: DbSession, rnd: Round, numbers: dict[str, Any], query: str) -> list[int]:
    """Positions (in official order) of the rows a search asks for: a rank number, or words of a title or unit."""
    query = query.strip()
    if not query:
        return list(range(len(numbers["entries"])))
    if query.isdigit() or (query.startswith("#") and query[1:].isdigit()):
        wanted = int(query.lstrip("#"))
        by_rank = [i for i, r in enumerate(numbers["rank"]) if r == wanted]
        by_id = [i for i, e in enumerate(numbers["entries"]) if e == wanted] if query.startswith("#") else []
        return by_id or by_rank
    pattern = f"%{query.lower()}%"
    conditions = [func.lower(Entry.title).like(pattern)]
    if not rnd.blind:
        conditions += [func.lower(Unit.name).like(pattern), func.lower(Unit.code).like(pattern)]
    ids = set(
        session.scalars(
            select(Entry.id)
            .join(Unit, Unit.id == Entry.unit_id)
            .where(Entry.contest_id == rnd.contest_id, or_(*conditions))
        )
    )
    return [i for i, e in enumerate(numbers["entries"]) if e in ids]


def board_page(
    session: DbSession, rnd: Round, numbers: dict[str, Any], *, query: str = "", page: int = 1, per_page: int = PER_PAGE
) -> BoardPage:
    """One page of the board (rows with their entries, units and awards), plus the panel-level figures."""
    positions = matching_positions(session, rnd, numbers, query)
    pages = max(1, -(-len(positions) // per_page))
    shown = positions[(page - 1) * per_page : page * per_page]
    ids = [numbers["entries"][i] for i in shown]
    entries = {
        e.id: e for e in session.scalars(select(Entry).options(selectinload(Entry.unit)).where(Entry.id.in_(ids)))
    }
    grants = {
        g.entry_id: g.award
        for g in session.scalars(
            select(AwardGrant)
            .options(selectinload(AwardGrant.award))
            .join(Award)
            .where(Award.contest_id == rnd.contest_id, AwardGrant.entry_id.in_(ids))
        )
    }
    methods = tuple(numbers["methods"])
    rows = []
    for i in shown:
        entry_id = numbers["entries"][i]
        official = ResultRow(
            rank=numbers["rank"][i],
            entry=entries[entry_id],
            score=numbers["score"][i],
            judges=numbers["judges"][i],
            tied=numbers["tied"][i],
            award=grants.get(entry_id),
            tie_break=numbers["tie_break"][i],
        )
        by_method = {m: tuple(numbers["by_method"][m][i]) for m in methods}
        spread = numbers["spread"][i]
        rows.append(
            BoardRow(
                official=official,
                by_method=by_method,  # type: ignore[arg-type]
                delta={m: official.rank - by_method[m][0] for m in methods},
                spread=SimpleNamespace(range=spread[0], flag=spread[1]) if spread else None,  # type: ignore[arg-type]
            )
        )
    leniency = []
    if numbers.get("leniency"):
        judges = {
            u.id: u for u in session.scalars(select(User).where(User.id.in_([j[0] for j in numbers["leniency"]])))
        }
        leniency = [
            SimpleNamespace(judge=judges[j], scored=n, mean_total=mean, difference=diff)
            for j, n, mean, diff in numbers["leniency"]
        ]
    agreement = SimpleNamespace(**numbers["agreement"]) if numbers.get("agreement") else None
    return BoardPage(
        rows=rows,
        methods=methods,
        agreement=agreement,
        leniency=leniency,
        panel_mean=numbers.get("panel_mean"),
        max_total=numbers["max_total"],
        total=len(positions),
        page=page,
        pages=pages,
        query=query.strip(),
    )
