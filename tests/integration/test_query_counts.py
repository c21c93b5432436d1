"""Statements per request on the pages that the load scenarios (bench/load/) found hot: the unit's status poll,
dashboard and entry page, and the judge's dashboard and entry page. Each count is fixed, and does not grow with the
number of entries or contests (no query per row)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import event

from app.models import Role

pytestmark = pytest.mark.database_only


@contextmanager
def counted() -> Iterator[list[str]]:
    """Collect the SQL statements that the app's engine runs inside the block, and on PostgreSQL those that a view
    runs on the pooled driver connection itself (the status poll: `psycopg.Connection.execute`, which SQLAlchemy's
    own statements and its pool's pre-ping do not use)."""
    from app import db

    statements: list[str] = []

    def record(_conn, _cursor, statement, _params, _context, _executemany) -> None:
        statements.append(statement)

    engine = db.engine()
    event.listen(engine, "before_cursor_execute", record)
    with pytest.MonkeyPatch.context() as patch:
        if engine.dialect.driver == "psycopg":
            import psycopg

            direct = psycopg.Connection.execute

            def execute(self, query, *args, **kwargs):
                statements.append(str(query))
                return direct(self, query, *args, **kwargs)

            patch.setattr(psycopg.Connection, "execute", execute)
        try:
            yield statements
        finally:
            event.remove(engine, "before_cursor_execute", record)


def statements_of(browser, path: str) -> list[str]:
    """The statements of one GET of path, which must answer 200."""
    with counted() as statements:
        resp = browser.get(path)
    assert resp.status_code == 200, resp.status_code
    return statements


@pytest.fixture
def unit_member(make, browser):
    """A unit member, logged in; returns a function that adds an entry in a new contest."""
    unit = make.unit("QC1")
    member = make.user(Role.UNIT, unit)
    contests = [make.contest(), make.contest()]
    browser.login(member.email)
    added = []

    def add_entry():
        added.append(make.entry(contests[len(added) % 2], unit, title=f"Entry {len(added)}"))
        return added[-1]

    return add_entry


@pytest.fixture
def judge_panel(make, browser):
    """A judge, logged in, on the panel of an open round; returns a function that adds a submitted entry to it."""
    contest = make.contest()
    judge = make.user(Role.JUDGE)
    rnd = make.round(contest, judges=[judge])
    browser.login(judge.email)
    added = []

    def add_entry():  # each from a unit of its own: the pages name the unit
        added.append(make.entry(contest, make.unit(f"QJ{len(added)}"), title=f"Entry {len(added)}"))
        return rnd, added[-1]

    return add_entry


def test_status_poll_is_one_statement(browser, unit_member):
    """The login session, the account's role and unit, the entry's unit and the clip's state: one SELECT."""
    entry = unit_member()
    statements = statements_of(browser, f"/unit/entries/{entry.id}/status.json")
    assert len(statements) == 1, statements
    assert statements[0].lstrip().upper().startswith("SELECT"), statements


@pytest.mark.parametrize("page", ["/unit/", "entry"])
def test_unit_pages_do_not_query_per_entry(browser, unit_member, page):
    entries = [unit_member() for _ in range(2)]
    path = page if page != "entry" else f"/unit/entries/{entries[0].id}"
    few = len(statements_of(browser, path))
    entries += [unit_member() for _ in range(4)]
    many = statements_of(browser, path)
    assert len(many) == few, "\n".join(many)
    assert few <= {"/unit/": 7, "entry": 13}[page]  # measured: the dashboard lists 2 contests


@pytest.mark.parametrize("page", ["/judge/", "entry"])
def test_judge_pages_do_not_query_per_entry(browser, judge_panel, page):
    rnd, first = judge_panel()
    judge_panel()
    path = page if page != "entry" else f"/judge/rounds/{rnd.id}/entries/{first.id}"
    few = len(statements_of(browser, path))
    for _ in range(4):
        judge_panel()
    many = statements_of(browser, path)
    assert len(many) == few, "\n".join(many)
    assert few <= {"/judge/": 9, "entry": 13}[page]  # measured
