"""The column forms the portal's results board uses: table_from_sheets (sheets as a grid) equals build_table over the
same scores, rank_columns gives rank_table's lines (tie-break notes included), and agreement's spread as columns."""

from __future__ import annotations

import random

import numpy as np
import pytest

from judging import Criterion, JudgingError
from judging.methods import SCORERS
from judging.ranking import rank_columns, rank_table
from judging.reliability import agreement_table, spread_columns
from judging.table import build_table, table_from_sheets

RUBRIC = (Criterion("Story", 10, weight=2, step=0.5), Criterion("Sound", 5, weight=1.5, step=1), Criterion("Edit", 3))


def _round(seed: int, entries: int, judges: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A shuffled round with coarse points (many ties), ids whose string order is not their numeric order."""
    rng = random.Random(seed)
    rows = [
        (e * 7 + 3, j * 13 + 95, [rng.randint(0, int(c.max_points)) for c in RUBRIC])
        for e in range(entries)
        for j in range(judges)
        if rng.random() < 0.8
    ]
    rng.shuffle(rows)
    return (
        np.array([r[0] for r in rows], dtype=np.int64),
        np.array([r[1] for r in rows], dtype=np.int64),
        np.array([r[2] for r in rows], dtype=np.float64).reshape(-1, len(RUBRIC)),
    )


def _long(entries, judges, points):
    """The same sheets as build_table's long form: one score per row, ids as strings."""
    return build_table(
        [str(e) for e in entries for _ in RUBRIC],
        [str(j) for j in judges for _ in RUBRIC],
        [c.name for _ in entries for c in RUBRIC],
        points.reshape(-1),
        RUBRIC,
        label=lambda i: f"score #{i + 1}",
    )


@pytest.mark.parametrize(("seed", "entries", "judges"), [(1, 40, 5), (2, 200, 3), (3, 7, 1), (4, 120, 9)])
def test_table_from_sheets_equals_build_table_and_ranks_the_same(seed, entries, judges):
    e, j, p = _round(seed, entries, judges)
    grid, long = table_from_sheets(e, j, p, RUBRIC), _long(e, j, p)
    assert grid.entries == long.entries and grid.judges == long.judges
    assert list(grid.entries) == sorted(grid.entries)  # ordered as strings: "10" before "3"
    assert list(grid.entries) != sorted(grid.entries, key=int) or entries < 10
    for name in ("sheet_entry", "sheet_judge", "weighted", "totals"):
        assert getattr(grid, name).dtype == getattr(long, name).dtype
        np.testing.assert_array_equal(getattr(grid, name), getattr(long, name), err_msg=name)
    for method in SCORERS:
        for rules in ((), ("median",), ("criterion:Sound", "first_places")):
            lines = rank_table(long, method=method, tie_breaks=rules)
            assert rank_table(grid, method=method, tie_breaks=rules) == lines
            columns = rank_columns(grid, method=method, tie_breaks=rules)
            assert [grid.entries[i] for i in columns.order.tolist()] == [r.entry for r in lines]
            assert columns.rank.tolist() == [r.rank for r in lines]
            assert columns.score.tolist() == [r.score for r in lines]
            assert [columns.note(pos) for pos in range(len(columns))] == [r.tie_break for r in lines]


def test_table_from_sheets_names_the_first_bad_sheet():
    e, j, p = _round(5, 10, 3)
    bad = p.copy()
    bad[4, 1], bad[6, 0] = 6, 11  # out of range for Sound (0..5), then for Story
    with pytest.raises(JudgingError, match=r"^sheet #5: points 6 out of range 0..5 for criterion 'Sound'$"):
        table_from_sheets(e, j, bad, RUBRIC)
    bad = p.copy()
    bad[2, 0] = 2.25
    with pytest.raises(JudgingError, match=r"^sheet #3: points 2.25 is not a multiple of step 0.5"):
        table_from_sheets(e, j, bad, RUBRIC)
    bad[2, 0] = np.nan
    with pytest.raises(JudgingError, match=r"^sheet #3: points nan is not a finite number$"):
        table_from_sheets(e, j, bad, RUBRIC)
    twice = np.r_[e, e[:1]], np.r_[j, j[:1]], np.r_[p, p[:1]]
    with pytest.raises(JudgingError, match=rf"^sheet #{e.size + 1}: duplicate of sheet #1 "):
        table_from_sheets(*twice, RUBRIC)
    with pytest.raises(ValueError, match="shapes"):
        table_from_sheets(e, j[:-1], p, RUBRIC)


def test_empty_tables_and_rankings():
    empty = table_from_sheets(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), np.zeros((0, 3)), RUBRIC)
    assert empty.entries == () and rank_table(empty) == [] and len(rank_columns(empty)) == 0


def test_spread_columns_are_agreements_per_entry_spread():
    e, j, p = _round(6, 60, 4)
    table = table_from_sheets(e, j, p, RUBRIC)
    full = agreement_table(table, flag_threshold=9)
    brief = agreement_table(table, flag_threshold=9, per_entry=False)
    assert brief.per_entry == [] and {**brief.__dict__, "per_entry": full.per_entry} == full.__dict__
    spread, flag = spread_columns(table, full.threshold)
    assert spread.tolist() == [a.range for a in full.per_entry]
    assert flag.tolist() == [a.flag for a in full.per_entry] and any(flag) and not all(flag)
