"""score_sheet (round_id, status, updated_at): the results board's version check reads only this index

Revision ID: 0013
Revises: 0011
Create Date: 2026-12-03 15:30:00
"""

from alembic import op

revision = "0013"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("score_sheet", schema=None) as batch_op:
        batch_op.create_index("ix_score_sheet_round_id_status_updated_at", ["round_id", "status", "updated_at"])


def downgrade() -> None:
    with op.batch_alter_table("score_sheet", schema=None) as batch_op:
        batch_op.drop_index("ix_score_sheet_round_id_status_updated_at")
