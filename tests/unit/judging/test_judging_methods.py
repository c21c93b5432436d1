"""Each ranking method on small hand-checked examples."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest
from scipy.stats import rankdata

from judging import METHODS, Criterion, JudgingError, rank
from judging.methods import group_average_ranks


def scores_of(result):
    return {r.entry: r.score for r in result}


# Totals per entry (judges J1..J5 in order):
#   X: 10, 20, 30, 40, 100   mean 40, median 30, trim1 mean(20,30,40)=30, trim2 mean(30)=30
#   Y: 50, 60, 70            mean 60, median 60, trim1 mean(60)=60,       trim2 falls back to mean 60
#   Z: 0, 0, 0, 100          mean 25, median 0,  trim1 mean(0,0)=0,       trim2 falls back to mean 25
#   W: 10, 30                mean 20, median 20, trim1 falls back to mean 20
TOTALS = {
    **{("X", f"J{i}"): t for i, t in enumerate([10, 20, 30, 40, 100], 1)},
    **{("Y", f"J{i}"): t for i, t in enumerate([50, 60, 70], 1)},
    **{("Z", f"J{i}"): t for i, t in enumerate([0, 0, 0, 100], 1)},
    **{("W", f"J{i}"): t for i, t in enumerate([10, 30], 1)},
}


def test_mean(helpers):
    scores, rubric = helpers.totals_as_scores(TOTALS)
    result = rank(scores, rubric, method="mean")
    assert scores_of(result) == {"X": 40, "Y": 60, "Z": 25, "W": 20}
    assert [r.entry for r in result] == ["Y", "X", "Z", "W"]
    assert [r.judges for r in result] == [3, 5, 4, 2]


def test_median(helpers):
    scores, rubric = helpers.totals_as_scores(TOTALS)
    assert scores_of(rank(scores, rubric, method="median")) == {"X": 30, "Y": 60, "Z": 0, "W": 20}


def test_trimmed_mean_default_k1_with_fallback(helpers):
    scores, rubric = helpers.totals_as_scores(TOTALS)
    assert scores_of(rank(scores, rubric, method="trimmed_mean")) == {"X": 30, "Y": 60, "Z": 0, "W": 20}


def test_trimmed_mean_k2_falls_back_to_mean_below_five_totals(helpers):
    scores, rubric = helpers.totals_as_scores(TOTALS)
    assert scores_of(rank(scores, rubric, method="trimmed_mean", trim=2)) == {"X": 30, "Y": 60, "Z": 25, "W": 20}


def test_trimmed_mean_k0_is_mean(helpers):
    scores, rubric = helpers.totals_as_scores(TOTALS)
    assert scores_of(rank(scores, rubric, method="trimmed_mean", trim=0)) == scores_of(rank(scores, rubric))


def test_zscore_hand_example(helpers):
    # J1 gives 2, 4, 6 and J2 gives 10, 20, 30 to A, B, C: both judges z = -√1.5, 0, +√1.5.
    # All six totals: μ = 72/6 = 12, σ² = 1456/6 - 144 = 296/3, so σ·√1.5 = √148.
    scores, rubric = helpers.totals_as_scores(
        {("A", "J1"): 2, ("B", "J1"): 4, ("C", "J1"): 6, ("A", "J2"): 10, ("B", "J2"): 20, ("C", "J2"): 30}
    )
    got = scores_of(rank(scores, rubric, method="zscore"))
    assert got["A"] == pytest.approx(12 - math.sqrt(148), abs=1e-9)
    assert got["B"] == pytest.approx(12, abs=1e-9)
    assert got["C"] == pytest.approx(12 + math.sqrt(148), abs=1e-9)


def test_zscore_removes_judge_harshness(helpers):
    # J2 is 10 points harsher than J1 on the shared entry E2, and alone saw E3.
    # J1: E1 60, E2 40 (mean 50, sd 10) -> z +1, -1; J2: E2 30, E3 50 (mean 40, sd 10) -> z -1, +1.
    scores, rubric = helpers.totals_as_scores({("E1", "J1"): 60, ("E2", "J1"): 40, ("E2", "J2"): 30, ("E3", "J2"): 50})
    mean = scores_of(rank(scores, rubric, method="mean"))
    assert mean["E3"] < mean["E1"]
    z = scores_of(rank(scores, rubric, method="zscore"))
    # μ = 45, σ = √(mean of squares − μ²) = √(8600/4 − 2025) = √125: E1 = E3 = 45 + √125, E2 = 45 − √125
    assert z["E1"] == z["E3"] == pytest.approx(45 + math.sqrt(125), abs=1e-9)
    assert z["E2"] == pytest.approx(45 - math.sqrt(125), abs=1e-9)


def test_zscore_guard_single_score_and_zero_spread(helpers):
    rubric = (Criterion("a", 10, weight=0.1), Criterion("b", 10, weight=0.2), Criterion("c", 10, weight=0.3))
    scores = helpers.sheets(
        rubric,
        {
            # J1 has spread: A=1.4, B=0.0 -> z = +1, -1
            ("A", "J1"): [2, 3, 2],
            ("B", "J1"): [0, 0, 0],
            # J2's totals are all "0.3" but differ in the last bit (0.30000000000000004 vs 0.3);
            # an unguarded sd of ~2e-17 would turn that noise into z = ±0.7
            ("A", "J2"): [3, 0, 0],
            ("B", "J2"): [0, 0, 1],
            ("C", "J2"): [1, 1, 0],
            # J3 scored a single entry: z = 0
            ("C", "J3"): [10, 10, 10],
        },
    )
    got = scores_of(rank(scores, rubric, method="zscore"))
    totals = np.array([1.4, 0.0, 0.3, 0.3, 0.3, 6.0])
    mu, sigma = totals.mean(), totals.std()
    assert got["A"] == pytest.approx(mu + sigma * (1 + 0) / 2, abs=1e-9)
    assert got["B"] == pytest.approx(mu + sigma * (-1 + 0) / 2, abs=1e-9)
    assert got["C"] == pytest.approx(mu, abs=1e-9)


def test_zscore_all_equal_totals_is_mu(helpers):
    scores, rubric = helpers.totals_as_scores({("A", "J1"): 5, ("B", "J1"): 5, ("A", "J2"): 5})
    assert scores_of(rank(scores, rubric, method="zscore")) == {"A": 5, "B": 5}


def test_borda_with_ties_and_partial_judges(helpers):
    # J1: A=9, B=9, C=5, D=1 (n=4): D 0, C 1, A and B share 2 and 3 -> 2.5 each
    # J2: A=3, B=7, C=7       (n=3): A 0, B and C share 1 and 2 -> 1.5 each
    # Borda = mean points: A (2.5+0)/2 = 1.25, B (2.5+1.5)/2 = 2, C (1+1.5)/2 = 1.25, D 0
    scores, rubric = helpers.totals_as_scores(
        {("A", "J1"): 9, ("B", "J1"): 9, ("C", "J1"): 5, ("D", "J1"): 1, ("A", "J2"): 3, ("B", "J2"): 7, ("C", "J2"): 7}
    )
    result = rank(scores, rubric, method="borda")
    assert [(r.entry, r.rank, r.score, r.tied) for r in result] == [
        ("B", 1, 2.0, False),
        ("A", 2, 1.25, True),
        ("C", 2, 1.25, True),
        ("D", 4, 0.0, False),
    ]


def test_borda_ties_use_rounded_totals(helpers):
    rubric = (Criterion("a", 10, weight=0.1), Criterion("b", 10, weight=0.2), Criterion("c", 10, weight=0.3))
    # 0.1 + 0.2 (=0.30000000000000004) and 0.3 are a tie: both get 0.5 points
    scores = helpers.sheets(rubric, {("A", "J1"): [1, 1, 0], ("B", "J1"): [0, 0, 1]})
    assert scores_of(rank(scores, rubric, method="borda")) == {"A": 0.5, "B": 0.5}


def test_group_average_ranks_matches_scipy_rankdata():
    rng = np.random.default_rng(7)
    for _ in range(200):
        n = int(rng.integers(0, 40))
        groups = rng.integers(0, 4, n)
        values = rng.integers(0, 5, n).astype(float)
        ranks, tie_sizes, tie_groups = group_average_ranks(groups, values)
        for g in np.unique(groups):
            mask = groups == g
            assert np.array_equal(ranks[mask], rankdata(values[mask], method="average"))
            _, counts = np.unique(values[mask], return_counts=True)
            assert sorted(tie_sizes[tie_groups == g].tolist()) == sorted(counts.tolist())


@pytest.mark.parametrize("method", METHODS)
def test_input_order_never_matters(helpers, method):
    rng = random.Random(3)
    matrix = {(f"E{e}", f"J{j}"): rng.randint(0, 6) for e in range(12) for j in range(4) if rng.random() < 0.8}
    scores, rubric = helpers.totals_as_scores(matrix)
    expected = rank(scores, rubric, method=method, tie_breaks=["median", "first_places"])
    for _ in range(3):
        rng.shuffle(scores)
        assert rank(scores, rubric, method=method, tie_breaks=["median", "first_places"]) == expected


def test_unknown_method_and_bad_trim(helpers):
    scores, rubric = helpers.totals_as_scores({("A", "J1"): 1})
    with pytest.raises(JudgingError, match="unknown method 'average'"):
        rank(scores, rubric, method="average")
    with pytest.raises(JudgingError, match="trim must be a whole number >= 0"):
        rank(scores, rubric, method="trimmed_mean", trim=-1)
    with pytest.raises(JudgingError, match="trim must be"):
        rank(scores, rubric, method="trimmed_mean", trim=1.5)


def test_methods_constant():
    assert METHODS == ("mean", "median", "trimmed_mean", "zscore", "borda")
