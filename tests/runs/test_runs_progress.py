"""Progress: totals in local time, training load, Riegel predictions, form trends, goals, shoe mileage."""

from __future__ import annotations

import datetime as dt

import pytest

from soleware.runs.efforts import Effort
from soleware.runs.model import SPEED_BIN_COUNT, FormFit, RunSummary
from soleware.runs.progress import (
    TrainingLoad,
    form_trends,
    period_totals,
    predict_race,
    riegel_time_s,
    run_load,
    shoe_mileage,
    threshold_speed_mps,
    weekly_goal,
)

UTC = dt.UTC


def hist(**bins_s: float) -> tuple[float, ...]:
    """Speed histogram with the given seconds in bins named b<k>."""
    h = [0.0] * SPEED_BIN_COUNT
    for name, seconds in bins_s.items():
        h[int(name[1:])] = seconds
    return tuple(h)


def run(
    run_id, start, km, *, zone="UTC", efforts=(), speed_time_s=(), shoes=(), form=None, moving_s=None
) -> RunSummary:
    moving = km * 300.0 if moving_s is None else moving_s
    return RunSummary(
        run_id=run_id,
        start_time=start,
        time_zone=zone,
        distance_m=km * 1000.0,
        elapsed_time_s=moving + 30.0,
        moving_time_s=moving,
        shoe_serials=tuple(shoes),
        efforts=tuple(efforts),
        speed_time_s=speed_time_s,
        form=form or {},
    )


def test_period_totals_in_a_non_utc_zone():
    runs = [
        run("a", dt.datetime(2026, 11, 30, 20, tzinfo=UTC), 10.0),  # 1 Dec 04:00 in Shanghai
        run("b", dt.datetime(2026, 11, 29, 10, tzinfo=UTC), 5.0),  # Sun 29 Nov 18:00 in Shanghai
        run("c", dt.datetime(2026, 12, 31, 17, tzinfo=UTC), 8.0),  # 1 Jan 2027 01:00 in Shanghai
    ]
    months = period_totals(runs, period="month", time_zone="Asia/Shanghai")
    assert [(m.period_start, m.distance_m, m.runs) for m in months] == [
        (dt.date(2026, 11, 1), 5000.0, 1),
        (dt.date(2026, 12, 1), 10000.0, 1),
        (dt.date(2027, 1, 1), 8000.0, 1),
    ]
    utc_months = period_totals(runs, period="month", time_zone="UTC")
    assert [(m.period_start, m.distance_m) for m in utc_months] == [
        (dt.date(2026, 11, 1), 15000.0),
        (dt.date(2026, 12, 1), 8000.0),
    ]
    years = period_totals(runs, period="year", time_zone="Asia/Shanghai")
    assert [(y.period_start.year, y.runs, y.moving_time_s) for y in years] == [
        (2026, 2, 4500.0),
        (2027, 1, 2400.0),
    ]
    # weeks from Monday: Sun 29 Nov and Tue 1 Dec differ; from Sunday they share a week
    assert len(period_totals(runs[:2], period="week", time_zone="Asia/Shanghai")) == 2
    sunday_weeks = period_totals(runs[:2], period="week", time_zone="Asia/Shanghai", week_start=6)
    assert [(w.period_start, w.distance_m) for w in sunday_weeks] == [(dt.date(2026, 11, 29), 15000.0)]
    filled = period_totals([runs[1], runs[2]], period="week", time_zone="Asia/Shanghai", fill=True)
    assert filled[0].period_start == dt.date(2026, 11, 23) and filled[-1].period_start == dt.date(
        2026, 12, 28
    )
    assert len(filled) == 6 and [w.runs for w in filled] == [1, 0, 0, 0, 0, 1]
    months = period_totals([runs[1], runs[2]], period="month", time_zone="Asia/Shanghai", fill=True)
    assert [m.period_start for m in months] == [
        dt.date(2026, 11, 1),
        dt.date(2026, 12, 1),
        dt.date(2027, 1, 1),
    ]


