"""Revision 0005 (lean runs): a database with runs stored the old way reads the same runs after the upgrade."""

from __future__ import annotations

import datetime as dt
import struct
import uuid
import zlib

import numpy as np
import pytest
import sqlalchemy as sa
from alembic import command
from alembic.script import ScriptDirectory

from soleware.runs.achievements import Achievements
from soleware.runs.model import STREAM_RESOLUTION, STRIDE_RESOLUTION, Run, Streams, Stride, StrikeType
from soleware.runs.progress import period_totals
from soleware.runs.records import PersonalRecords
from soleware.runs.storage import RunStore
from soleware.runs.storage.db import make_engine
from soleware.runs.storage.migrate import alembic_config, upgrade

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
_STRIKES = (StrikeType.REARFOOT, StrikeType.MIDFOOT, StrikeType.FOREFOOT)


def _v1_strides(strides: list[Stride]) -> bytes:
    rec = np.zeros(len(strides), dtype=_V1_STRIDE)
    for k, s in enumerate(strides):
        rec[k] = (
            0 if s.side == "left" else 1,
            1 if s.gait == "run" else 0,
            -1 if s.strike_type is None else _STRIKES.index(s.strike_type),
            s.t_start_s,
            s.t_end_s,
            s.length_m,
            s.speed_mps,
            s.cadence_spm,
            *(np.nan if (v := getattr(s, f)) is None else v for f in _V1_STRIDE.names[8:]),
        )
    return b"SWSR" + struct.pack("<I", len(strides)) + zlib.compress(rec.tobytes(), 6)


def _v1_streams(s: Streams) -> bytes:
    body = b"".join(getattr(s, c).astype("<f8").tobytes() for c in ("t_s", "distance_m")) + b"".join(
        getattr(s, c).astype("<f4").tobytes()
        for c in ("speed_mps", "cadence_spm", "stride_length_m", "contact_time_s")
    )
    return b"SWST" + struct.pack("<BBHI", 1, 6, 0, len(s)) + zlib.compress(body, 6)


def _old_runs_table() -> sa.Table:
    names = (
        "id runner_id fingerprint start_time time_zone distance_m elapsed_time_s moving_time_s source title"
    )
    cols = [sa.column(n) for n in names.split()]
    json_cols = [sa.column(n, sa.JSON) for n in ("shoe_serials", "summary", "laps", "pauses")]
    blobs = [sa.column(n, sa.LargeBinary) for n in ("strides", "streams")]
    return sa.table("runs", *cols, *json_cols, *blobs, sa.column("created_at"))


