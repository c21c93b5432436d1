"""The results board at national scale (issue 15, §2): numbers cached in Redis per version of the round's sheets and
identical to the CLI's ranking, a new version as soon as a sheet changes, a page at a time with search by title,
unit, rank or #id, the full table in the exports, and a bounded number of queries per view."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import numpy as np
import pytest
from sqlalchemy import delete, event, select, update

from app import db
from app.connections import cache_redis
from app.models import ClipStatus, EntryStatus, PanelMember, Role, Score, ScoreSheet, SheetStatus, utcnow
from app.services import board, rounds, scoring
from app.services.results import ranking, round_table

ENTRIES = 120
# Statements of one warm board view: login session with its user, round, contest, sheet state (the index only),
# rubric, the page's entries, their units and grants, the leniency judges, the panel, the contest's latest audited
# change, awards, publication. Cold adds the sheets changed since the cached columns (with their scores), the check
# of the submitted sheets' count and id sum (the index only), and for the panel's progress one statement (the round's
# entries, its drafts, the panel's conflicts; the submitted sheets come from the columns).
WARM_STATEMENTS = 13
COLD_STATEMENTS = WARM_STATEMENTS + 3


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
        sheets = board.RoundSheets(db.session, db.session.merge(rnd), cache_redis(), ttl=60)
        compared = board.cached_comparison(sheets, numbers)
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


# --- the cold path: cached sheet columns with only the changed sheets read again -------------------------------------


@pytest.fixture
def aged(session, scored):
    """`scored` with its sheets submitted over the past days, one every 10 minutes, as a real round's are: a change
    now is then newer than the cached columns by far more than board.REREAD."""
    rnd = scored["rnd"]
    ids = session.scalars(select(ScoreSheet.id).where(ScoreSheet.round_id == rnd.id).order_by(ScoreSheet.id)).all()
    start = utcnow() - timedelta(days=5)
    for k, sheet_id in enumerate(ids):
        session.execute(
            update(ScoreSheet).where(ScoreSheet.id == sheet_id).values(updated_at=start + timedelta(minutes=10 * k))
        )
    session.commit()
    return scored


def _fresh(session, rnd) -> board.Numbers:
    """The board's numbers recomputed from a full read of the scores (round_table), no cache."""
    return board.compute_numbers(rnd, round_table(session, rnd))


def _same(ours: board.Numbers, full: board.Numbers) -> None:
    assert ours.meta == full.meta
    assert sorted(ours.columns) == sorted(full.columns)
    for name, column in full.columns.items():
        np.testing.assert_array_equal(ours.columns[name], column, err_msg=name)


def _cold(session, rnd) -> tuple[board.Numbers, list[str]]:
    """The numbers of the round's current version (computed now, through the cached sheet columns), and the
    statements that read the score table meanwhile."""
    statements: list[str] = []

    def record(conn, cursor, statement, *args) -> None:
        statements.append(" ".join(statement.split()))

    engine = db.engine()
    event.listen(engine, "before_cursor_execute", record)
    try:
        numbers = board.cached_numbers(session, rnd, cache_redis(), ttl=60)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    return numbers, _reading(statements, "score")


def _incremental(reads: list[str]) -> bool:
    """Only the changed sheets were read (no full read of the round's scores)."""
    return len(reads) == 1 and "updated_at >" in reads[0]


def _check(session, rnd) -> board.Numbers:
    session.expire_all()
    numbers, reads = _cold(session, rnd)
    assert _incremental(reads), reads
    _same(numbers, _fresh(session, rnd))
    fresh = [(r.entry.id, r.rank, r.score) for r in ranking(session, rnd)]  # what `flask results show` prints
    assert list(zip(*(numbers.columns[k].tolist() for k in ("entries", "rank", "score")), strict=True)) == fresh
    return numbers


