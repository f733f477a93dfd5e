"""Splits per km and per mile, laps and pause detection."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from soleware.runs.model import Lap, Run, Stride
from soleware.runs.splits import MILE_M, _mean, detect_pauses, lap_stats, splits

START = dt.datetime(2026, 11, 1, 7, tzinfo=dt.timezone(dt.timedelta(hours=8)))


def constant_run(
    n: int,
    *,
    period_s: float = 0.75,
    length_m: float = 2.4,
    pause_after: int | None = None,
    pause_s: float = 0.0,
    laps=(),
) -> Run:
    strides, t = [], 0.0
    for k in range(n):
        if k == pause_after:
            t += pause_s
        strides.append(
            Stride(side="left", t_start_s=t, t_end_s=t + period_s, length_m=length_m, cadence_spm=170.0)
        )
        t += period_s
    return Run.from_strides(strides, start_time=START, time_zone="Asia/Shanghai", laps=laps)


def test_km_and_mile_splits_of_constant_pace():
    run = constant_run(2209)  # 3.2 m/s for 5301.6 m
    km = splits(run)
    assert len(km) == 6
    for s in km[:5]:
        assert s.distance_m == pytest.approx(1000.0)
        assert s.elapsed_time_s == pytest.approx(312.5)
        assert s.pace_s_per_km == pytest.approx(312.5)
        assert s.avg_cadence_spm == pytest.approx(170.0)
        assert s.elevation_gain_m is None
    assert km[5].distance_m == pytest.approx(301.6)
    assert km[5].pace_s_per_km == pytest.approx(312.5)
    mi = splits(run, unit_m=MILE_M)
    assert len(mi) == 4
    for s in mi[:3]:
        assert s.distance_m == pytest.approx(MILE_M)
        assert s.elapsed_time_s == pytest.approx(MILE_M / 3.2)
    assert sum(s.elapsed_time_s for s in mi) == pytest.approx(run.elapsed_time_s)
    assert len(splits(run, include_partial=False)) == 5


def test_pause_counts_in_elapsed_not_moving_time():
    run = constant_run(2000, pause_after=300, pause_s=30.0)  # the pause falls in the first km (at 720 m)
    first = splits(run)[0]
    assert first.elapsed_time_s == pytest.approx(312.5 + 30.0)
    assert first.moving_time_s == pytest.approx(312.5)
    assert first.pace_s_per_km == pytest.approx(312.5)


def test_lap_stats():
    run = constant_run(1000, laps=[Lap(0.0, 300.0, "warm-up"), Lap(300.0, 750.0, "main")])
    laps = lap_stats(run)
    assert [lap.name for lap in laps] == ["warm-up", "main"]
    assert laps[0].distance_m == pytest.approx(960.0)
    assert laps[1].distance_m == pytest.approx(1440.0)
    assert laps[1].avg_speed_mps == pytest.approx(3.2)


def test_laps_marked_past_the_run_are_cut_to_it():
    """A phone's last lap ends at Finish, after the last stride, and a logged run that starts after the phone did
    gets its first lap before 0 s: both are cut to the run, a lap wholly outside it dropped, the rest kept as they
    were (an imported file's laps arrive out of order too). The lap past the end had 40 s more moving time than
    the run has."""
    run = constant_run(
        1000,  # 750 s
        laps=[Lap(300.0, 790.0, "b"), Lap(-12.0, 300.0, "a"), Lap(800.0, 805.0, "after"), Lap(-5.0, -1.0)],
    )
    assert [(lap.t_start_s, lap.t_end_s, lap.name) for lap in run.laps] == [
        (0.0, 300.0, "a"),
        (300.0, 750.0, "b"),
    ]
    last = lap_stats(run)[-1]
    assert last.moving_time_s == pytest.approx(450.0) and last.avg_speed_mps == pytest.approx(3.2)
    whole = [Lap(0.0, 100.0), Lap(100.0, 750.0)]
    assert constant_run(1000, laps=whole).laps == whole


def test_detect_pauses_in_a_distance_stream():
    t = np.arange(0.0, 100.0, 1.0)
    v = np.full(100, 3.0)
    v[20:30] = 0.0  # 10 s standing
    v[50:52] = 0.1  # 2 s slow: too short
    d = np.concatenate(([0.0], np.cumsum(v[:-1])))
    assert detect_pauses(t, d) == [(20.0, 30.0)]  # interval k -> k+1 moves at v[k]


def test_split_mean_is_numpys_mean_bit_for_bit() -> None:
    rng = np.random.default_rng(7)
    for n in (1, 2, 7, 8, 9, 100, 1000, 4321):
        for dtype in (np.float32, np.float64):
            x = (150 + 40 * rng.random(n)).astype(dtype)
            assert _mean(x) == float(np.mean(x))
