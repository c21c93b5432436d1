"""The round form in a real browser (issue 12, points 3 and 7): three rubric rows to start, rows added and removed as
needed, the score boxes of a row aligned, tie-break rules chosen by criterion name, and only the fields that apply."""

from __future__ import annotations

import pytest

from app.models import Role, Round
from tests.e2e.conftest import ARTIFACTS, login

pytestmark = [pytest.mark.e2e, pytest.mark.no_worker]


def _rows(page) -> int:
    return page.locator("[data-criterion-rows] [data-criterion-row]").count()


def _tops(page, index: int) -> list[float]:
    return [
        page.locator(f"#criteria-{index}-{name}").bounding_box()["y"]
        for name in ("name", "max_points", "weight", "step")
    ]


def test_round_form_rows_alignment_and_plain_choices(portal, new_page, make, session):
    contest = make.contest("vong-thi")
    organiser = make.user(Role.ORGANISER)
    ARTIFACTS.mkdir(exist_ok=True)
    page = new_page()
    login(page, portal, organiser.email)
    page.goto(f"{portal}/org/c/{contest.slug}/rounds/new")
    assert _rows(page) == 3
    height_360 = page.evaluate("document.documentElement.scrollHeight")
    page.screenshot(path=str(ARTIFACTS / "round-form-360.png"), full_page=True)
    assert height_360 < 4000, height_360  # 8 rows made it 5,363 px tall
    tops = _tops(page, 0)
    assert max(tops[1:]) - min(tops[1:]) < 1, tops  # "Điểm tối đa" wraps at 360 px: "Hệ số" stays in line

    # Only what applies: judges per entry and the trim show with their choice.
    assert not page.is_visible("#per_entry") and not page.is_visible("#trim")
    page.select_option("#assignment_mode", "per_entry")
    assert page.is_visible("#per_entry")
    page.select_option("#assignment_mode", "panel")
    assert not page.is_visible("#per_entry")

    page.set_viewport_size({"width": 1280, "height": 900})
    tops = _tops(page, 0)
    assert max(tops) - min(tops) < 1, tops  # name and score boxes on one line
    page.screenshot(path=str(ARTIFACTS / "round-form-1280.png"), full_page=True)

    page.click("[data-add-criterion]")
    assert _rows(page) == 4
    assert page.evaluate("document.activeElement.id") == "criteria-3-name"
    page.fill("#name", "Sơ khảo")
    for index, (name, points) in enumerate(
        [("Nội dung", "40"), ("Bỏ đi", "5"), ("Hình ảnh", "30"), ("Kỹ thuật", "20")]
    ):
        page.fill(f"#criteria-{index}-name", name)
        page.fill(f"#criteria-{index}-max_points", points)
    options = page.locator("#tie_breaks-0 option").all_inner_texts()
    assert "Điểm cao hơn ở tiêu chí “Kỹ thuật”" in options and not any(":" in o and "criterion" in o for o in options)
    page.select_option("#tie_breaks-0", label="Điểm cao hơn ở tiêu chí “Kỹ thuật”")
    page.select_option("#tie_breaks-1", label="Được nhiều giám khảo xếp thứ nhất hơn")

    page.click("[data-criterion-row]:nth-child(2) [data-remove-criterion]")  # removes "Bỏ đi"
    assert _rows(page) == 3
    assert page.input_value("#criteria-2-name") == "Kỹ thuật"  # renumbered
    assert page.input_value("#tie_breaks-0") == "row:2"  # the chosen rule follows its criterion
    page.click("main form.round-form button.primary")
    page.wait_for_url("**/org/rounds/*")
    session.expire_all()
    rnd = session.query(Round).filter_by(name="Sơ khảo").one()
    assert [c.name for c in rnd.criteria] == ["Nội dung", "Hình ảnh", "Kỹ thuật"]
    assert rnd.tie_breaks == ["criterion:Kỹ thuật", "first_places"]
    text = page.inner_text("main")
    assert "Điểm cao hơn ở tiêu chí “Kỹ thuật”" in text and "first_places" not in text
