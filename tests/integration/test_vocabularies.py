"""The database itself holds every vocabulary column to its enum (CHECK constraints), on SQLite and PostgreSQL."""

from __future__ import annotations

import enum

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError

from app.models import (
    AggregationMethod,
    AssignmentMode,
    AwardKind,
    ClipStatus,
    EntryStatus,
    Role,
    RoundStatus,
    ScoreSheet,
    SheetStatus,
    Unit,
    UnitKind,
)
from app.services import results

# (table, column, vocabulary)
COLUMNS = [
    ("unit", "kind", UnitKind),
    ("award", "kind", AwardKind),
    ('"round"', "aggregation", AggregationMethod),
    ('"round"', "assignment_mode", AssignmentMode),
    ('"round"', "status", RoundStatus),
    ("user_account", "role", Role),
    ("entry", "status", EntryStatus),
    ("clip", "status", ClipStatus),
    ("score_sheet", "status", SheetStatus),
]


@pytest.fixture
def row_ids(make, session):
    """One committed row in every table that has a vocabulary column: {table: id}."""
    unit = make.unit()
    organiser = make.user(Role.ORGANISER)
    judge = make.user(Role.JUDGE)
    contest = make.contest()
    entry = make.entry(contest, unit)
    rnd = make.round(contest, judges=[judge])
    award = results.create_award(session, actor=organiser, contest=contest, name="First prize", count=1)
    sheet = ScoreSheet(round_id=rnd.id, entry_id=entry.id, judge_id=judge.id)
    session.add(sheet)
    session.commit()
    return {
        "unit": unit.id,
        "award": award.id,
        '"round"': rnd.id,
        "user_account": judge.id,
        "entry": entry.id,
        "clip": entry.clip_id,
        "score_sheet": sheet.id,
    }


def _set(session, table: str, column: str, row_id: int, value: str) -> None:
    session.execute(text(f"UPDATE {table} SET {column} = :value WHERE id = :id"), {"value": value, "id": row_id})  # noqa: S608
    session.commit()


@pytest.mark.parametrize(("table", "column", "vocabulary"), COLUMNS, ids=lambda v: getattr(v, "__name__", None))
def test_the_database_rejects_a_value_outside_the_vocabulary(session, row_ids, table, column, vocabulary):
    with pytest.raises(IntegrityError):
        _set(session, table, column, row_ids[table], "bogus")
    session.rollback()


@pytest.mark.parametrize(("table", "column", "vocabulary"), COLUMNS, ids=lambda v: getattr(v, "__name__", None))
def test_the_database_accepts_every_member(session, row_ids, table, column, vocabulary: type[enum.Enum]):
    for member in vocabulary:
        _set(session, table, column, row_ids[table], member.value)
        stored = session.execute(text(f"SELECT {column} FROM {table} WHERE id = :id"), {"id": row_ids[table]})  # noqa: S608
        assert stored.scalar_one() == member.value


def test_values_load_as_enum_members(session, row_ids):
    session.expire_all()
    unit = session.get(Unit, row_ids["unit"])
    assert unit.kind is UnitKind.OTHER
    assert unit.kind == "other"  # stored as the same strings as before


def test_schema_has_the_clip_foreign_key_and_the_page_indexes(session):
    inspector = inspect(session.get_bind())
    assert "fk_entry_clip_id_clip" in {fk["name"] for fk in inspector.get_foreign_keys("entry")}
    entry_indexes = {ix["name"]: ix["column_names"] for ix in inspector.get_indexes("entry")}
    audit_indexes = {ix["name"]: ix["column_names"] for ix in inspector.get_indexes("audit_event")}
    assert entry_indexes["ix_entry_contest_id_unit_id"] == ["contest_id", "unit_id"]
    assert audit_indexes["ix_audit_event_contest_id_at"] == ["contest_id", "at"]
    assert "ix_entry_contest_id" not in entry_indexes
    assert "ix_round_contest_id" not in {ix["name"] for ix in inspector.get_indexes("round")}
