"""Stored records and achievements equal a recompute over the stored runs after every kind of change, now that
back-dated uploads, imports and deletes compute them from the runs' facts; a migration fills the facts."""

from __future__ import annotations

import dataclasses
import datetime as dt
import random

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy.orm import Session

from soleware.runs.achievements import Achievements
from soleware.runs.facts import RunFacts, pack_efforts, pack_facts
from soleware.runs.records import PersonalRecords
from soleware.runs.storage import RunStore
from soleware.runs.storage._base import StoreBase
from soleware.runs.storage.db import RunnerState, make_engine
from soleware.runs.storage.migrate import alembic_config, current_revision, head_revision, upgrade
from soleware.runs.storage.runs import RunHistory

ZONES = ("Europe/Berlin", "America/New_York", "Asia/Kolkata", "Pacific/Kiritimati")
#: the store's read of a runner's facts (tests count its calls)
_READ_FACTS = RunHistory._facts
T0 = dt.datetime(2026, 3, 20, 6, tzinfo=dt.UTC)  # Berlin and New York change to summer time around here


def _check(store: RunStore, runner_id: str) -> tuple[Achievements, PersonalRecords]:
    """The stored state is what a recompute over the stored summaries gives; the stored facts are the summaries'."""
    summaries = store.summaries(runner_id)
    ach = Achievements().compute(summaries)
    rec = PersonalRecords().compute(summaries)
    assert store.achievements(runner_id).to_dict() == ach.to_dict()
    assert store.records(runner_id).to_dict() == rec.to_dict()
    with Session(store.engine) as s:
        stored = _READ_FACTS(s, runner_id).ordered()
        version = StoreBase._version(s, runner_id)
    assert stored == RunFacts.from_summaries(summaries).ordered()
    kept = store._kept_facts(runner_id, version)
    if kept is not None:  # what the next write starts from
        assert kept == stored
    return ach, rec


def test_every_change_leaves_the_state_of_a_recompute(store, make_run):
    rng = random.Random(19)
    runner = store.create_runner("facts@example.com", "correct horse battery")

    def a_run(start: dt.datetime):
        return make_run(
            start=start,
            distance_m=rng.choice([900.0, 1500.0, 2100.0, 5100.0]),
            speed_mps=rng.uniform(2.6, 4.2),
            stride_m=rng.uniform(2.1, 2.6),
            time_zone=rng.choice(ZONES),
        )

    starts = [T0 + dt.timedelta(days=d, hours=rng.randrange(24)) for d in range(0, 40, 2)]
    for start in starts[:6]:  # in order: the incremental path
        store.add_run(runner.id, a_run(start))
        _check(store, runner.id)
    for start in [*starts[6:], T0 - dt.timedelta(days=400), T0 + dt.timedelta(days=5, minutes=7)]:
        res = store.add_run(runner.id, a_run(start))  # later, back-dated, older than every run
        ach, rec = _check(store, runner.id)
        assert res.created
        assert res.awards == tuple(a for a in ach.awards_ if a.run_id == res.run_id)
        new = [c for r in rec.records_.values() for c in r.history if c.record.run_id == res.run_id]
        assert list(res.records) == new
    # an import of old runs, older than every run, in one batch
    results = store.add_runs(runner.id, [a_run(T0 - dt.timedelta(days=900 - 3 * k)) for k in range(4)])
    ach, _ = _check(store, runner.id)
    assert all(r.created for r in results)
    assert [a for r in results for a in r.awards] == [
        a for a in ach.awards_ if a.run_id in {r.run_id for r in results}
    ]
    # deletes: record holders first, then any run
    while store.summaries(runner.id):
        records = store.records(runner.id).records_
        holders = [r.best[0].run_id for r in records.values() if r.best]
        gone = holders[0] if holders and rng.random() < 0.6 else rng.choice(store.summaries(runner.id)).run_id
        store.delete_run(runner.id, gone)
        _check(store, runner.id)


def _reads_of_facts(monkeypatch) -> list[str]:
    """Count the reads of a runner's facts from the database."""
    reads: list[str] = []

    def counted(s: Session, runner_id: str) -> RunFacts:
        reads.append(runner_id)
        return _READ_FACTS(s, runner_id)

    monkeypatch.setattr(RunHistory, "_facts", staticmethod(counted))
    return reads


def test_a_write_starts_from_the_facts_the_last_one_kept(store, make_run, monkeypatch):
    """After one back-dated upload has read the runner's facts, the next writes in the process (back-dated
    uploads, imports, deletes, the other foot) start from the facts it kept and read none, and every state is
    still a recompute's."""
    runner = store.create_runner("kept@example.com", "correct horse battery").id
    for k in range(6):
        store.add_run(runner, make_run(start=T0 + dt.timedelta(days=2 * k), distance_m=1500.0 + 700 * k))
    reads = _reads_of_facts(monkeypatch)
    store.add_run(runner, make_run(start=T0 + dt.timedelta(days=3), distance_m=5100.0))
    assert reads == [runner]
    _check(store, runner)
    store.add_run(runner, make_run(start=T0 - dt.timedelta(days=40), distance_m=2100.0))
    store.add_run(runner, make_run(start=T0 + dt.timedelta(days=30), distance_m=900.0))  # the latest
    store.add_runs(
        runner, [make_run(start=T0 - dt.timedelta(days=90 + k), distance_m=3000.0) for k in range(3)]
    )
    _check(store, runner)
    left, right = _feet(make_run(start=T0 + dt.timedelta(days=5, hours=3), distance_m=4200.0))
    store.add_run(runner, left)
    assert store.add_run(runner, right).merged
    _check(store, runner)
    holder = next(r.best[0].run_id for r in store.records(runner).records_.values() if r.best)
    store.delete_run(runner, holder)
    _check(store, runner)
    assert reads == [runner]


