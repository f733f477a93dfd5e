"""Calibration storage: GPS references from a stored run and the phone's track, deleting a reference run."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pytest
import sqlalchemy as sa
from alembic import command
from alembic.script import ScriptDirectory

from soleware.runs.calibration import ReferenceKind
from soleware.runs.storage import NotFound
from soleware.runs.storage.migrate import alembic_config, upgrade

SHOE = "SW-L-0001+SW-R-0001"


@pytest.fixture
def ada(store):
    return store.create_runner("ada@example.com", "correct horse battery").id


def phone_track(rng, duration_s: float, true_m: float, accuracy_m: float = 4.0):
    """One fix a second over three straight legs (true length ``true_m``), noise of ``accuracy_m``."""
    t = np.arange(0.0, duration_s, 1.0)
    d = true_m * t / duration_s
    legs = [(0.0, 0.4), (90.0, 0.35), (180.0, 0.25)]
    x, y = np.zeros_like(d), np.zeros_like(d)
    start, x0, y0 = 0.0, 0.0, 0.0
    for heading, share in legs:
        sel = (d >= start) & (d <= start + share * true_m)
        along = d[sel] - start
        x[sel] = x0 + along * math.sin(math.radians(heading))
        y[sel] = y0 + along * math.cos(math.radians(heading))
        x0 += share * true_m * math.sin(math.radians(heading))
        y0 += share * true_m * math.cos(math.radians(heading))
        start += share * true_m
    x += rng.normal(0, accuracy_m / 2, len(t))
    y += rng.normal(0, accuracy_m / 2, len(t))
    lat = 31.2 + np.degrees(y / 6_371_008.8)
    lon = 121.5 + np.degrees(x / (6_371_008.8 * math.cos(math.radians(31.2))))
    return {"t_s": t, "lat_deg": lat, "lon_deg": lon, "accuracy_m": np.full(len(t), accuracy_m)}


def stored(store, runner_id, make_run, day: int) -> tuple[str, float]:
    start = dt.datetime(2026, 3, 1, 7, tzinfo=dt.UTC) + dt.timedelta(days=day)
    run = make_run(start=start, distance_m=4200.0, speed_mps=3.2)
    return store.add_run(runner_id, run).run_id, run.elapsed_time_s


def test_gps_stretches_calibrate_the_shoes(store, ada, make_run):
    rng = np.random.default_rng(5)
    for day in range(3):
        run_id, elapsed = stored(store, ada, make_run, day)
        assert store.add_gps_reference(ada, run_id, **phone_track(rng, elapsed, 4000.0))
    (cal,) = store.calibration(ada)
    assert cal.shoe == SHOE and cal.n_agreeing == 3
    assert all(r.kind == ReferenceKind.GPS.value and r.accepted for r in cal.references)
    for r in cal.references:
        assert r.raw_m / r.reference_m == pytest.approx(1.05, abs=0.01)
    assert cal.factor == pytest.approx(1 / 1.05, abs=0.006)


def test_gps_never_replaces_what_the_runner_said_and_needs_a_good_fix(store, ada, make_run):
    rng = np.random.default_rng(6)
    run_id, elapsed = stored(store, ada, make_run, 0)
    store.set_reference(ada, run_id, ReferenceKind.TRACK, laps=10)
    assert not store.add_gps_reference(ada, run_id, **phone_track(rng, elapsed, 4000.0))
    assert store.reference_of(ada, run_id).kind == "track"
    other, elapsed = stored(store, ada, make_run, 1)
    assert not store.add_gps_reference(ada, other, **phone_track(rng, elapsed, 4000.0, accuracy_m=30.0))
    assert store.reference_of(ada, other) is None
    bob = store.create_runner("bob@example.com", "correct horse battery").id
    with pytest.raises(NotFound):
        store.add_gps_reference(bob, other, **phone_track(rng, elapsed, 4000.0))


def test_deleting_a_reference_run_takes_it_out_of_the_factor(store, ada, make_run):
    ids = [stored(store, ada, make_run, day)[0] for day in range(3)]
    for run_id in ids:
        store.set_reference(ada, run_id, ReferenceKind.COURSE, distance_m=4000)
    assert store.calibration(ada)[0].factor < 0.96
    shoe = store.reference_shoe(ada, ids[0])
    store.delete_run(ada, ids[0])
    store.relearn(ada, shoe)
    (cal,) = store.calibration(ada)
    assert cal.factor == 1.0 and len(cal.references) == 2
    start = dt.datetime(2026, 4, 1, 7, tzinfo=dt.UTC)
    assert store.calibrate(ada, make_run(start=start, distance_m=4200.0)).calibration_factor == 1.0


def _before_calibration() -> str:
    """The revision the calibration's migration revises (found by its file name: later migrations may follow)."""
    scripts = ScriptDirectory.from_config(alembic_config())
    (script,) = [s for s in scripts.walk_revisions() if s.path.endswith("_calibration.py")]
    assert isinstance(script.down_revision, str)
    return script.down_revision


def test_migration_gives_stored_runs_their_raw_distance_and_goes_back(store, ada, make_run):
    run_id, _ = stored(store, ada, make_run, 0)
    store.set_reference(ada, run_id, ReferenceKind.TRACK, laps=10)
    with store.engine.begin() as conn:
        cfg = alembic_config()
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, _before_calibration())
    with store.engine.connect() as conn:
        assert "calibration_factor" not in {c["name"] for c in sa.inspect(conn).get_columns("runs")}
        (distance,) = conn.execute(sa.text("SELECT distance_m FROM runs")).one()
    upgrade(store.engine)
    with store.engine.connect() as conn:
        row = conn.execute(sa.text("SELECT raw_distance_m, calibration_factor FROM runs")).one()
    assert tuple(row) == (distance, 1.0)
    assert store.calibration(ada) == []
