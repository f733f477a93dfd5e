"""Best efforts: exact on constant pace, finds a fast middle section with interpolated edges, beats brute force."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from soleware.runs.efforts import BEST_EFFORT_DISTANCES, EffortError, best_effort, best_efforts
from soleware.runs.model import Run, Stride


def piecewise(breaks_s: list[float], speeds_mps: list[float], step_s: float) -> tuple[np.ndarray, np.ndarray]:
    """A run of piecewise-constant speed, sampled every step_s plus at every speed change (so the stream is exact)."""
    t = np.union1d(np.arange(0.0, breaks_s[-1], step_s), breaks_s)
    d = np.zeros_like(t)
    for k in range(1, len(t)):
        mid = 0.5 * (t[k] + t[k - 1])
        seg = int(np.searchsorted(breaks_s, mid, side="right")) - 1
        d[k] = d[k - 1] + speeds_mps[seg] * (t[k] - t[k - 1])
    return t, d


def window_distance(t, d, e) -> float:
    return float(np.interp(e.end_s, t, d) - np.interp(e.start_s, t, d))


def test_constant_pace_gives_distance_over_speed():
    t = np.arange(0.0, 15000.0, 1.0)
    d = 3.5 * t
    efforts = best_efforts(t, d)
    covered = [x.distance_m for x in BEST_EFFORT_DISTANCES if x.distance_m <= d[-1]]
    assert [e.distance_m for e in efforts] == covered
    for e in efforts:
        assert e.time_s == pytest.approx(e.distance_m / 3.5, rel=1e-12)
        assert e.end_s - e.start_s == pytest.approx(e.time_s)


def test_constant_pace_run_from_strides():
    strides = [
        Stride(side="left", t_start_s=0.75 * k, t_end_s=0.75 * (k + 1), length_m=2.7) for k in range(3000)
    ]
    run = Run.from_strides(strides, start_time=dt.datetime(2026, 1, 1, tzinfo=dt.UTC), time_zone="UTC")
    for e in run.efforts():
        assert e.time_s == pytest.approx(e.distance_m / 3.6, rel=1e-9)


def test_fast_middle_section_found_with_interpolated_edges():
    # 1000 s at 3 m/s, 2000 m at 5 m/s (400 s), 1000 s at 3 m/s; samples every 7 s do not hit the window edges
    t, d = piecewise([0.0, 1000.0, 1400.0, 2400.0], [3.0, 5.0, 3.0], 7.0)
    one_k = best_effort(t, d, 1000.0)
    assert one_k.time_s == pytest.approx(200.0, rel=1e-12)
    assert one_k.start_s >= 1000.0 - 1e-9 and one_k.end_s <= 1400.0 + 1e-9
    five_k = best_effort(t, d, 5000.0)
    assert five_k.time_s == pytest.approx(400.0 + 3000.0 / 3.0, rel=1e-12)
    assert window_distance(t, d, five_k) == pytest.approx(5000.0)
    # a 300 m burst at 6 m/s inside 3 m/s running: best 400 m = 50 s + 100 m at 3 m/s, edges off the samples
    t, d = piecewise([0.0, 500.0, 550.0, 1000.0], [3.0, 6.0, 3.0], 3.0)
    e = best_effort(t, d, 400.0)
    assert e.time_s == pytest.approx(50.0 + 100.0 / 3.0, rel=1e-12)
    assert window_distance(t, d, e) == pytest.approx(400.0)
    assert (e.start_s % 3.0 > 1e-6) or (e.end_s % 3.0 > 1e-6)


def test_pause_at_window_edge_does_not_count_but_inside_does():
    # run 500 m, stand 60 s, run 500 m, all at 4 m/s
    t = np.array([0.0, 125.0, 185.0, 310.0])
    d = np.array([0.0, 500.0, 500.0, 1000.0])
    assert best_effort(t, d, 400.0).time_s == pytest.approx(100.0)
    assert best_effort(t, d, 1000.0).time_s == pytest.approx(310.0)  # elapsed time, as Strava
    assert best_effort(t, d, 1001.0) is None


def test_bad_streams_are_rejected():
    with pytest.raises(EffortError, match="strictly increasing"):
        best_efforts([0.0, 1.0, 1.0], [0.0, 1.0, 2.0])
    with pytest.raises(EffortError, match="never decrease"):
        best_efforts([0.0, 1.0, 2.0], [0.0, 2.0, 1.0])
    with pytest.raises(EffortError, match="finite"):
        best_efforts([0.0, 1.0, 2.0], [0.0, np.nan, 1.0])


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.floats(0.5, 20.0), st.floats(0.0, 8.0)), min_size=3, max_size=40),
    st.floats(50.0, 400.0),
)
def test_no_window_is_faster_than_the_best(segments, target_m):
    dt_s = np.array([a for a, _ in segments])
    v = np.array([b for _, b in segments])
    t = np.concatenate(([0.0], np.cumsum(dt_s)))
    d = np.concatenate(([0.0], np.cumsum(v * dt_s)))
    e = best_effort(t, d, target_m)
    if d[-1] < target_m:
        assert e is None
        return
    assert window_distance(t, d, e) == pytest.approx(target_m, abs=1e-6)
    assert e.time_s == pytest.approx(e.end_s - e.start_s)
    # brute force: windows starting at dense distances, each as short as possible
    starts = np.linspace(0.0, d[-1] - target_m, 2001)
    t_end = np.interp(starts + target_m, d, t, left=np.nan)  # earliest/latest ambiguity only on flats
    t_start = np.array([t[np.searchsorted(d, s, side="right") - 1] + 0.0 for s in starts])
    for k, s in enumerate(starts):  # latest moment at distance s, earliest at s + target
        i = np.searchsorted(d, s, side="right") - 1
        if i < len(d) - 1 and d[i + 1] > d[i]:
            t_start[k] = t[i] + (s - d[i]) / (d[i + 1] - d[i]) * (t[i + 1] - t[i])
        j = np.searchsorted(d, s + target_m, side="left")
        if 0 < j < len(d) and d[j] > d[j - 1]:
            t_end[k] = t[j - 1] + (s + target_m - d[j - 1]) / (d[j] - d[j - 1]) * (t[j] - t[j - 1])
    assert e.time_s <= np.nanmin(t_end - t_start) + 1e-9