def _feet(run):
    """A shoe run's two feet as two uploads."""
    return [
        dataclasses.replace(
            run, strides=[x for x in run.strides if x.side == side], shoe_serials=(side[0].upper(),)
        )
        for side in ("left", "right")
    ]


def test_facts_kept_by_one_process_are_not_used_after_another_wrote(database_url, make_run, monkeypatch):
    """Two stores on one database (two server processes): a write by the other one makes the facts this one
    kept stale, so its next back-dated upload reads them again, and the state is a recompute's."""
    engine_a, engine_b = make_engine(database_url), make_engine(database_url)
    upgrade(engine_a)
    a, b = RunStore(engine_a), RunStore(engine_b)
    runner = a.create_runner("two@example.com", "correct horse battery").id
    for k in range(4):
        a.add_run(runner, make_run(start=T0 + dt.timedelta(days=2 * k), distance_m=2000.0 + 500 * k))
    reads = _reads_of_facts(monkeypatch)
    a.add_run(runner, make_run(start=T0 + dt.timedelta(days=1), distance_m=5100.0))
    b.add_run(runner, make_run(start=T0 + dt.timedelta(days=20), distance_m=1500.0))
    b.delete_run(runner, b.summaries(runner)[0].run_id)  # b kept nothing yet: it reads
    assert reads == [runner, runner]
    a.add_run(runner, make_run(start=T0 - dt.timedelta(days=5), distance_m=3000.0))
    assert reads == [runner, runner, runner]
    _check(a, runner)
    _check(b, runner)
    engine_a.dispose()
    engine_b.dispose()


def test_a_write_that_rolls_back_keeps_nothing(store, make_run, monkeypatch):
    """The facts a failed write computed are never kept: the next write starts from the stored ones."""
    runner = store.create_runner("rollback@example.com", "correct horse battery").id
    for k in range(4):
        store.add_run(runner, make_run(start=T0 + dt.timedelta(days=2 * k), distance_m=2000.0 + 500 * k))
    store.add_run(runner, make_run(start=T0 + dt.timedelta(days=1), distance_m=5100.0))

    def fail(*args, **kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr("soleware.runs.storage.runs.update_loads", fail)
    with pytest.raises(RuntimeError):
        store.add_run(runner, make_run(start=T0 - dt.timedelta(days=3), distance_m=8000.0))
    monkeypatch.undo()
    assert len(store.summaries(runner)) == 5
    _check(store, runner)
    store.add_run(runner, make_run(start=T0 - dt.timedelta(days=9), distance_m=1200.0))
    _check(store, runner)


def test_the_migration_fills_the_facts_of_stored_runs(database_url, make_run):
    engine = make_engine(database_url)
    upgrade(engine, "0008")
    store = RunStore(engine)  # accounts as that revision left them
    runner_id = store.create_runner("old@example.com", "correct horse battery").id
    runs = [
        make_run(
            start=T0 + dt.timedelta(days=k, hours=5 * k), distance_m=1200.0 + 900 * k, time_zone=ZONES[k]
        )
        for k in range(4)
    ]
    with engine.connect() as conn:
        existing = {c["name"] for c in sa.inspect(conn).get_columns("runs")}
    assert "facts" not in existing
    summaries = []
    for k, run in enumerate(runs):  # rows as the code before the facts stored them
        summary = run.summary(f"old-{k}")
        summaries.append(summary)
        row = RunHistory._row(None, runner_id, run, run.fingerprint(), summary)  # type: ignore[arg-type]
        values = {c.key: getattr(row, c.key) for c in row.__table__.columns if c.key in existing}
        values["created_at"] = dt.datetime.now(dt.UTC)
        with engine.begin() as conn:
            types = row.__table__.c
            conn.execute(
                sa.table("runs", *(sa.column(k, types[k].type) for k in values)).insert().values(**values)
            )
    with Session(engine) as s, s.begin():  # and the state the code before kept with them
        state = s.get(RunnerState, runner_id)
        assert state is not None
        state.records = PersonalRecords().compute(summaries).to_dict()
        state.achievements = Achievements().compute(summaries).to_dict()
    upgrade(engine)
    assert current_revision(engine) == head_revision()
    with engine.connect() as conn:
        stored = dict(conn.execute(sa.text("SELECT id, facts FROM runs")).all())
        efforts = dict(conn.execute(sa.text("SELECT id, efforts FROM runs")).all())
    for s in summaries:
        assert bytes(stored[s.run_id]) == pack_facts(s)
        assert bytes(efforts[s.run_id]) == pack_efforts(s.efforts)
    # a back-dated upload and a delete go through the facts: state as a recompute
    store.add_run(runner_id, make_run(start=T0 - dt.timedelta(days=30), distance_m=3000.0))
    store.delete_run(runner_id, "old-2")
    _check(store, runner_id)
    cfg = alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0008")
    with engine.connect() as conn:
        cols = {c["name"] for c in sa.inspect(conn).get_columns("runs")}
        count = conn.execute(sa.text("SELECT count(*) FROM runs")).scalar_one()
    assert "facts" not in cols and "efforts" not in cols and count == 4
    engine.dispose()
