"""Kendall's W, Shrout & Fleiss ICCs and per-entry spread against published values."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import friedmanchisquare

from judging import Criterion, JudgingError, agreement
from judging.reliability import kendall_w

# Shrout, P. E. & Fleiss, J. L. (1979). Intraclass correlations: uses in assessing
# rater reliability. Psychological Bulletin 86(2), 420-428. Table 2 (6 targets × 4
# judges) and the ICCs published from it.
SHROUT_FLEISS = [[9, 2, 5, 8], [6, 1, 3, 2], [8, 4, 6, 8], [7, 1, 2, 6], [10, 5, 6, 9], [6, 2, 4, 7]]
PUBLISHED = {"ICC1": 0.17, "ICC2": 0.29, "ICC3": 0.71, "ICC1k": 0.44, "ICC2k": 0.62, "ICC3k": 0.91}


def matrix_scores(helpers, matrix, *, max_points=10):
    return helpers.totals_as_scores(
        {(f"T{i + 1}", f"J{j + 1}"): v for i, row in enumerate(matrix) for j, v in enumerate(row)},
        max_points=max_points,
    )


def test_shrout_fleiss_table_2(helpers):
    scores, rubric = matrix_scores(helpers, SHROUT_FLEISS)
    report = agreement(scores, rubric)
    assert report.complete and report.entries == 6 and report.judges == 4
    assert set(report.icc) == set(PUBLISHED)
    for key, value in PUBLISHED.items():
        assert round(report.icc[key], 2) == value, key
    # Mean squares from the paper's Table 3 (BMS 11.24, WMS 6.26, JMS 32.49, EMS 1.02)
    # give ICC(1,1) = (11.24 − 6.26) / (11.24 + 3·6.26) = .166 and ICC(3,k) = 10.22/11.24 = .909
    assert report.icc["ICC1"] == pytest.approx(0.1657, abs=1e-4)
    assert report.icc["ICC3k"] == pytest.approx(0.9093, abs=1e-4)


def test_kendall_w_textbook_example(helpers):
    # ProofWiki "Kendall's Coefficient of Concordance/Examples/Arbitrary Example 1":
    # competitors X, Y, Z ranked by judges A-D as X 1,1,2,3; Y 3,2,3,1; Z 2,3,1,2 -> W = 1/16.
    # Rank sums 7, 9, 8; S = 2; W = 12·2 / (4²·3·(3²−1)) = 1/16. Reversing every judge's
    # order (points vs. ranks) leaves W unchanged.
    ranks = [[1, 1, 2, 3], [3, 2, 3, 1], [2, 3, 1, 2]]
    scores, rubric = matrix_scores(helpers, ranks)
    assert agreement(scores, rubric).kendall_w == pytest.approx(1 / 16, abs=1e-12)


def test_kendall_w_with_ties_by_hand():
    # 4 entries (rows) × 3 judges (columns), values already average ranks:
    #   judge 1: 1, 2, 3, 4          no ties          T = 0
    #   judge 2: 1, 2.5, 2.5, 4      one pair         T = 2³−2 = 6
    #   judge 3: 1.5, 1.5, 3.5, 3.5  two pairs        T = 12
    # Rank sums 3.5, 6, 9, 11.5 (mean 7.5): S = 16 + 2.25 + 2.25 + 16 = 36.5
    # W = 12·36.5 / (3²·(4³−4) − 3·18) = 438 / 486 = 73/81
    matrix = np.array([[1, 1, 1.5], [2, 2.5, 1.5], [3, 2.5, 3.5], [4, 4, 3.5]])
    assert kendall_w(matrix) == pytest.approx(73 / 81, abs=1e-12)


def test_kendall_w_equals_friedman_chi2_over_m_n_minus_1():
    # scipy's Friedman statistic applies the same tie correction, so W = χ²/(m(n−1))
    # holds exactly with ties; without correction on one side they would differ.
    rng = np.random.default_rng(11)
    for _ in range(20):
        n, m = int(rng.integers(3, 12)), int(rng.integers(2, 7))
        matrix = rng.integers(0, 6, size=(n, m)).astype(float)  # plenty of ties
        if any(len(set(matrix[:, j])) == 1 for j in range(m)):
            continue  # scipy's correction divides by zero when a judge ties everything
        chi2 = friedmanchisquare(*matrix).statistic  # treatments = entries, blocks = judges
        assert kendall_w(matrix) == pytest.approx(chi2 / (m * (n - 1)), rel=1e-12)


def test_perfect_agreement_and_degenerate_cases(helpers):
    scores, rubric = matrix_scores(helpers, [[1, 2], [3, 4], [5, 6]])
    assert agreement(scores, rubric).kendall_w == pytest.approx(1.0)
    flat, rubric = matrix_scores(helpers, [[5, 5], [5, 5]])
    report = agreement(flat, rubric)
    assert report.kendall_w is None and report.icc["ICC1"] is None
    assert "no variance" in report.note


def test_incomplete_matrix_gives_none(helpers):
    scores, rubric = helpers.totals_as_scores({("A", "J1"): 5, ("A", "J2"): 7, ("B", "J1"): 3})
    report = agreement(scores, rubric)
    assert not report.complete
    assert report.kendall_w is None
    assert report.icc == dict.fromkeys(["ICC1", "ICC2", "ICC3", "ICC1k", "ICC2k", "ICC3k"])
    assert "incomplete" in report.note
    assert [(e.entry, e.judges) for e in report.per_entry] == [("A", 2), ("B", 1)]


def test_per_entry_stats_and_default_flag(helpers):
    rubric = (Criterion("Story", 10, weight=2), Criterion("Sound", 10))  # max total 30, flag above 7.5
    scores = helpers.sheets(
        rubric,
        {
            ("A", "J1"): [10, 0], ("A", "J2"): [6, 0],   # totals 20, 12: range 8 > 7.5 -> flag
            ("B", "J1"): [5, 5], ("B", "J2"): [5, 0],    # totals 15, 10: range 5
            ("C", "J1"): [4, 0], ("C", "J2"): [0, 0.5],  # totals 8, 0.5: range 7.5, not above
        },
    )  # fmt: skip
    report = agreement(scores, rubric)
    assert report.max_total == 30 and report.threshold == 7.5
    rows = {e.entry: (e.judges, e.mean, e.sd, e.range, e.flag) for e in report.per_entry}
    # population sd of two values is half their range
    assert rows == {"A": (2, 16.0, 4.0, 8.0, True), "B": (2, 12.5, 2.5, 5.0, False), "C": (2, 4.25, 3.75, 7.5, False)}
    custom = agreement(scores, rubric, flag_threshold=4)
    assert [e.flag for e in custom.per_entry] == [True, True, True]
    assert custom.threshold == 4


def test_bad_threshold(helpers):
    scores, rubric = helpers.totals_as_scores({("A", "J1"): 5})
    with pytest.raises(JudgingError, match="flag threshold must be a number >= 0"):
        agreement(scores, rubric, flag_threshold=-1)


def test_as_dict_shape(helpers):
    scores, rubric = matrix_scores(helpers, SHROUT_FLEISS)
    doc = agreement(scores, rubric).as_dict()
    assert set(doc) == {
        "kendall_w",
        "icc",
        "entries",
        "judges",
        "complete",
        "threshold",
        "max_total",
        "note",
        "per_entry",
    }
    assert set(doc["per_entry"][0]) == {"entry", "judges", "mean", "sd", "range", "flag"}
