"""paperwork: certificate settings on contests, certificates with verification codes, one author per line

Revision ID: 0011
Revises: 0005
Create Date: 2026-12-03 13:10:00
"""

import re

import sqlalchemy as sa
from alembic import op

import app.models.base

revision = "0011"
down_revision = "0009"
branch_labels = None
depends_on = None

# Authors were one free-text field, written "A, B" or "A; B" (the form said "names separated by commas"). Vietnamese
# names contain no commas or semicolons, so these separators split them safely; " và " ("and") is left alone.
SEPARATORS = re.compile(r"\s*[,;\n\r]+\s*")


def _one_per_line(text: str | None) -> str:
    return "\n".join(name for name in SEPARATORS.split(text or "") if name.strip())


def upgrade() -> None:
    with op.batch_alter_table("contest", schema=None) as batch_op:
        batch_op.add_column(sa.Column("paper_place", sa.String(length=100), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("paper_date", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("signer_title", sa.String(length=200), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("signer_name", sa.String(length=200), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("panel_head_name", sa.String(length=200), nullable=False, server_default=""))
    with op.batch_alter_table("contest", schema=None) as batch_op:
        for column in ("paper_place", "signer_title", "signer_name", "panel_head_name"):
            batch_op.alter_column(column, server_default=None)

    with op.batch_alter_table("entry", schema=None) as batch_op:
        batch_op.alter_column("authors", existing_type=sa.String(length=500), type_=sa.Text(), existing_nullable=False)
    conn = op.get_bind()
    entry = sa.table("entry", sa.column("id", sa.Integer()), sa.column("authors", sa.Text()))
    for entry_id, authors in conn.execute(sa.select(entry.c.id, entry.c.authors)).all():
        cleaned = _one_per_line(authors)
        if cleaned != (authors or ""):
            conn.execute(sa.update(entry).where(entry.c.id == entry_id).values(authors=cleaned))

    op.create_table(
        "certificate",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("contest_id", sa.Integer(), nullable=False),
        sa.Column("publication_id", sa.Integer(), nullable=False),
        sa.Column("entry_ref", sa.Integer(), nullable=False),
        sa.Column("award_name", sa.String(length=200), nullable=False),
        sa.Column("award_kind", sa.String(length=20), nullable=False),
        sa.Column("recipient", sa.String(length=300), nullable=False),
        sa.Column("unit_name", sa.String(length=200), nullable=False),
        sa.Column("entry_title", sa.String(length=300), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("issued_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["contest_id"], ["contest.id"], name=op.f("fk_certificate_contest_id_contest"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["publication_id"],
            ["publication.id"],
            name=op.f("fk_certificate_publication_id_publication"),
            ondelete="CASCADE",
        ),
        sa.CheckConstraint("award_kind IN ('group', 'individual')", name=op.f("ck_certificate_awardkind")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_certificate")),
        sa.UniqueConstraint("code", name=op.f("uq_certificate_code")),
        sa.UniqueConstraint("publication_id", "entry_ref", "recipient", name=op.f("uq_certificate_publication_id")),
    )
    with op.batch_alter_table("certificate", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_certificate_contest_id"), ["contest_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("certificate", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_certificate_contest_id"))
    op.drop_table("certificate")
    conn = op.get_bind()
    entry = sa.table("entry", sa.column("id", sa.Integer()), sa.column("authors", sa.Text()))
    for entry_id, authors in conn.execute(sa.select(entry.c.id, entry.c.authors)).all():
        if authors and "\n" in authors:
            conn.execute(
                sa.update(entry).where(entry.c.id == entry_id).values(authors=", ".join(authors.splitlines())[:500])
            )
    with op.batch_alter_table("entry", schema=None) as batch_op:
        batch_op.alter_column("authors", existing_type=sa.Text(), type_=sa.String(length=500), existing_nullable=False)
    with op.batch_alter_table("contest", schema=None) as batch_op:
        for column in ("panel_head_name", "signer_name", "signer_title", "paper_date", "paper_place"):
            batch_op.drop_column(column)
