"""Validation and the internal array form (ScoreTable) shared by the API and the CLI.

Both the dataclass API (list of Score) and the CSV fast path end in build_table(),
so every method sees the same arrays and gives the same numbers on either path.

Incomplete sheets (a judge scored only some criteria of an entry) are rejected:
the portal only passes submitted, complete sheets, and guessing the missing
points would silently change a ranking.
"""

from __future__ import annotations

import itertools
import math
import numbers
import unicodedata
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass
from typing import TypeGuard, TypeVar, cast

import numpy as np

from .errors import JudgingError
from .model import DECIMALS, Criterion, Score

Label = Callable[[int], str]
H = TypeVar("H", bound=Hashable)


@dataclass(frozen=True, eq=False)
class ScoreTable:
    """Validated scores as arrays: one row per complete sheet, sorted by (entry, judge)."""

    rubric: tuple[Criterion, ...]
    entries: tuple[str, ...]  # sorted ids; index = entry code
    judges: tuple[str, ...]  # sorted ids; index = judge code
    sheet_entry: np.ndarray  # (S,) entry code of each sheet
    sheet_judge: np.ndarray  # (S,) judge code of each sheet
    weighted: np.ndarray  # (S, C) points × weight
    totals: np.ndarray  # (S,) Σ points × weight

    @property
    def max_total(self) -> float:
        return math.fsum(c.max_points * c.weight for c in self.rubric)

    def entry_counts(self) -> np.ndarray:
        return np.bincount(self.sheet_entry, minlength=len(self.entries))

    def totals_by_entry(self) -> dict[str, dict[str, float]]:
        """Nested dict entry -> judge -> total, in id order."""
        counts = self.entry_counts().tolist()
        judge_names = [self.judges[j] for j in self.sheet_judge.tolist()]
        # rounded like every reported number, so 4.499999999999999 shows as 4.5
        totals = (np.round(self.totals, DECIMALS) + 0.0).tolist()
        out: dict[str, dict[str, float]] = {}
        start = 0
        for entry, n in zip(self.entries, counts, strict=True):
            out[entry] = dict(zip(judge_names[start : start + n], totals[start : start + n], strict=True))
            start += n
        return out


def _is_number(value: object) -> TypeGuard[numbers.Real]:
    # bool is an int subclass, but True points are a bug, not a score
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _positive(value: object, what: str, where: str) -> float:
    if not _is_number(value) or not math.isfinite(float(value)):
        raise JudgingError(f"{where}: {what} {value!r} is not a finite number")
    if float(value) <= 0:
        raise JudgingError(f"{where}: {what} must be greater than 0, got {value!r}")
    return float(value)


def validate_rubric(rubric: Iterable[Criterion], *, label: Label | None = None) -> tuple[Criterion, ...]:
    """Check a rubric (unique names, positive max_points/weight/step) and return it as a tuple."""
    crits = tuple(rubric)
    if not crits:
        raise JudgingError("rubric has no criteria")
    label = label or (lambda i: f"rubric criterion #{i + 1}")
    seen: dict[str, int] = {}
    for i, crit in enumerate(crits):
        where = label(i)
        if not isinstance(crit, Criterion):
            raise JudgingError(f"{where}: expected a Criterion, got {type(crit).__name__}")
        if not isinstance(crit.name, str) or not crit.name.strip():
            raise JudgingError(f"{where}: criterion name must be a non-empty string")
        if crit.name in seen:
            raise JudgingError(f"{where}: criterion '{crit.name}' is listed twice (also {label(seen[crit.name])})")
        seen[crit.name] = i
        _positive(crit.max_points, "max_points", where)
        _positive(crit.weight, "weight", where)
        if crit.step is not None:
            _positive(crit.step, "step", where)
    return crits


def factorize(values: Sequence[H]) -> tuple[list[H], np.ndarray]:
    """Distinct values in first-seen order, and each value's index into them."""
    index: dict[H, int] = {}
    # One C-level pass: setdefault stores the row of first occurrence, which
    # searchsorted then turns into a dense code (those rows are increasing).
    first = np.fromiter(map(index.setdefault, values, itertools.count()), dtype=np.int64, count=len(values))
    starts = np.fromiter(index.values(), dtype=np.int64, count=len(index))
    return list(index), np.searchsorted(starts, first)


