"""covering indexes for the history-wide reads: training loads and packed summaries

SQLite keeps a row's columns in one record, the strides and streams blobs in overflow pages, and the columns
added by 0005 after them: reading a run's training load or packed summary walked ~10 pages of blob per run.
These indexes hold what progress and the achievement recomputation read, so those reads never touch the rows
(an index-only scan on PostgreSQL too). A packed summary is under ~1 kB (fixed-size fields, a bounded list of
efforts), well within a PostgreSQL index entry's 2.7 kB.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05 06:10:00
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_runs_runner_load", "runs", ["runner_id", "start_time", "id", "training_load"])
    op.create_index("ix_runs_runner_packed", "runs", ["runner_id", "start_time", "summary_packed"])


def downgrade() -> None:
    op.drop_index("ix_runs_runner_packed", "runs")
    op.drop_index("ix_runs_runner_load", "runs")
