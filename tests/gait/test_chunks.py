"""Chunked offline analysis (bounded memory) gives the strides of the whole-recording analysis."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from soleware.gait.pipeline import GaitAnalysis
from soleware.gait.recording import load_recording, sample_recording_path

DATASETS = Path(__file__).resolve().parents[3] / "shared" / "datasets"
LOOP = DATASETS / "gaitdriven_loops" / "SensorConnectData_15.csv"


@pytest.mark.parametrize(
    "path",
    [
        pytest.param(sample_recording_path(), id="sample"),
        pytest.param(
            LOOP,
            id="loop",
            marks=pytest.mark.skipif(
                not LOOP.is_file(), reason=f"../shared/datasets not present ({LOOP.name})"
            ),
        ),
    ],
)
def test_chunks_join_without_losing_or_doubling_strides(path):
    rec = load_recording(path)
    whole = GaitAnalysis(chunk_s=1e9).analyze(rec)
    chunked = GaitAnalysis(chunk_s=20.0).analyze(rec)
    assert abs(len(chunked.strides_) - len(whole.strides_)) <= 1
    assert chunked.summary_.distance_m == pytest.approx(whole.summary_.distance_m, rel=0.01)
    ends = np.array([s.t_end_s for s in chunked.strides_])
    starts = np.array([s.t_start_s for s in chunked.strides_])
    assert np.all(starts[1:] >= ends[:-1] - 1e-9), "strides do not overlap across a join"
    traj = chunked.trajectory_m_
    assert np.all(np.diff(traj[:, 0]) >= 0), "the trajectory runs forward in time across joins"
    assert np.max(np.linalg.norm(np.diff(traj[:, 1:3], axis=0), axis=1)) < 0.2, "no jump at a join"


@pytest.mark.parametrize("chunk_s", [20.0, 35.0, 70.0])
def test_chunks_keep_the_stops_of_the_whole_recording(chunk_s):
    """Joins fall before, into and after the stops: the strides still end at the landing and start at the lift of
    each rest, as the whole recording's do."""
    from soleware.shoe.sim import ShoeSimulator

    rec = (
        ShoeSimulator(seed=5)
        .simulate("40s@5:00/km, 12s stand, 40s@5:00/km, 8s stand, 30s@5:00/km", sides=("left",))
        .recordings_["left"]
    )
    whole = GaitAnalysis(chunk_s=1e9).analyze(rec).summary_
    chunked = GaitAnalysis(chunk_s=chunk_s).analyze(rec).summary_
    assert len(whole.stops) == len(chunked.stops) == 2
    assert np.allclose(chunked.stops, whole.stops, atol=0.05)
    assert chunked.moving_time_s == pytest.approx(whole.moving_time_s, abs=0.1)
