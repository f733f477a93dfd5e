"""Runs from raw recordings (``runs.ingest``): which foot each recording is."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from soleware.gait.recording import Recording, load_recording, sample_recording_path
from soleware.gait.vocabulary import Side
from soleware.runs.ingest import run_from_recordings
from soleware.runs.model import RunDataError

START = dt.datetime(2026, 5, 1, 7, 0, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def sample() -> Recording:
    return load_recording(sample_recording_path())


def _sides(*recordings: Recording) -> set[Side]:
    run = run_from_recordings(recordings, start_time=START, time_zone="UTC")
    return {s.side for s in run.strides}


def test_a_recording_of_unknown_side_is_the_other_foot(sample: Recording) -> None:
    """Two feet, one sidecar saying which: the other is the other foot. (A silent one was taken for left, so a
    left and a silent recording failed as "two recordings of the left foot".)"""
    right = dataclasses.replace(sample, side="right", name="r")
    unknown = dataclasses.replace(sample, side="unknown", name="u")
    assert _sides(unknown, right) == {Side.LEFT, Side.RIGHT}
    assert _sides(dataclasses.replace(sample, side="LEFT"), unknown) == {Side.LEFT, Side.RIGHT}
    assert _sides(unknown) == {Side.LEFT}


def test_a_silent_sidecar_leaves_the_side_to_the_file_name(sample: Recording) -> None:
    """Two recordings from another logger, no side in their sidecars, named for their feet."""
    left = dataclasses.replace(sample, side="unknown", name="track_LEFT")
    right = dataclasses.replace(sample, side="unknown", name="track_right")
    run = run_from_recordings([right, left], start_time=START, time_zone="UTC")
    assert {s.side for s in run.strides} == {Side.LEFT, Side.RIGHT}
    both = dataclasses.replace(sample, side="unknown", name="left_and_right")
    with pytest.raises(RunDataError, match="unknown side"):
        run_from_recordings(
            [both, dataclasses.replace(both, name="other")], start_time=START, time_zone="UTC"
        )


@pytest.mark.parametrize(
    ("sides", "says"),
    [
        (("unknown", ""), "two recordings of unknown side"),
        (("left", "left"), "two recordings of the left foot"),
        (("middle",), "side 'middle' is no foot"),
        (("left", "right", "left"), "3 recordings"),
    ],
)
def test_feet_that_cannot_be_told_apart_are_an_error(
    sample: Recording, sides: tuple[str, ...], says: str
) -> None:
    recs = [dataclasses.replace(sample, side=s, name=f"rec{i}") for i, s in enumerate(sides)]
    with pytest.raises(RunDataError, match=says):
        run_from_recordings(recs, start_time=START, time_zone="UTC")


def test_a_stop_is_a_pause_of_the_run() -> None:
    """Both feet stand 20 s at a traffic light mid-run: the run pauses there and the stop is no moving time. The
    engine's strides into and out of the stop reach into it from their anchors; taken as they were, they covered
    it: no pause, and the stop counted in the run's moving time and pace."""
    from soleware.shoe.sim import ShoeSimulator

    sim = ShoeSimulator(seed=3).simulate("1min@5:00/km, 20s stand, 1min@5:00/km", sides=("left", "right"))
    recordings = [dataclasses.replace(r, side=side) for side, r in sim.recordings_.items()]
    run = run_from_recordings(recordings, start_time=START, time_zone="UTC")
    long = [(a, b) for a, b in run.pauses if b - a > 10.0]
    assert len(long) == 1
    assert 17.0 < long[0][1] - long[0][0] < 20.0
    assert 60.0 < long[0][0] < 65.0
    assert run.moving_time_s < run.elapsed_time_s - 17.0
    assert 290.0 < 1000.0 * run.moving_time_s / run.distance_m < 330.0
