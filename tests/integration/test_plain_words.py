"""Organisers read plain words, not engine codes (issue 12, points 3 and 7): tie-break rules as choices, only the
assignment fields that apply, agreement measures explained, the `python -m judging` line as an independent check, and
a round form of three rows that grows with an "add" button without JavaScript."""

from __future__ import annotations

import re

import pytest

from app.models import Role, Round, Score, ScoreSheet, SheetStatus
from app.services import rounds

pytestmark = pytest.mark.database_only


def _outside_details(html: str) -> str:
    return re.sub(r"<details.*?</details>", "", html, flags=re.S)


def _criterion_names(html: str) -> list[str]:
    """The rubric rows of the form (the row template for JavaScript excluded)."""
    html = re.sub(r"<template.*?</template>", "", html, flags=re.S)
    return re.findall(r'name="(criteria-\d+-name)"', html)


@pytest.fixture
def organiser(browser, make):
    user = make.user(Role.ORGANISER)
    browser.login(user.email)
    return user


def test_tie_breaks_are_chosen_from_plain_words(browser, session, make, organiser):
    contest = make.contest()
    page = browser.get(f"/org/c/{contest.slug}/rounds/new").get_data(as_text=True)
    assert 'name="tie_breaks"' not in page and "criterion:" not in page and "first_places</option>" not in page
    assert "Được nhiều giám khảo xếp thứ nhất hơn" in page and "Điểm cao hơn ở tiêu chí thứ 1" in page
    data = {
        "name": "Chung khảo",
        "aggregation": "mean",
        "assignment_mode": "panel",
        "criteria-0-name": "Nội dung",
        "criteria-0-max_points": "40",
        "criteria-1-name": "Kỹ thuật",
        "criteria-1-max_points": "20",
        "tie_breaks-0": "row:1",
        "tie_breaks-1": "first_places",
        "tie_breaks-2": "",
    }
    resp = browser.post(f"/org/c/{contest.slug}/rounds/new", data=data)
    assert resp.status_code == 302, resp.get_data(as_text=True)[:2000]
    rnd = session.query(Round).filter_by(name="Chung khảo").one()
    assert rnd.tie_breaks == ["criterion:Kỹ thuật", "first_places"]
    shown = browser.get(f"/org/rounds/{rnd.id}").get_data(as_text=True)
    assert "Điểm cao hơn ở tiêu chí “Kỹ thuật”; Được nhiều giám khảo xếp thứ nhất hơn" in shown
    assert "first_places" not in shown and "criterion:" not in shown

    # A rule on an empty row is refused at its field, and nothing is created.
    bad = browser.post(f"/org/c/{contest.slug}/rounds/new", data=data | {"name": "Sai", "tie_breaks-0": "row:2"})
    assert bad.status_code == 200 and "dòng tiêu chí còn trống" in bad.get_data(as_text=True)
    assert session.query(Round).filter_by(name="Sai").count() == 0


def test_round_form_starts_with_three_rows_and_adds_one_without_javascript(browser, session, make, organiser):
    contest = make.contest()
    page = browser.get(f"/org/c/{contest.slug}/rounds/new").get_data(as_text=True)
    assert _criterion_names(page) == ["criteria-0-name", "criteria-1-name", "criteria-2-name"]
    assert 'name="add_criterion"' in page and "<template" in page
    data = {"name": "Sơ khảo", "aggregation": "mean", "criteria-0-name": "Nội dung", "criteria-0-max_points": "40"}
    more = browser.post(f"/org/c/{contest.slug}/rounds/new", data=data | {"add_criterion": "1"})
    html = more.get_data(as_text=True)
    assert more.status_code == 200 and session.query(Round).count() == 0
    assert len(_criterion_names(html)) == 4 and 'value="Nội dung"' in html
    assert 'class="error"' not in html  # adding a row is not a failed submission


def test_whole_panel_round_shows_only_what_applies(browser, make, organiser):
    contest = make.contest()
    panel_round = make.round(contest, judges=[make.user(Role.JUDGE)])
    page = browser.get(f"/org/rounds/{panel_round.id}").get_data(as_text=True)
    visible = _outside_details(page)
    assert 'name="seed"' not in visible and 'name="per_entry"' not in visible
    assert 'name="seed"' in page  # still there, folded away, to switch to K judges per entry

    per_entry = make.round(contest, name="Vòng 2", assignment_mode="per_entry", per_entry=2)
    page = browser.get(f"/org/rounds/{per_entry.id}").get_data(as_text=True)
    assert 'name="seed"' in _outside_details(page)


def test_results_explain_agreement_and_the_independent_check(browser, session, make, organiser):
    contest = make.contest()
    judges = [make.user(Role.JUDGE) for _ in range(3)]
    rnd = make.round(contest, judges=judges)
    rnd.tie_breaks = ["criterion:Content"]
    entries = [make.entry(contest, make.unit(), title=f"Tác phẩm {i}") for i in range(4)]
    for j, judge in enumerate(judges):
        for e, entry in enumerate(entries):
            sheet = ScoreSheet(round_id=rnd.id, entry_id=entry.id, judge_id=judge.id, status=SheetStatus.SUBMITTED)
            points = [min(10, 3 + e * 2 + (j % 2)), 5 if e < 2 else 6]  # entries 0 and 1 tie unless split by Content
            sheet.scores = [Score(criterion_id=c.id, points=p) for c, p in zip(rnd.criteria, points, strict=True)]
            session.add(sheet)
    session.commit()
    page = browser.get(f"/org/rounds/{rnd.id}/results?lang=en").get_data(as_text=True)
    visible = _outside_details(page)
    for sentence in (
        "How far one judge's total can be trusted",
        "How closely one judge's totals match the others'",
        "How consistently one judge orders the entries",
        "How far the panel's average totals would stay the same",
    ):
        assert sentence in visible, sentence
    assert re.search(r"(excellent|good|moderate|poor)", visible)
    assert "Shrout & Fleiss" in page and "Shrout & Fleiss" not in visible  # the rest behind <details>
    check = visible[visible.index("Independent check") :]
    assert "recompute this ranking outside the portal" in check and "python -m judging rank" in check
    assert "Higher score on the criterion “Content”" in visible and "Tie-breaks in order" not in visible


def test_engine_tie_break_notes_read_as_sentences(app):
    from app.judging_text import tie_break_note

    with app.test_request_context("/?lang=en"):
        assert (
            tie_break_note("score tie with 7; separated by criterion:Nội dung (36)")
            == "Same score as #7; placed by: Higher score on the criterion “Nội dung” (36)."
        )
        assert (
            tie_break_note("still tied with 3, 9 after median") == "Still tied with #3, #9 after every tie-break rule."
        )
        assert tie_break_note("tied on score with 12 other entries; no tie-break rules given") == (
            "Same score as 12 other entries; the round has no tie-break rule."
        )


def test_legacy_typed_tie_breaks_still_work(session, make):
    contest = make.contest()
    rnd = rounds.create_round(
        session,
        contest=contest,
        name="API",
        criteria=[{"name": "Nội dung", "max_points": 10}],
        tie_breaks=["criterion:Nội dung", "median"],
    )
    assert rnd.tie_breaks == ["criterion:Nội dung", "median"]
