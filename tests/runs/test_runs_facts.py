"""Records and achievements from run facts (columns) equal the per-run walk over the same runs, exactly."""

from __future__ import annotations

import datetime as dt
import json
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from soleware.runs.achievements import CATALOGUE, Achievement, Achievements
from soleware.runs.efforts import Effort
from soleware.runs.facts import RunFacts, pack_efforts, unpack_efforts
from soleware.runs.model import RunSummary
from soleware.runs.records import PersonalRecords

T0 = dt.datetime(2025, 12, 20, tzinfo=dt.UTC)
ZONES = [
    "UTC",
    "Europe/Berlin",
    "America/New_York",
    "Asia/Kolkata",
    "Pacific/Kiritimati",
    "Pacific/Pago_Pago",
]
EFFORT_DISTANCES = (400.0, 1000.0, 1609.344, 5000.0, 1234.5)


def _small_catalogue() -> tuple[Achievement, ...]:
    """Low targets, so that streaks, hours, records and monthly sums are reached often in small histories."""

    def a(id: str, kind: str, target: float, hour: int | None = None) -> Achievement:
        return Achievement(id, kind, target, "", "", {"en": id}, {"en": id}, hour)

    return (
        a("first", "first_run", 2),
        a("total", "total_distance", 17.5),
        a("single", "single_run_distance", 8.25),
        *(a(f"week{n}", "weekly_streak", n) for n in (1, 2, 3, 5)),
        *(a(f"day{n}", "daily_streak", n) for n in (1, 2, 2.5, 4)),
        a("pr1", "personal_record", 1),
        a("pr3", "personal_record", 3),
        a("longest2", "longest_run", 2),
        a("early", "early_run", 2, hour=7),
        a("night", "night_run", 1, hour=20),
        a("cadence", "cadence", 171.5),
        a("form", "form", 75),
        a("month20", "monthly_distance", 20),
        a("month5", "monthly_distance", 5),
    )


CATALOGUES = [CATALOGUE, _small_catalogue()]

run_specs = st.lists(
    st.tuples(
        st.integers(0, 400),  # day (crosses months, years and both DST changes)
        st.sampled_from([0, 1, 5, 11, 17, 22, 23]),  # hour UTC
        st.sampled_from([0, 0, 0, 30, 59]),  # minute: many runs start at the same instant
        st.sampled_from(
            [0.2, 0.999, 1.0, 3.0, 5.0, 8.25, 10.0, 12.7, 21.1]
        ),  # km (some below the goal minimum)
        st.sampled_from(ZONES),
        st.one_of(st.none(), st.sampled_from([150.0, 170.0, 171.5, 180.0, 0.0])),  # cadence
        st.one_of(st.none(), st.sampled_from([0.0, 0.5, 0.75, 0.8, 0.9])),  # fore/mid-strike fraction
        st.dictionaries(
            st.sampled_from(EFFORT_DISTANCES), st.sampled_from([100.0, 120.0, 120.0, 300.0, 90.5])
        ),
        st.sampled_from(["utc", "zone", "fixed"]),  # the tzinfo the start time comes with
    ),
    min_size=0,
    max_size=16,
)


def _runs(spec: list[tuple]) -> list[RunSummary]:
    out = []
    for k, (day, hour, minute, km, zone, cadence, form, efforts, given_as) in enumerate(spec):
        start = T0 + dt.timedelta(days=day, hours=hour, minutes=minute)
        if given_as == "zone":
            start = start.astimezone(ZoneInfo(zone))
        elif given_as == "fixed":
            start = start.astimezone(dt.timezone(dt.timedelta(hours=-3, minutes=-30)))
        out.append(
            RunSummary(
                run_id=f"{(k * 7919) % 97:02d}-{k}",  # ids out of order with the starts
                start_time=start,
                time_zone=zone,
                distance_m=km * 1000.0,
                elapsed_time_s=km * 330.0,
                moving_time_s=km * 320.0,
                avg_cadence_spm=cadence,
                fore_mid_strike_fraction=form,
                efforts=tuple(Effort(d, t * d / 400.0, 3.0, 3.0 + t) for d, t in efforts.items()),
            )
        )
    return out


def _same_achievements(runs: list[RunSummary], *, time_zone: str | None, week_start: int, catalogue) -> None:
    ref = Achievements(catalogue=catalogue, time_zone=time_zone, week_start=week_start).compute(runs)
    got = Achievements(catalogue=catalogue, time_zone=time_zone, week_start=week_start).compute_facts(
        RunFacts.from_summaries(runs, time_zone=time_zone)
    )
    assert got.awards_ == ref.awards_
    assert [a.to_dict() for a in got.awards_] == [
        a.to_dict() for a in ref.awards_
    ]  # offsets of earned_at too
    assert json.dumps(got.to_dict()) == json.dumps(ref.to_dict())
    assert got.run_ids_ == ref.run_ids_
    for as_of in (None, T0, T0 + dt.timedelta(days=200), T0 + dt.timedelta(days=401)):
        assert got.progress(as_of=as_of) == ref.progress(as_of=as_of)
    # the stored state goes on incrementally as before
    later = RunSummary(
        run_id="zz-later",
        start_time=T0 + dt.timedelta(days=500),
        time_zone="UTC",
        distance_m=25000.0,
        elapsed_time_s=9000.0,
        moving_time_s=9000.0,
        efforts=(Effort(400.0, 1.0, 0.0, 1.0),),
    )
    assert (
        Achievements.from_dict(got.to_dict(), catalogue=catalogue).add(later).to_dict()
        == Achievements.from_dict(ref.to_dict(), catalogue=catalogue).add(later).to_dict()
    )