def test_run_load_is_100_for_an_hour_at_threshold():
    r = run(
        "x", dt.datetime(2026, 1, 1, tzinfo=UTC), 11.25, speed_time_s=hist(b12=3600.0)
    )  # bin 12 mid = 3.125
    assert run_load(r, 3.125) == pytest.approx(100.0)
    assert run_load(r, 3.125 * 2) == pytest.approx(25.0)
    half = run("y", dt.datetime(2026, 1, 1, tzinfo=UTC), 5.0, speed_time_s=hist(b12=1800.0))
    assert run_load(half, 3.125) == pytest.approx(50.0)


def test_acute_chronic_ewma_and_ratio():
    t0 = dt.datetime(2026, 3, 1, 8, tzinfo=UTC)
    one = [run("d0", t0, 11.25, speed_time_s=hist(b12=3600.0))]
    tl = TrainingLoad(default_threshold_mps=3.125).compute(one)
    assert tl.run_load_ == {"d0": pytest.approx(100.0)}
    assert tl.acute_ == pytest.approx(100.0 * 2 / 8)
    assert tl.chronic_ == pytest.approx(100.0 * 2 / 29)
    assert tl.ratio_ == pytest.approx(29 / 8)
    # a week later with no running: both decay by their own factor
    tl = TrainingLoad(default_threshold_mps=3.125).compute(one, as_of=t0 + dt.timedelta(days=7))
    assert len(tl.daily_) == 8
    assert tl.acute_ == pytest.approx(25.0 * (1 - 2 / 8) ** 7)
    assert tl.chronic_ == pytest.approx(100 * 2 / 29 * (1 - 2 / 29) ** 7)
    # the same load every day for a long time: both converge to it, ratio -> 1
    daily = [
        run(f"e{k}", t0 + dt.timedelta(days=k), 11.25, speed_time_s=hist(b12=3600.0)) for k in range(300)
    ]
    tl = TrainingLoad(default_threshold_mps=3.125).compute(daily)
    assert tl.acute_ == pytest.approx(100.0, rel=1e-6)
    assert tl.chronic_ == pytest.approx(100.0, rel=1e-6)
    assert tl.ratio_ == pytest.approx(1.0, rel=1e-6)


def test_threshold_from_efforts_in_a_90_day_window():
    t0 = dt.datetime(2026, 1, 1, 8, tzinfo=UTC)
    ten_k = Effort(10000.0, 2400.0, 0.0, 2400.0)
    expected = 10000.0 * (3600.0 / 2400.0) ** (1 / 1.06) / 3600.0
    assert threshold_speed_mps([ten_k, Effort(400.0, 60.0, 0, 60)]) == pytest.approx(
        expected
    )  # 400 m too short
    runs = [
        run("race", t0, 10.0, efforts=[ten_k], speed_time_s=hist(b16=2400.0)),
        run("easy", t0 + dt.timedelta(days=30), 8.0, speed_time_s=hist(b11=2800.0)),
        run("later", t0 + dt.timedelta(days=120), 8.0, speed_time_s=hist(b11=2800.0)),
    ]
    tl = TrainingLoad().compute(runs)
    assert tl.run_threshold_mps_["race"] == pytest.approx(expected)
    assert tl.run_threshold_mps_["easy"] == pytest.approx(expected)
    assert tl.run_threshold_mps_["later"] == 3.0  # the race is more than 90 days old: default again
    assert tl.run_load_["easy"] == pytest.approx(2800 / 3600 * (2.875 / expected) ** 2 * 100)


