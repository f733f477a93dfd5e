"""Storage on SQLite and PostgreSQL: migrations, accounts, idempotent runs, derived state, isolation."""

from __future__ import annotations

import concurrent.futures
import dataclasses
import datetime as dt
import random

import numpy as np
import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from soleware.runs.achievements import Achievements
from soleware.runs.model import STREAM_RESOLUTION, STRIDE_RESOLUTION, Run, RunDataError, Streams
from soleware.runs.records import PersonalRecords
from soleware.runs.storage import NotFound
from soleware.runs.storage.accounts import AccountError, AuthError
from soleware.runs.storage.db import Base, make_engine
from soleware.runs.storage.migrate import current_revision, head_revision, upgrade


@pytest.fixture
def runner(store):
    return store.create_runner("Ada@Example.com", "correct horse battery", display_name="Ada")


def assert_streams_close(a: Streams, b: Streams) -> None:
    """Equal within the stored resolution (half a step), unknown values in the same places."""
    assert len(a) == len(b)
    for name, res in STREAM_RESOLUTION.items():
        x, y = getattr(a, name).astype(float), getattr(b, name).astype(float)
        assert np.array_equal(np.isnan(x), np.isnan(y)), name
        assert np.nanmax(np.abs(x - y), initial=0.0) <= 0.5 * res + 1e-5, name  # + float32 rounding


def test_migrations_reach_head_and_match_the_models(database_url):
    engine = make_engine(database_url)
    assert current_revision(engine) is None
    upgrade(engine)
    upgrade(engine)  # idempotent
    assert current_revision(engine) == head_revision()
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []
    engine.dispose()


def test_accounts_sign_in_and_out(store, runner):
    assert runner.email == "ada@example.com"
    with pytest.raises(AccountError, match="already exists"):
        store.create_runner("ada@example.com", "another password")
    with pytest.raises(AccountError, match="at least 8"):
        store.create_runner("bob@example.com", "short")
    with pytest.raises(AccountError, match="time zone"):
        store.create_runner("bob@example.com", "long enough", time_zone="Mars/Base")
    with pytest.raises(AuthError):
        store.sign_in("ada@example.com", "wrong password!")
    with pytest.raises(AuthError):
        store.sign_in("nobody@example.com", "correct horse battery")
    token = store.sign_in(" ADA@example.com", "correct horse battery")
    assert store.runner_for_token(token).id == runner.id
    store.sign_out(token)
    with pytest.raises(AuthError):
        store.runner_for_token(token)


def test_password_is_not_stored_in_clear(store, runner):
    with store.engine.connect() as conn:
        stored = conn.execute(sa.text("SELECT password_hash FROM runners")).scalar_one()
    assert "correct horse" not in stored and stored.startswith("$argon2id$")


def test_a_run_uploaded_twice_is_stored_once(store, runner, make_run):
    run = make_run()
    first = store.add_run(runner.id, run)
    again = store.add_run(runner.id, make_run())
    assert first.created and not again.created and again.run_id == first.run_id
    # the same activity from a watch: start 40 s off, distance 1% longer
    watch = make_run(start="2026-03-01T07:00:40+00:00", distance_m=5050.0)
    assert store.add_run(runner.id, watch).run_id == first.run_id
    assert len(store.summaries(runner.id)) == 1


def test_stored_run_round_trips(store, runner, make_run):
    run = make_run(title="Morning 5k", time_zone="Asia/Shanghai")
    rid = store.add_run(runner.id, run).run_id
    back = store.get_run(runner.id, rid)
    assert back.start_time == run.start_time
    assert back.distance_m == pytest.approx(run.distance_m)
    assert_streams_close(back.streams, run.streams)
    assert len(back.strides) == len(run.strides)
    for a, b in zip(back.strides, run.strides, strict=True):  # stored at the shoe's resolution
        assert (a.side, a.strike_type, a.gait) == (b.side, b.strike_type, b.gait)
        for name, res in STRIDE_RESOLUTION.items():
            x, y = getattr(a, name), getattr(b, name)
            # a length to 1 mm (each foot's cumulative distance to 0.5 mm), everything else to half a step
            tol = res if name == "length_m" else 0.5 * res
            assert (x is None) == (y is None) and (x is None or abs(x - y) <= tol + 1e-12), name
    view = store.run_view(runner.id, rid)  # the page's figures are those of the uploaded strides
    assert view.feet == run.feet() and view.run.strides == [] and view.title == "Morning 5k"
    assert_streams_close(view.run.streams, run.streams)
    assert back.title == "Morning 5k" and back.time_zone == "Asia/Shanghai"
    assert back.shoe_serials == run.shoe_serials


