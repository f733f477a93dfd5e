"""refused uploads

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-05 03:40:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "refused_uploads",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("runner_id", sa.String(length=36), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("body", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("refused_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("run_id", sa.String(length=36), nullable=True),
        sa.Column("stored_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["runner_id"], ["runners.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("runner_id", "key", name="uq_refused_uploads_runner_key"),
    )
    with op.batch_alter_table("refused_uploads", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_refused_uploads_runner_id"), ["runner_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("refused_uploads", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_refused_uploads_runner_id"))
    op.drop_table("refused_uploads")
