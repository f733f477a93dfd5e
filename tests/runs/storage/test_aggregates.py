"""Aggregates kept on write equal a recompute from every run: after uploads in any order and deletes."""

from __future__ import annotations

import datetime as dt
import random

import pytest
import sqlalchemy as sa

from soleware.runs.achievements import Achievements
from soleware.runs.progress import (
    TrainingLoad,
    form_trends,
    period_totals,
    predict_race,
    shoe_mileage,
    weekly_goal,
)
from soleware.runs.records import PersonalRecords
from soleware.runs.storage import RunStore
from soleware.runs.storage.db import PeriodTotalRow, RunnerState, RunRow, ShoeTotalRow


def _expected(store: RunStore, runner_id: str, zone: str, period: str, last: int, now: dt.datetime):
    runs = store.summaries(runner_id)
    totals = period_totals(runs, period=period, time_zone=zone, fill=True)[-last:]
    trends = {k: v[-last:] for k, v in form_trends(runs, period=period, time_zone=zone).items()}
    tl = TrainingLoad(time_zone=zone).compute(runs, as_of=max(now, runs[-1].start_time)) if runs else None
    goal = weekly_goal(runs, goal_m=20_000.0, as_of=now, time_zone=zone)
    race = predict_race(runs, 10_000.0, as_of=now)
    return totals, trends, tl, goal, race


def test_progress_shoes_records_and_achievements_equal_a_recompute(store, make_run):
    zone = "America/New_York"
    runner = store.create_runner("agg@example.com", "long enough password", time_zone=zone)
    store.update_runner(runner.id, weekly_goal_m=20_000.0, race_goal_m=10_000.0)
    store.register_shoe(runner.id, "SW-L-0001", side="left", initial_m=1000.0)
    store.register_shoe(runner.id, "SW-R-0001", side="right")
    rnd = random.Random(7)
    t0 = dt.datetime(2026, 1, 5, 6, tzinfo=dt.UTC)
    runs = [
        make_run(
            start=t0 + dt.timedelta(days=3 * k + rnd.random(), hours=rnd.choice([0, 14])),
            distance_m=rnd.uniform(3000, 9000),
            speed_mps=rnd.uniform(2.6, 3.6),
            stride_m=rnd.uniform(2.0, 2.6),
            serials=rnd.choice([("SW-L-0001", "SW-R-0001"), ("SW-X",)]),
        )
        for k in range(14)
    ]
    rnd.shuffle(runs)  # back-dated uploads among them
    ids = [store.add_run(runner.id, r).run_id for r in runs[:10]]
    store.add_runs(runner.id, runs[10:])  # an import, partly back-dated
    for run_id in rnd.sample(ids, 4):
        store.delete_run(runner.id, run_id)
    now = t0 + dt.timedelta(days=44)

    summaries = store.summaries(runner.id)
    with store.engine.connect() as conn:  # each run's stored load: only changed ones were written
        stored = dict(conn.execute(sa.select(RunRow.id, RunRow.training_load)).all())
    assert stored == pytest.approx(TrainingLoad().compute(summaries).run_load_, rel=1e-12)
    assert store.achievements(runner.id).to_dict() == Achievements().compute(summaries).to_dict()
    assert store.records(runner.id).records_ == PersonalRecords().compute(summaries).records_
    for period, last in (("week", 3), ("week", 12), ("month", 12)):
        view = store.progress(runner.id, period=period, last=last, as_of=now)
        totals, trends, tl, goal, race = _expected(store, runner.id, zone, period, last, now)
        assert [(t.period_start, t.runs) for t in view.totals] == [(t.period_start, t.runs) for t in totals]
        for a, b in zip(view.totals, totals, strict=True):
            assert (a.distance_m, a.moving_time_s) == pytest.approx((b.distance_m, b.moving_time_s), abs=1e-5)
        assert view.trends.keys() == trends.keys()
        for k in trends:
            assert [(p.period_start, p.runs) for p in view.trends[k]] == [
                (p.period_start, p.runs) for p in trends[k]
            ]
            assert [p.value for p in view.trends[k]] == pytest.approx([p.value for p in trends[k]], rel=1e-12)
        assert (view.load.acute_, view.load.chronic_) == pytest.approx((tl.acute_, tl.chronic_), rel=1e-9)
        assert view.goal == goal and view.race == race
    expected = {m.serial: m for m in shoe_mileage(summaries, initial_m_by_serial={"SW-L-0001": 1000.0})}
    for shoe in store.shoes(runner.id):
        m = expected[shoe.serial]
        assert (shoe.mileage.runs, shoe.mileage.first_run, shoe.mileage.last_run) == (
            m.runs,
            m.first_run,
            m.last_run,
        )
        assert shoe.mileage.distance_m == pytest.approx(m.distance_m, abs=1e-5)
    # a new time zone moves runs between local weeks: the totals follow
    kept_on_write = _aggregate_rows(store, runner.id)
    store.update_runner(runner.id, time_zone="Asia/Tokyo")
    view = store.progress(runner.id, period="week", last=12, as_of=now)
    totals, *_ = _expected(store, runner.id, "Asia/Tokyo", "week", 12, now)
    assert [(t.period_start, t.runs) for t in view.totals] == [(t.period_start, t.runs) for t in totals]
    # rebuilt at once in the old zone, they are the rows that uploads and deletes kept one run at a time
    store.update_runner(runner.id, time_zone=zone)
    assert _aggregate_rows(store, runner.id) == kept_on_write


def _aggregate_rows(store: RunStore, runner_id: str) -> tuple:
    """Every aggregate row of the runner, and their sorted form speeds."""
    with store.engine.connect() as conn:
        return (
            sorted(
                conn.execute(sa.select(PeriodTotalRow).where(PeriodTotalRow.runner_id == runner_id)).all()
            ),
            sorted(conn.execute(sa.select(ShoeTotalRow).where(ShoeTotalRow.runner_id == runner_id)).all()),
            conn.execute(
                sa.select(RunnerState.form_speeds).where(RunnerState.runner_id == runner_id)
            ).scalar(),
        )
