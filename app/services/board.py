"""The organiser's results board at national scale: numbers computed once per version of a round's sheets, cached in
Redis (shared by every web node, never in process memory), shown a page at a time with search.

The cache key names its content: the round's judging settings and rubric, and the latest `updated_at` of its sheets
per status, read from the index (round_id, status, updated_at) alone (sheet_state). Saving, submitting or
reopening a sheet is therefore a new key at once, with nothing to invalidate; old keys expire (BOARD_CACHE_SECONDS).
A view after a change does not read the round's scores again: the submitted sheets are kept in Redis as columns
(RoundSheets), and only the sheets changed since are read and applied, then checked against the round's submitted
sheets (count and id sum), with a full read whenever anything is uncertain. It ranks by the official method only, in
numpy columns (tie-break notes are written for the rows shown); the other methods are compared on request
(`?compare=1`), cached under the same version. The panel's progress is cached beside them, computed from the same
columns. Titles, units and awards are read for the rows of the page only, so renaming an entry or granting an award
shows at once.
"""

from __future__ import annotations

import hashlib
import io
import itertools
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
from sqlalchemy import case, func, literal_column, or_, select, union_all
from sqlalchemy.orm import selectinload

import judging
from app.db import DbSession
from app.models import (
    Assignment,
    AssignmentMode,
    AuditEvent,
    Clip,
    ClipStatus,
    Conflict,
    Entry,
    EntryStatus,
    Round,
    RoundEntry,
    Score,
    ScoreSheet,
    SheetStatus,
    Unit,
    User,
)
from app.services import scoring
from app.services.results import BoardRow, ResultRow, awards_by_entry, round_table
from judging.methods import rounded
from judging.ranking import RankColumns, rank_columns
from judging.reliability import agreement_table, spread_columns
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
    flat = itertools.chain.from_iterable(rows)
    return np.fromiter(flat, dtype=np.float64, count=len(rows) * width).reshape(-1, width)


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
    (round_id, status, updated_at), drafts included: a reopened sheet leaves the columns); None when a changed
    sheet is incomplete."""
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
    return {k: v[order] for k, v in columns.items()}


def _submitted_match(session: DbSession, rnd: Round, columns: dict[str, np.ndarray]) -> bool:
    """Whether the round's submitted sheets are those of the columns, by their count and the sum of their ids (one
    statement on the index (round_id, status, updated_at)): a sheet deleted by a cascade, or changed behind the
    board's back with an old updated_at, shows here."""
    count, total = session.execute(
        select(func.count(), func.sum(ScoreSheet.id)).where(
            ScoreSheet.round_id == rnd.id, ScoreSheet.status == SheetStatus.SUBMITTED
        )
    ).one()
    return bool(count == columns["sheet"].size and int(total or 0) == int(columns["sheet"].sum()))


class RoundSheets:
    """A round's submitted sheets as columns, one row per sheet: id, entry, judge and its points in rubric order;
    read at most once per request (the numbers, the comparison and the progress share them).

    They are kept in Redis with the latest change they include. Only the sheets changed since then (less REREAD)
    are read again, then checked against the round's submitted sheets (_submitted_match); a full read when the
    rubric changed (another key), the cache is empty, or anything is uncertain (a changed sheet incomplete, the
    check failing)."""

    def __init__(
        self, session: DbSession, rnd: Round, redis: Redis | None, *, ttl: int, state: SheetState | None = None
    ) -> None:
        self.session, self.rnd, self.redis, self.ttl = session, rnd, redis, ttl
        self.state = state or sheet_state(session, rnd)
        self._columns: dict[str, np.ndarray] | None = None
        self._loaded = False
        self.exact = False  # the columns passed the check (every submitted sheet, complete)

    def columns(self) -> dict[str, np.ndarray] | None:
        """The columns; None when a submitted sheet is incomplete (round_table raises the library's message)."""
        if not self._loaded:
            self._columns, self._loaded = self._load(), True
        return self._columns

    def table(self) -> ScoreTable | None:
        """The judging library's table, equal to round_table()'s (None without any submitted sheet)."""
        columns = self.columns()
        if columns is None:
            return round_table(self.session, self.rnd)
        if not columns["sheet"].size:
            return None
        return table_from_sheets(columns["entry"], columns["judge"], columns["points"], _rubric(self.rnd))

    def _load(self) -> dict[str, np.ndarray] | None:
        session, rnd, redis = self.session, self.rnd, self.redis
        rubric = _digest(FORMAT, rnd.id, [(c.id, c.name, c.max_points, c.weight) for c in rnd.criteria])
        key = f"board:{rnd.id}:sheets:{rubric}"
        cached: Numbers | None = None
        if redis is not None:
            try:
                raw = redis.get(key)
                cached = Numbers.loads(raw) if raw is not None else None  # type: ignore[arg-type]
            except RedisError as exc:
                log.warning("board cache unreachable: %s", exc)
                redis = None
        through = self.state.latest.isoformat() if self.state.latest else None
        columns = None
        if cached is not None and cached.meta.get("through"):
            since = datetime.fromisoformat(cached.meta["through"]) - REREAD
            columns = _changed_sheets(session, rnd, cached.columns, since)
            self.exact = columns is not None and _submitted_match(session, rnd, columns)
        if columns is None or not self.exact:
            columns = _read_sheets(session, rnd)
            if columns is None:
                return None
            self.exact = _submitted_match(session, rnd, columns)
        unchanged = (
            cached is not None
            and cached.meta.get("through") == through
            and all(np.array_equal(cached.columns[k], v) for k, v in columns.items())
        )
        if redis is not None and not unchanged:
            try:
                redis.set(key, Numbers(columns=columns, meta={"through": through}).dumps(), ex=self.ttl)
            except RedisError as exc:
                log.warning("board cache unreachable: %s", exc)
        return columns