def _factorize(values: Sequence[object], what: str, label: Label, *, clean: bool) -> tuple[tuple[str, ...], np.ndarray]:
    """Map id strings to codes in sorted-id order; rejects empty or non-string ids."""
    try:
        uniques, codes = factorize(values)
    except TypeError:  # unhashable value: find it for the message
        for i, v in enumerate(values):
            try:
                hash(v)
            except TypeError:
                raise JudgingError(f"{label(i)}: {what} must be a non-empty string, got {type(v).__name__}") from None
        raise
    for u in uniques:
        if not isinstance(u, str) or not u.strip():
            row = int(np.flatnonzero(codes == uniques.index(u))[0])
            shown = repr(u) if isinstance(u, str) else type(u).__name__
            raise JudgingError(f"{label(row)}: {what} must be a non-empty string, got {shown}")
    names = cast(list[str], uniques)  # every one checked just above
    if clean:
        # Only unique values are normalised, so this stays cheap on 600k rows; NFC
        # makes 'Nguyễn' typed on macOS (NFD) and Windows (NFC) the same judge.
        names = [unicodedata.normalize("NFC", u.strip()) for u in names]
    order = sorted(set(names))
    pos = {u: i for i, u in enumerate(order)}
    remap = np.array([pos[u] for u in names], dtype=np.int64)
    return tuple(order), remap[codes]


def _reject_duplicates(key: np.ndarray, message: Callable[[int, int], str]) -> tuple[np.ndarray, np.ndarray]:
    """Raise JudgingError(message(row, earlier row)) for the first row whose key repeats an earlier one; otherwise
    return the stable order that sorts the keys, and the sorted keys."""
    order = np.argsort(key, kind="stable")
    sorted_key = key[order]
    dup = np.flatnonzero(sorted_key[1:] == sorted_key[:-1])
    if dup.size:
        later = order[dup + 1]
        k = int(np.argmin(later))
        raise JudgingError(message(int(later[k]), int(order[dup[k]])))
    return order, sorted_key


def _fmt(x: float) -> str:
    return f"{x:g}"


