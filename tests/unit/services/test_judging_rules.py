"""The pure rules of rounds and score sheets: tie-break rules, level descriptions, points, the scoring window.

Models are built in memory, never flushed: no database, no services."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from app.models import Criterion, Round, RoundStatus
from app.services import PortalError
from app.services.rounds import check_tie_breaks, parse_levels
from app.services.scoring import parse_points, round_accepts_scores

NOW = datetime(2026, 3, 1, 12, 0)


@pytest.mark.parametrize(
    ("rules", "expected"),
    [
        ([], []),
        (["median"], ["median"]),
        (["  first_places ", "", "   "], ["first_places"]),
        (["criterion:Nội dung", "median", "first_places"], ["criterion:Nội dung", "median", "first_places"]),
    ],
)
def test_check_tie_breaks_keeps_valid_rules_in_order(rules, expected):
    assert check_tie_breaks(rules, {"Nội dung", "Hình ảnh"}) == expected


@pytest.mark.parametrize("rule", ["mean", "criterion:Âm thanh", "criterion:", "Median", "median ; first_places"])
def test_check_tie_breaks_refuses_unknown_rules(rule):
    with pytest.raises(PortalError) as refused:
        check_tie_breaks(["median", rule], {"Nội dung"})
    assert refused.value.field == "tie_breaks"
    assert rule.strip() in str(refused.value)


def test_parse_levels_sorts_from_best_and_accepts_commas():
    assert parse_levels("5: Khá; 8,5 = Xuất sắc\n\n2:Yếu") == [
        {"points": 8.5, "label": "Xuất sắc"},
        {"points": 5.0, "label": "Khá"},
        {"points": 2.0, "label": "Yếu"},
    ]


@pytest.mark.parametrize("text", ["", "  ", None, ";\n;"])
def test_parse_levels_of_nothing_is_none(text):
    assert parse_levels(text) is None


@pytest.mark.parametrize("text", ["Excellent", "8 Excellent", "-1: bad", "8:"])
def test_parse_levels_refuses_what_it_cannot_read(text):
    with pytest.raises(PortalError) as refused:
        parse_levels(text)
    assert refused.value.field == "criteria"


def _criterion(max_points: float = 10, step: float = 0.5) -> Criterion:
    return Criterion(id=4, name="Nội dung", max_points=max_points, step=step)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("8.5", 8.5), ("8,5", 8.5), (" 7 ", 7.0), (0, 0.0), ("10", 10.0), (9.5, 9.5), ("0.0", 0.0)],
)
def test_parse_points_reads_numbers_with_either_decimal_mark(raw, expected):
    assert parse_points(_criterion(), raw) == expected


@pytest.mark.parametrize("raw", [None, "", "   "])
def test_parse_points_left_empty_is_none(raw):
    assert parse_points(_criterion(), raw) is None


@pytest.mark.parametrize(
    ("raw", "why"),
    [
        ("tám", "enter a number"),
        ("8.5.1", "enter a number"),
        ("-0.5", "between 0 and 10"),
        ("10.5", "between 0 and 10"),
        ("nan", "between 0 and 10"),
        ("inf", "between 0 and 10"),
        ("8.25", "multiple of 0.5"),
    ],
)
def test_parse_points_refuses_with_the_reason_and_the_field(raw, why):
    with pytest.raises(PortalError) as refused:
        parse_points(_criterion(), raw)
    assert why in str(refused.value) and "Nội dung" in str(refused.value)
    assert refused.value.field == "c4"


def test_parse_points_step_tolerates_float_rounding():
    assert parse_points(_criterion(max_points=1, step=0.1), "0.3") == 0.3  # 0.3 / 0.1 is 2.9999999999999996
    assert parse_points(_criterion(max_points=100, step=1), "100") == 100.0
    with pytest.raises(PortalError):
        parse_points(_criterion(max_points=100, step=1), "99.5")


@pytest.mark.parametrize(
    ("status", "closes_at", "accepts"),
    [
        (RoundStatus.OPEN, None, True),
        (RoundStatus.OPEN, NOW + timedelta(seconds=1), True),
        (RoundStatus.OPEN, NOW, False),  # the planned closing time itself is already too late
        (RoundStatus.OPEN, NOW - timedelta(minutes=1), False),
        (RoundStatus.DRAFT, None, False),
        (RoundStatus.CLOSED, None, False),
    ],
)
def test_round_accepts_scores_while_open_and_before_its_closing_time(status, closes_at, accepts):
    assert round_accepts_scores(Round(status=status, closes_at=closes_at), now=NOW) is accepts