def test_incremental_board_equals_a_full_recompute_after_each_kind_of_change(app, session, aged, make):
    rnd, entries, judges = aged["rnd"], aged["entries"], aged["judges"]
    first, reads = _cold(session, rnd)  # fills the sheet columns: one full read
    assert len(reads) == 1 and "updated_at" not in reads[0]
    _same(first, _fresh(session, rnd))
    top = {c.id: c.max_points for c in rnd.criteria}

    # A fourth judge joins and saves a draft: the board does not change, the delta path reads it.
    extra = make.user(Role.JUDGE)
    session.add(PanelMember(round_id=rnd.id, judge_id=extra.id))
    session.commit()
    scoring.save_sheet(session, judge=extra, rnd=rnd, entry=entries[7], points={rnd.criteria[0].id: 3}, submit=False)
    session.commit()
    after_draft = _check(session, rnd)
    _same(after_draft, first)

    # The draft is submitted: entry 7 now has four judges.
    scoring.save_sheet(session, judge=extra, rnd=rnd, entry=entries[7], points=top, submit=True)
    session.commit()
    submitted = _check(session, rnd)
    assert submitted.columns["judges"][submitted.columns["entries"] == entries[7].id].tolist() == [4]

    # A submitted sheet's scores change (the last entry gets the top marks from judge 0).
    scoring.save_sheet(session, judge=judges[0], rnd=rnd, entry=entries[-1], points=top, submit=True)
    session.commit()
    changed = _check(session, rnd)
    assert changed.columns["score"].tolist() != submitted.columns["score"].tolist()

    # The organiser reopens that sheet: it leaves the board.
    sheet = session.scalars(
        select(ScoreSheet).where(ScoreSheet.entry_id == entries[-1].id, ScoreSheet.judge_id == judges[0].id)
    ).one()
    rounds.reopen_sheet(session, actor=aged["organiser"], sheet=sheet)
    session.commit()
    reopened = _check(session, rnd)
    assert reopened.columns["judges"][reopened.columns["entries"] == entries[-1].id].tolist() == [2]

    # A judge declares a conflict on an entry they scored, and an entry is withdrawn: the ranking counts every
    # submitted sheet of the round (as `flask results show` does), so only the panel's progress moves.
    rounds.declare_conflict(session, judge=judges[1], rnd=rnd, entry=entries[3], reason="người nhà")
    entries[4].status = EntryStatus.WITHDRAWN
    scoring.save_sheet(session, judge=judges[2], rnd=rnd, entry=entries[5], points=top, submit=True)
    session.commit()
    _check(session, rnd)


def test_a_change_older_than_the_cached_state_is_read_again_or_found_by_the_check(app, session, aged):
    """A sheet committed late with an updated_at a little older than the cached state's (a transaction that
    committed after a later one, a node's clock behind) is read again (REREAD); a deleted sheet, or a change older
    than that, shows in the submitted sheets' count or id sum, and the columns are read in full."""
    rnd, entries, judges = aged["rnd"], aged["entries"], aged["judges"]
    board.score_table(session, rnd, cache_redis(), ttl=60)
    state = board.sheet_state(session, rnd)
    assert state.latest is not None
    late = state.latest - board.REREAD / 2
    sheet = session.scalars(select(ScoreSheet).where(ScoreSheet.entry_id == entries[0].id).limit(1)).one()
    for score in sheet.scores:
        score.points = 0.0
    session.flush()
    session.execute(update(ScoreSheet).where(ScoreSheet.id == sheet.id).values(updated_at=late))
    other = ScoreSheet.entry_id == entries[1].id, ScoreSheet.judge_id == judges[0].id
    session.execute(update(ScoreSheet).where(*other).values(updated_at=utcnow()))  # committed first, newer
    session.commit()
    assert board.sheet_state(session, rnd).latest > state.latest
    _same(*_tables_as_numbers(session, rnd))

    # A deleted sheet (the cascade of a deleted account or entry) changes no updated_at: the check finds it.
    session.execute(delete(ScoreSheet).where(ScoreSheet.entry_id == entries[2].id, ScoreSheet.judge_id == judges[1].id))
    session.commit()
    _same(*_tables_as_numbers(session, rnd))
    # A sheet reopened behind the board's back, with an old updated_at: the count tells.
    session.execute(
        update(ScoreSheet)
        .where(ScoreSheet.entry_id == entries[9].id, ScoreSheet.judge_id == judges[2].id)
        .values(status=SheetStatus.DRAFT, updated_at=utcnow() - timedelta(days=30))
    )
    session.commit()
    _same(*_tables_as_numbers(session, rnd))


