"""contest intake closed by the organiser (intake and publication are separate phases)

Revision ID: 0008
Revises: 0005
Create Date: 2026-12-03 12:50:00
"""

import sqlalchemy as sa
from alembic import op

import app.models.base

revision = "0008"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("contest", schema=None) as batch_op:
        batch_op.add_column(sa.Column("intake_closed_at", app.models.base.UTCDateTime(timezone=True), nullable=True))
    # Publication used to close intake: keep contests already published closed, as their units saw them.
    op.execute("UPDATE contest SET intake_closed_at = published_at WHERE published_at IS NOT NULL")


def downgrade() -> None:
    with op.batch_alter_table("contest", schema=None) as batch_op:
        batch_op.drop_column("intake_closed_at")
