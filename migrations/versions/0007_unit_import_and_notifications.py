"""unit contact phone (bulk import); notifications switched off per contest

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 12:50:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

MAIL_KINDS = (
    "invitation",
    "password_reset",
    "entry_receipt",
    "clip_ready",
    "clip_rejected",
    "deadline_reminder",
    "round_opened",
    "round_reminder",
    "participation_reminder",
    "other",
)


def upgrade() -> None:
    with op.batch_alter_table("unit", schema=None) as batch_op:
        batch_op.add_column(sa.Column("phone", sa.String(length=40), nullable=True))
    op.create_table(
        "contest_notification_off",
        sa.Column("contest_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(*MAIL_KINDS, name="mailkind", native_enum=False, create_constraint=True, length=40),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["contest_id"],
            ["contest.id"],
            name=op.f("fk_contest_notification_off_contest_id_contest"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("contest_id", "kind", name=op.f("pk_contest_notification_off")),
    )


def downgrade() -> None:
    op.drop_table("contest_notification_off")
    with op.batch_alter_table("unit", schema=None) as batch_op:
        batch_op.drop_column("phone")
