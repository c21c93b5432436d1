"""Competition-style ranking (1, 2, 2, 4) with ordered tie-break rules."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

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
    check_options(method, trim)
    rules = parse_tie_breaks(tie_breaks, table.rubric)
    n = len(table.entries)
    if n == 0:
        return []
    score = SCORERS[method](table, trim)
    keys = [rounded(score)] + [rounded(tie_break_values(table, rule)) for rule in rules]
    # Higher keys first; entry id (codes are in id order) only orders the output,
    # it never decides a rank.
    order = np.lexsort([np.arange(n)] + [-k for k in reversed(keys)])
    sorted_keys = [k[order] for k in keys]

    levels = [_group_ids(sorted_keys[: i + 1]) for i in range(len(keys))]
    sizes = [np.bincount(g)[g] for g in levels]
    full = levels[-1]
    starts = np.flatnonzero(np.r_[True, full[1:] != full[:-1]])
    rank_of = (starts[full] + 1).tolist()
    tied = (sizes[-1] > 1).tolist()
    score_tied = sizes[0] > 1

    ids = [table.entries[i] for i in order.tolist()]
    notes: list[str | None] = [None] * n
    tied_pos = np.flatnonzero(score_tied).tolist()
    if tied_pos:
        last = len(keys) - 1
        # only small groups are listed by name, so this stays linear in n
        members: dict[tuple[int, int], list[str]] = {}
        for level in sorted({0, last}):
            small = sizes[level] <= _MAX_LISTED + 1
            for pos in np.flatnonzero(score_tied & small).tolist():
                members.setdefault((level, int(levels[level][pos])), []).append(ids[pos])
        separating = np.argmax(np.stack(sizes) == 1, axis=0)  # first level where the entry stands alone

        def others(level: int, pos: int) -> str:
            group = members.get((level, int(levels[level][pos])))
            if group is None:
                return f"{int(sizes[level][pos]) - 1} other entries"
            return ", ".join(m for m in group if m != ids[pos])

        for pos in tied_pos:
            if tied[pos]:
                notes[pos] = (
                    f"tied on score with {others(0, pos)}; no tie-break rules given"
                    if not rules
                    else f"still tied with {others(last, pos)} after {', '.join(rules)}"
                )
            else:
                level = int(separating[pos])
                value = sorted_keys[level][pos]
                notes[pos] = f"score tie with {others(0, pos)}; separated by {rules[level - 1]} ({_fmt(value)})"

    counts = table.entry_counts()
    totals = table.totals_by_entry() if with_totals else {}
    scores = keys[0].tolist()  # reported as compared, so tied entries show equal scores
    return [
        RankedEntry(
            entry=ids[pos],
            rank=rank_of[pos],
            score=scores[e],
            tied=tied[pos],
            judges=int(counts[e]),
            totals=totals[ids[pos]] if with_totals else {},
            tie_break=notes[pos],
        )
        for pos, e in enumerate(order.tolist())
    ]
