"""clip retry state: retrying_since, next_attempt_at, error_id

Revision ID: 0012
Revises: 0005
Create Date: 2026-12-03 12:45:00
"""

import sqlalchemy as sa
from alembic import op

import app.models.base

revision = "0012"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("clip", schema=None) as batch_op:
        batch_op.add_column(sa.Column("retrying_since", app.models.base.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("next_attempt_at", app.models.base.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("error_id", sa.String(length=32), nullable=True))
        batch_op.create_index(batch_op.f("ix_clip_next_attempt_at"), ["next_attempt_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("clip", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_clip_next_attempt_at"))
        batch_op.drop_column("error_id")
        batch_op.drop_column("next_attempt_at")
        batch_op.drop_column("retrying_since")
