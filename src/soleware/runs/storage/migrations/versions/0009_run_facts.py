"""run facts: what records and achievements are computed from, packed per run, with a covering index

A back-dated run or a deleted record holder recomputed records and achievements by walking run summaries one by
one (~0.5 ms per run). A run's facts (``pack_facts``: start and its UTC offset, local day and hour in the run's
zone, distance, cadence, strike fraction, 44 bytes; ``pack_efforts``: 32 bytes per effort) make that one
index-only read and a vectorised pass. Filled here from each run's packed summary.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05 09:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    from soleware.runs.facts import pack_efforts, pack_facts
    from soleware.runs.model import unpack_summary

    with op.batch_alter_table("runs", schema=None) as batch_op:
        for name in ("facts", "efforts"):
            batch_op.add_column(
                sa.Column(name, sa.LargeBinary(), server_default=sa.text("''"), nullable=False)
            )
    conn = op.get_bind()
    runs = sa.table(
        "runs",
        sa.column("id", sa.String),
        sa.column("summary_packed", sa.LargeBinary),
        sa.column("facts"),
        sa.column("efforts"),
    )
    ids = conn.execute(sa.select(runs.c.id)).scalars().all()
    for k in range(0, len(ids), 500):
        rows = conn.execute(
            sa.select(runs.c.id, runs.c.summary_packed).where(runs.c.id.in_(ids[k : k + 500]))
        ).all()
        for run_id, packed in rows:
            summary = unpack_summary(packed)
            conn.execute(
                sa.update(runs)
                .where(runs.c.id == run_id)
                .values(facts=pack_facts(summary), efforts=pack_efforts(summary.efforts))
            )
    op.create_index(
        "ix_runs_runner_facts", "runs", ["runner_id", "start_time", "id", "time_zone", "facts", "efforts"]
    )


def downgrade() -> None:
    op.drop_index("ix_runs_runner_facts", "runs")
    with op.batch_alter_table("runs", schema=None) as batch_op:
        batch_op.drop_column("efforts")
        batch_op.drop_column("facts")
