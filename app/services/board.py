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
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any

import numpy as np
from redis import Redis
from redis.exceptions import RedisError
from sqlalchemy import case, func, or_, select
from sqlalchemy.orm import selectinload

import judging
from app.db import DbSession
from app.models import AuditEvent, Entry, Round, Score, ScoreSheet, SheetStatus, Unit, User
from app.services import scoring
from app.services.results import BoardRow, ResultRow, awards_by_entry, round_table
from judging.methods import rounded
from judging.ranking import RankColumns, rank_columns
from judging.reliability import agreement_table
from judging.table import ScoreTable, table_from_sheets

log = logging.getLogger(__name__)

PER_PAGE = 50
FORMAT = 5  # bump when a cached document's shape changes


@dataclass(frozen=True)
class SheetState:
    """When the latest sheet of each status changed, read from the index (round_id, status, updated_at) with one
    seek per status: the warm board reads neither the sheet nor the score table, whatever the round's size."""

    groups: tuple[tuple[str, str], ...]
    latest: datetime | None = None  # the latest change of any sheet of the round

    @classmethod
    def of(cls, latest: dict[SheetStatus, datetime | None]) -> SheetState:
        known = [at for at in latest.values() if at is not None]
        return cls(tuple((status.value, str(at)) for status, at in latest.items()), max(known, default=None))


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
    return SheetState.of(dict(zip(SheetStatus, row, strict=True)))


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


# Sheets re-read before the cached state's latest change: a sheet saved in a transaction that committed after a later
# one (or on a node whose clock is a little behind) still reaches the columns. Reading a sheet again is harmless.
REREAD = timedelta(seconds=60)


def _rubric(rnd: Round) -> list[judging.Criterion]:
    """The rubric as round_table() gives it to the judging library."""
    return [judging.Criterion(name=c.name, max_points=c.max_points, weight=c.weight) for c in rnd.criteria]


def _numeric_rows(session: DbSession, query, width: int) -> np.ndarray:
    """The rows of a query of numbers as one float64 array (width columns), taken from the driver's cursor: no Row
    object per row (400,000 of them cost more than the rest of a cold board). Ids stay exact below 2**53."""
    result = session.connection().execute(query)
    try:
        rows = result.cursor.fetchall() if result.cursor is not None else []
    finally:
        result.close()
    return np.array(rows, dtype=np.float64).reshape(-1, width)


def _sheet_columns(data: np.ndarray, criteria: list[int]) -> dict[str, np.ndarray] | None:
    """Score rows (sheet id, entry, judge, criterion id, points) of submitted sheets as one row per sheet, sorted by
    id, with the points in rubric order; None when a sheet lacks a criterion or names one outside the rubric
    (round_table then raises the judging library's message)."""
    if not criteria and data.size:
        return None
    ids, crit = data[:, 0].astype(np.int64), data[:, 3].astype(np.int64)
    rubric = np.array(criteria, dtype=np.int64)
    sorter = np.argsort(rubric)
    found = sorter[np.minimum(np.searchsorted(rubric, crit, sorter=sorter), max(len(criteria) - 1, 0))]
    if not np.array_equal(rubric[found], crit):
        return None
    sheets, first, inverse, counts = np.unique(ids, return_index=True, return_inverse=True, return_counts=True)
    if np.any(counts != len(criteria)):
        return None
    points = np.full((sheets.size, len(criteria)), np.nan)
    points[inverse.reshape(-1), found] = data[:, 4]
    if np.isnan(points).any():  # the same criterion twice in one sheet
        return None
    return {
        "sheet": sheets,
        "entry": data[first, 1].astype(np.int64),
        "judge": data[first, 2].astype(np.int64),
        "points": points,
    }


def _read_sheets(session: DbSession, rnd: Round) -> dict[str, np.ndarray] | None:
    """Every submitted sheet of the round, from one score query."""
    query = (
        select(ScoreSheet.id, ScoreSheet.entry_id, ScoreSheet.judge_id, Score.criterion_id, Score.points)
        .join(Score, Score.sheet_id == ScoreSheet.id)
        .where(ScoreSheet.round_id == rnd.id, ScoreSheet.status == SheetStatus.SUBMITTED)
    )
    return _sheet_columns(_numeric_rows(session, query, 5), [c.id for c in rnd.criteria])


