"""vocabulary checks and indexes

CHECK constraints for the domain vocabularies (aggregation method, assignment mode, award kind, unit kind), stored as
the same strings as before; drop the single-column indexes that repeat the leading column of a unique constraint or
of a new composite index; add the composite indexes entry(contest_id, unit_id) and audit_event(contest_id, at).

The foreign key entry.clip_id -> clip.id: 0001 declares it with `use_alter` inside `create_table`, which renders it
inline on SQLite but silently skips it on PostgreSQL (an `ALTER TABLE ... ADD CONSTRAINT` that `op.create_table`
never issues). It is created here when absent rather than by rewriting 0001: databases already at 0003 need it too,
and one "create if absent" step serves fresh and existing databases alike. The downgrade keeps it (it belongs to
0001's schema, whose downgrade now drops it before the tables of the entry/clip cycle).

The allowed values are spelled out here, not imported from app.models, so that this migration keeps meaning what it
meant when a vocabulary later grows (that change gets its own migration).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03 09:45:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

# (table, column, constraint name in the models' naming convention, allowed values)
VOCABULARIES = [
    ("round", "aggregation", "ck_round_aggregationmethod", ("mean", "median", "trimmed_mean", "zscore", "borda")),
    ("round", "assignment_mode", "ck_round_assignmentmode", ("panel", "per_entry")),
    ("award", "kind", "ck_award_awardkind", ("group", "individual")),
    ("unit", "kind", "ck_unit_unitkind", ("department", "ward", "commune", "association", "school", "other")),
]

# Single-column indexes whose column leads a unique constraint (or, for entry and audit_event, the new composite
# index): the database already keeps that column sorted, so these only cost writes.
REDUNDANT_INDEXES = [
    ("award", "ix_award_contest_id", "contest_id"),  # uq_award_contest_id (contest_id, name)
    ("category", "ix_category_contest_id", "contest_id"),  # uq_category_contest_id (contest_id, name)
    ("round", "ix_round_contest_id", "contest_id"),  # uq_round_contest_id (contest_id, position)
    ("criterion", "ix_criterion_round_id", "round_id"),  # uq_criterion_round_id (round_id, name)
    ("score_sheet", "ix_score_sheet_round_id", "round_id"),  # uq_score_sheet_round_id (round_id, entry_id, judge_id)
    ("conflict", "ix_conflict_judge_id", "judge_id"),  # uq_conflict_judge_id (judge_id, entry_id)
    ("entry", "ix_entry_contest_id", "contest_id"),  # ix_entry_contest_id_unit_id below
    ("audit_event", "ix_audit_event_contest_id", "contest_id"),  # ix_audit_event_contest_id_at below
]

COMPOSITE_INDEXES = [
    ("entry", "ix_entry_contest_id_unit_id", ["contest_id", "unit_id"]),
    ("audit_event", "ix_audit_event_contest_id_at", ["contest_id", "at"]),
]

CLIP_FK = "fk_entry_clip_id_clip"


def _in_list(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN (" + ", ".join(f"'{v}'" for v in values) + ")"


def _refuse_unknown_values() -> None:
    """Fail with a readable message (instead of a bare constraint error) when a row holds a value outside its list."""
    bind = op.get_bind()
    problems = []
    for table, column, _name, values in VOCABULARIES:
        found = bind.execute(
            sa.text(f'SELECT DISTINCT {column} FROM "{table}" WHERE NOT ({_in_list(column, values)})')  # noqa: S608
        ).scalars()
        problems += [f"{table}.{column} = {value!r}" for value in found]
    if problems:
        raise RuntimeError("cannot add the vocabulary CHECK constraints; fix these rows first: " + "; ".join(problems))


def _tables() -> list[str]:
    return sorted(
        {t for t, *_ in VOCABULARIES} | {t for t, *_ in REDUNDANT_INDEXES} | {t for t, *_ in COMPOSITE_INDEXES}
    )


def upgrade() -> None:
    _refuse_unknown_values()
    for table in _tables():
        with op.batch_alter_table(table) as batch_op:
            for t, column, name, values in VOCABULARIES:
                if t == table:
                    batch_op.create_check_constraint(op.f(name), _in_list(column, values))
            for t, name, _column in REDUNDANT_INDEXES:
                if t == table:
                    batch_op.drop_index(op.f(name))
            for t, name, columns in COMPOSITE_INDEXES:
                if t == table:
                    batch_op.create_index(op.f(name), columns, unique=False)
    inspector = sa.inspect(op.get_bind())
    if CLIP_FK not in {fk["name"] for fk in inspector.get_foreign_keys("entry")}:
        with op.batch_alter_table("entry") as batch_op:
            batch_op.create_foreign_key(op.f(CLIP_FK), "clip", ["clip_id"], ["id"], ondelete="SET NULL")


def downgrade() -> None:
    for table in reversed(_tables()):
        with op.batch_alter_table(table) as batch_op:
            for t, name, _columns in COMPOSITE_INDEXES:
                if t == table:
                    batch_op.drop_index(op.f(name))
            for t, name, column in REDUNDANT_INDEXES:
                if t == table:
                    batch_op.create_index(op.f(name), [column], unique=False)
            for t, _column, name, _values in VOCABULARIES:
                if t == table:
                    batch_op.drop_constraint(op.f(name), type_="check")
