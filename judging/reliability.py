"""Panel agreement: Kendall's W, Shrout & Fleiss (1979) ICCs, per-entry spread."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import numpy as np

from .errors import JudgingError
from .methods import group_average_ranks, rounded
from .model import AgreementReport, Criterion, EntryAgreement, Score
from .table import ScoreTable, table_from_scores, validate_rubric

ICC_KEYS = ("ICC1", "ICC2", "ICC3", "ICC1k", "ICC2k", "ICC3k")
DEFAULT_FLAG_SHARE = 0.25  # flag an entry when its range exceeds 25% of the maximum total


def agreement(
    scores: Iterable[Score],
    rubric: Sequence[Criterion],
    *,
    flag_threshold: float | None = None,
) -> AgreementReport:
    """Agreement report over the entry × judge matrix of totals."""
    rubric = validate_rubric(rubric)
    check_threshold(flag_threshold)
    return agreement_table(table_from_scores(scores, rubric), flag_threshold=flag_threshold)


def check_threshold(value: float | None) -> None:
    """Reject a negative or non-numeric flag threshold."""
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        raise JudgingError(f"flag threshold must be a number >= 0, got {value!r}")


def kendall_w(matrix: np.ndarray) -> float | None:
    """Kendall's W with tie correction for an (entries × judges) matrix; None if undefined."""
    n, m = matrix.shape
    if n < 2 or m < 1:
        return None
    judge = np.tile(np.arange(m), n)  # column index of each row-major cell
    ranks, tie_sizes, _ = group_average_ranks(judge, matrix.ravel())
    rank_sums = ranks.reshape(n, m).sum(axis=1)
    s = float(((rank_sums - rank_sums.mean()) ** 2).sum())
    t = tie_sizes.astype(np.int64)
    ties = int((t**3 - t).sum())  # Σ over judges and tie groups of t³ − t
    denominator = m * m * (n**3 - n) - m * ties
    if denominator <= 0:  # every judge gave every entry the same total
        return None
    return float(12.0 * s / denominator)


def icc(matrix: np.ndarray) -> dict[str, float | None]:
    """Shrout & Fleiss ICC(1,1), (2,1), (3,1) and their k-rater forms; None where undefined."""
    n, k = matrix.shape
    out: dict[str, float | None] = dict.fromkeys(ICC_KEYS)
    if n < 2 or k < 2:
        return out
    grand = matrix.mean()
    ss_total = float(((matrix - grand) ** 2).sum())
    ss_rows = k * float(((matrix.mean(axis=1) - grand) ** 2).sum())  # between targets
    ss_cols = n * float(((matrix.mean(axis=0) - grand) ** 2).sum())  # between judges
    bms = ss_rows / (n - 1)
    wms = (ss_total - ss_rows) / (n * (k - 1))
    jms = ss_cols / (k - 1)
    ems = (ss_total - ss_rows - ss_cols) / ((n - 1) * (k - 1))

    def ratio(num: float, den: float) -> float | None:
        return num / den if den != 0 else None

    out["ICC1"] = ratio(bms - wms, bms + (k - 1) * wms)
    out["ICC2"] = ratio(bms - ems, bms + (k - 1) * ems + k * (jms - ems) / n)
    out["ICC3"] = ratio(bms - ems, bms + (k - 1) * ems)
    out["ICC1k"] = ratio(bms - wms, bms)
    out["ICC2k"] = ratio(bms - ems, bms + (jms - ems) / n)
    out["ICC3k"] = ratio(bms - ems, bms)
    return out


def agreement_table(
    table: ScoreTable, *, flag_threshold: float | None = None, per_entry: bool = True
) -> AgreementReport:
    """Agreement report for a validated ScoreTable (shared by agreement() and the CLI); per_entry=False leaves the
    report's per-entry lines out (a caller that keeps the spread as columns uses spread_columns())."""
    check_threshold(flag_threshold)
    max_total = table.max_total
    threshold = DEFAULT_FLAG_SHARE * max_total if flag_threshold is None else float(flag_threshold)
    w, iccs, complete, note = _panel_statistics(table)
    return AgreementReport(
        kendall_w=w,
        icc=iccs,
        per_entry=_per_entry(table, threshold) if per_entry else [],
        threshold=threshold,
        max_total=max_total,
        entries=len(table.entries),
        judges=len(table.judges),
        complete=complete,
        note=note,
    )


def spread_columns(table: ScoreTable, threshold: float) -> tuple[np.ndarray, np.ndarray]:
    """Each entry's range of judge totals (rounded) and whether it exceeds threshold, in table.entries order: the
    per-entry spread of agreement_table() as two arrays."""
    n_entries, entry, totals = len(table.entries), table.sheet_entry, table.totals
    hi = np.full(n_entries, -np.inf)
    lo = np.full(n_entries, np.inf)
    np.maximum.at(hi, entry, totals)
    np.minimum.at(lo, entry, totals)
    spread = rounded(hi - lo) if n_entries else hi
    # compare rounded values so a range of 2.5000000000000004 does not flag at 2.5
    return spread, spread > round(threshold, 9)


def _per_entry(table: ScoreTable, threshold: float) -> list[EntryAgreement]:
    """Each entry's judges, mean, sd and range of totals; flagged when the range exceeds threshold."""
    n_entries = len(table.entries)
    totals, entry = table.totals, table.sheet_entry
    counts = table.entry_counts()
    mean = np.bincount(entry, weights=totals, minlength=n_entries) / np.maximum(counts, 1)
    dev = totals - mean[entry]
    sd = np.sqrt(np.bincount(entry, weights=dev * dev, minlength=n_entries) / np.maximum(counts, 1))
    spread, flags = spread_columns(table, threshold)
    return [
        EntryAgreement(entry=e, judges=c, mean=m, sd=s, range=r, flag=f)
        for e, c, m, s, r, f in zip(
            table.entries,
            counts.tolist(),
            rounded(mean).tolist(),
            rounded(sd).tolist(),
            spread.tolist(),
            flags.tolist(),
            strict=True,
        )
    ]


def _panel_statistics(table: ScoreTable) -> tuple[float | None, dict[str, float | None], bool, str | None]:
    """(Kendall's W, ICCs, complete, note) over the entry × judge matrix; W and the ICCs need every cell of it."""
    n_entries, n_judges = len(table.entries), len(table.judges)
    totals = table.totals
    complete = totals.size == n_entries * n_judges and n_entries > 0
    note = None
    w = None
    iccs: dict[str, float | None] = dict.fromkeys(ICC_KEYS)
    if not complete:
        note = "kendall_w and ICCs need every judge to score every entry; the matrix is incomplete"
    elif n_entries < 2 or n_judges < 2:
        note = "kendall_w and ICCs need at least 2 entries and 2 judges"
    else:
        # sheets are sorted by (entry, judge), so a complete set reshapes row-major
        matrix = totals.reshape(n_entries, n_judges)
        w = kendall_w(rounded(matrix))
        iccs = icc(matrix)
        if w is None or any(v is None for v in iccs.values()):
            note = "some statistics are undefined because the totals have no variance"
    return w, iccs, bool(complete), note
