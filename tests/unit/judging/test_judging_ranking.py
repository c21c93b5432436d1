"""Competition ranking, tie detection, tie-break rules and their explanations."""

from __future__ import annotations

import pytest

from judging import Criterion, JudgingError, RankedEntry, rank

STORY_SOUND = (Criterion("Story", 10, weight=2), Criterion("Sound", 10))


def table(result):
    return [(r.entry, r.rank, r.score, r.tied) for r in result]


def test_competition_ranking_1_2_2_4(helpers):
    scores, rubric = helpers.totals_as_scores({("A", "J"): 9, ("B", "J"): 7, ("C", "J"): 7, ("D", "J"): 1})
    assert table(rank(scores, rubric)) == [
        ("A", 1, 9.0, False),
        ("B", 2, 7.0, True),
        ("C", 2, 7.0, True),
        ("D", 4, 1.0, False),
    ]


def test_ties_sorted_by_entry_id_not_input_order(helpers):
    scores, rubric = helpers.totals_as_scores({("zeta", "J"): 5, ("alpha", "J"): 5, ("Mid", "J"): 5})
    result = rank(scores, rubric)
    assert [r.entry for r in result] == ["Mid", "alpha", "zeta"]  # plain code-point order
    assert {r.rank for r in result} == {1}
    assert all(r.tied for r in result)
    assert result[0].tie_break == "tied on score with alpha, zeta; no tie-break rules given"


def test_float_noise_neither_creates_nor_breaks_ties(helpers):
    rubric = (Criterion("a", 10, weight=0.1), Criterion("b", 10, weight=0.2), Criterion("c", 10, weight=0.3))
    # A: 0.1 + 0.2 = 0.30000000000000004 ; B: 0.3 ; C: 0.3 + 1e-6 (a real difference)
    scores = helpers.sheets(rubric, {("A", "J"): [1, 1, 0], ("B", "J"): [0, 0, 1], ("C", "J"): [0.00001, 0, 1]})
    assert table(rank(scores, rubric)) == [("C", 1, 0.300001, False), ("A", 2, 0.3, True), ("B", 2, 0.3, True)]


def test_result_fields(helpers):
    scores = helpers.sheets(STORY_SOUND, {("E1", "J1"): [5, 10], ("E1", "J2"): [10, 0]})
    (only,) = rank(scores, STORY_SOUND)
    assert only == RankedEntry(
        entry="E1", rank=1, score=20.0, tied=False, judges=2, totals={"J1": 20.0, "J2": 20.0}, tie_break=None
    )


def test_criterion_tie_break(helpers):
    # P: J1 Story 5 Sound 10 = 20, J2 same = 20      -> mean 20, mean weighted Story 10
    # Q: J1 Story 10 Sound 0 = 20, J2 Story 8 Sound 4 -> mean 20, mean weighted Story 18
    scores = helpers.sheets(
        STORY_SOUND,
        {("P", "J1"): [5, 10], ("P", "J2"): [5, 10], ("Q", "J1"): [10, 0], ("Q", "J2"): [8, 4]},
    )
    plain = rank(scores, STORY_SOUND)
    assert table(plain) == [("P", 1, 20.0, True), ("Q", 1, 20.0, True)]
    broken = rank(scores, STORY_SOUND, tie_breaks=["criterion:Story"])
    assert table(broken) == [("Q", 1, 20.0, False), ("P", 2, 20.0, False)]
    assert broken[0].tie_break == "score tie with P; separated by criterion:Story (18)"
    assert broken[1].tie_break == "score tie with Q; separated by criterion:Story (10)"
    # Sound favours P instead: the rule, not input order, decides
    assert [r.entry for r in rank(scores, STORY_SOUND, tie_breaks=["criterion:Sound"])] == ["P", "Q"]


def test_median_tie_break(helpers):
    # R: 0, 30, 30 (mean 20, median 30); S: 10, 10, 40 (mean 20, median 10)
    scores, rubric = helpers.totals_as_scores(
        {("S", "J1"): 10, ("S", "J2"): 10, ("S", "J3"): 40, ("R", "J1"): 0, ("R", "J2"): 30, ("R", "J3"): 30}
    )
    result = rank(scores, rubric, tie_breaks=["median"])
    assert table(result) == [("R", 1, 20.0, False), ("S", 2, 20.0, False)]
    assert result[0].tie_break == "score tie with S; separated by median (30)"