def _same_records(runs: list[RunSummary], *, distances_m: tuple[float, ...] | None, top_n: int) -> None:
    ref = PersonalRecords(distances_m=distances_m, top_n=top_n).compute(runs)
    got = PersonalRecords(distances_m=distances_m, top_n=top_n).compute_facts(RunFacts.from_summaries(runs))
    assert got.records_ == ref.records_
    assert json.dumps(got.to_dict()) == json.dumps(ref.to_dict())
    assert got.run_ids_ == ref.run_ids_


@settings(max_examples=40, deadline=None)
@given(
    run_specs,
    st.sampled_from([None, "Asia/Shanghai", "America/New_York"]),
    st.integers(0, 6),
    st.sampled_from([0, 1]),
    st.randoms(use_true_random=False),
)
def test_facts_equal_the_walk_over_runs_through_inserts_imports_and_deletes(spec, zone, week_start, cat, rnd):
    """Runs arriving in random order (back-dated, before every run, at equal start times) and then deleted in
    random order: at every step the facts give the same awards (ids, runs, earned_at, periods), state and
    progress as ``compute``, and the same records."""
    runs = _runs(spec)
    rnd.shuffle(runs)
    catalogue = CATALOGUES[cat]
    stored: list[RunSummary] = []
    for r in runs:
        stored.append(r)
        _same_achievements(stored, time_zone=zone, week_start=week_start, catalogue=catalogue)
        _same_records(stored, distances_m=None if cat else EFFORT_DISTANCES, top_n=1 + week_start % 3)
    oldest = RunSummary(
        run_id="00-import",
        start_time=T0 - dt.timedelta(days=3),
        time_zone="Asia/Kolkata",
        distance_m=42195.0,
        elapsed_time_s=14000.0,
        moving_time_s=14000.0,
        avg_cadence_spm=175.0,
        fore_mid_strike_fraction=0.95,
        efforts=tuple(Effort(d, 60.0, 0.0, 60.0) for d in EFFORT_DISTANCES),
    )
    stored.append(oldest)
    _same_achievements(stored, time_zone=zone, week_start=week_start, catalogue=catalogue)
    _same_records(stored, distances_m=EFFORT_DISTANCES, top_n=3)
    rnd.shuffle(stored)
    while stored:
        stored.pop()
        _same_achievements(stored, time_zone=zone, week_start=week_start, catalogue=catalogue)
        _same_records(stored, distances_m=EFFORT_DISTANCES, top_n=3)


def test_long_streaks_and_months_over_a_year_of_daily_runs():
    """Every streak and monthly target of the catalogue reached, with a gap and a double day, in Berlin time."""
    rng = np.random.default_rng(7)
    spec = [
        (
            d,
            int(rng.integers(0, 24)),
            0,
            float(rng.choice([3.0, 5.0, 10.0])),
            "Europe/Berlin",
            172.0,
            0.85,
            {},
            "zone",
        )
        for d in range(400)
        if d != 40
    ]
    spec.append((41, 5, 0, 12.0, "America/New_York", None, None, {5000.0: 300.0}, "utc"))
    runs = _runs(spec)
    ref = Achievements().compute(runs)
    assert {a.achievement_id for a in ref.awards_} >= {"daily_streak_30", "weekly_streak_52", "monthly_100km"}
    _same_achievements(runs, time_zone=None, week_start=0, catalogue=CATALOGUE)
    _same_achievements(runs, time_zone="Asia/Tokyo", week_start=3, catalogue=CATALOGUE)


def test_efforts_pack_round_trip_and_bad_input():
    efforts = (Effort(400.0, 80.5, 1.25, 81.75), Effort(5000.0, 1200.0, 10.0, 1210.0))
    assert unpack_efforts(pack_efforts(efforts)) == efforts
    with pytest.raises(ValueError, match="one head and whole efforts"):
        RunFacts.from_packed([("a", "UTC", b"\0" * 44, b"\0" * 20)])
    runs = _runs([(0, 1, 0, 5.0, "UTC", None, None, {}, "utc")] * 2)
    twice = RunFacts.from_summaries([runs[0], runs[0]])
    with pytest.raises(ValueError, match="unique"):
        Achievements().compute_facts(twice)
    with pytest.raises(ValueError, match="unique"):
        PersonalRecords().compute_facts(twice)


@settings(max_examples=60, deadline=None)
@given(run_specs, st.randoms(use_true_random=False))
def test_joined_and_thinned_facts_equal_the_facts_of_the_runs_left(spec, rnd):
    """What storage keeps between writes: facts of runs in any split, joined and put in run order, are the facts
    of all of them; less some runs, the facts of the rest (efforts stay with their runs)."""
    runs = _runs(spec)
    rnd.shuffle(runs)
    whole = RunFacts.from_summaries(runs).ordered()
    cuts = sorted(rnd.sample(range(len(runs) + 1), k=min(3, len(runs) + 1)))
    parts = [runs[a:b] for a, b in zip([0, *cuts], [*cuts, len(runs)], strict=True)]
    joined = RunFacts.concat([RunFacts.from_summaries(p) for p in parts]).ordered()
    assert joined == whole
    gone = {r.run_id for r in runs if rnd.random() < 0.4}
    rest = [r for r in runs if r.run_id not in gone]
    assert whole.without([*gone, "not-a-run"]) == RunFacts.from_summaries(rest).ordered()
    if gone:
        assert whole.without(gone) != whole