def _changed_sheets(
    session: DbSession, rnd: Round, cached: dict[str, np.ndarray], since: datetime
) -> dict[str, np.ndarray] | None:
    """The cached columns with every sheet changed after `since` read again (one query through the index
    (round_id, status, updated_at), drafts included: a reopened sheet leaves the columns), or None when anything
    is uncertain: a changed sheet incomplete, or the round's submitted sheets (their count and the sum of their ids)
    not those of the result, as after a cascade deleted one."""
    query = (
        select(
            ScoreSheet.id,
            ScoreSheet.entry_id,
            ScoreSheet.judge_id,
            func.coalesce(Score.criterion_id, -1),
            func.coalesce(Score.points, 0.0),
            case((ScoreSheet.status == SheetStatus.SUBMITTED, 1), else_=0),
        )
        .outerjoin(Score, Score.sheet_id == ScoreSheet.id)
        .where(
            ScoreSheet.round_id == rnd.id,
            ScoreSheet.status.in_(list(SheetStatus)),
            ScoreSheet.updated_at > since,
        )
    )
    rows = _numeric_rows(session, query, 6)
    submitted = rows[:, 5] == 1
    fresh = _sheet_columns(rows[submitted, :5], [c.id for c in rnd.criteria])
    if fresh is None:
        return None
    keep = ~np.isin(cached["sheet"], rows[:, 0].astype(np.int64))
    columns = {k: np.concatenate([v[keep], fresh[k]]) for k, v in cached.items()}
    order = np.argsort(columns["sheet"], kind="stable")
    columns = {k: v[order] for k, v in columns.items()}
    count, total = session.execute(
        select(func.count(), func.sum(ScoreSheet.id)).where(
            ScoreSheet.round_id == rnd.id, ScoreSheet.status == SheetStatus.SUBMITTED
        )
    ).one()
    if count != columns["sheet"].size or int(total or 0) != int(columns["sheet"].sum()):
        return None
    return columns


def score_table(
    session: DbSession, rnd: Round, redis: Redis | None, *, ttl: int, state: SheetState | None = None
) -> ScoreTable | None:
    """The round's submitted scores as the judging library's table (None without any), equal to round_table()'s.

    The sheets are kept in Redis as columns (one row per sheet, its points in rubric order) with the latest change
    they include. After a change only the sheets changed since then (less REREAD) are read again; a full read
    when the rubric changed (another key), the cache is empty, or _changed_sheets finds anything uncertain."""
    state = state or sheet_state(session, rnd)
    rubric = _rubric(rnd)
    rubric_digest = _digest(FORMAT, rnd.id, [(c.id, c.name, c.max_points, c.weight) for c in rnd.criteria])
    key = f"board:{rnd.id}:sheets:{rubric_digest}"
    cached: Numbers | None = None
    if redis is not None:
        try:
            raw = redis.get(key)
            cached = Numbers.loads(raw) if raw is not None else None  # type: ignore[arg-type]
        except RedisError as exc:
            log.warning("board cache unreachable: %s", exc)
            redis = None
    through = state.latest.isoformat() if state.latest else None
    columns = None
    if cached is not None and cached.meta.get("through"):
        if cached.meta["through"] == through:
            columns = cached.columns
        else:
            since = datetime.fromisoformat(cached.meta["through"]) - REREAD
            columns = _changed_sheets(session, rnd, cached.columns, since)
    if columns is None:
        columns = _read_sheets(session, rnd)
        if columns is None:
            return round_table(session, rnd)  # an incomplete sheet: the judging library says which
    if redis is not None and (cached is None or cached.meta.get("through") != through):
        try:
            redis.set(key, Numbers(columns=columns, meta={"through": through}).dumps(), ex=ttl)
        except RedisError as exc:
            log.warning("board cache unreachable: %s", exc)
    if not columns["sheet"].size:
        return None
    return table_from_sheets(columns["entry"], columns["judge"], columns["points"], rubric)


def _entry_ids(table: ScoreTable) -> np.ndarray:
    return np.array(table.entries, dtype=np.int64)


