"""The organiser's results board at national scale: numbers computed once per version of a round's sheets, cached in
Redis (shared by every web node, never in process memory), shown a page at a time with search.

The cache key names its content: the round's judging settings and rubric, and the latest `updated_at` of its sheets
per status, read from the index (round_id, status, updated_at) alone (sheet_state). Saving, submitting or
reopening a sheet is therefore a new key at once, with nothing to invalidate; old keys expire (BOARD_CACHE_SECONDS).
A view after a change reads the scores once and ranks by the official method only; the other methods are compared
on request (`?compare=1`), cached under the same version. The panel's progress is cached beside them. Titles, units
and awards are read for the rows of the page only, so renaming an entry or granting an award shows at once.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import math
from collections.abc import Callable
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
from app.models import AuditEvent, Entry, Round, ScoreSheet, SheetStatus, Unit, User
from app.services import scoring
from app.services.results import BoardRow, ResultRow, awards_by_entry, round_table
from judging.ranking import rank_table
from judging.reliability import agreement_table

log = logging.getLogger(__name__)

PER_PAGE = 50
FORMAT = 4  # bump when a cached document's shape changes


@dataclass(frozen=True)
class SheetState:
    """When the latest sheet of each status changed, read from the index (round_id, status, updated_at) with one
    seek per status: the warm board reads neither the sheet nor the score table, whatever the round's size."""

    groups: tuple[tuple[str, str], ...]


def sheet_state(session: DbSession, rnd: Round) -> SheetState:
    """The latest `updated_at` per status. Saving, submitting or reopening a sheet moves one of them: a reopened sheet
    becomes the latest draft. (Sheets are never deleted by the portal; a cascade from a deleted entry or account
    shows once any sheet of the round changes or the cache expires.)"""
    latest = [
        select(func.max(ScoreSheet.updated_at))
        .where(ScoreSheet.round_id == rnd.id, ScoreSheet.status == status)
        .scalar_subquery()
        for status in SheetStatus
    ]
    row = session.execute(select(*latest)).one()
    return SheetState(tuple((status.value, str(at)) for status, at in zip(SheetStatus, row, strict=True)))


def _digest(*parts: object) -> str:
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:32]


def board_version(session: DbSession, rnd: Round, state: SheetState | None = None) -> str:
    """A digest of everything the board's numbers depend on: settings, rubric and the round's submitted sheets."""
    state = state or sheet_state(session, rnd)
    return _digest(
        FORMAT,
        rnd.id,
        rnd.aggregation,
        list(rnd.tie_breaks or ()),
        rnd.trim,
        rnd.flag_threshold,
        [(c.id, c.name, c.max_points, c.weight) for c in rnd.criteria],
        state.groups,
    )


@dataclass
class Numbers:
    """Cached columns (numpy arrays, one value per entry or judge) and a small JSON meta."""

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


def _cached(redis: Redis | None, key: str, ttl: int, compute: Callable[[], Numbers]) -> Numbers:
    """compute() through the Redis cache: stored on a miss; computed alone when Redis is down."""
    if redis is not None:
        try:
            raw = redis.get(key)
            if raw is not None:
                return Numbers.loads(raw)  # type: ignore[arg-type]  # a client without decode_responses
        except RedisError as exc:
            log.warning("board cache unreachable: %s", exc)
            redis = None
    numbers = compute()
    if redis is not None:
        try:
            redis.set(key, numbers.dumps(), ex=ttl)
        except RedisError as exc:
            log.warning("board cache unreachable: %s", exc)
    return numbers


def compute_numbers(session: DbSession, rnd: Round) -> Numbers:
    """The official ranking, spread and flags, agreement and leniency, from one score query fetched as arrays.

    The other methods are compared on request only (compute_comparison): ranking 20,000 entries four more times
    would make the first view after every saved sheet several seconds slower."""
    max_total = sum(c.max_points * c.weight for c in rnd.criteria)
    meta: dict[str, Any] = {"max_total": max_total, "agreement": None}
    table = round_table(session, rnd)
    if table is None:
        empty = np.zeros(0, dtype=np.int64)
        return Numbers(columns={"entries": empty, "rank": empty}, meta=meta | {"leniency": [], "tie_break": {}})
    official = rank_table(table, method=rnd.aggregation, tie_breaks=tuple(rnd.tie_breaks or ()), trim=rnd.trim)
    order = [r.entry for r in official]
    position = {e: i for i, e in enumerate(order)}
    columns: dict[str, np.ndarray] = {
        "entries": np.array([int(e) for e in order], dtype=np.int64),
        "rank": np.array([r.rank for r in official], dtype=np.int64),
        "score": np.array([r.score for r in official], dtype=np.float64),
        "judges": np.array([r.judges for r in official], dtype=np.int64),
        "tied": np.array([r.tied for r in official], dtype=bool),
    }
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


