"""refused uploads: the run an upload was to replace (the phone's live run, replaced by the shoes' log of it),
so sending it again still takes that run's place

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 15:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("refused_uploads", schema=None) as batch_op:
        batch_op.add_column(sa.Column("replaces", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("refused_uploads", schema=None) as batch_op:
        batch_op.drop_column("replaces")
