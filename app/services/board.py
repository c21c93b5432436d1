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
import io
import json
import logging
import math
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import numpy as np
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
FORMAT = 2  # bump when the cached document's shape changes


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


@dataclass
class Numbers:
    """A board's numbers: per-entry columns as numpy arrays in official order, and the panel-level figures."""

    columns: dict[str, np.ndarray]
    meta: dict[str, Any]

    @property
    def size(self) -> int:
        return len(self.columns["entries"])

    def dumps(self) -> bytes:
        """Bytes for the cache: the JSON meta, then the columns as an .npz (no pickles)."""
        meta = json.dumps(self.meta, separators=(",", ":")).encode()
        buffer = io.BytesIO()
        np.savez(buffer, **self.columns)  # type: ignore[arg-type]
        return len(meta).to_bytes(8, "big") + meta + buffer.getvalue()

    @classmethod
    def loads(cls, raw: bytes) -> Numbers:
        size = int.from_bytes(raw[:8], "big")
        meta = json.loads(raw[8 : 8 + size])
        with np.load(io.BytesIO(raw[8 + size :]), allow_pickle=False) as npz:
            columns = {k: npz[k] for k in npz.files}
        return cls(columns=columns, meta=meta)


def compute_numbers(session: DbSession, rnd: Round) -> Numbers:
    """The board's numbers, from one score query fetched as arrays; every method ranks the same validated table."""
    max_total = sum(c.max_points * c.weight for c in rnd.criteria)
    meta: dict[str, Any] = {"methods": list(judging.METHODS), "max_total": max_total, "agreement": None}
    table = round_table(session, rnd)
    if table is None:
        empty = np.zeros(0, dtype=np.int64)
        return Numbers(columns={"entries": empty, "rank": empty}, meta=meta | {"leniency": [], "tie_break": {}})
    tie_breaks = tuple(rnd.tie_breaks or ())
    official = rank_table(table, method=rnd.aggregation, tie_breaks=tie_breaks, trim=rnd.trim)
    order = [r.entry for r in official]
    position = {e: i for i, e in enumerate(order)}
    columns: dict[str, np.ndarray] = {
        "entries": np.array([int(e) for e in order], dtype=np.int64),
        "rank": np.array([r.rank for r in official], dtype=np.int64),
        "score": np.array([r.score for r in official], dtype=np.float64),
        "judges": np.array([r.judges for r in official], dtype=np.int64),
        "tied": np.array([r.tied for r in official], dtype=bool),
    }
    for m in judging.METHODS:
        ranked = (
            official
            if m == rnd.aggregation
            else rank_table(table, method=m, tie_breaks=tie_breaks, trim=rnd.trim, with_totals=False)
        )
        ranks, scores = np.zeros(len(order), dtype=np.int64), np.zeros(len(order), dtype=np.float64)
        where = np.array([position[r.entry] for r in ranked], dtype=np.int64)
        ranks[where] = [r.rank for r in ranked]
        scores[where] = [r.score for r in ranked]
        columns[f"rank_{m}"], columns[f"score_{m}"] = ranks, scores
    report = agreement_table(table, flag_threshold=rnd.flag_threshold)
    spread, flag = np.full(len(order), np.nan), np.zeros(len(order), dtype=bool)
    for a in report.per_entry:
        spread[position[a.entry]], flag[position[a.entry]] = a.range, a.flag
    columns["spread"], columns["flag"] = spread, flag
    per_judge: dict[str, list[float]] = {}
    for line in official:
        for judge, total in line.totals.items():
            per_judge.setdefault(judge, []).append(total)
    every = [t for ts in per_judge.values() for t in ts]
    panel_mean = sum(every) / len(every)
    meta |= {
        "panel_mean": panel_mean,
        "tie_break": {str(i): r.tie_break for i, r in enumerate(official) if r.tie_break},
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
    return Numbers(columns=columns, meta=meta)


def cached_numbers(session: DbSession, rnd: Round, redis: Redis | None, *, ttl: int) -> Numbers:
    """compute_numbers through the Redis cache (computed and stored on a miss; computed alone when Redis is down)."""
    key = f"board:{rnd.id}:{board_version(session, rnd)}"
    if redis is not None:
        try:
            raw = redis.get(key)
            if raw is not None:
                return Numbers.loads(raw)  # type: ignore[arg-type]  # a client without decode_responses
        except RedisError as exc:
            log.warning("board cache unreachable: %s", exc)
            redis = None
    numbers = compute_numbers(session, rnd)
    if redis is not None:
        try:
            redis.set(key, numbers.dumps(), ex=ttl)
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


def matching_positions(session: DbSession, rnd: Round, numbers: Numbers, query: str) -> np.ndarray:
    """Positions (in official order) of the rows a search asks for: a rank, #entry id, or words of a title or unit."""
    query = query.strip()
    entries = numbers.columns["entries"]
    if not query:
        return np.arange(numbers.size)
    if query.startswith("#") and query[1:].isdigit():
        return np.flatnonzero(entries == int(query[1:]))
    if query.isdigit():
        return np.flatnonzero(numbers.columns["rank"] == int(query))
    pattern = f"%{query.lower()}%"
    conditions = [func.lower(Entry.title).like(pattern)]
    if not rnd.blind:
        conditions += [func.lower(Unit.name).like(pattern), func.lower(Unit.code).like(pattern)]
    ids = list(
        session.scalars(
            select(Entry.id)
            .join(Unit, Unit.id == Entry.unit_id)
            .where(Entry.contest_id == rnd.contest_id, or_(*conditions))
        )
    )
    return np.flatnonzero(np.isin(entries, np.array(ids, dtype=np.int64)))


def board_page(
    session: DbSession, rnd: Round, numbers: Numbers, *, query: str = "", page: int = 1, per_page: int = PER_PAGE
) -> BoardPage:
    """One page of the board (rows with their entries, units and awards), plus the panel-level figures."""
    positions = matching_positions(session, rnd, numbers, query)
    pages = max(1, -(-len(positions) // per_page))
    shown = positions[(page - 1) * per_page : page * per_page].tolist()
    col = {k: v[shown].tolist() for k, v in numbers.columns.items()}
    ids = col["entries"]
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
    methods = tuple(numbers.meta["methods"])
    notes = numbers.meta.get("tie_break", {})
    rows = []
    for k, i in enumerate(shown):
        entry_id = ids[k]
        official = ResultRow(
            rank=col["rank"][k],
            entry=entries[entry_id],
            score=col["score"][k],
            judges=col["judges"][k],
            tied=col["tied"][k],
            award=grants.get(entry_id),
            tie_break=notes.get(str(i)),
        )
        by_method = {m: (col[f"rank_{m}"][k], col[f"score_{m}"][k]) for m in methods}
        spread = col["spread"][k]
        rows.append(
            BoardRow(
                official=official,
                by_method=by_method,
                delta={m: official.rank - by_method[m][0] for m in methods},
                spread=None if math.isnan(spread) else SimpleNamespace(range=spread, flag=col["flag"][k]),  # type: ignore[arg-type]
            )
        )
    leniency = []
    if numbers.meta.get("leniency"):
        judge_ids = [j[0] for j in numbers.meta["leniency"]]
        judges = {u.id: u for u in session.scalars(select(User).where(User.id.in_(judge_ids)))}
        leniency = [
            SimpleNamespace(judge=judges[j], scored=n, mean_total=mean, difference=diff)
            for j, n, mean, diff in numbers.meta["leniency"]
        ]
    agreement = SimpleNamespace(**numbers.meta["agreement"]) if numbers.meta.get("agreement") else None
    return BoardPage(
        rows=rows,
        methods=methods,
        agreement=agreement,
        leniency=leniency,
        panel_mean=numbers.meta.get("panel_mean"),
        max_total=numbers.meta["max_total"],
        total=len(positions),
        page=page,
        pages=pages,
        query=query.strip(),
    )
