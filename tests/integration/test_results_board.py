"""The results board at national scale (issue 15, §2): numbers cached in Redis per version of the round's sheets and
identical to the CLI's ranking, a new version as soon as a sheet changes, a page at a time with search by title,
unit, rank or #id, the full table in the exports, and a bounded number of queries per view."""

from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import event

from app import db
from app.connections import cache_redis
from app.models import Role, Score, ScoreSheet, SheetStatus
from app.services import board, scoring
from app.services.results import ranking

ENTRIES = 120


@pytest.fixture
def scored(make, session):
    units = [make.unit(f"BU{i}", f"Phường Số {i}") for i in range(4)]
    contest = make.contest("board")
    entries = [make.entry(contest, units[i % 4], title=f"Tác phẩm {i:03d}") for i in range(ENTRIES)]
    judges = [make.user(Role.JUDGE) for _ in range(3)]
    rnd = make.round(contest, judges=judges)
    for i, entry in enumerate(entries):
        for j, judge in enumerate(judges):
            sheet = ScoreSheet(round_id=rnd.id, entry_id=entry.id, judge_id=judge.id, status=SheetStatus.SUBMITTED)
            sheet.scores = [Score(criterion_id=c.id, points=float((i * 7 + j * 3) % 11)) for c in rnd.criteria]
            session.add(sheet)
    session.commit()
    return dict(contest=contest, entries=entries, judges=judges, rnd=rnd, organiser=make.user(Role.ORGANISER))


def _numbers(app, rnd):
    with app.app_context():
        return board.cached_numbers(db.session, db.session.merge(rnd), cache_redis(), ttl=60)


def test_cached_numbers_are_the_cli_ranking_and_move_when_a_sheet_changes(app, session, scored):
    rnd = scored["rnd"]
    first = _numbers(app, rnd)
    fresh = [(r.entry.id, r.rank, r.score) for r in ranking(session, rnd)]
    assert list(zip(*(first.columns[k].tolist() for k in ("entries", "rank", "score")), strict=True)) == fresh
    key_before = board.board_version(session, rnd)
    assert cache_redis().exists(f"board:{rnd.id}:{key_before}")
    # A judge changes a submitted sheet: the last entry now gets the top marks everywhere.
    last, judge = scored["entries"][-1], scored["judges"][0]
    scoring.save_sheet(
        session,
        judge=judge,
        rnd=rnd,
        entry=last,
        points={c.id: c.max_points for c in rnd.criteria},
        submit=True,
    )
    session.commit()
    assert board.board_version(session, rnd) != key_before
    after = _numbers(app, rnd)
    fresh = [(r.entry.id, r.rank, r.score) for r in ranking(session, rnd)]
    assert list(zip(*(after.columns[k].tolist() for k in ("entries", "rank", "score")), strict=True)) == fresh
    assert after.columns["score"].tolist() != first.columns["score"].tolist()


def test_board_is_paginated_and_searchable_and_the_export_has_every_row(browser, session, scored):
    rnd = scored["rnd"]
    browser.login(scored["organiser"].email)
    page1 = browser.get(f"/org/rounds/{rnd.id}/results?lang=en").get_data(as_text=True)
    assert page1.count('name="entry_id"') == board.PER_PAGE
    assert "page 1 of 3" in page1 and f"/org/rounds/{rnd.id}/results?page=2" in page1
    page3 = browser.get(f"/org/rounds/{rnd.id}/results?page=3").get_data(as_text=True)
    assert page3.count('name="entry_id"') == ENTRIES - 2 * board.PER_PAGE
    assert browser.get(f"/org/rounds/{rnd.id}/results?page=4").status_code == 404
    assert browser.get(f"/org/rounds/{rnd.id}/results?page=x").status_code == 404
    by_title = browser.get(f"/org/rounds/{rnd.id}/results?q=t%C3%A1c+ph%E1%BA%A9m+007").get_data(as_text=True)
    assert by_title.count('name="entry_id"') == 1 and "Tác phẩm 007" in by_title
    by_unit = browser.get(f"/org/rounds/{rnd.id}/results?q=Ph%C6%B0%E1%BB%9Dng+S%E1%BB%91+2").get_data(as_text=True)
    assert by_unit.count('name="entry_id"') == ENTRIES // 4
    top = ranking(session, rnd)[0]
    by_rank = browser.get(f"/org/rounds/{rnd.id}/results?q=1").get_data(as_text=True)
    assert f"#{top.entry.id} {top.entry.title}" in by_rank
    by_id = browser.get(f"/org/rounds/{rnd.id}/results?q=%23{scored['entries'][5].id}").get_data(as_text=True)
    assert by_id.count('name="entry_id"') == 1
    nothing = browser.get(f"/org/rounds/{rnd.id}/results?q=zzz&lang=en").get_data(as_text=True)
    assert "No entry matches this search." in nothing
    text = browser.get(f"/org/rounds/{rnd.id}/export.csv").data.decode("utf-8")
    assert len(list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))) == 1 + ENTRIES


def test_warm_board_view_runs_a_bounded_number_of_queries(app, browser, scored):
    rnd = scored["rnd"]
    browser.login(scored["organiser"].email)
    assert browser.get(f"/org/rounds/{rnd.id}/results").status_code == 200  # computes and caches
    statements: list[str] = []

    def record(conn, cursor, statement, *args) -> None:
        statements.append(statement)

    with app.app_context():
        engine = db.engine()
    event.listen(engine, "before_cursor_execute", record)
    try:
        assert browser.get(f"/org/rounds/{rnd.id}/results").status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", record)
    # Not one per row: session and user, round, rubric, panel, version, page rows, awards, progress, publication.
    assert len(statements) <= 18, "\n".join(statements)
    assert not any("score.points" in s for s in statements), "the scores were read again"