def test_concurrent_uploads_of_one_run_give_one_run(store, runner, make_run):
    runs = [make_run() for _ in range(6)]
    with concurrent.futures.ThreadPoolExecutor(6) as pool:
        results = list(pool.map(lambda r: store.add_run(runner.id, r), runs))
    assert sum(r.created for r in results) == 1
    assert len({r.run_id for r in results}) == 1
    assert len(store.summaries(runner.id)) == 1
    assert store.achievements(runner.id).run_count_ == 1


def test_records_and_achievements_follow_adds_and_deletes(store, runner, make_run):
    slow = store.add_run(runner.id, make_run(start="2026-03-01T07:00:00+00:00", speed_mps=3.0))
    assert {a.achievement_id for a in slow.awards} >= {"first_run"}
    assert {c.record.distance_m for c in slow.records} >= {1000.0, 5000.0}
    fast = store.add_run(runner.id, make_run(start="2026-03-08T07:00:00+00:00", speed_mps=3.5))
    assert any(c.replaced is not None and c.replaced.run_id == slow.run_id for c in fast.records)
    rec = store.records(runner.id).records_["5k"]
    assert rec.record.run_id == fast.run_id
    assert rec.record.time_s == pytest.approx(5000 / 3.5, rel=0.01)

    store.delete_run(runner.id, fast.run_id)
    assert store.records(runner.id).records_["5k"].record.run_id == slow.run_id
    store.delete_run(runner.id, slow.run_id)
    assert store.records(runner.id).records_ == {}
    assert store.achievements(runner.id).awards_ == []


def test_a_run_takes_another_runs_place_in_one_write(store, runner, make_run):
    """The shoes' log of an outing replaces the phone's live upload of it (which is a duplicate of it by start):
    deleted and stored in one transaction, records, achievements and totals as if only the log run came."""
    start = "2026-03-01T07:00:00+00:00"
    live = store.add_run(runner.id, make_run(start=start, distance_m=5000, speed_mps=3.0))
    logged = make_run(start=start, distance_m=5050, speed_mps=3.1)
    assert not store.add_run(runner.id, logged).created  # without ``replaces``: a duplicate of the live run
    res = store.add_run(runner.id, logged, replaces=live.run_id)
    assert res.created and res.replaced and res.run_id != live.run_id
    assert [s.run_id for s in store.summaries(runner.id)] == [res.run_id]
    with pytest.raises(NotFound):
        store.run_view(runner.id, live.run_id)
    summaries = store.summaries(runner.id)
    assert store.records(runner.id).to_dict() == PersonalRecords().compute(summaries).to_dict()
    assert store.records(runner.id).records_["5k"].record.run_id == res.run_id
    assert store.achievements(runner.id).to_dict() == Achievements().compute(summaries).to_dict()
    assert store.achievements(runner.id).run_count_ == 1
    (week,) = store.period_totals(runner.id, period="week", last=1)
    assert week.runs == 1 and week.distance_m == pytest.approx(summaries[0].distance_m)

    # sent again (its answer was lost): the run it replaced is gone, so it is the duplicate of itself
    again = store.add_run(runner.id, logged, replaces=live.run_id)
    assert not again.created and not again.replaced and again.run_id == res.run_id


def test_a_run_never_replaces_another_runners_run(store, runner, make_run):
    other = store.create_runner("bob@example.com", "another long password")
    theirs = store.add_run(other.id, make_run(start="2026-03-01T07:00:00+00:00"))
    mine = store.add_run(runner.id, make_run(start="2026-03-02T07:00:00+00:00"), replaces=theirs.run_id)
    assert mine.created and not mine.replaced
    assert [s.run_id for s in store.summaries(other.id)] == [theirs.run_id]


