"""lean runs: strides as LZMA columns at the shoe's resolution, shoe runs' streams computed from strides, and
the per-foot figures stored with the run

Revision ID: 0005
Revises: 0002
Create Date: 2026-12-05 04:50:00
"""

from __future__ import annotations

import struct
import zlib

import numpy as np
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0005"
down_revision = "0002"
branch_labels = None
depends_on = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
_BATCH = 200


def _runs() -> sa.Table:
    return sa.table(
        "runs",
        sa.column("id", sa.String),
        sa.column("strides", sa.LargeBinary),
        sa.column("streams", sa.LargeBinary),
        sa.column("elapsed_time_s", sa.Float),
        sa.column("pauses", _JSON),
        sa.column("feet", _JSON),
    )


def _convert(convert_row) -> None:
    """Rewrite every run row in batches of ids (so a large history never sits in memory at once)."""
    conn = op.get_bind()
    runs = _runs()
    ids = [r[0] for r in conn.execute(sa.select(runs.c.id).order_by(runs.c.id))]
    for k in range(0, len(ids), _BATCH):
        rows = conn.execute(
            sa.select(runs.c.id, runs.c.strides, runs.c.streams, runs.c.elapsed_time_s, runs.c.pauses).where(
                runs.c.id.in_(ids[k : k + _BATCH])
            )
        ).all()
        for row in rows:
            conn.execute(sa.update(runs).where(runs.c.id == row.id).values(**convert_row(row)))


def upgrade() -> None:
    from soleware.runs.model import Streams, feet_of_columns, pack_stride_columns, unpack_stride_columns
    from soleware.runs.storage.runs import pack_streams

    with op.batch_alter_table("runs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("feet", _JSON, server_default=sa.text("'[]'"), nullable=False))

    def convert(row) -> dict:
        cols = unpack_stride_columns(row.strides)
        strides = pack_stride_columns(cols)
        pauses = [(float(a), float(b)) for a, b in row.pauses]
        streams = pack_streams(
            Streams.from_bytes(row.streams), strides, elapsed_s=row.elapsed_time_s, pauses=pauses
        )
        return {"strides": strides, "streams": streams, "feet": [f.to_dict() for f in feet_of_columns(cols)]}

    _convert(convert)


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

    def convert(row) -> dict:
        cols = unpack_stride_columns(row.strides)
        rec = np.zeros(len(cols["side"]), dtype=_V1_STRIDE)
        for name in _V1_STRIDE.names:
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
    with op.batch_alter_table("runs", schema=None) as batch_op:
        batch_op.drop_column("feet")
