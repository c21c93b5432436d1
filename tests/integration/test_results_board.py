"""The results board at national scale (issue 15, §2): numbers cached in Redis per version of the round's sheets and
identical to the CLI's ranking, a new version as soon as a sheet changes, a page at a time with search by title,
unit, rank or #id, the full table in the exports, and a bounded number of queries per view."""

from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import event, select

from app import db
from app.connections import cache_redis
from app.models import PanelMember, Role, Score, ScoreSheet, SheetStatus
from app.services import board, rounds, scoring
from app.services.results import ranking

ENTRIES = 120
# Statements of one warm board view: login session with its user, round, contest, sheet state (the index only),
# rubric, the page's entries, their units and grants, the leniency judges, the panel, the contest's latest audited
# change, awards, publication. Cold adds the score query and the panel's progress (three column-only reads).
WARM_STATEMENTS = 13
COLD_STATEMENTS = WARM_STATEMENTS + 5


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
    # The organiser reopens that sheet: it leaves the submitted ones, and the board with it.
    key_before = board.board_version(session, rnd)
    sheet = session.scalars(select(ScoreSheet).where(ScoreSheet.entry_id == last.id, ScoreSheet.judge_id == judge.id))
    rounds.reopen_sheet(session, actor=scored["organiser"], sheet=sheet.one())
    session.commit()
    assert board.board_version(session, rnd) != key_before
    reopened = _numbers(app, rnd)
    assert reopened.columns["judges"][reopened.columns["entries"] == last.id].tolist() == [len(scored["judges"]) - 1]


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


def _statements(app, browser, url: str) -> list[str]:
    """The SQL statements one view of `url` runs."""
    statements: list[str] = []

    def record(conn, cursor, statement, *args) -> None:
        statements.append(" ".join(statement.split()))

    with app.app_context():
        engine = db.engine()
    event.listen(engine, "before_cursor_execute", record)
    try:
        assert browser.get(url).status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", record)
    return statements


def _reading(statements: list[str], table: str) -> list[str]:
    return [s for s in statements if f" FROM {table} " in f"{s} " or f"JOIN {table} " in s]


def test_board_view_query_counts_cold_and_warm(app, browser, session, scored):
    """Cold (a sheet changed): one score query, the progress recounted. Warm: the sheets' index only, no score, a
    fixed number of statements whatever the size of the round or its panel."""
    rnd = scored["rnd"]
    url = f"/org/rounds/{rnd.id}/results"
    browser.login(scored["organiser"].email)
    assert browser.get(url).status_code == 200  # the session's first view; fills the cache
    sheet = session.scalars(select(ScoreSheet).where(ScoreSheet.round_id == rnd.id).limit(1)).one()
    sheet.comment = "xem lại"  # any saved change moves updated_at
    session.commit()
    cold = _statements(app, browser, url)
    warm = _statements(app, browser, url)
    page2 = _statements(app, browser, f"{url}?page=2")
    assert len(_reading(cold, "score")) == 1, "\n".join(cold)
    assert len(cold) == COLD_STATEMENTS, "\n".join(cold)
    assert _reading(warm, "score") == []
    sheet_reads = _reading(warm, "score_sheet")
    assert len(sheet_reads) == 1 and "count(" not in sheet_reads[0], "\n".join(warm)  # seeks, no scan
    assert len(warm) == WARM_STATEMENTS, "\n".join(warm)
    assert len(page2) == WARM_STATEMENTS


def test_comparison_of_methods_on_request_is_the_cli_ranking_by_each_method(app, browser, session, scored):
    rnd = scored["rnd"]
    browser.login(scored["organiser"].email)
    plain = browser.get(f"/org/rounds/{rnd.id}/results?lang=en").get_data(as_text=True)
    assert "Compare with the other methods (Median, Trimmed mean, Z-score, Borda)" in plain
    assert "▲/▼" not in plain
    page = browser.get(f"/org/rounds/{rnd.id}/results?lang=en&compare=1&page=2").get_data(as_text=True)
    assert "Hide the other methods" in page and "▲/▼" in page
    assert f"/org/rounds/{rnd.id}/results?page=3&amp;compare=1" in page
    numbers = _numbers(app, rnd)
    with app.app_context():
        compared = board.cached_comparison(db.session, db.session.merge(rnd), numbers, cache_redis(), ttl=60)
    position = {e: i for i, e in enumerate(numbers.columns["entries"].tolist())}
    for method in ("median", "borda"):
        fresh = ranking(session, rnd, method=method)
        assert [compared.columns[f"rank_{method}"][position[r.entry.id]] for r in fresh] == [r.rank for r in fresh]


def test_progress_follows_drafts_and_audited_changes(browser, session, scored, make):
    rnd, judges = scored["rnd"], scored["judges"]
    browser.login(scored["organiser"].email)
    url = f"/org/rounds/{rnd.id}/results?lang=en"
    assert f"{judges[0].name}: {ENTRIES} / {ENTRIES}" in browser.get(url).get_data(as_text=True)
    # A fourth judge joins the panel, then saves a draft: the cached progress must show the draft at once.
    extra = make.user(Role.JUDGE)
    session.add(PanelMember(round_id=rnd.id, judge_id=extra.id))
    session.commit()
    page = browser.get(url).get_data(as_text=True)
    assert f"{extra.name}: 0 / {ENTRIES}</li>" in page
    entry = scored["entries"][0]
    scoring.save_sheet(session, judge=extra, rnd=rnd, entry=entry, points={rnd.criteria[0].id: 1}, submit=False)
    session.commit()
    assert f"{extra.name}: 0 / {ENTRIES} (1 drafts)" in browser.get(url).get_data(as_text=True)
