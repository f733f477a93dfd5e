"""Achievements: awarded once to the earning run, taken back on delete, streaks in local time, progress."""

from __future__ import annotations

import datetime as dt
import json

from hypothesis import given, settings
from hypothesis import strategies as st

from soleware.runs.achievements import CATALOGUE, Achievements
from soleware.runs.efforts import Effort
from soleware.runs.model import RunSummary

UTC = dt.UTC


def run(
    run_id: str,
    start: dt.datetime,
    km: float,
    *,
    zone: str = "UTC",
    cadence: float | None = 160.0,
    form: float | None = 0.5,
    five_k_s: float | None = None,
) -> RunSummary:
    efforts = () if five_k_s is None else (Effort(5000.0, five_k_s, 0.0, five_k_s),)
    return RunSummary(
        run_id=run_id,
        start_time=start,
        time_zone=zone,
        distance_m=km * 1000.0,
        elapsed_time_s=km * 330.0,
        moving_time_s=km * 320.0,
        avg_cadence_spm=cadence,
        fore_mid_strike_fraction=form,
        efforts=efforts,
    )


def by_id(ach: Achievements) -> dict[str, str]:
    return {a.achievement_id + (f"@{a.period}" if a.period else ""): a.run_id for a in ach.awards_}


def test_catalogue_is_complete_and_bilingual():
    ids = [a.id for a in CATALOGUE]
    assert len(ids) == len(set(ids))
    for a in CATALOGUE:
        assert a.name["en"] and a.name["zh"] and a.description["en"] and a.description["zh"] and a.icon
    kinds = {a.kind for a in CATALOGUE}
    assert {
        "first_run",
        "total_distance",
        "weekly_streak",
        "daily_streak",
        "personal_record",
        "longest_run",
        "early_run",
        "night_run",
        "cadence",
        "form",
        "monthly_distance",
    } <= kinds


def test_awards_go_to_the_earning_run_and_are_taken_back_on_delete():
    base = dt.datetime(2026, 3, 2, 7, tzinfo=UTC)  # a Monday, 07:00 UTC
    runs = [
        run("r1", base, 4.0, five_k_s=None),
        run("r2", base + dt.timedelta(days=2), 4.0),
        run("r3", base + dt.timedelta(days=4, hours=-3), 6.0, five_k_s=1600.0),  # 04:00 UTC: early bird
        run("r4", base + dt.timedelta(days=5), 5.5, cadence=172.0, five_k_s=1550.0),
        run("r5", base + dt.timedelta(days=6), 3.0, form=0.85),
    ]
    ach = Achievements().compute(runs)
    got = by_id(ach)
    assert got["first_run"] == "r1"
    assert got["total_10km"] == "r3"  # 4 + 4 + 6
    assert got["run_5k"] == "r3"
    assert got["longest_run"] == "r3"  # first run longer than all before it
    assert got["early_bird"] == "r3"
    assert got["personal_record"] == "r4"  # r3 set the first 5 km record, r4 beat it
    assert got["cadence_170"] == "r4"
    assert got["form_80"] == "r5"
    assert "night_owl" not in got and "total_50km" not in got
    assert len(ach.awards_) == len({(a.achievement_id, a.period) for a in ach.awards_})

    # delete r3: early bird is taken back, the 10 km total moves to r4, PR moves away (r4 now sets the first record)
    after = by_id(Achievements().compute(r for r in runs if r.run_id != "r3"))
    assert "early_bird" not in after
    assert after["total_10km"] == "r4"
    assert after["run_5k"] == "r4"
    assert "personal_record" not in after
    # and a recompute is deterministic whatever the input order
    assert Achievements().compute(reversed(runs)).awards_ == ach.awards_


def test_progress_towards_locked_achievements():
    start = dt.datetime(2026, 5, 1, 8, tzinfo=UTC)
    runs = [run(f"m{k}", start + dt.timedelta(days=2 * k), 9.0) for k in range(7)]  # 63 km in May
    ach = Achievements().compute(runs)
    prog = {p.achievement_id: p for p in ach.progress(as_of=dt.datetime(2026, 5, 20, tzinfo=UTC))}
    assert (
        prog["total_100km"].current == 63.0
        and prog["total_100km"].target == 100.0
        and not prog["total_100km"].earned
    )
    assert prog["total_50km"].earned
    assert prog["monthly_100km"].current == 63.0 and not prog["monthly_100km"].earned
    assert prog["monthly_50km"].earned
    assert prog["monthly_50km"].fraction == 1.0
    # in June nothing has been run yet
    june = {p.achievement_id: p for p in ach.progress(as_of=dt.datetime(2026, 6, 3, tzinfo=UTC))}
    assert june["monthly_50km"].current == 0.0 and not june["monthly_50km"].earned


