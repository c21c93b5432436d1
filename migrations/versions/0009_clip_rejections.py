"""clip.rejections: every rule a rejected clip breaks

Revision ID: 0009
Revises: 0005
Create Date: 2026-12-03 12:45:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("clip", schema=None) as batch_op:
        batch_op.add_column(sa.Column("rejections", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("clip", schema=None) as batch_op:
        batch_op.drop_column("rejections")
