"""Totals and input validation (the API path; CSV messages are in the CLI tests)."""

from __future__ import annotations

import math

import pytest

from judging import Criterion, JudgingError, Score, judge_totals, rank, validate_rubric, validate_scores

RUBRIC = (Criterion("Story", 10, weight=2), Criterion("Sound", 10, weight=0.5, step=0.5))


def test_judge_totals_weighted_sum(helpers):
    scores = helpers.sheets(RUBRIC, {("E1", "J1"): [7, 4.5], ("E1", "J2"): [10, 10], ("E2", "J1"): [0, 0]})
    # E1/J1: 7*2 + 4.5*0.5 = 16.25 ; E1/J2: 20 + 5 = 25 ; E2/J1: 0
    assert judge_totals(scores, RUBRIC) == {"E1": {"J1": 16.25, "J2": 25.0}, "E2": {"J1": 0.0}}


def test_totals_are_rounded_to_hide_float_noise(helpers):
    rubric = (Criterion("a", 10, weight=0.1), Criterion("b", 10, weight=0.2))
    # 1*0.1 + 1*0.2 is 0.30000000000000004 in binary floating point
    totals = judge_totals(helpers.sheets(rubric, {("E", "J"): [1, 1]}), rubric)
    assert totals == {"E": {"J": 0.3}}


def test_valid_scores_pass(helpers):
    assert validate_scores(helpers.sheets(RUBRIC, {("E1", "J1"): [10, 0.5]}), RUBRIC) is None


@pytest.mark.parametrize(
    "score, message",
    [
        (Score("E1", "J1", "Plot", 3), "score #3: unknown criterion 'Plot'"),
        (Score("E1", "J1", "Story", 11), "score #3: points 11 out of range 0..10 for criterion 'Story'"),
        (Score("E1", "J1", "Story", -1), "score #3: points -1 out of range"),
        (Score("E1", "J1", "Sound", 2.25), "score #3: points 2.25 is not a multiple of step 0.5"),
        (Score("E1", "J1", "Story", math.nan), "score #3: points nan is not a finite number"),
        (Score("E1", "J1", "Story", "7"), "score #3: points '7' is not a number"),
        (Score("E1", "J1", "Story", True), "score #3: points True is not a number"),
        (Score("", "J1", "Story", 1), "score #3: entry must be a non-empty string"),
        (Score("E1", 7, "Story", 1), "score #3: judge must be a non-empty string, got int"),
    ],
)
def test_invalid_score_is_named(score, message):
    good = [Score("E0", "J1", "Story", 1), Score("E0", "J1", "Sound", 1)]
    with pytest.raises(JudgingError) as err:
        validate_scores(good + [score], RUBRIC)
    assert message in str(err.value)


def test_duplicate_names_both_rows():
    scores = [
        Score("E1", "J1", "Story", 1),
        Score("E1", "J1", "Sound", 1),
        Score("E1", "J1", "Story", 2),
    ]
    with pytest.raises(
        JudgingError, match=r"score #3: duplicate of score #1 \(entry 'E1', judge 'J1', criterion 'Story'\)"
    ):
        validate_scores(scores, RUBRIC)


def test_incomplete_sheet_is_rejected():
    scores = [
        Score("E1", "J1", "Story", 1),
        Score("E1", "J1", "Sound", 1),
        Score("E2", "J1", "Story", 5),  # no Sound for E2/J1
    ]
    with pytest.raises(JudgingError) as err:
        rank(scores, RUBRIC)
    assert "score #3: incomplete sheet: judge 'J1' scored entry 'E2' on 1 of 2 criteria; missing 'Sound'" in str(
        err.value
    )


def test_earliest_problem_is_reported():
    scores = [Score("E1", "J1", "Story", 1), Score("E1", "J1", "Sound", 99), Score("E1", "J1", "Nope", 1)]
    with pytest.raises(JudgingError, match="score #2: points 99"):
        validate_scores(scores, RUBRIC)


@pytest.mark.parametrize(
    "rubric, message",
    [
        ((), "rubric has no criteria"),
        ((Criterion("A", 10), Criterion("A", 5)), "criterion 'A' is listed twice"),
        ((Criterion("A", 0),), "max_points must be greater than 0"),
        ((Criterion("A", 10, weight=-1),), "weight must be greater than 0"),
        ((Criterion("A", 10, step=0),), "step must be greater than 0"),
        ((Criterion(" ", 10),), "criterion name must be a non-empty string"),
        ((Criterion("A", float("inf")),), "max_points inf is not a finite number"),
    ],
)
def test_invalid_rubric(rubric, message):
    with pytest.raises(JudgingError, match=message):
        validate_rubric(rubric)


def test_empty_scores_give_empty_results():
    assert rank([], RUBRIC) == []
    assert judge_totals([], RUBRIC) == {}


def test_judging_error_is_value_error():
    assert issubclass(JudgingError, ValueError)