def test_monthly_challenge_is_awarded_once_per_month():
    runs = [run(f"a{k}", dt.datetime(2026, 1, 3 + 3 * k, 12, tzinfo=UTC), 13.0) for k in range(8)]
    runs += [run(f"b{k}", dt.datetime(2026, 2, 2 + 3 * k, 12, tzinfo=UTC), 13.0) for k in range(8)]
    got = by_id(Achievements().compute(runs))
    assert got["monthly_100km@2026-01"] == "a7"  # 8 × 13 = 104 km
    assert got["monthly_100km@2026-02"] == "b7"
    assert got["monthly_50km@2026-01"] == "a3"


def test_daily_streak_uses_local_days():
    # 23:00, 01:00 (+2 h) and 01:00 the next night in Shanghai: three local days, but only two UTC days
    times = [
        dt.datetime(2026, 11, 2, 15, tzinfo=UTC),
        dt.datetime(2026, 11, 2, 17, tzinfo=UTC),
        dt.datetime(2026, 11, 3, 17, tzinfo=UTC),
    ]
    runs = [run(f"s{k}", t, 3.0, zone="Asia/Shanghai") for k, t in enumerate(times)]
    assert by_id(Achievements().compute(runs))["daily_streak_3"] == "s2"
    assert "daily_streak_3" not in by_id(Achievements(time_zone="UTC").compute(runs))
    # the 23:00 run in Shanghai is a night-owl run there, 15:00 in UTC is not
    assert by_id(Achievements().compute(runs))["night_owl"] == "s0"
    assert "night_owl" not in by_id(Achievements(time_zone="UTC").compute(runs))


def test_weekly_streak_boundaries_and_week_start():
    # Sundays and Mondays alternate: 2026-11-01 is a Sunday
    sunday = dt.datetime(2026, 11, 1, 10, tzinfo=UTC)
    runs = [
        run("w0", sunday, 5.0),
        run("w1", sunday + dt.timedelta(days=1), 5.0),
        run("w2", sunday + dt.timedelta(days=8), 5.0),
        run("w3", sunday + dt.timedelta(days=15), 5.0),
    ]
    # weeks from Monday: Sun 1 Nov | Mon 2, Mon 9, Mon 16 -> 4 consecutive weeks
    assert by_id(Achievements(week_start=0).compute(runs))["weekly_streak_4"] == "w3"
    # weeks from Sunday: Sun 1 + Mon 2 share a week -> only 3 weeks
    assert "weekly_streak_4" not in by_id(Achievements(week_start=6).compute(runs))
    # a missed week breaks the streak
    gap = [
        *runs[:2],
        run("w2", sunday + dt.timedelta(days=15), 5.0),
        run("w3", sunday + dt.timedelta(days=22), 5.0),
    ]
    assert "weekly_streak_4" not in by_id(Achievements().compute(gap))
    # a Sunday-evening run in New York is already Monday in UTC: the zone decides the week
    ny_times = [(2026, 11, 2, 2), (2026, 11, 2, 12), (2026, 11, 9, 12), (2026, 11, 16, 12)]
    ny = [
        run(f"n{k}", dt.datetime(*x, tzinfo=UTC), 5.0, zone="America/New_York")
        for k, x in enumerate(ny_times)
    ]
    # New York: Sun 1 Nov 21:00 (week of 26 Oct), then Mondays 2, 9, 16 Nov -> 4 weeks
    assert by_id(Achievements().compute(ny))["weekly_streak_4"] == "n3"
    # UTC: the first two runs are both on Monday 2 Nov -> 3 weeks
    assert "weekly_streak_4" not in by_id(Achievements(time_zone="UTC").compute(ny))
    prog = {
        p.achievement_id: p
        for p in Achievements(time_zone="UTC").compute(ny).progress(as_of=ny[-1].start_time)
    }
    assert prog["weekly_streak_4"].current == 3


run_specs = st.lists(
    st.tuples(
        st.integers(0, 120),  # day
        st.integers(0, 23),  # hour UTC
        st.floats(1.0, 30.0),  # km
        st.sampled_from(["UTC", "Asia/Shanghai", "America/Los_Angeles"]),
        st.one_of(st.none(), st.floats(1100.0, 2400.0)),
        st.floats(150.0, 185.0),
    ),
    min_size=1,
    max_size=30,
)