def test_runs_stored_the_old_way_read_the_same_after_the_upgrade(database_url, noisy_run):
    engine = make_engine(database_url)
    head = ScriptDirectory.from_config(alembic_config()).get_revision("0005")
    upgrade(engine, head.down_revision)
    store = RunStore(engine)
    runner_id = str(uuid.uuid4())
    runs = [noisy_run(k) for k in range(3)]
    ids = [str(uuid.uuid4()) for _ in runs]
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO runners (id, email, display_name, password_hash, locale, time_zone, units, created_at)"
                " VALUES (:id, 'old@example.com', 'Old', 'x', 'en', 'Europe/Berlin', 'metric', :now)"
            ),
            {"id": runner_id, "now": dt.datetime.now(dt.UTC)},
        )
        conn.execute(
            sa.text(
                "INSERT INTO runner_state (runner_id, records, achievements, version)"
                " VALUES (:id, '{\"run_ids\": []}', '{\"run_ids\": []}', 3)"
            ),
            {"id": runner_id},
        )
        for rid, run in zip(ids, runs, strict=True):
            conn.execute(
                sa.insert(_old_runs_table()).values(
                    id=rid,
                    runner_id=runner_id,
                    fingerprint=run.fingerprint(),
                    start_time=run.start_time,
                    time_zone=run.time_zone,
                    distance_m=run.distance_m,
                    elapsed_time_s=run.elapsed_time_s,
                    moving_time_s=run.moving_time_s,
                    source=run.source,
                    title="old",
                    shoe_serials=list(run.shoe_serials),
                    summary=run.summary(rid).to_dict(),
                    laps=[],
                    pauses=[list(p) for p in run.pauses],
                    strides=_v1_strides(run.strides),
                    streams=_v1_streams(run.streams),
                    created_at=dt.datetime.now(dt.UTC),
                )
            )
    upgrade(engine)
    for rid, run in zip(ids, runs, strict=True):
        back = store.get_run(runner_id, rid)
        view = store.run_view(runner_id, rid)
        # the old blobs held metrics as float32: the page's figures are those of the float32 strides
        old = Run.from_strides(
            [
                Stride(
                    s.side,
                    s.t_start_s,
                    s.t_end_s,
                    float(np.float32(s.length_m)),
                    contact_time_s=float(np.float32(s.contact_time_s)),
                    flight_time_s=None if s.flight_time_s is None else float(np.float32(s.flight_time_s)),
                    strike_angle_deg=float(np.float32(s.strike_angle_deg)),
                    strike_type=s.strike_type,
                    impact_g=float(np.float32(s.impact_g)),
                )
                for s in run.strides
            ],
            start_time=run.start_time,
            time_zone=run.time_zone,
        )
        assert [f.strides for f in view.feet] == [f.strides for f in run.feet()]
        for a, b in zip(view.feet, old.feet(), strict=True):
            assert a.strike_types == b.strike_types
            for name in ("avg_contact_time_s", "avg_flight_time_s", "avg_strike_angle_deg", "avg_impact_g"):
                assert getattr(a, name) == pytest.approx(getattr(b, name), rel=1e-12), name
        for st in (back.streams, view.run.streams):
            assert len(st) == len(run.streams)
            for name, res in STREAM_RESOLUTION.items():
                x, y = getattr(st, name).astype(float), getattr(run.streams, name).astype(float)
                assert np.array_equal(np.isnan(x), np.isnan(y)), name
                assert np.nanmax(np.abs(x - y), initial=0.0) <= 0.5 * res + 1e-5, name
        for a, b in zip(back.strides, run.strides, strict=True):
            for name, res in STRIDE_RESOLUTION.items():
                x, y = getattr(a, name), getattr(b, name)
                tol = res if name == "length_m" else 0.5 * res
                assert (x is None) == (y is None) and (x is None or abs(x - y) <= tol + 1e-5), name
    # derived state in the new layout, as a recompute from the runs gives it
    summaries = [r.summary(rid) for rid, r in zip(ids, runs, strict=True)]
    assert store.achievements(runner_id).to_dict() == Achievements().compute(summaries).to_dict()
    assert store.records(runner_id).records_ == PersonalRecords().compute(summaries).records_
    weeks = store.period_totals(runner_id, period="week", last=5)
    expected = period_totals(summaries, period="week", time_zone="Europe/Berlin", fill=True)[-5:]
    assert [(t.period_start, t.runs) for t in weeks] == [(t.period_start, t.runs) for t in expected]
    assert [t.distance_m for t in weeks] == pytest.approx([t.distance_m for t in expected], abs=1e-6)
    with engine.connect() as conn:
        sizes = conn.execute(sa.text("SELECT length(strides) + length(streams) FROM runs")).scalars().all()
    assert max(sizes) < 0.5 * min(len(_v1_strides(r.strides)) + len(_v1_streams(r.streams)) for r in runs)

    # and back down: the old layout again, the same runs
    cfg = alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, head.down_revision)
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT strides, streams FROM runs ORDER BY start_time")).all()
    assert [r[0][:4] for r in rows] == [b"SWSR"] * 3 and [r[1][:5] for r in rows] == [b"SWST\x01"] * 3
    engine.dispose()
