"""A pod run in storage: stored once, read back with its sensor, its streams and no strides or form."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from soleware.runs.model import STREAM_RESOLUTION, Sensor
from soleware.runs.pod import PodSamples, run_from_pod

SENSOR = Sensor(name="Polar Stride", manufacturer="Polar Electro Oy", model=None, serial="0042")


def test_a_pod_run_round_trips_with_its_sensor(store):
    runner = store.create_runner("pod@example.com", "correct horse battery")
    t = np.arange(0.0, 1200.0, 0.5)
    samples = PodSamples.of(
        t_s=list(t), speed_mps=list(3.0 + 0.5 * np.sin(t / 60)), cadence_spm=[170.0] * len(t)
    )
    run = run_from_pod(
        samples, sensor=SENSOR, start_time=dt.datetime(2026, 11, 2, 6, 0, tzinfo=dt.UTC), time_zone="UTC"
    )
    first = store.add_run(runner.id, run)
    assert first.created and not store.add_run(runner.id, run).created
    back = store.get_run(runner.id, first.run_id)
    assert back.sensor == SENSOR and back.source == "pod" and back.strides == []
    assert back.distance_m == pytest.approx(run.distance_m)
    res = STREAM_RESOLUTION["distance_m"]
    assert np.max(np.abs(back.streams.distance_m - run.streams.distance_m)) <= 0.5 * res + 1e-9
    view = store.run_view(runner.id, first.run_id)
    assert view.summary.sensor == SENSOR and view.feet == []
    assert [s.sensor for s in store.summaries(runner.id)] == [SENSOR]
    assert store.list_runs(runner.id, source="pod").runs[0].sensor == SENSOR
