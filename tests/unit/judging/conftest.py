"""Shared helpers for the judging tests (fixtures only; no test code here)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from judging import Criterion, Score


def sheets(rubric, rows):
    """Scores from {(entry, judge): [points per criterion]} in rubric order."""
    out = []
    for (entry, judge), points in rows.items():
        assert len(points) == len(rubric)
        for crit, p in zip(rubric, points, strict=False):
            out.append(Score(entry, judge, crit.name, p))
    return out


def totals_as_scores(matrix, *, max_points=100.0):
    """One-criterion rubric whose points are the totals {(entry, judge): total}."""
    rubric = (Criterion("overall", max_points),)
    return sheets(rubric, {k: [v] for k, v in matrix.items()}), rubric


def write_csv(path: Path, header, rows, *, encoding="utf-8", delimiter=","):
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=delimiter, lineterminator="\r\n")
    if header is not None:
        w.writerow(header)
    w.writerows(rows)
    path.write_text(buf.getvalue(), encoding=encoding, newline="")
    return path


@pytest.fixture
def helpers():
    class H:
        pass

    h = H()
    h.sheets = sheets
    h.totals_as_scores = totals_as_scores
    h.write_csv = write_csv
    return h
