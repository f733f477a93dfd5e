"""runner units

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 01:09:46.679186
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("runners", schema=None) as batch_op:
        batch_op.add_column(sa.Column("units", sa.String(length=8), server_default="metric", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("runners", schema=None) as batch_op:
        batch_op.drop_column("units")