def test_cached_state_equals_recompute_for_any_upload_order(store, runner, make_run):
    rng = random.Random(7)
    starts = [dt.datetime(2026, 1, 1, 6, tzinfo=dt.UTC) + dt.timedelta(days=3 * i) for i in range(12)]
    rng.shuffle(starts)  # old runs imported late force the recompute path too
    for i, start in enumerate(starts):
        store.add_run(
            runner.id, make_run(start=start, distance_m=3000 + 900 * i, speed_mps=2.6 + 0.1 * rng.random())
        )
    summaries = store.summaries(runner.id)
    assert store.records(runner.id).to_dict() == PersonalRecords().compute(summaries).to_dict()
    assert store.achievements(runner.id).to_dict() == Achievements().compute(summaries).to_dict()


def test_run_list_pages_newest_first_and_filters(store, runner, make_run):
    base = dt.datetime(2026, 2, 1, 6, tzinfo=dt.UTC)
    for i in range(25):
        store.add_run(runner.id, make_run(start=base + dt.timedelta(days=i), distance_m=2000 + 100 * i))
    seen, cursor = [], None
    while True:
        page = store.list_runs(runner.id, limit=10, cursor=cursor)
        seen += page.runs
        cursor = page.next_cursor
        if cursor is None:
            break
    starts = [r.start_time for r in seen]
    assert len(seen) == 25 and len({r.run_id for r in seen}) == 25
    assert starts == sorted(starts, reverse=True)
    long_ones = store.list_runs(runner.id, min_distance_m=4000, limit=50).runs
    assert {round(r.distance_m / 100) for r in long_ones} == {
        round((2000 + 100 * i) / 100) for i in range(20, 25)
    }
    week = store.list_runs(runner.id, since=base, until=base + dt.timedelta(days=7), limit=50).runs
    assert len(week) == 7
    with pytest.raises(RunDataError, match="cursor"):
        store.list_runs(runner.id, cursor="garbage!")


def test_a_runner_cannot_touch_another_runners_data(store, runner, make_run):
    other = store.create_runner("eve@example.com", "eve's password")
    rid = store.add_run(runner.id, make_run()).run_id
    store.register_shoe(runner.id, "SW-L-0001", side="left")
    with pytest.raises(NotFound):
        store.get_run(other.id, rid)
    with pytest.raises(NotFound):
        store.delete_run(other.id, rid)
    with pytest.raises(NotFound):
        store.rename_run(other.id, rid, "mine now")
    with pytest.raises(NotFound):
        store.delete_shoe(other.id, "SW-L-0001")
    assert store.list_runs(other.id).runs == []
    assert store.get_run(runner.id, rid).title == ""
    # the same run uploaded by the other runner is theirs, not a duplicate of Ada's
    assert store.add_run(other.id, make_run()).created


def test_shoe_mileage_and_retirement(store, runner, make_run):
    store.register_shoe(
        runner.id, "SW-L-0001", name="Racers", side="left", retire_at_m=12_000, initial_m=1000
    )
    with pytest.raises(RunDataError, match="already registered"):
        store.register_shoe(runner.id, "SW-L-0001")
    store.register_shoe(runner.id, "SW-X-9", name="New pair")
    for day in range(2):
        store.add_run(runner.id, make_run(start=f"2026-03-0{day + 1}T07:00:00+00:00", distance_m=6000))
    shoes = {s.serial: s for s in store.shoes(runner.id)}
    assert shoes["SW-L-0001"].mileage.distance_m == pytest.approx(13_000, rel=0.01)
    assert shoes["SW-L-0001"].mileage.retire_reminder
    assert shoes["SW-X-9"].mileage.distance_m == 0 and not shoes["SW-X-9"].mileage.retire_reminder


def test_goals_and_profile(store, runner):
    info = store.update_runner(runner.id, weekly_goal_m=30_000, locale="zh", time_zone="Asia/Shanghai")
    assert (info.weekly_goal_m, info.locale, info.time_zone) == (30_000, "zh", "Asia/Shanghai")
    with pytest.raises(AccountError):
        store.update_runner(runner.id, password_hash="x")
    with pytest.raises(AccountError):
        store.update_runner(runner.id, weekly_goal_m=-5)