def score_table(
    session: DbSession, rnd: Round, redis: Redis | None, *, ttl: int, state: SheetState | None = None
) -> ScoreTable | None:
    """The round's submitted scores as the judging library's table (None without any), equal to round_table()'s,
    through the cached columns (RoundSheets)."""
    return RoundSheets(session, rnd, redis, ttl=ttl, state=state).table()


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
    report = agreement_table(table, flag_threshold=rnd.flag_threshold, per_entry=False)
    spread, flag = spread_columns(table, report.threshold)
    columns["spread"], columns["flag"] = spread[order], flag[order]
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
    session: DbSession, rnd: Round, redis: Redis | None, *, ttl: int, sheets: RoundSheets | None = None
) -> Numbers:
    """compute_numbers through the Redis cache, under the round's current version (sheets: the request's)."""
    sheets = sheets or RoundSheets(session, rnd, redis, ttl=ttl)
    key = f"board:{rnd.id}:{board_version(session, rnd, sheets.state)}"
    return _cached(redis, key, ttl, lambda: compute_numbers(rnd, sheets.table()))


def cached_comparison(sheets: RoundSheets, numbers: Numbers) -> Numbers:
    """compute_comparison through the Redis cache, under the same version as the numbers it completes."""
    rnd = sheets.rnd
    key = f"board:{rnd.id}:{board_version(sheets.session, rnd, sheets.state)}:compare"
    return _cached(sheets.redis, key, sheets.ttl, lambda: compute_comparison(rnd, sheets.table(), numbers))


def panel_progress(
    session: DbSession, *, rnd: Round, judges: list[User], sheets: RoundSheets
) -> dict[int, scoring.Progress]:
    """scoring.panel_progress's counts, with the submitted sheets taken from the round's cached columns instead of
    reading every sheet again: one statement reads the round's entries (id and unit), its drafts, the panel's
    declared conflicts and (K per entry) the assignments. Falls back to scoring.panel_progress when the columns
    are not exactly the round's submitted sheets."""
    columns = sheets.columns()
    if columns is None or not sheets.exact:
        return scoring.panel_progress(session, rnd=rnd, judges=judges)
    kind = literal_column
    entries: Any = (
        select(kind("0"), Entry.id, Entry.unit_id)
        .join(Clip, Clip.id == Entry.clip_id)
        .where(
            Entry.contest_id == rnd.contest_id, Entry.status == EntryStatus.SUBMITTED, Clip.status == ClipStatus.READY
        )
    )
    if rnd.uses_shortlist:
        entries = entries.join(RoundEntry, (RoundEntry.entry_id == Entry.id) & (RoundEntry.round_id == rnd.id))
    parts = [
        entries,
        select(kind("1"), ScoreSheet.judge_id, ScoreSheet.entry_id).where(
            ScoreSheet.round_id == rnd.id, ScoreSheet.status == SheetStatus.DRAFT
        ),
        select(kind("2"), Conflict.judge_id, Conflict.entry_id).where(Conflict.judge_id.in_([j.id for j in judges])),
    ]
    per_entry = rnd.assignment_mode == AssignmentMode.PER_ENTRY
    if per_entry:
        parts.append(select(kind("3"), Assignment.judge_id, Assignment.entry_id).where(Assignment.round_id == rnd.id))
    rows = _numeric_rows(session, union_all(*parts), 3).astype(np.int64)
    part = {k: rows[rows[:, 0] == k, 1:] for k in range(4)}
    e_ids, e_units = part[0][:, 0], part[0][:, 1]
    by_judge = {k: _group(part[k]) for k in (1, 2, 3)}
    by_judge[0] = _group(np.stack([columns["judge"], columns["entry"]], axis=1))
    none = np.zeros(0, dtype=np.int64)
    out = {}
    for judge in judges:
        eligible = ~np.isin(e_ids, by_judge[2].get(judge.id, none))
        if judge.unit_id is not None:
            eligible &= e_units != judge.unit_id
        if per_entry:
            eligible &= np.isin(e_ids, by_judge[3].get(judge.id, none))
        scoreable = e_ids[eligible]
        out[judge.id] = scoring.Progress(
            submitted=int(np.isin(by_judge[0].get(judge.id, none), scoreable).sum()),
            drafts=int(np.isin(by_judge[1].get(judge.id, none), scoreable).sum()),
            total=int(scoreable.size),
        )
    return out


def _group(pairs: np.ndarray) -> dict[int, np.ndarray]:
    """(judge, entry) pairs as each judge's entries."""
    if not pairs.size:
        return {}
    order = np.argsort(pairs[:, 0], kind="stable")
    judges, entries = pairs[order, 0], pairs[order, 1]
    starts = np.flatnonzero(np.r_[True, judges[1:] != judges[:-1]])
    return {int(judges[a]): entries[a:b] for a, b in zip(starts, np.r_[starts[1:], judges.size], strict=True)}


def cached_progress(
    session: DbSession,
    rnd: Round,
    judges: list[User],
    redis: Redis | None,
    *,
    ttl: int,
    state: SheetState,
    sheets: RoundSheets | None = None,
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
        shared = sheets or RoundSheets(session, rnd, redis, ttl=ttl, state=state)
        done = panel_progress(session, rnd=rnd, judges=judges, sheets=shared)
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
