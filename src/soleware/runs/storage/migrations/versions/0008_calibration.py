"""calibration: a run's raw distance and factor beside its distance; references and learned factors per runner
and shoe

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05 06:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("runs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("raw_distance_m", sa.Float(), nullable=True))
        batch_op.add_column(
            sa.Column("calibration_factor", sa.Float(), server_default=sa.text("1"), nullable=False)
        )
    op.execute("UPDATE runs SET raw_distance_m = distance_m")
    op.create_table(
        "calibration_references",
        sa.Column("run_id", sa.String(length=36), nullable=False),
        sa.Column("runner_id", sa.String(length=36), nullable=False),
        sa.Column("shoe", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("reference_m", sa.Float(), nullable=False),
        sa.Column("raw_m", sa.Float(), nullable=False),
        sa.Column("speed_mps", sa.Float(), nullable=False),
        sa.Column("sigma", sa.Float(), nullable=True),
        sa.Column("start_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["run_id"], ["runs.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["runner_id"], ["runners.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("run_id"),
    )
    op.create_index("ix_calibration_references_runner_shoe", "calibration_references", ["runner_id", "shoe"])
    op.create_table(
        "calibrations",
        sa.Column("runner_id", sa.String(length=36), nullable=False),
        sa.Column("shoe", sa.String(length=200), nullable=False),
        sa.Column("factor", sa.Float(), nullable=False),
        sa.Column("band_factors", _JSON, nullable=False),
        sa.Column("n_agreeing", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["runner_id"], ["runners.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("runner_id", "shoe"),
    )


def downgrade() -> None:
    op.drop_table("calibrations")
    op.drop_index("ix_calibration_references_runner_shoe", table_name="calibration_references")
    op.drop_table("calibration_references")
    with op.batch_alter_table("runs", schema=None) as batch_op:
        batch_op.drop_column("calibration_factor")
        batch_op.drop_column("raw_distance_m")
