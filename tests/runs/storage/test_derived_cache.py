"""What a store keeps in its process (progress trends and loads, records, achievements) never outlives a change
of the runs, made in this process or another one (two stores over one database are two workers)."""

from __future__ import annotations

import concurrent.futures
import datetime as dt
import time

import numpy as np
import pytest

from soleware.runs.model import Run
from soleware.runs.storage import ProgressView, RunStore
from soleware.runs.storage.db import make_engine
from soleware.runs.storage.migrate import upgrade

NOW = dt.datetime(2026, 3, 20, 12, tzinfo=dt.UTC)


@pytest.fixture
def engine(database_url):
    engine = make_engine(database_url)
    upgrade(engine)
    yield engine
    engine.dispose()


def _page(view: ProgressView) -> tuple:
    """Everything the progress route shows of a view."""
    load = view.load
    return (
        view.totals,
        view.trends,
        None if load is None else (load.acute_, load.chronic_, load.ratio_),
        view.goal,
        view.race,
    )


def _fresh(engine, runner_id: str, period: str) -> tuple:
    """The page as a process that never served it computes it."""
    return _page(RunStore(engine).progress(runner_id, period=period, last=6, as_of=NOW))


@pytest.mark.parametrize("goals", [False, True], ids=["no goals", "goals"])
def test_a_change_in_another_worker_shows_at_once(engine, make_run, goals):
    serving, uploading = RunStore(engine), RunStore(engine)
    runner = serving.create_runner("cache@example.com", "long enough password", time_zone="Europe/Berlin")
    if goals:
        serving.update_runner(runner.id, weekly_goal_m=30_000.0, race_goal_m=10_000.0)
    runs = [
        make_run(
            start=NOW - dt.timedelta(days=3 * k + 1), distance_m=4000.0 + 500 * k, speed_mps=2.8 + 0.05 * k
        )
        for k in range(12)
    ]
    uploading.add_runs(runner.id, runs)
    before = {p: _page(serving.progress(runner.id, period=p, last=6, as_of=NOW)) for p in ("week", "month")}
    assert before == {p: _fresh(engine, runner.id, p) for p in ("week", "month")}

    # a run of this week, faster and longer (trends, load, goal and race change), stored by the other worker
    fast = make_run(start=NOW - dt.timedelta(hours=20), distance_m=12_000.0, speed_mps=3.8)
    added = uploading.add_run(runner.id, fast).run_id
    for period in ("week", "month"):
        after = _page(serving.progress(runner.id, period=period, last=6, as_of=NOW))
        assert after == _fresh(engine, runner.id, period)
        assert after[1] != before[period][1] and after[2] != before[period][2]
        if goals:
            assert after[3] != before[period][3] and after[3].distance_m > before[period][3].distance_m

    uploading.delete_run(runner.id, added)
    for period in ("week", "month"):
        assert _page(serving.progress(runner.id, period=period, last=6, as_of=NOW)) == before[period]
    # a later day: the load decays although no run changed
    later = serving.progress(runner.id, period="week", last=6, as_of=NOW + dt.timedelta(days=3))
    assert (
        later.load is not None
        and later.load.acute_ < serving.progress(runner.id, period="week", last=6, as_of=NOW).load.acute_
    )


def test_records_and_achievements_follow_a_change_in_another_worker(engine, make_run):
    serving, uploading = RunStore(engine), RunStore(engine)
    runner = serving.create_runner("state@example.com", "long enough password", time_zone="UTC")
    uploading.add_run(runner.id, make_run(start=NOW - dt.timedelta(days=2), distance_m=5200.0, speed_mps=3.0))
    records, achievements = serving.records(runner.id), serving.achievements(runner.id)
    assert serving.records(runner.id) is records  # unchanged runs: decoded once

    faster = uploading.add_run(
        runner.id, make_run(start=NOW - dt.timedelta(days=1), distance_m=10_100.0, speed_mps=3.4)
    )
    assert faster.records and faster.awards
    now_records, now_achievements = serving.records(runner.id), serving.achievements(runner.id)
    assert now_records.to_dict() == uploading.records(runner.id).to_dict() != records.to_dict()
    assert now_achievements.to_dict() == uploading.achievements(runner.id).to_dict() != achievements.to_dict()
    assert {a.run_id for a in now_achievements.awards_} >= {faster.run_id}

    uploading.delete_run(runner.id, faster.run_id)
    assert serving.records(runner.id).to_dict() == records.to_dict()
    assert serving.achievements(runner.id).to_dict() == achievements.to_dict()


def test_a_runs_strides_and_page_follow_the_other_foot_merged_in_another_worker(engine, make_run):
    serving, uploading = RunStore(engine), RunStore(engine)
    runner = serving.create_runner("feet@example.com", "long enough password")
    both = make_run(start=NOW, distance_m=2000.0)
    left, right = (
        Run.from_strides(
            [x for x in both.strides if x.side == side],
            start_time=NOW,
            time_zone="UTC",
            shoe_serials=(serial,),
        )
        for side, serial in (("left", "SW-L"), ("right", "SW-R"))
    )
    run_id = uploading.add_run(runner.id, left).run_id
    one = serving.stride_columns(runner.id, run_id)
    page = serving.run_view(runner.id, run_id)
    assert set(one["side"].tolist()) == {0} and not one["t_start_s"].flags.writeable  # shared: read-only

    assert uploading.add_run(runner.id, right).merged
    two = serving.stride_columns(runner.id, run_id)
    assert set(two["side"].tolist()) == {0, 1} and len(two["side"]) == len(both.strides)
    merged_page = serving.run_view(runner.id, run_id)
    assert [f.side for f in merged_page.feet] == ["left", "right"] != [f.side for f in page.feet]
    fresh = RunStore(engine).get_run(runner.id, run_id).streams
    assert np.array_equal(merged_page.run.streams.cadence_spm, fresh.cadence_spm, equal_nan=True)


def test_a_view_is_kept_for_the_latest_version_only(engine, make_run):
    store = RunStore(engine)
    runner = store.create_runner("kept@example.com", "long enough password")
    for k in range(4):
        store.add_run(runner.id, make_run(start=NOW - dt.timedelta(days=k + 1), distance_m=3000.0 + 100 * k))
        store.records(runner.id), store.achievements(runner.id)
        store.progress(runner.id, period="week", last=6, as_of=NOW)
    # records, achievements, the week's trends and the load: one each, whatever the number of versions seen
    assert len(store._derived) == 4


def test_requests_wanting_a_view_while_it_is_computed_wait_for_it(engine, make_run, monkeypatch):
    """After a write every page of a busy runner wants the views at once: they are computed once, not once per
    request (on SQLite, eight clients each recomputing the month's trends made progress take over a second)."""
    store = RunStore(engine)
    runner = store.create_runner("herd@example.com", "long enough password")
    store.add_runs(
        runner.id, [make_run(start=NOW - dt.timedelta(days=k + 1), distance_m=3000.0) for k in range(6)]
    )
    computed: list[str] = []
    real = store._trends

    def slow_trends(*args, **kwargs):
        computed.append("trends")
        time.sleep(0.2)
        return real(*args, **kwargs)

    monkeypatch.setattr(store, "_trends", slow_trends)
    with concurrent.futures.ThreadPoolExecutor(6) as pool:
        pages = list(
            pool.map(lambda _: _page(store.progress(runner.id, period="month", last=6, as_of=NOW)), range(6))
        )
    assert computed == ["trends"]
    assert all(page == _fresh(engine, runner.id, "month") for page in pages)