def build_table(
    entries: Sequence[object],
    judges: Sequence[object],
    criteria: Sequence[object],
    points: np.ndarray,
    rubric: Sequence[Criterion],
    *,
    label: Label,
    raw_points: Sequence[str] | None = None,
    clean_ids: bool = False,
    ref: Label | None = None,
) -> ScoreTable:
    """Validate column data and build the ScoreTable; raises JudgingError naming the first bad row."""
    rubric = validate_rubric(rubric)
    ref = ref or label  # short name for a second row in the same message
    n = len(points)
    if not (len(entries) == len(judges) == len(criteria) == n):
        raise ValueError("column lengths differ")
    entry_ids, e_code = _factorize(entries, "entry", label, clean=clean_ids)
    judge_ids, j_code = _factorize(judges, "judge", label, clean=clean_ids)
    crit_names, c_raw = _factorize(criteria, "criterion", label, clean=clean_ids)
    crit_pos = {c.name: i for i, c in enumerate(rubric)}
    c_map = np.array([crit_pos.get(name, -1) for name in crit_names], dtype=np.int64)
    c_code = c_map[c_raw] if n else np.zeros(0, dtype=np.int64)
    shown: Label = (lambda i: repr(raw_points[i])) if raw_points is not None else (lambda i: _fmt(points[i]))

    # Row-level problems: report the earliest row whatever its kind.
    problems: list[tuple[int, Callable[[int], str]]] = []

    def first(mask: np.ndarray, message: Callable[[int], str]) -> None:
        hits = np.flatnonzero(mask)
        if hits.size:
            problems.append((int(hits[0]), message))

    first(c_code < 0, lambda i: f"unknown criterion '{crit_names[c_raw[i]]}' (rubric has {', '.join(crit_pos)})")
    ok = c_code >= 0
    safe_c = np.where(ok, c_code, 0)
    max_pts = np.array([c.max_points for c in rubric])[safe_c]
    finite = np.isfinite(points)
    first(ok & ~finite, lambda i: f"points {shown(i)} is not a finite number")
    first(
        ok & finite & ((points < 0) | (points > max_pts)),
        lambda i: f"points {shown(i)} out of range 0..{_fmt(max_pts[i])} for criterion '{rubric[c_code[i]].name}'",
    )
    steps = np.array([c.step or 0.0 for c in rubric])[safe_c]
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(steps > 0, points / np.where(steps > 0, steps, 1.0), 0.0)
    off_step = np.abs(ratio - np.rint(ratio)) > 1e-9 * np.maximum(1.0, np.abs(ratio))
    first(
        ok & finite & (steps > 0) & off_step,
        lambda i: (
            f"points {shown(i)} is not a multiple of step {_fmt(steps[i])} for criterion '{rubric[c_code[i]].name}'"
        ),
    )
    if problems:
        row, message = min(problems, key=lambda p: p[0])
        raise JudgingError(f"{label(row)}: {message(row)}")

    n_judges, n_crit = len(judge_ids), len(rubric)
    _reject_duplicates(
        (e_code * n_judges + j_code) * n_crit + c_code,
        lambda row, orig: (
            f"{label(row)}: duplicate of {ref(orig)} (entry '{entry_ids[e_code[row]]}', "
            f"judge '{judge_ids[j_code[row]]}', criterion '{rubric[c_code[row]].name}')"
        ),
    )

    sheet_key = e_code * n_judges + j_code
    sheets, inverse, counts = np.unique(sheet_key, return_inverse=True, return_counts=True)
    short = np.flatnonzero(counts < n_crit)
    if short.size:
        # earliest row belonging to any incomplete sheet
        rows = np.flatnonzero(np.isin(inverse, short))
        row = int(rows[0])
        s = sheet_key[row]
        have = set(c_code[sheet_key == s].tolist())
        missing = [c.name for i, c in enumerate(rubric) if i not in have]
        raise JudgingError(
            f"{label(row)}: incomplete sheet: judge '{judge_ids[j_code[row]]}' scored entry "
            f"'{entry_ids[e_code[row]]}' on {len(have)} of {n_crit} criteria; "
            f"missing {', '.join(repr(m) for m in missing)}"
        )

    grid = np.zeros((sheets.size, n_crit))
    grid[inverse, c_code] = points
    weighted = grid * np.array([c.weight for c in rubric])
    arrays = {
        "sheet_entry": sheets // max(n_judges, 1),
        "sheet_judge": sheets % max(n_judges, 1),
        "weighted": weighted,
        "totals": weighted.sum(axis=1),
    }
    for array in arrays.values():
        array.setflags(write=False)  # the table is shared by every method: keep it frozen
    return ScoreTable(rubric=rubric, entries=entry_ids, judges=judge_ids, **arrays)