def compute_comparison(session: DbSession, rnd: Round, numbers: Numbers) -> Numbers:
    """Rank and score of every entry by each other method, in the official order of `numbers`."""
    others = [m for m in judging.METHODS if m != rnd.aggregation]
    table = round_table(session, rnd)
    columns: dict[str, np.ndarray] = {"entries": numbers.columns["entries"]}
    position = {str(e): i for i, e in enumerate(numbers.columns["entries"].tolist())}
    for m in others:
        ranks, scores = np.zeros(numbers.size, dtype=np.int64), np.zeros(numbers.size, dtype=np.float64)
        if table is not None:
            ranked = rank_table(
                table, method=m, tie_breaks=tuple(rnd.tie_breaks or ()), trim=rnd.trim, with_totals=False
            )
            where = np.array([position[r.entry] for r in ranked], dtype=np.int64)
            ranks[where] = [r.rank for r in ranked]
            scores[where] = [r.score for r in ranked]
        columns[f"rank_{m}"], columns[f"score_{m}"] = ranks, scores
    return Numbers(columns=columns, meta={"methods": others})


def cached_numbers(
    session: DbSession, rnd: Round, redis: Redis | None, *, ttl: int, state: SheetState | None = None
) -> Numbers:
    """compute_numbers through the Redis cache, under the round's current version."""
    key = f"board:{rnd.id}:{board_version(session, rnd, state)}"
    return _cached(redis, key, ttl, lambda: compute_numbers(session, rnd))


def cached_comparison(
    session: DbSession, rnd: Round, numbers: Numbers, redis: Redis | None, *, ttl: int, state: SheetState | None = None
) -> Numbers:
    """compute_comparison through the Redis cache, under the same version as the numbers it completes."""
    key = f"board:{rnd.id}:{board_version(session, rnd, state)}:compare"
    return _cached(redis, key, ttl, lambda: compute_comparison(session, rnd, numbers))


def cached_progress(
    session: DbSession, rnd: Round, judges: list[User], redis: Redis | None, *, ttl: int, state: SheetState
) -> dict[int, scoring.Progress]:
    """The panel's progress through the Redis cache.

    Its key names the round's sheets of every status (drafts too) and the contest's latest audited change (a
    conflict declared, an entry withdrawn or submitted, assignments made, the shortlist advanced), so the warm board
    reads no sheet. A clip that becomes ready is not audited: it shows in `total` once a sheet or an audited change
    moves the key, or the key expires (BOARD_CACHE_SECONDS)."""
    latest_event = session.execute(
        select(AuditEvent.id, AuditEvent.at)
        .where(AuditEvent.contest_id == rnd.contest_id)
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
        .limit(1)
    ).first()
    key = "board:{}:progress:{}".format(
        rnd.id,
        _digest(
            FORMAT,
            rnd.assignment_mode,
            rnd.uses_shortlist,
            state.groups,
            tuple(latest_event) if latest_event else None,
            sorted((j.id, j.unit_id) for j in judges),
        ),
    )

    def compute() -> Numbers:
        done = scoring.panel_progress(session, rnd=rnd, judges=judges)
        ids = sorted(done)
        return Numbers(
            columns={
                "entries": np.array(ids, dtype=np.int64),  # judge ids here
                "submitted": np.array([done[j].submitted for j in ids], dtype=np.int64),
                "drafts": np.array([done[j].drafts for j in ids], dtype=np.int64),
                "total": np.array([done[j].total for j in ids], dtype=np.int64),
            },
            meta={},
        )

    cached = _cached(redis, key, ttl, compute)
    c = {k: v.tolist() for k, v in cached.columns.items()}
    return {
        j: scoring.Progress(submitted=c["submitted"][i], drafts=c["drafts"][i], total=c["total"][i])
        for i, j in enumerate(c["entries"])
    }


@dataclass(frozen=True)
class BoardPage:
    rows: list[BoardRow]
    methods: tuple[str, ...]  # the methods compared beside the official one (none unless asked for)
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
    session: DbSession,
    rnd: Round,
    numbers: Numbers,
    positions: np.ndarray,
    *,
    query: str = "",
    page: int = 1,
    comparison: Numbers | None = None,
    per_page: int = PER_PAGE,
) -> BoardPage:
    """One page of the board: the rows at `positions` (from matching_positions) with their entries, units and awards,
    the other methods' ranks when a comparison is given, and the panel-level figures."""
    pages = max(1, -(-len(positions) // per_page))
    shown = positions[(page - 1) * per_page : page * per_page].tolist()
    col = {k: v[shown].tolist() for k, v in numbers.columns.items()}
    if comparison is not None:
        col |= {k: v[shown].tolist() for k, v in comparison.columns.items() if k != "entries"}
    ids = col["entries"]
    entries = {
        e.id: e for e in session.scalars(select(Entry).options(selectinload(Entry.unit)).where(Entry.id.in_(ids)))
    }
    grants = awards_by_entry(session, rnd.contest_id, entry_ids=ids)
    methods = tuple(comparison.meta["methods"]) if comparison is not None else ()
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
