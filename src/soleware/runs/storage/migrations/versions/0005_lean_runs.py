"""lean runs and aggregates: strides as LZMA columns at the shoe's resolution, shoe runs' streams computed from
strides, per-foot figures, packed summaries and training loads stored with the run; per-period and per-shoe
totals and the form-fit speeds kept per runner; records and achievements in their new (bounded) layout

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-05 04:50:00
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable
from typing import Any

import numpy as np
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
_BATCH = 200


def _runs() -> sa.TableClause:
    return sa.table(
        "runs",
        sa.column("id", sa.String),
        sa.column("strides", sa.LargeBinary),
        sa.column("streams", sa.LargeBinary),
        sa.column("elapsed_time_s", sa.Float),
        sa.column("pauses", _JSON),
        sa.column("feet", _JSON),
        sa.column("summary", _JSON),
        sa.column("summary_packed", sa.LargeBinary),
    )


def _convert(convert_row: Callable[[Any], dict[str, Any]]) -> None:
    """Rewrite every run row in batches of ids (so a large history never sits in memory at once)."""
    conn = op.get_bind()
    runs = _runs()
    ids = [r[0] for r in conn.execute(sa.select(runs.c.id).order_by(runs.c.id))]
    for k in range(0, len(ids), _BATCH):
        rows = conn.execute(
            sa.select(
                runs.c.id,
                runs.c.strides,
                runs.c.streams,
                runs.c.elapsed_time_s,
                runs.c.pauses,
                runs.c.summary,
            ).where(runs.c.id.in_(ids[k : k + _BATCH]))
        ).all()
        for row in rows:
            conn.execute(sa.update(runs).where(runs.c.id == row.id).values(**convert_row(row)))


def upgrade() -> None:
    from soleware.runs.model import (
        RunSummary,
        Streams,
        feet_of_columns,
        pack_stride_columns,
        pack_summary,
        unpack_stride_columns,
    )
    from soleware.runs.storage.runs import pack_streams

    with op.batch_alter_table("runs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("feet", _JSON, server_default=sa.text("'[]'"), nullable=False))
        batch_op.add_column(
            sa.Column("summary_packed", sa.LargeBinary(), server_default=sa.text("''"), nullable=False)
        )
        batch_op.add_column(
            sa.Column("training_load", sa.Float(), server_default=sa.text("0"), nullable=False)
        )
    with op.batch_alter_table("runner_state", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("form_speeds", sa.LargeBinary(), server_default=sa.text("''"), nullable=False)
        )
    op.create_table(
        "period_totals",
        sa.Column("runner_id", sa.String(length=36), nullable=False),
        sa.Column("period", sa.String(length=5), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("distance_um", sa.BigInteger(), nullable=False),
        sa.Column("moving_time_us", sa.BigInteger(), nullable=False),
        sa.Column("elapsed_time_us", sa.BigInteger(), nullable=False),
        sa.Column("runs", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["runner_id"], ["runners.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("runner_id", "period", "period_start"),
    )
    op.create_table(
        "shoe_totals",
        sa.Column("runner_id", sa.String(length=36), nullable=False),
        sa.Column("serial", sa.String(length=64), nullable=False),
        sa.Column("distance_um", sa.BigInteger(), nullable=False),
        sa.Column("runs", sa.Integer(), nullable=False),
        sa.Column("first_run", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_run", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["runner_id"], ["runners.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("runner_id", "serial"),
    )

    def convert(row: Any) -> dict[str, Any]:
        cols = unpack_stride_columns(row.strides)
        strides = pack_stride_columns(cols)
        pauses = [(float(a), float(b)) for a, b in row.pauses]
        streams = pack_streams(
            Streams.from_bytes(row.streams), strides, elapsed_s=row.elapsed_time_s, pauses=pauses
        )
        return {
            "strides": strides,
            "streams": streams,
            "feet": [f.to_dict() for f in feet_of_columns(cols)],
            "summary_packed": pack_summary(RunSummary.from_dict(row.summary)),
        }

    _convert(convert)
    _derive_state()


def _derive_state() -> None:
    """Records, achievements (new layout), aggregates and loads of every runner, from their runs."""
    from sqlalchemy.orm import Session

    from soleware.runs.achievements import Achievements
    from soleware.runs.model import unpack_summary
    from soleware.runs.records import PersonalRecords
    from soleware.runs.storage.db import Runner, RunnerState, RunRow
    from soleware.runs.storage.progress import rebuild_aggregates

    with Session(op.get_bind()) as s:
        for runner_id, zone in s.execute(sa.select(Runner.id, Runner.time_zone)).all():
            state = s.get(RunnerState, runner_id)
            if state is None:
                continue
            summaries = [
                unpack_summary(b)
                for b in s.scalars(sa.select(RunRow.summary_packed).where(RunRow.runner_id == runner_id))
            ]
            state.records = PersonalRecords().compute(summaries).to_dict()
            state.achievements = Achievements().compute(summaries).to_dict()
            rebuild_aggregates(s, runner_id, zone)
            s.flush()


# ---------------------------------------------------------------------- the layouts of revision 0002, for downgrade
_V1_STRIDE = np.dtype(
    [
        ("side", "u1"),
        ("gait", "u1"),
        ("strike", "i1"),
        ("t_start_s", "<f8"),
        ("t_end_s", "<f8"),
        ("length_m", "<f4"),
        ("speed_mps", "<f4"),
        ("cadence_spm", "<f4"),
        ("contact_time_s", "<f4"),
        ("flight_time_s", "<f4"),
        ("strike_angle_deg", "<f4"),
        ("impact_g", "<f4"),
    ]
)


def downgrade() -> None:
    from soleware.runs.model import unpack_stride_columns
    from soleware.runs.storage.runs import unpack_streams

    def convert(row: Any) -> dict[str, Any]:
        cols = unpack_stride_columns(row.strides)
        rec = np.zeros(len(cols["side"]), dtype=_V1_STRIDE)
        for name in _V1_STRIDE.names or ():
            rec[name] = cols[name]
        pauses = [(float(a), float(b)) for a, b in row.pauses]
        st = unpack_streams(row.streams, row.strides, elapsed_s=row.elapsed_time_s, pauses=pauses)
        body = b"".join(getattr(st, c).astype("<f8").tobytes() for c in ("t_s", "distance_m")) + b"".join(
            getattr(st, c).astype("<f4").tobytes()
            for c in ("speed_mps", "cadence_spm", "stride_length_m", "contact_time_s")
        )
        return {
            "strides": b"SWSR" + struct.pack("<I", len(rec)) + zlib.compress(rec.tobytes(), 6),
            "streams": b"SWST" + struct.pack("<BBHI", 1, 6, 0, len(st)) + zlib.compress(body, 6),
        }

    _convert(convert)
    _old_state()
    op.drop_table("shoe_totals")
    op.drop_table("period_totals")
    with op.batch_alter_table("runner_state", schema=None) as batch_op:
        batch_op.drop_column("form_speeds")
    with op.batch_alter_table("runs", schema=None) as batch_op:
        batch_op.drop_column("training_load")
        batch_op.drop_column("summary_packed")
        batch_op.drop_column("feet")


def _old_state() -> None:
    """Records and achievements as revision 0002 stored them (with run ids, float sums)."""
    from soleware.runs.model import RunSummary
    from soleware.runs.records import PersonalRecords

    conn = op.get_bind()
    runs = _runs()
    state = sa.table(
        "runner_state", sa.column("runner_id"), sa.column("records", _JSON), sa.column("achievements", _JSON)
    )
    for (runner_id,) in conn.execute(sa.select(state.c.runner_id)).all():
        summaries = [
            RunSummary.from_dict(d)
            for d in conn.execute(
                sa.select(runs.c.summary).where(sa.column("runner_id") == runner_id)
            ).scalars()
        ]
        records = PersonalRecords().compute(summaries).to_dict()
        records["run_ids"] = sorted(r.run_id for r in summaries)
        conn.execute(
            sa.update(state)
            .where(state.c.runner_id == runner_id)
            .values(records=records, achievements=_old_achievements(summaries))
        )


def _old_achievements(summaries: list[Any]) -> dict[str, Any]:
    """The achievement state of revision 0002 (its layout, from the same walk over the runs)."""
    from soleware.runs.achievements import Achievements

    a = Achievements().compute(summaries)
    return {
        "time_zone": a.time_zone,
        "week_start": a.week_start,
        "awards": [x.to_dict() for x in a.awards_],
        "run_count": a.run_count_,
        "total_distance_m": a.total_distance_m_,
        "longest_run_m": a.longest_run_m_,
        "best_cadence_spm": a.best_cadence_spm_,
        "best_form_pct": a.best_form_pct_,
        "hour_runs": a.hour_runs_,
        "records_beaten": a.records_beaten_,
        "longest_beaten": a.longest_beaten_,
        "best_efforts_s": [[k, v] for k, v in a.best_efforts_s_.items()],
        "days": sorted(a.days_),
        "weeks": sorted(a.weeks_),
        "month_m": a.month_m_,
        "last_key": None if a.last_key_ is None else [a.last_key_[0].isoformat(), a.last_key_[1]],
        "last_zone": a.last_zone_,
        "run_ids": sorted(r.run_id for r in summaries),
    }