@settings(max_examples=60, deadline=None)
@given(run_specs, st.integers(0, 30), st.randoms(use_true_random=False))
def test_incremental_add_equals_full_recompute(spec, n_initial, rnd):
    t0 = dt.datetime(2026, 1, 1, tzinfo=UTC)
    runs = [
        run(f"r{k:02d}", t0 + dt.timedelta(days=d, hours=h), km, zone=z, five_k_s=f, cadence=c)
        for k, (d, h, km, z, f, c) in enumerate(spec)
    ]
    full = Achievements(week_start=6).compute(runs)
    ordered = sorted(runs, key=lambda r: r.sort_key)
    n_initial = min(n_initial, len(runs))
    inc = Achievements(week_start=6).compute(ordered[:n_initial])
    for r in ordered[n_initial:]:
        inc = Achievements.from_dict(json.loads(json.dumps(inc.to_dict()))).add(r)
    assert inc.awards_ == full.awards_
    assert inc.progress(as_of=t0) == full.progress(as_of=t0)
    # an old run arriving late: recompute through all_runs
    shuffled = list(runs)
    rnd.shuffle(shuffled)
    late = Achievements(week_start=6).compute(shuffled[:-1]).add(shuffled[-1], all_runs=runs)
    assert late.awards_ == full.awards_


def _around(runs: list[RunSummary], key: tuple[dt.datetime, str]) -> tuple[list, list]:
    """What storage reads for ``insert``/``remove`` at ``key``: the runs after it, and the recent ones before."""
    from soleware.runs.achievements import REWIND_DAYS

    ordered = sorted(runs, key=lambda r: r.sort_key)
    before = [r for r in ordered if r.sort_key < key]
    later = [r for r in ordered if r.sort_key > key]
    recent = [r for r in before if r.start_time >= key[0] - dt.timedelta(days=REWIND_DAYS)] or before[-1:]
    return later, recent


@settings(max_examples=80, deadline=None)
@given(run_specs, st.randoms(use_true_random=False), st.sampled_from([None, "Asia/Shanghai"]))
def test_insert_and_remove_anywhere_equal_full_recompute(spec, rnd, zone):
    """Runs arriving in random order (back-dated or not) and deleted in random order, through the stored state
    (JSON), give what a recompute from the runs there are gives: awards, figures and progress."""
    t0 = dt.datetime(2026, 1, 1, tzinfo=UTC)
    runs = [
        run(f"r{k:02d}", t0 + dt.timedelta(days=d, hours=h), km, zone=z, five_k_s=f, cadence=c)
        for k, (d, h, km, z, f, c) in enumerate(spec)
    ]
    rnd.shuffle(runs)
    stored: list[RunSummary] = []
    state = Achievements(time_zone=zone, week_start=1).compute([]).to_dict()

    def check() -> None:
        got = Achievements.from_dict(json.loads(json.dumps(state)))
        full = Achievements(time_zone=zone, week_start=1).compute(stored)
        assert got.awards_ == full.awards_
        assert got.to_dict() == full.to_dict()
        for as_of in (t0, t0 + dt.timedelta(days=60), t0 + dt.timedelta(days=130)):
            assert got.progress(as_of=as_of) == full.progress(as_of=as_of)

    for r in runs:
        later, recent = _around(stored, r.sort_key)
        state = Achievements.from_dict(state).insert(r, later=later, recent=recent).to_dict()
        stored.append(r)
        check()
    rnd.shuffle(stored)
    while stored:
        r = stored.pop()
        later, recent = _around(stored, r.sort_key)
        state = Achievements.from_dict(state).remove(r, later=later, recent=recent).to_dict()
        check()


def test_rewinding_keeps_a_local_day_shared_with_an_earlier_run_in_another_zone():
    # A: Monday 01:00 in Shanghai (Sunday 17:00 UTC); B: Sunday 11:00 in Los Angeles (Sunday 18:00 UTC);
    # C: Monday 03:00 in Shanghai. Taking C back must keep Monday, which A ran too though B came between.
    a = run("a", dt.datetime(2026, 11, 1, 17, tzinfo=UTC), 5.0, zone="Asia/Shanghai")
    b = run("b", dt.datetime(2026, 11, 1, 18, tzinfo=UTC), 5.0, zone="America/Los_Angeles")
    c = run("c", dt.datetime(2026, 11, 1, 19, tzinfo=UTC), 5.0, zone="Asia/Shanghai")
    later, recent = _around([a, b], c.sort_key)
    assert recent == [a, b]
    got = Achievements().compute([a, b, c]).remove(c, later=later, recent=recent)
    assert got.to_dict() == Achievements().compute([a, b]).to_dict()
