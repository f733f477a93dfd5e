"""run facts: the columns records and achievements are computed from, with a covering index

A back-dated run or a deleted record holder recomputed records and achievements by walking run summaries one by
one (~0.5 ms per run). These columns (start in µs and its UTC offset, local day and hour in the run's zone,
cadence, strike fraction, packed efforts) let that be one index-only read and a vectorised pass. Filled here from
each run's packed summary.

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

_COLUMNS = (
    "start_us",
    "start_offset_s",
    "local_day",
    "local_hour",
    "avg_cadence_spm",
    "fore_mid_strike_fraction",
    "efforts",
)


def upgrade() -> None:
    from soleware.runs.facts import local_day_hour, pack_efforts, start_offset_s, start_us
    from soleware.runs.model import unpack_summary

    with op.batch_alter_table("runs", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("start_us", sa.BigInteger(), server_default=sa.text("0"), nullable=False)
        )
        batch_op.add_column(
            sa.Column("start_offset_s", sa.Integer(), server_default=sa.text("0"), nullable=False)
        )
        batch_op.add_column(sa.Column("local_day", sa.Integer(), server_default=sa.text("0"), nullable=False))
        batch_op.add_column(
            sa.Column("local_hour", sa.SmallInteger(), server_default=sa.text("0"), nullable=False)
        )
        batch_op.add_column(sa.Column("avg_cadence_spm", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("fore_mid_strike_fraction", sa.Float(), nullable=True))
        batch_op.add_column(
            sa.Column("efforts", sa.LargeBinary(), server_default=sa.text("''"), nullable=False)
        )
    conn = op.get_bind()
    runs = sa.table(
        "runs",
        sa.column("id", sa.String),
        sa.column("summary_packed", sa.LargeBinary),
        *(sa.column(c) for c in _COLUMNS),
    )
    ids = conn.execute(sa.select(runs.c.id)).scalars().all()
    for k in range(0, len(ids), 500):
        rows = conn.execute(
            sa.select(runs.c.id, runs.c.summary_packed).where(runs.c.id.in_(ids[k : k + 500]))
        ).all()
        for run_id, packed in rows:
            r = unpack_summary(packed)
            day, hour = local_day_hour(r.start_time, r.time_zone)
            conn.execute(
                sa.update(runs)
                .where(runs.c.id == run_id)
                .values(
                    start_us=start_us(r.start_time),
                    start_offset_s=start_offset_s(r.start_time),
                    local_day=day,
                    local_hour=hour,
                    avg_cadence_spm=r.avg_cadence_spm,
                    fore_mid_strike_fraction=r.fore_mid_strike_fraction,
                    efforts=pack_efforts(r.efforts),
                )
            )
    op.create_index(
        "ix_runs_runner_facts",
        "runs",
        [
            "runner_id",
            "id",
            "start_us",
            "start_offset_s",
            "time_zone",
            "distance_m",
            "local_day",
            "local_hour",
            "avg_cadence_spm",
            "fore_mid_strike_fraction",
            "efforts",
        ],
    )


def downgrade() -> None:
    op.drop_index("ix_runs_runner_facts", "runs")
    with op.batch_alter_table("runs", schema=None) as batch_op:
        for c in reversed(_COLUMNS):
            batch_op.drop_column(c)