def compute_numbers(rnd: Round, table: ScoreTable | None) -> Numbers:
    """The official ranking, spread and flags, agreement and leniency, as columns in official order.

    The other methods are compared on request only (compute_comparison): ranking 20,000 entries four more times
    would make the first view after every saved sheet slower. Tie-break notes are written for the rows shown
    (tie_break_notes) from the tie groups kept here."""
    max_total = sum(c.max_points * c.weight for c in rnd.criteria)
    meta: dict[str, Any] = {"max_total": max_total, "agreement": None, "rules": []}
    if table is None:
        empty = np.zeros(0, dtype=np.int64)
        return Numbers(columns={"entries": empty, "rank": empty}, meta=meta | {"leniency": []})
    official = rank_columns(table, method=rnd.aggregation, tie_breaks=tuple(rnd.tie_breaks or ()), trim=rnd.trim)
    order = official.order
    columns: dict[str, np.ndarray] = {
        "entries": _entry_ids(table)[order],
        "rank": official.rank,
        "score": official.score,
        "judges": official.judges,
        "tied": official.tied,
    } | {name: getattr(official, name) for name in _TIE_GROUPS}
    report = agreement_table(table, flag_threshold=rnd.flag_threshold)
    columns["spread"] = np.array([a.range for a in report.per_entry], dtype=np.float64)[order]
    columns["flag"] = np.array([a.flag for a in report.per_entry], dtype=bool)[order]
    # Leniency: each judge's mean total (rounded as the ranking's per-judge totals are) against the panel's.
    totals = rounded(table.totals)
    scored = np.bincount(table.sheet_judge, minlength=len(table.judges))
    sums = np.bincount(table.sheet_judge, weights=totals, minlength=len(table.judges))
    panel_mean = float(totals.mean())
    means = sums / np.maximum(scored, 1)
    lenient = sorted(
        (
            [int(j), n, mean, mean - panel_mean]
            for j, n, mean in zip(table.judges, scored.tolist(), means.tolist(), strict=True)
            if n
        ),
        key=lambda x: -x[3],
    )
    meta |= {
        "panel_mean": panel_mean,
        "rules": list(official.rules),
        "agreement": {
            "kendall_w": report.kendall_w,
            "icc": report.icc,
            "note": report.note,
            "threshold": report.threshold,
        },
        "leniency": lenient,
    }
    return Numbers(columns=columns, meta=meta)


_TIE_GROUPS = ("score_start", "score_size", "final_start", "final_size", "separated_by", "separated_value")


def tie_break_notes(numbers: Numbers, positions: list[int]) -> dict[int, str]:
    """The ranking's tie-break note (as rank_table() writes it) of each of these positions that has one."""
    if "score_size" not in numbers.columns:
        return {}
    c = numbers.columns
    ranked = RankColumns(
        entries=c["entries"],
        rules=tuple(numbers.meta["rules"]),
        order=np.arange(numbers.size),
        rank=c["rank"],
        score=c["score"],
        tied=c["tied"],
        judges=c["judges"],
        **{name: c[name] for name in _TIE_GROUPS},
    )
    notes = {pos: ranked.note(pos) for pos in positions}
    return {pos: note for pos, note in notes.items() if note is not None}


def compute_comparison(rnd: Round, table: ScoreTable | None, numbers: Numbers) -> Numbers:
    """Rank and score of every entry by each other method, in the official order of `numbers`."""
    others = [m for m in judging.METHODS if m != rnd.aggregation]
    official = numbers.columns["entries"]
    columns: dict[str, np.ndarray] = {"entries": official}
    sorter = np.argsort(official)
    for m in others:
        ranks, scores = np.zeros(numbers.size, dtype=np.int64), np.zeros(numbers.size, dtype=np.float64)
        if table is not None and numbers.size:
            ranked = rank_columns(table, method=m, tie_breaks=tuple(rnd.tie_breaks or ()), trim=rnd.trim)
            ids = _entry_ids(table)[ranked.order]
            found = sorter[np.minimum(np.searchsorted(official, ids, sorter=sorter), numbers.size - 1)]
            known = official[found] == ids  # an entry scored after `numbers` were computed is left out
            ranks[found[known]], scores[found[known]] = ranked.rank[known], ranked.score[known]
        columns[f"rank_{m}"], columns[f"score_{m}"] = ranks, scores
    return Numbers(columns=columns, meta={"methods": others})


def cached_numbers(
    session: DbSession, rnd: Round, redis: Redis | None, *, ttl: int, state: SheetState | None = None
) -> Numbers:
    """compute_numbers through the Redis cache, under the round's current version."""
    state = state or sheet_state(session, rnd)
    key = f"board:{rnd.id}:{board_version(session, rnd, state)}"
    return _cached(
        redis, key, ttl, lambda: compute_numbers(rnd, score_table(session, rnd, redis, ttl=ttl, state=state))
    )


def cached_comparison(
    session: DbSession, rnd: Round, numbers: Numbers, redis: Redis | None, *, ttl: int, state: SheetState | None = None
) -> Numbers:
    """compute_comparison through the Redis cache, under the same version as the numbers it completes."""
    state = state or sheet_state(session, rnd)
    key = f"board:{rnd.id}:{board_version(session, rnd, state)}:compare"
    return _cached(
        redis,
        key,
        ttl,
        lambda: compute_comparison(rnd, score_table(session, rnd, redis, ttl=ttl, state=state), numbers),
    )


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
    notes = tie_break_notes(numbers, shown)
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
            tie_break=notes.get(i),
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
