"""Vectorised per-entry scores for each ranking method and tie-break rule.

Every function takes a ScoreTable and returns one float per entry (table.entries order).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np

from .errors import JudgingError
from .model import DECIMALS, METHODS, Criterion
from .table import ScoreTable


def rounded(values: np.ndarray) -> np.ndarray:
    """Values as compared for ties (see DECIMALS)."""
    # + 0.0 turns -0.0 into 0.0 so the two never look different when printed
    return np.round(values, DECIMALS) + 0.0


def _per_entry_sum(table: ScoreTable, values: np.ndarray) -> np.ndarray:
    return np.bincount(table.sheet_entry, weights=values, minlength=len(table.entries))


def _per_entry_mean(table: ScoreTable, values: np.ndarray) -> np.ndarray:
    means: np.ndarray = _per_entry_sum(table, values) / table.entry_counts()
    return means


def mean(table: ScoreTable, trim: int = 1) -> np.ndarray:
    """Mean of each entry's judge totals."""
    return _per_entry_mean(table, table.totals)


def _sorted_groups(table: ScoreTable) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Totals sorted within each entry, with group starts and sizes."""
    counts = table.entry_counts()
    order = np.lexsort((table.totals, table.sheet_entry))
    starts = np.cumsum(counts) - counts
    return table.totals[order], starts, counts


def median(table: ScoreTable, trim: int = 1) -> np.ndarray:
    """Median of each entry's judge totals (mean of the two middle ones when even)."""
    values, starts, counts = _sorted_groups(table)
    lo = values[starts + (counts - 1) // 2]
    hi = values[starts + counts // 2]
    middle: np.ndarray = (lo + hi) / 2
    return middle


def trimmed_mean(table: ScoreTable, trim: int = 1) -> np.ndarray:
    """Mean after dropping the `trim` highest and lowest totals; plain mean if fewer than 2·trim+1."""
    plain = mean(table)
    if trim == 0:
        return plain
    values, starts, counts = _sorted_groups(table)
    pos = np.arange(values.size) - np.repeat(starts, counts)
    size = np.repeat(counts, counts)
    keep = (pos >= trim) & (pos < size - trim)
    group = np.repeat(np.arange(counts.size), counts)
    kept = np.bincount(group, weights=np.where(keep, values, 0.0), minlength=counts.size)
    enough = counts >= 2 * trim + 1
    with np.errstate(divide="ignore", invalid="ignore"):
        trimmed = kept / (counts - 2 * trim)
    return np.where(enough, trimmed, plain)


def _judge_extremes(table: ScoreTable, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    n = len(table.judges)
    hi = np.full(n, -np.inf)
    lo = np.full(n, np.inf)
    np.maximum.at(hi, table.sheet_judge, values)
    np.minimum.at(lo, table.sheet_judge, values)
    return hi, lo


def zscore(table: ScoreTable, trim: int = 1) -> np.ndarray:
    """Mean of per-judge z-scores mapped back to the panel scale as μ + σ·z̄."""
    judge = table.sheet_judge
    n_judges = len(table.judges)
    totals = table.totals
    count = np.bincount(judge, minlength=n_judges)
    with np.errstate(divide="ignore", invalid="ignore"):
        mu_j = np.bincount(judge, weights=totals, minlength=n_judges) / count
        dev = totals - mu_j[judge]
        sd_j = np.sqrt(np.bincount(judge, weights=dev * dev, minlength=n_judges) / count)
    # Zero spread is judged on rounded totals: identical totals can leave a 1e-17
    # sd from float noise, and dividing by it would turn noise into ±1.
    hi, lo = _judge_extremes(table, rounded(totals))
    usable = (count >= 2) & (hi > lo)
    z = np.where(usable[judge], dev / np.where(usable, sd_j, 1.0)[judge], 0.0)
    z_bar = _per_entry_mean(table, z)
    if totals.size == 0:
        return z_bar
    on_panel_scale: np.ndarray = totals.mean() + totals.std() * z_bar
    return on_panel_scale


def group_average_ranks(groups: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Ascending ranks within each group, ties averaged (scipy.stats.rankdata 'average' per group).

    Returns (ranks, tie_sizes, tie_groups): one rank per value, and the size and group of
    every run of equal values. Done in numpy because importing scipy.stats alone costs
    ~0.7 s of the CLI's 3 s budget; the tests check it against rankdata.
    """
    n = values.size
    order = np.lexsort((values, groups))
    g, v = groups[order], values[order]
    pos = np.arange(n)
    new_group = np.ones(n, dtype=bool)
    new_group[1:] = g[1:] != g[:-1]
    new_run = new_group.copy()
    new_run[1:] |= v[1:] != v[:-1]
    group_start = np.maximum.accumulate(np.where(new_group, pos, 0)) if n else pos
    run_start = pos[new_run]
    run_end = np.append(run_start[1:], n)  # exclusive
    # 1-based ranks run_start+1 .. run_end, averaged, counted from the group's start
    average = (run_start + run_end + 1) / 2 - group_start[new_run]
    ranks = np.empty(n)
    ranks[order] = average[np.cumsum(new_run) - 1]
    return ranks, run_end - run_start, g[new_run]


def borda_points(table: ScoreTable) -> np.ndarray:
    """Per sheet: n − r points for the entry a judge ranked r-th of n (ties averaged)."""
    ranks, _, _ = group_average_ranks(table.sheet_judge, rounded(table.totals))
    # ascending average rank a = n + 1 − r, so n − r = a − 1
    return ranks - 1.0


def borda(table: ScoreTable, trim: int = 1) -> np.ndarray:
    """Mean Borda points per entry across the judges who scored it."""
    return _per_entry_mean(table, borda_points(table))


SCORERS: dict[str, Callable[[ScoreTable, int], np.ndarray]] = {
    "mean": mean,
    "median": median,
    "trimmed_mean": trimmed_mean,
    "zscore": zscore,
    "borda": borda,
}
assert tuple(SCORERS) == METHODS


def first_places(table: ScoreTable) -> np.ndarray:
    """How many judges gave the entry their highest total (shared top places count for each)."""
    values = rounded(table.totals)
    hi, _ = _judge_extremes(table, values)
    top = values == hi[table.sheet_judge]
    return _per_entry_sum(table, top.astype(float))


def criterion_mean(table: ScoreTable, name: str) -> np.ndarray:
    """Mean weighted points on one criterion across the entry's judges."""
    idx = [c.name for c in table.rubric].index(name)
    return _per_entry_mean(table, table.weighted[:, idx])


def parse_tie_breaks(rules: str | Iterable[object], rubric: Iterable[Criterion]) -> tuple[str, ...]:
    """Check tie-break rule names against the rubric; returns them as a tuple."""
    listed: Iterable[object] = (rules,) if isinstance(rules, str) else rules
    names = [c.name for c in rubric]
    out: list[str] = []
    for rule in listed:
        if not isinstance(rule, str):
            raise JudgingError(f"tie-break rule must be a string, got {rule!r}")
        if rule in ("median", "first_places"):
            out.append(rule)
        elif rule.startswith("criterion:"):
            name = rule.split(":", 1)[1]
            if name not in names:
                raise JudgingError(f"tie-break '{rule}': no criterion '{name}' in rubric ({', '.join(names)})")
            out.append(rule)
        else:
            raise JudgingError(f"unknown tie-break rule '{rule}' (use criterion:<name>, median or first_places)")
    return tuple(out)


def tie_break_values(table: ScoreTable, rule: str) -> np.ndarray:
    """Per-entry value for a parsed tie-break rule; higher wins."""
    if rule == "median":
        return median(table)
    if rule == "first_places":
        return first_places(table)
    return criterion_mean(table, rule.split(":", 1)[1])
