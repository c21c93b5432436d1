"""outreach: news posts, materials, a contest's banner image and public gallery switch

The allowed values of news_post.status and material.kind are spelled out here, not imported from app.models, so that
this migration keeps meaning what it meant when a vocabulary later grows.

Revision ID: 0010
Revises: 0005
Create Date: 2026-12-03 12:41:43
"""

import sqlalchemy as sa
from alembic import op

import app.models.base

revision = "0010"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "material",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contest_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "pdf", "docx", "xlsx", "pptx", name="materialkind", native_enum=False, create_constraint=True, length=20
            ),
            nullable=False,
        ),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("object_key", sa.String(length=300), nullable=False),
        sa.Column("uploaded_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["contest_id"], ["contest.id"], name=op.f("fk_material_contest_id_contest"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["uploaded_by_id"],
            ["user_account.id"],
            name=op.f("fk_material_uploaded_by_id_user_account"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_material")),
        sa.UniqueConstraint("object_key", name=op.f("uq_material_object_key")),
    )
    with op.batch_alter_table("material", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_material_contest_id"), ["contest_id"], unique=False)

    op.create_table(
        "news_post",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contest_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("body_md", sa.Text(), nullable=False),
        sa.Column(
            "status",
            sa.Enum("draft", "published", name="newsstatus", native_enum=False, create_constraint=True, length=20),
            nullable=False,
        ),
        sa.Column("published_at", app.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("created_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"], ["user_account.id"], name=op.f("fk_news_post_author_id_user_account"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["contest_id"], ["contest.id"], name=op.f("fk_news_post_contest_id_contest"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_news_post")),
    )
    with op.batch_alter_table("news_post", schema=None) as batch_op:
        batch_op.create_index("ix_news_post_contest_id_status", ["contest_id", "status", "published_at"], unique=False)

    with op.batch_alter_table("contest", schema=None) as batch_op:
        batch_op.add_column(sa.Column("banner_key", sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column("gallery_public", sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("contest", schema=None) as batch_op:
        batch_op.drop_column("gallery_public")
        batch_op.drop_column("banner_key")

    with op.batch_alter_table("news_post", schema=None) as batch_op:
        batch_op.drop_index("ix_news_post_contest_id_status")

    op.drop_table("news_post")
    with op.batch_alter_table("material", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_material_contest_id"))

    op.drop_table("material")
