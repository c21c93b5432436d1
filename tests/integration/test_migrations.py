"""The migrations, on a scratch database of the test dialect (SQLite, or PostgreSQL with TEST_DATABASE_URL): one head,
models match, the whole chain round-trips, and 0004 keeps every row."""

from __future__ import annotations

import os
from datetime import UTC, datetime

import pytest
from alembic import command
from sqlalchemy import text

from app.db import make_engine
from devtools.check_migrations import alembic_config, check, scratch_database

pytestmark = pytest.mark.slow

NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)

# Rows written at revision 0003, one statement per table; every table that references a table rebuilt by 0004.
ROWS_AT_0003 = [
    "INSERT INTO contest (id, slug, title, description, rules_md, timezone, created_at)"
    " VALUES (1, 'c', 'C', '', '', 'Asia/Ho_Chi_Minh', :now)",
    "INSERT INTO unit (id, code, name, kind, created_at) VALUES (1, 'U1', 'Unit', 'ward', :now)",
    "INSERT INTO user_account (id, email, name, password_hash, role, unit_id, active, created_at)"
    " VALUES (1, 'j@test.vn', 'J', 'x', 'judge', 1, TRUE, :now)",
    "INSERT INTO entry (id, contest_id, unit_id, title, summary, authors, status, created_at, updated_at)"
    " VALUES (1, 1, 1, 'E', '', '', 'submitted', :now, :now)",
    "INSERT INTO clip (id, entry_id, original_key, filename, size_bytes, status, progress, attempts, created_at,"
    " updated_at) VALUES (1, 1, 'k', 'f.mp4', 1, 'ready', 1, 0, :now, :now)",
    "UPDATE entry SET clip_id = 1 WHERE id = 1",
    'INSERT INTO "round" (id, contest_id, name, position, status, blind, aggregation, assignment_mode, created_at)'
    " VALUES (1, 1, 'R', 1, 'open', FALSE, 'borda', 'per_entry', :now)",
    "INSERT INTO criterion (id, round_id, name, description, max_points, weight, step, position)"
    " VALUES (1, 1, 'Content', '', 10, 1, 0.5, 0)",
    "INSERT INTO panel_member (round_id, judge_id) VALUES (1, 1)",
    "INSERT INTO assignment (round_id, entry_id, judge_id) VALUES (1, 1, 1)",
    "INSERT INTO round_entry (round_id, entry_id) VALUES (1, 1)",
    "INSERT INTO score_sheet (id, round_id, entry_id, judge_id, status, comment, updated_at)"
    " VALUES (1, 1, 1, 1, 'submitted', '', :now)",
    "INSERT INTO score (sheet_id, criterion_id, points) VALUES (1, 1, 7.5)",
    "INSERT INTO conflict (id, judge_id, entry_id, round_id, reason, declared_at) VALUES (1, 1, 1, 1, 'x', :now)",
    "INSERT INTO award (id, contest_id, name, position, count, kind) VALUES (1, 1, 'First', 1, 1, 'individual')",
    "INSERT INTO award_grant (id, award_id, entry_id) VALUES (1, 1, 1)",
    "INSERT INTO audit_event (id, at, contest_id, action, object_type) VALUES (1, :now, 1, 'a', 'entry')",
]
TABLES = [
    "contest",
    "unit",
    "user_account",
    "entry",
    "clip",
    '"round"',
    "criterion",
    "panel_member",
    "assignment",
    "round_entry",
    "score_sheet",
    "score",
    "conflict",
    "award",
    "award_grant",
    "audit_event",
]


@pytest.fixture
def scratch_url():
    with scratch_database(os.environ.get("TEST_DATABASE_URL") or "sqlite://") as url:
        yield url


def _run(url: str, statements: list[str]) -> None:
    engine = make_engine(url)
    with engine.begin() as conn:
        for statement in statements:
            conn.execute(text(statement), {"now": NOW} if ":now" in statement else {})
    engine.dispose()


def _snapshot(url: str) -> dict[str, int | tuple]:
    engine = make_engine(url)
    with engine.connect() as conn:
        counts: dict[str, int | tuple] = {
            t: conn.execute(text(f"SELECT COUNT(*) FROM {t}")).scalar_one() for t in TABLES
        }  # noqa: S608
        counts["entry.clip_id"] = conn.execute(text("SELECT clip_id FROM entry WHERE id = 1")).scalar_one()
        counts["vocabularies"] = tuple(
            conn.execute(
                text(
                    'SELECT u.kind, a.kind, r.aggregation, r.assignment_mode FROM unit u, award a, "round" r'
                    " WHERE u.id = 1 AND a.id = 1 AND r.id = 1"
                )
            ).one()
        )
    engine.dispose()
    return counts


def test_one_head_models_match_and_the_chain_round_trips(scratch_url):
    assert check(scratch_url) == []


def test_0004_keeps_every_row_both_ways(scratch_url):
    cfg = alembic_config(scratch_url)
    command.upgrade(cfg, "0003")
    _run(scratch_url, ROWS_AT_0003)
    before = _snapshot(scratch_url)
    assert all(before[t] == 1 for t in TABLES)
    command.upgrade(cfg, "head")
    assert _snapshot(scratch_url) == before
    command.downgrade(cfg, "0003")
    assert _snapshot(scratch_url) == before


def test_0004_names_the_rows_it_cannot_constrain(scratch_url):
    cfg = alembic_config(scratch_url)
    command.upgrade(cfg, "0003")
    _run(scratch_url, ROWS_AT_0003[:2] + ["UPDATE unit SET kind = 'district' WHERE id = 1"])
    with pytest.raises(RuntimeError, match=r"unit\.kind = 'district'"):
        command.upgrade(cfg, "head")


def test_0011_puts_one_author_per_line_and_back(scratch_url):
    cfg = alembic_config(scratch_url)
    command.upgrade(cfg, "0005")
    _run(
        scratch_url,
        ROWS_AT_0003[:2]
        + [
            "INSERT INTO entry (id, contest_id, unit_id, title, summary, authors, status, created_at, updated_at)"
            f" VALUES ({i}, 1, 1, 'E', '', '{authors}', 'submitted', :now, :now)"
            for i, authors in ((1, "Nguyễn Văn A, Lê Thị B;Trần C"), (2, "Phạm Văn Đức"), (3, ""))
        ],
    )
    command.upgrade(cfg, "0011")
    engine = make_engine(scratch_url)
    with engine.connect() as conn:
        rows = dict(conn.execute(text("SELECT id, authors FROM entry")).all())
    assert rows == {1: "Nguyễn Văn A\nLê Thị B\nTrần C", 2: "Phạm Văn Đức", 3: ""}
    command.downgrade(cfg, "0005")
    with engine.connect() as conn:
        rows = dict(conn.execute(text("SELECT id, authors FROM entry")).all())
    engine.dispose()
    assert rows == {1: "Nguyễn Văn A, Lê Thị B, Trần C", 2: "Phạm Văn Đức", 3: ""}
