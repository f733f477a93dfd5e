"""A pod's samples to a run: distance from the total (wrap kept, reset dropped) or integrated speed, the label."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from soleware.runs.model import RunDataError, RunSummary, Sensor, Source, pack_summary, unpack_summary
from soleware.runs.pod import TOTAL_DISTANCE_WRAP_M, PodSamples, pod_distance, run_from_pod

START = dt.datetime(2026, 11, 1, 6, 30, tzinfo=dt.UTC)
STRYD = Sensor(name="Stryd", manufacturer="Stryd Inc.", model="NG", serial="A1B2")


def run_of(samples: PodSamples, sensor: Sensor = STRYD):
    return run_from_pod(samples, sensor=sensor, start_time=START, time_zone="Europe/Paris")


def test_speed_only_is_integrated():
    t = np.arange(0.0, 600.5, 1.0)
    speed = np.where(t < 300, 3.0, 4.0)
    run = run_of(PodSamples.of(t_s=list(t), speed_mps=list(speed), cadence_spm=[170.0] * len(t)))
    # trapezoids: 299 s at 3, one interval at 3.5, 300 s at 4
    assert run.distance_m == pytest.approx(299 * 3 + 3.5 + 300 * 4)
    assert run.elapsed_time_s == 600 and run.source == Source.POD.value
    assert run.strides == [] and run.feet() == [] and run.sensor == STRYD
    assert run.summary("r").avg_cadence_spm == pytest.approx(170)


def test_total_distance_wins_over_speed_and_its_wrap_is_kept():
    n = 101
    t = np.arange(n, dtype=float)
    start_total = TOTAL_DISTANCE_WRAP_M - 120.0  # the uint32 of decimetres wraps after 40 s at 3 m/s
    total = np.round((start_total + 3.0 * t) * 10) % 2**32 / 10
    assert total[50] < total[30], "the counter wrapped"
    # speed says 2.5 m/s, the total 3 m/s: the total is what the pod measured as distance
    s = PodSamples.of(t_s=list(t), speed_mps=[2.5] * n, total_distance_m=list(total))
    assert pod_distance(s)[-1] == pytest.approx(300.0, abs=0.2)
    assert run_of(s).distance_m == pytest.approx(300.0, abs=0.2)


def test_a_reset_of_the_total_falls_back_to_speed_for_that_interval():
    t = [0.0, 1.0, 2.0, 3.0, 4.0]
    total = [1000.0, 1003.0, 1006.0, 0.0, 3.0]  # the pod restarted between 2 and 3 s
    s = PodSamples.of(t_s=t, speed_mps=[3.0] * 5, total_distance_m=total)
    assert list(pod_distance(s)) == pytest.approx([0, 3, 6, 9, 12])
    # a forward jump (another app set the cumulative value) is not distance either
    s = PodSamples.of(t_s=t, speed_mps=[3.0] * 5, total_distance_m=[0.0, 3.0, 5000.0, 5003.0, 5006.0])
    assert list(pod_distance(s)) == pytest.approx([0, 3, 6, 9, 12])


def test_notifications_without_the_total_use_speed_and_glitch_speeds_are_ignored():
    t = [0.0, 1.0, 2.0, 3.0, 4.0]
    s = PodSamples.of(
        t_s=t, speed_mps=[3.0, 3.0, 200.0, 3.0, 3.0], total_distance_m=[0.0, 3.0, None, 9.0, 12.0]
    )
    assert list(pod_distance(s)) == pytest.approx([0, 3, 6, 9, 12])


def test_streams_are_on_a_one_second_grid_holding_the_last_value():
    t = np.arange(0.0, 10.01, 0.25)  # 4 Hz
    stride = np.where(t < 5, 1.1, 1.3)
    run = run_of(
        PodSamples.of(t_s=list(t), speed_mps=[3.0] * len(t), stride_length_m=list(stride)),
        Sensor(name="RunPod"),
    )
    assert list(run.streams.t_s) == [float(x) for x in range(11)]
    assert run.streams.distance_m[-1] == pytest.approx(30.0)
    assert run.streams.stride_length_m[4] == pytest.approx(1.1) and run.streams.stride_length_m[
        5
    ] == pytest.approx(1.3)
    assert np.all(np.isnan(run.streams.cadence_spm)) and np.all(np.isnan(run.streams.contact_time_s))


@pytest.mark.parametrize(
    ("columns", "message"),
    [
        ({"t_s": [0.0], "speed_mps": [1.0]}, "at least two"),
        ({"t_s": [0.0, 1.0], "speed_mps": [1.0]}, "speed_mps has 1 values"),
        ({"t_s": [0.0, 1.0], "speed_mps": [1.0, 1.0], "cadence_spm": [1.0]}, "cadence_spm has 1 values"),
        ({"t_s": [0.0, 1.0, 1.0], "speed_mps": [1.0] * 3}, "t_s must increase: t_s[2] = 1.0"),
        ({"t_s": [0.0, 1.0], "speed_mps": [1.0, -1.0]}, "speed_mps must be finite"),
        ({"t_s": [0.0, 1.0], "speed_mps": [1.0, float("nan")]}, "speed_mps must be finite"),
        (
            {"t_s": [0.0, 1.0], "speed_mps": [1.0, 1.0], "total_distance_m": [1.0, -2.0]},
            "total_distance_m must",
        ),
    ],
)
def test_bad_samples_are_refused_naming_the_column(columns, message):
    with pytest.raises(RunDataError, match=message.replace("[", r"\[").replace("]", r"\]")):
        PodSamples.of(**columns)


def test_the_sensor_survives_the_summary_and_its_packed_form():
    summary = run_of(PodSamples.of(t_s=[0.0, 60.0], speed_mps=[3.0, 3.0])).summary("run-1")
    assert RunSummary.from_dict(summary.to_dict()).sensor == STRYD
    assert unpack_summary(pack_summary(summary)).sensor == STRYD
    plain = RunSummary.from_dict({**summary.to_dict(), "sensor": None})
    assert plain.sensor is None and unpack_summary(pack_summary(plain)).sensor is None
    assert STRYD.label == "Stryd Stryd Inc. NG #A1B2" and Sensor(name="Polar Stride").label == "Polar Stride"