def table_from_sheets(
    entries: np.ndarray,
    judges: np.ndarray,
    points: np.ndarray,
    rubric: Sequence[Criterion],
    *,
    label: Label | None = None,
) -> ScoreTable:
    """Validate complete sheets given one per row and build the ScoreTable: integer entry and judge ids, and
    points[s, c] the points of sheet s on the rubric's c-th criterion.

    The table equals build_table()'s over the same scores in long form with the ids written as str(id) (so they
    sort as strings, as there), without one string per score: a caller that keeps its sheets as columns builds a
    national round's table in milliseconds. Raises JudgingError naming the first bad sheet (label, default
    "sheet #n")."""
    rubric = validate_rubric(rubric)
    label = label or (lambda i: f"sheet #{i + 1}")
    entries, judges = np.asarray(entries), np.asarray(judges)
    points = np.asarray(points, dtype=np.float64)
    n, n_crit = entries.shape[0], len(rubric)
    if entries.shape != (n,) or judges.shape != (n,) or points.shape != (n, n_crit):
        raise ValueError("column shapes differ")
    for ids in (entries, judges):
        if n and not np.issubdtype(ids.dtype, np.integer):
            raise ValueError("entry and judge ids must be integers")

    max_pts = np.array([c.max_points for c in rubric], dtype=np.float64)
    steps = np.array([c.step or 0.0 for c in rubric], dtype=np.float64)
    finite = np.isfinite(points)
    out_of_range = finite & ((points < 0) | (points > max_pts))
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(steps > 0, points / np.where(steps > 0, steps, 1.0), 0.0)
    off_step = finite & (steps > 0) & (np.abs(ratio - np.rint(ratio)) > 1e-9 * np.maximum(1.0, np.abs(ratio)))
    bad = np.flatnonzero((~finite | out_of_range | off_step).ravel())
    if bad.size:
        row, c = divmod(int(bad[0]), n_crit)
        value, name = _fmt(points[row, c]), rubric[c].name
        if not finite[row, c]:
            message = f"points {value} is not a finite number"
        elif out_of_range[row, c]:
            message = f"points {value} out of range 0..{_fmt(max_pts[c])} for criterion '{name}'"
        else:
            message = f"points {value} is not a multiple of step {_fmt(steps[c])} for criterion '{name}'"
        raise JudgingError(f"{label(row)}: {message}")

    def codes(ids: np.ndarray) -> tuple[tuple[str, ...], np.ndarray]:
        unique, inverse = np.unique(ids.astype(np.int64), return_inverse=True)
        names = [str(u) for u in unique.tolist()]
        by_name = sorted(range(len(names)), key=names.__getitem__)  # build_table orders ids as strings
        remap = np.empty(len(names), dtype=np.int64)
        remap[by_name] = np.arange(len(names), dtype=np.int64)
        return tuple(names[i] for i in by_name), remap[inverse.reshape(-1)]

    entry_ids, e_code = codes(entries)
    judge_ids, j_code = codes(judges)
    n_judges = max(len(judge_ids), 1)
    order, sorted_key = _reject_duplicates(
        e_code * n_judges + j_code,
        lambda row, orig: (
            f"{label(row)}: duplicate of {label(orig)} (entry '{entry_ids[e_code[row]]}', "
            f"judge '{judge_ids[j_code[row]]}')"
        ),
    )
    weighted = points[order] * np.array([c.weight for c in rubric])
    arrays = {
        "sheet_entry": sorted_key // n_judges,
        "sheet_judge": sorted_key % n_judges,
        "weighted": weighted,
        "totals": weighted.sum(axis=1),
    }
    for array in arrays.values():
        array.setflags(write=False)
    return ScoreTable(rubric=rubric, entries=entry_ids, judges=judge_ids, **arrays)


def table_from_scores(scores: Iterable[Score], rubric: Sequence[Criterion]) -> ScoreTable:
    """Validate Score objects and build the ScoreTable."""
    items = list(scores)
    for i, s in enumerate(items):
        if not isinstance(s, Score):
            raise JudgingError(f"score #{i + 1}: expected a Score, got {type(s).__name__}")
    raw = [s.points for s in items]
    for i, p in enumerate(raw):
        if p.__class__ is not float and p.__class__ is not int and not _is_number(p):
            raise JudgingError(f"score #{i + 1}: points {p!r} is not a number")
    return build_table(
        [s.entry for s in items],
        [s.judge for s in items],
        [s.criterion for s in items],
        np.array(raw, dtype=np.float64),
        rubric,
        label=lambda i: f"score #{i + 1}",
    )


def validate_scores(scores: Iterable[Score], rubric: Sequence[Criterion]) -> None:
    """Raise JudgingError if scores are invalid or any sheet is incomplete."""
    table_from_scores(scores, rubric)


def judge_totals(scores: Iterable[Score], rubric: Sequence[Criterion]) -> dict[str, dict[str, float]]:
    """Each judge's total (Σ points × weight) per entry: {entry: {judge: total}}."""
    return table_from_scores(scores, rubric).totals_by_entry()
