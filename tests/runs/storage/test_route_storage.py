"""The route stored with its run (revision NNNN_route): round trip, the other foot's merge, the upgrade of a
database at the revision before it."""

from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np
import sqlalchemy as sa
from alembic import command
from alembic.script import ScriptDirectory

from soleware.runs.model import Route, Run
from soleware.runs.storage import RunStore
from soleware.runs.storage.db import make_engine
from soleware.runs.storage.migrate import alembic_config, current_revision, head_revision, upgrade


def test_a_run_keeps_its_route_and_a_run_without_one_has_none(database_url, make_run, make_route):
    engine = make_engine(database_url)
    upgrade(engine)
    store = RunStore(engine)
    runner = store.create_runner("ada@example.com", "correct horse battery")
    with_route = make_run()
    with_route.route = make_route(with_route.elapsed_time_s)
    without = make_run(start="2026-03-02T07:00:00+00:00")
    a = store.add_run(runner.id, with_route).run_id
    b = store.add_run(runner.id, without).run_id
    stored = store.get_run(runner.id, a).route
    assert stored is not None and stored == Route.from_bytes(with_route.route.to_bytes())
    assert store.run_view(runner.id, a).run.route == stored
    assert store.get_run(runner.id, b).route is None
    with engine.connect() as conn:
        size = conn.execute(sa.text("SELECT length(route) FROM runs WHERE id = :id"), {"id": a}).scalar_one()
    assert size < 10 * len(stored)
    engine.dispose()


def test_the_other_foot_merged_later_keeps_the_route(database_url, make_run, make_route):
    engine = make_engine(database_url)
    upgrade(engine)
    store = RunStore(engine)
    runner = store.create_runner("ada@example.com", "correct horse battery")
    both = make_run()
    left = Run.from_strides(
        [s for s in both.strides if s.side == "left"],
        start_time=both.start_time + dt.timedelta(seconds=2),
        time_zone="UTC",
        shoe_serials=("SW-L-0001",),
        route=make_route(both.elapsed_time_s),
    )
    right = Run.from_strides(
        [
            dataclasses.replace(s, t_start_s=s.t_start_s, t_end_s=s.t_end_s)
            for s in both.strides
            if s.side == "right"
        ],
        start_time=both.start_time,
        time_zone="UTC",
        shoe_serials=("SW-R-0001",),
    )
    rid = store.add_run(runner.id, left).run_id
    res = store.add_run(runner.id, right)
    assert res.merged and res.run_id == rid
    merged = store.get_run(runner.id, rid)
    assert merged.route is not None and left.route is not None
    # the merged run starts with the right foot, 2 s earlier: the fixes keep their instants
    assert np.allclose(merged.route.t_s, left.route.t_s + 2.0, atol=1e-3)
    assert np.allclose(merged.route.lat_deg, left.route.lat_deg, atol=1e-7)
    engine.dispose()


def _before_route() -> str:
    """The revision the route's migration revises (found by its file name, so renumbering keeps this test)."""
    scripts = ScriptDirectory.from_config(alembic_config())
    (script,) = [s for s in scripts.walk_revisions() if s.path.endswith("_route.py")]
    assert isinstance(script.down_revision, str)
    return script.down_revision


def test_a_database_before_the_route_upgrades_with_its_runs_routeless(database_url, make_run, make_route):
    engine = make_engine(database_url)
    before = _before_route()
    upgrade(engine, before)
    store = RunStore(engine)  # accounts are as that revision left them
    runner_id = store.create_runner("old@example.com", "correct horse battery").id
    run = make_run()
    # a run stored by the code before the route: every column but the route
    from soleware.runs.storage.runs import RunHistory

    row = RunHistory._row(None, runner_id, run, run.fingerprint(), run.summary("old-run"))  # type: ignore[arg-type]
    with engine.connect() as conn:  # the columns of that revision (later migrations add more than the route)
        existing = {c["name"] for c in sa.inspect(conn).get_columns("runs")}
    assert "route" not in existing
    values = {c.key: getattr(row, c.key) for c in row.__table__.columns if c.key in existing}
    values["created_at"] = dt.datetime.now(dt.UTC)
    with engine.begin() as conn:
        types = row.__table__.c
        conn.execute(
            sa.table("runs", *(sa.column(k, types[k].type) for k in values)).insert().values(**values)
        )
    upgrade(engine)
    assert current_revision(engine) == head_revision()
    old = store.get_run(runner_id, "old-run")
    assert old.route is None and old.distance_m == run.distance_m
    # a new run with a route goes in beside it
    new = make_run(start="2026-03-05T07:00:00+00:00")
    new.route = make_route(new.elapsed_time_s)
    rid = store.add_run(runner_id, new).run_id
    assert store.get_run(runner_id, rid).route is not None
    # and down again: the column goes, the runs stay
    cfg = alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, before)
    with engine.connect() as conn:
        cols = [c["name"] for c in sa.inspect(conn).get_columns("runs")]
        count = conn.execute(sa.text("SELECT count(*) FROM runs")).scalar_one()
    assert "route" not in cols and count == 2
    engine.dispose()


def test_an_imported_file_keeps_its_route_in_the_store(database_url, make_run, make_route, tmp_path):
    from soleware.formats import export_run
    from soleware.formats.history import import_into

    engine = make_engine(database_url)
    upgrade(engine)
    store = RunStore(engine)
    runner = store.create_runner("ada@example.com", "correct horse battery")
    run = make_run(start="2025-05-01T06:00:00+00:00")
    run.route = make_route(run.elapsed_time_s)
    (tmp_path / "morning.tcx").write_bytes(export_run(run, "tcx"))
    (outcome,) = import_into(store, runner.id, [tmp_path / "morning.tcx"])
    assert outcome.status == "imported", outcome.reason
    stored = store.get_run(runner.id, outcome.run_id).route
    assert stored is not None and len(stored) == len(run.route)
    assert np.allclose(stored.lat_deg, run.route.lat_deg, atol=0.5e-7 + 1e-9, rtol=0)
    assert np.allclose(stored.accuracy_m, run.route.accuracy_m, atol=0.05 + 1e-9, rtol=0)
    engine.dispose()