def test_first_places_tie_break(helpers):
    # Judges' top totals: J1 -> A (9), J2 -> A (9), J3 -> B (9) and C (9) share it.
    # Means: A (9+9+0)/3 = 6, B (5+4+9)/3 = 6, C (7+2+9)/3 = 6. First places A 2, B 1, C 1.
    scores, rubric = helpers.totals_as_scores(
        {
            ("A", "J1"): 9, ("A", "J2"): 9, ("A", "J3"): 0,
            ("B", "J1"): 5, ("B", "J2"): 4, ("B", "J3"): 9,
            ("C", "J1"): 7, ("C", "J2"): 2, ("C", "J3"): 9,
        }
    )  # fmt: skip
    result = rank(scores, rubric, tie_breaks=["first_places"])
    assert table(result) == [("A", 1, 6.0, False), ("B", 2, 6.0, True), ("C", 2, 6.0, True)]
    assert result[0].tie_break == "score tie with B, C; separated by first_places (2)"
    assert result[1].tie_break == "still tied with C after first_places"
    # median (B 5, C 7) then settles B vs C; rules apply in the order given
    result = rank(scores, rubric, tie_breaks=["first_places", "median"])
    assert table(result) == [("A", 1, 6.0, False), ("C", 2, 6.0, False), ("B", 3, 6.0, False)]
    assert result[1].tie_break == "score tie with A, B; separated by median (7)"
    # median first: A 9, C 7, B 5 — first_places is never consulted
    assert [r.entry for r in rank(scores, rubric, tie_breaks=["median", "first_places"])] == ["A", "C", "B"]


def test_tie_break_only_acts_within_score_ties(helpers):
    # B has the better median, but A's higher mean wins outright
    scores, rubric = helpers.totals_as_scores(
        {("A", "J1"): 10, ("A", "J2"): 0, ("A", "J3"): 0, ("B", "J1"): 1, ("B", "J2"): 1, ("B", "J3"): 1}
    )
    result = rank(scores, rubric, tie_breaks=["median"])
    assert table(result) == [("A", 1, pytest.approx(10 / 3), False), ("B", 2, 1.0, False)]
    assert all(r.tie_break is None for r in result)


def test_still_tied_after_all_rules(helpers):
    scores = helpers.sheets(STORY_SOUND, {("A", "J1"): [5, 5], ("B", "J1"): [5, 5], ("C", "J1"): [1, 1]})
    result = rank(scores, STORY_SOUND, tie_breaks=["criterion:Story", "median", "first_places"])
    assert table(result) == [("A", 1, 15.0, True), ("B", 1, 15.0, True), ("C", 3, 3.0, False)]
    assert result[0].tie_break == "still tied with B after criterion:Story, median, first_places"


def test_large_tie_groups_are_summarised(helpers):
    scores, rubric = helpers.totals_as_scores({(f"E{i:02d}", "J"): 5 for i in range(9)})
    result = rank(scores, rubric)
    assert result[0].tie_break == "tied on score with 8 other entries; no tie-break rules given"


@pytest.mark.parametrize(
    "rules, message",
    [
        (["criterion:Plot"], "no criterion 'Plot' in rubric"),
        (["mean"], "unknown tie-break rule 'mean'"),
        ([3], "tie-break rule must be a string"),
    ],
)
def test_bad_tie_break_rules(helpers, rules, message):
    scores = helpers.sheets(STORY_SOUND, {("A", "J1"): [5, 5]})
    with pytest.raises(JudgingError, match=message):
        rank(scores, STORY_SOUND, tie_breaks=rules)


def test_single_rule_string_is_accepted(helpers):
    scores, rubric = helpers.totals_as_scores({("A", "J1"): 1})
    assert rank(scores, rubric, tie_breaks="median")[0].rank == 1