def test_live_state_is_kept_until_the_run_ends(store, runner):
    assert store.get_live(runner.id) is None
    store.set_live(runner.id, {"distance_m": 120.0})
    store.set_live(runner.id, {"distance_m": 240.0})
    assert store.get_live(runner.id) == {"distance_m": 240.0}
    store.end_live(runner.id)
    assert store.get_live(runner.id) is None


def test_upgrading_keeps_existing_rows(database_url):
    engine = make_engine(database_url)
    upgrade(engine, "0001")
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO runners (id, email, display_name, password_hash, locale, time_zone, created_at) "
                "VALUES ('r1', 'old@example.com', 'Old', 'x', 'en', 'UTC', CURRENT_TIMESTAMP)"
            )
        )
    upgrade(engine)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT units FROM runners WHERE id = 'r1'")).scalar_one() == "metric"
    engine.dispose()


def test_deleting_an_account_deletes_its_data(store, runner, make_run):
    other = store.create_runner("eve@example.com", "eve's password")
    store.add_run(runner.id, make_run())
    keep = store.add_run(other.id, make_run()).run_id
    store.register_shoe(runner.id, "SW-1")
    token = store.sign_in("ada@example.com", "correct horse battery")
    store.delete_runner(runner.id)
    with pytest.raises(AuthError):
        store.runner_for_token(token)
    with store.engine.connect() as conn:
        for table in ("runs", "shoes", "runner_state", "access_tokens"):
            n = conn.execute(sa.text(f"SELECT count(*) FROM {table} WHERE runner_id = :r"), {"r": runner.id})
            assert n.scalar_one() == 0, table
    assert store.get_run(other.id, keep).id == keep


def test_bulk_import_skips_duplicates_and_equals_one_by_one(store, runner, make_run):
    first = store.add_run(runner.id, make_run(start="2026-01-10T07:00:00+00:00"))
    batch = [
        make_run(start=f"2026-01-{d:02d}T07:00:00+00:00", distance_m=3000 + 200 * d) for d in range(1, 10)
    ]
    batch.append(make_run(start="2026-01-10T07:00:20+00:00"))  # the run stored above, from another device
    results = store.add_runs(runner.id, batch)
    assert [r.created for r in results] == [True] * 9 + [False]
    assert results[-1].run_id == first.run_id
    assert any(a.achievement_id == "first_run" for a in results[0].awards)
    summaries = store.summaries(runner.id)
    assert len(summaries) == 10
    assert store.records(runner.id).to_dict() == PersonalRecords().compute(summaries).to_dict()
    assert store.achievements(runner.id).to_dict() == Achievements().compute(summaries).to_dict()


def test_the_other_foot_synced_late_is_added_to_the_run(store, runner, make_run):
    both = make_run(distance_m=3000)
    left = dataclasses.replace(
        both, strides=[x for x in both.strides if x.side == "left"], shoe_serials=("SW-L",)
    )
    left = Run.from_strides(left.strides, start_time=both.start_time, time_zone="UTC", shoe_serials=("SW-L",))
    right_strides = [
        dataclasses.replace(x, t_start_s=x.t_start_s - 0.3, t_end_s=x.t_end_s - 0.3)
        for x in both.strides
        if x.side == "right"
    ]
    right = Run.from_strides(
        right_strides,
        start_time=both.start_time + dt.timedelta(seconds=0.3),
        time_zone="UTC",
        shoe_serials=("SW-R",),
    )
    first = store.add_run(runner.id, left)
    late = store.add_run(runner.id, right)
    assert not late.created and late.merged and late.run_id == first.run_id
    stored = store.get_run(runner.id, first.run_id)
    assert {x.side for x in stored.strides} == {"left", "right"}
    assert len(stored.strides) == len(both.strides)
    assert stored.shoe_serials == ("SW-L", "SW-R")
    assert stored.distance_m == pytest.approx(both.distance_m, rel=0.001)
    again = store.add_run(runner.id, right)
    assert not again.created and not again.merged
    summaries = store.summaries(runner.id)
    assert len(summaries) == 1
    assert store.records(runner.id).to_dict() == PersonalRecords().compute(summaries).to_dict()
