"""Competition-style ranking (1, 2, 2, 4) with ordered tie-break rules."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from .errors import JudgingError
from .methods import SCORERS, parse_tie_breaks, rounded, tie_break_values
from .model import METHODS, Criterion, RankedEntry, Score
from .table import ScoreTable, table_from_scores, validate_rubric

# Tie groups bigger than this are described by size, not by listing every id.
_MAX_LISTED = 5


def check_options(method: str, trim: int) -> None:
    """Reject an unknown method or a bad trim count."""
    if method not in METHODS:
        raise JudgingError(f"unknown method '{method}' (use one of {', '.join(METHODS)})")
    if isinstance(trim, bool) or not isinstance(trim, int) or trim < 0:
        raise JudgingError(f"trim must be a whole number >= 0, got {trim!r}")


def rank(
    scores: Iterable[Score],
    rubric: Sequence[Criterion],
    *,
    method: str = "mean",
    tie_breaks: Sequence[str] = (),
    trim: int = 1,
) -> list[RankedEntry]:
    """Rank entries by `method`, sorted by rank then entry id."""
    rubric = validate_rubric(rubric)
    check_options(method, trim)
    parse_tie_breaks(tie_breaks, rubric)
    return rank_table(table_from_scores(scores, rubric), method=method, tie_breaks=tie_breaks, trim=trim)


def _fmt(value: float) -> str:
    return f"{value:.6g}"


def _group_ids(sorted_keys: list[np.ndarray]) -> np.ndarray:
    """Group number of each sorted position; a new group starts where any key changes."""
    size = sorted_keys[0].size
    change = np.zeros(size, dtype=bool)
    if size:
        change[0] = True
    for key in sorted_keys:
        change[1:] |= key[1:] != key[:-1]
    return np.cumsum(change) - 1


@dataclass(frozen=True, eq=False)
class RankColumns:
    """A ranking as arrays, one value per position (best first): what rank_table() returns as RankedEntry lines,
    without an object or a tie-break note per entry. note(pos) writes a position's note when it is shown.

    Tie groups are runs of positions: score_start/score_size give the run of equal scores a position belongs to,
    final_start/final_size the run still equal after every tie-break rule, separated_by the first key (0 = the
    score, i = the i-th rule) on which the position stands alone, and separated_value its value there."""

    entries: Sequence[str] | np.ndarray  # entry ids (written with str()); order holds indexes into it
    rules: tuple[str, ...]
    order: np.ndarray  # entry index at each position
    rank: np.ndarray
    score: np.ndarray  # as compared (rounded), so tied entries show equal scores
    tied: np.ndarray  # still tied after every rule
    judges: np.ndarray  # judges who scored the entry
    score_start: np.ndarray
    score_size: np.ndarray
    final_start: np.ndarray
    final_size: np.ndarray
    separated_by: np.ndarray
    separated_value: np.ndarray

    def __len__(self) -> int:
        return int(self.order.size)

    def _others(self, start: int, size: int, pos: int) -> str:
        if size > _MAX_LISTED + 1:
            return f"{size - 1} other entries"
        return ", ".join(
            str(self.entries[e]) for p, e in enumerate(self.order[start : start + size].tolist(), start) if p != pos
        )

    def note(self, pos: int) -> str | None:
        """How a tie on score was or was not broken at this position (None without a tie on score)."""
        size = int(self.score_size[pos])
        if size <= 1:
            return None
        with_score = self._others(int(self.score_start[pos]), size, pos)
        if self.tied[pos]:
            if not self.rules:
                return f"tied on score with {with_score}; no tie-break rules given"
            still = self._others(int(self.final_start[pos]), int(self.final_size[pos]), pos)
            return f"still tied with {still} after {', '.join(self.rules)}"
        level = int(self.separated_by[pos])
        value = float(self.separated_value[pos])
        return f"score tie with {with_score}; separated by {self.rules[level - 1]} ({_fmt(value)})"


def rank_columns(
    table: ScoreTable, *, method: str = "mean", tie_breaks: Sequence[str] = (), trim: int = 1
) -> RankColumns:
    """Rank a validated ScoreTable into arrays (rank_table() lines are made from these)."""
    check_options(method, trim)
    rules = parse_tie_breaks(tie_breaks, table.rubric)
    n = len(table.entries)
    if n == 0:
        empty = np.zeros(0, dtype=np.int64)
        return RankColumns(
            table.entries,
            rules,
            empty,
            empty,
            np.zeros(0),
            np.zeros(0, dtype=bool),
            empty,
            empty,
            empty,
            empty,
            empty,
            empty,
            np.zeros(0),
        )
    score = SCORERS[method](table, trim)
    keys = [rounded(score)] + [rounded(tie_break_values(table, rule)) for rule in rules]
    # Higher keys first; entry id (codes are in id order) only orders the output,
    # it never decides a rank.
    order = np.lexsort([np.arange(n)] + [-k for k in reversed(keys)])
    sorted_keys = np.stack([k[order] for k in keys])

    starts, sizes = [], []
    for level in range(len(keys)):
        group = _group_ids(list(sorted_keys[: level + 1]))
        first = np.flatnonzero(np.r_[True, group[1:] != group[:-1]])
        starts.append(first[group])
        sizes.append(np.bincount(group)[group])
    separated_by = np.argmax(np.stack(sizes) == 1, axis=0)  # first level where the entry stands alone
    return RankColumns(
        entries=table.entries,
        rules=rules,
        order=order,
        rank=starts[-1] + 1,
        score=sorted_keys[0],
        tied=sizes[-1] > 1,
        judges=table.entry_counts()[order],
        score_start=starts[0],
        score_size=sizes[0],
        final_start=starts[-1],
        final_size=sizes[-1],
        separated_by=separated_by,
        separated_value=sorted_keys[separated_by, np.arange(n)],
    )


def rank_table(
    table: ScoreTable,
    *,
    method: str = "mean",
    tie_breaks: Sequence[str] = (),
    trim: int = 1,
    with_totals: bool = True,
) -> list[RankedEntry]:
    """Rank a validated ScoreTable (shared by rank() and the CLI); with_totals=False leaves each line's per-judge
    totals empty (a caller that ranks by several methods needs them once)."""
    columns = rank_columns(table, method=method, tie_breaks=tie_breaks, trim=trim)
    if not len(columns):
        return []
    ids = [table.entries[e] for e in columns.order.tolist()]
    totals = table.totals_by_entry() if with_totals else {}
    notes: list[str | None] = [None] * len(ids)
    for pos in np.flatnonzero(columns.score_size > 1).tolist():
        notes[pos] = columns.note(pos)
    return [
        RankedEntry(
            entry=entry,
            rank=rank,
            score=score,
            tied=tied,
            judges=judges,
            totals=totals[entry] if with_totals else {},
            tie_break=note,
        )
        for entry, rank, score, tied, judges, note in zip(
            ids,
            columns.rank.tolist(),
            columns.score.tolist(),
            columns.tied.tolist(),
            columns.judges.tolist(),
            notes,
            strict=True,
        )
    ]