def _tables_as_numbers(session, rnd) -> tuple[board.Numbers, board.Numbers]:
    """The numbers from board.score_table (through the cached columns) and from a full read."""
    session.expire_all()
    ours = board.compute_numbers(rnd, board.score_table(session, rnd, cache_redis(), ttl=60))
    return ours, _fresh(session, rnd)


def test_a_changed_rubric_reads_the_sheets_in_full(app, session, aged):
    rnd = aged["rnd"]
    _cold(session, rnd)
    rnd.criteria[0].weight = 3
    session.commit()
    numbers, reads = _cold(session, rnd)
    assert len(reads) == 1 and "updated_at" not in reads[0]
    _same(numbers, _fresh(session, rnd))


def _progress_agrees(session, rnd) -> dict:
    session.expire_all()
    panel = [m.judge for m in rnd.panel]
    sheets = board.RoundSheets(session, rnd, cache_redis(), ttl=60)
    ours = board.panel_progress(session, rnd=rnd, judges=panel, sheets=sheets)
    assert sheets.exact  # from the cached columns, not scoring.panel_progress
    assert ours == scoring.panel_progress(session, rnd=rnd, judges=panel)
    return ours


def test_panel_progress_from_the_cached_columns_equals_reading_every_sheet(session, make):
    units = [make.unit() for _ in range(3)]
    contest = make.contest()
    entries = [make.entry(contest, units[i % 3], title=f"E{i}") for i in range(12)]
    entries.append(make.entry(contest, units[0], clip_status=ClipStatus.PROCESSING))  # not judged yet
    entries.append(make.entry(contest, units[1], status=EntryStatus.DRAFT))
    judges = [make.user(Role.JUDGE, unit=units[0]), make.user(Role.JUDGE), make.user(Role.JUDGE, unit=units[2])]
    rnd = make.round(contest, judges=judges)
    top = {c.id: c.max_points for c in rnd.criteria}
    for k, entry in enumerate(entries[:12]):
        for j, judge in enumerate(judges):
            if judge.unit_id == entry.unit_id or (k + j) % 3 == 0:
                continue
            scoring.save_sheet(session, judge=judge, rnd=rnd, entry=entry, points=top, submit=k % 2 == 0)
    session.commit()
    progress = _progress_agrees(session, rnd)
    assert progress[judges[1].id].total == 12 and progress[judges[0].id].total == 8
    rounds.declare_conflict(session, judge=judges[1], rnd=rnd, entry=entries[1], reason="người quen")
    rounds.declare_conflict(session, judge=judges[0], rnd=rnd, entry=entries[0], reason="đơn vị mình")  # own unit
    entries[2].status = EntryStatus.WITHDRAWN
    session.commit()
    _progress_agrees(session, rnd)
    # The same panel scoring 2 judges per entry.
    rounds.assign_per_entry(session, actor=judges[1], rnd=rnd, entries=entries[:12], per_entry=2)
    session.commit()
    assert _progress_agrees(session, rnd)[judges[1].id].total > 0
    # A second round on a shortlist.
    second = make.round(contest, judges=judges, name="Chung khảo")
    rounds.advance(session, actor=judges[1], source=rnd, target=second, entry_ids=[e.id for e in entries[3:9]])
    session.commit()
    for k, entry in enumerate(entries[3:9]):
        if judges[1].unit_id != entry.unit_id and k % 2:
            points = {c.id: c.max_points for c in second.criteria}
            scoring.save_sheet(session, judge=judges[1], rnd=second, entry=entry, points=points, submit=True)
    session.commit()
    assert _progress_agrees(session, second)[judges[1].id].total == 6