def test_riegel_prediction_from_recent_best_effort():
    as_of = dt.datetime(2026, 6, 1, tzinfo=UTC)
    five_k = Effort(5000.0, 1200.0, 0.0, 1200.0)
    ten_k = Effort(10000.0, 2580.0, 0.0, 2580.0)  # slower-equivalent than the 5 km
    old = Effort(10000.0, 2000.0, 0.0, 2000.0)  # very fast, but too old
    runs = [
        run("r1", as_of - dt.timedelta(days=10), 10.0, efforts=[five_k, ten_k]),
        run("r0", as_of - dt.timedelta(days=200), 10.0, efforts=[old]),
        run("short", as_of - dt.timedelta(days=1), 1.0, efforts=[Effort(1000.0, 180.0, 0.0, 180.0)]),
    ]
    p = predict_race(runs, 42195.0, as_of=as_of)
    assert p.from_run_id == "r1" and p.from_effort == five_k
    assert p.predicted_time_s == pytest.approx(1200.0 * (42195.0 / 5000.0) ** 1.06)
    assert riegel_time_s(1200.0, 5000.0, 10000.0) == pytest.approx(1200.0 * 2**1.06)
    assert predict_race(runs, 42195.0, as_of=as_of, window_days=5) is None  # only the 1 km run is that recent
    p_all = predict_race(runs, 42195.0, as_of=as_of, window_days=365)
    assert p_all.from_run_id == "r0"


def test_form_trends_at_reference_speed():
    t0 = dt.datetime(2026, 1, 10, tzinfo=UTC)
    runs = []
    for month in range(4):
        start = t0 + dt.timedelta(days=31 * month)
        # cadence = 150 + 5 v, improving by 2 spm per month; a slow run at 2.0-2.4 m/s does not cover 3.5 m/s
        runs.append(
            run(
                f"m{month}", start, 10.0, form={"cadence_spm": FormFit(150.0 + 2 * month, 5.0, 500, 3.0, 4.0)}
            )
        )
        runs.append(
            run(
                f"s{month}",
                start + dt.timedelta(days=1),
                5.0,
                form={"cadence_spm": FormFit(120.0, 5.0, 300, 2.0, 2.4)},
            )
        )
    trends = form_trends(runs, period="month", reference_speed_mps=3.5)
    assert [p.value for p in trends["cadence_spm"]] == pytest.approx([167.5, 169.5, 171.5, 173.5])
    assert all(p.runs == 1 for p in trends["cadence_spm"])
    assert trends["stride_length_m"] == []
    assert [p.value for p in trends["pace_s_per_km"]] == pytest.approx([300.0] * 4)


def test_weekly_goal():
    tz = "Europe/Berlin"
    runs = [
        run("mon", dt.datetime(2026, 11, 23, 6, tzinfo=UTC), 8.0),
        run("wed", dt.datetime(2026, 11, 25, 18, tzinfo=UTC), 12.0),
        run("prev_sun", dt.datetime(2026, 11, 22, 22, tzinfo=UTC), 30.0),  # 23:00 Sunday in Berlin: last week
    ]
    g = weekly_goal(runs, goal_m=30000.0, as_of=dt.datetime(2026, 11, 26, 12, tzinfo=UTC), time_zone=tz)
    assert g.week_start == dt.date(2026, 11, 23)
    assert g.distance_m == 20000.0 and g.remaining_m == 10000.0 and not g.reached
    assert g.fraction == pytest.approx(2 / 3)
    assert g.days_left == 3  # Thursday: Fri, Sat, Sun remain


def test_shoe_mileage_and_retirement_reminder():
    t0 = dt.datetime(2026, 1, 1, tzinfo=UTC)
    runs = [run(f"r{k}", t0 + dt.timedelta(days=k), 60.0, shoes=("OLD-L", "OLD-R")) for k in range(12)]
    runs += [run("n", t0 + dt.timedelta(days=20), 10.0, shoes=("NEW-L",))]
    shoes = {s.serial: s for s in shoe_mileage(runs)}
    assert shoes["OLD-L"].distance_m == 720000.0 and shoes["OLD-L"].runs == 12
    assert shoes["OLD-L"].retire_reminder and shoes["OLD-R"].retire_reminder
    assert not shoes["NEW-L"].retire_reminder and shoes["NEW-L"].remaining_m == 690000.0
    assert shoes["OLD-L"].first_run == t0 and shoes["OLD-L"].last_run == t0 + dt.timedelta(days=11)
    custom = {
        s.serial: s
        for s in shoe_mileage(
            runs, retire_at_by_serial={"OLD-L": 800000.0}, initial_m_by_serial={"NEW-L": 695000.0}
        )
    }
    assert not custom["OLD-L"].retire_reminder
    assert custom["NEW-L"].retire_reminder
