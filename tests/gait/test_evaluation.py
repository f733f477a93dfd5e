"""The references the engine is scored against: footfalls from motion capture, polylines through measured points."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from soleware.gait.evaluation import compare_strides, corner_points, mocap_footfalls
from soleware.gait.recording import GroundTruth, Recording, load_recording

DATASETS = Path(__file__).parents[2].parent / "shared" / "datasets"
needs_data = pytest.mark.skipif(not DATASETS.exists(), reason="../shared/datasets not present")


def _walking_marker(footfalls_xy: np.ndarray, *, rate_hz: float = 200.0, stance_s: float = 0.4) -> np.ndarray:
    """A marker that stands ``stance_s`` at each footfall and swings between them (smooth, lifted 10 cm)."""
    swing_s = 0.6
    rows = []
    t = 0.0
    for a, b in zip(footfalls_xy[:-1], footfalls_xy[1:], strict=True):
        for _ in range(int(stance_s * rate_hz)):
            rows.append([t, a[0], a[1], 0.0])
            t += 1 / rate_hz
        for k in range(int(swing_s * rate_hz)):
            u = 0.5 - 0.5 * np.cos(np.pi * k / (swing_s * rate_hz))
            p = a + u * (b - a)
            rows.append([t, p[0], p[1], 0.1 * np.sin(np.pi * u)])
            t += 1 / rate_hz
    for _ in range(int(stance_s * rate_hz)):
        rows.append([t, footfalls_xy[-1][0], footfalls_xy[-1][1], 0.0])
        t += 1 / rate_hz
    return np.array(rows)


def test_mocap_footfalls_are_the_stances_of_a_constructed_walk() -> None:
    """Ten strides of 1.2 m round a quarter turn: every footfall found, the chord sum exact."""
    heading = np.linspace(0.0, np.pi / 2, 10)
    steps = 1.2 * np.column_stack([np.cos(heading), np.sin(heading)])
    feet = np.vstack([[0.0, 0.0], np.cumsum(steps, axis=0)])
    found = mocap_footfalls(_walking_marker(feet))
    assert len(found) == len(feet)
    np.testing.assert_allclose(found[:, 1:], feet, atol=5e-3)  # the marker is starting to move
    assert np.hypot(*np.diff(found[:, 1:], axis=0).T).sum() == pytest.approx(12.0, rel=1e-3)


def test_mocap_footfalls_of_a_marker_never_still_is_none() -> None:
    t = np.arange(0, 5, 0.005)
    moving = np.column_stack([t, 1.5 * t, np.zeros_like(t), np.zeros_like(t)])
    assert len(mocap_footfalls(moving)) == 0


@needs_data
def test_mocap_footfalls_reproduce_the_annotated_footfall_distance() -> None:
    """On every VICON trial with stride annotations, the footfall chords found in the trajectory alone sum to
    the annotated footfall-to-footfall distance within 1 % (measured: -0.6 to +0.7 % over 29 trials; the
    trajectory's path length is 3-8 % longer). This is what allows them as the reference where no
    annotation exists."""
    checked = 0
    for csv in sorted((DATASETS / "pyshoe_vicon").glob("*[0-9].csv")):
        rec = load_recording(csv)
        gt = rec.ground_truth
        if gt.strides is None or gt.trajectory is None:
            continue
        found = mocap_footfalls(gt.trajectory)
        first = np.argmin(np.abs(found[:, 0] - gt.strides[0, 0]))
        last = np.argmin(np.abs(found[:, 0] - gt.strides[-1, 1]))
        chords = np.hypot(*np.diff(found[first : last + 1, 1:], axis=0).T).sum()
        assert chords == pytest.approx(gt.strides[:, 2].sum(), rel=0.01), rec.name
        checked += 1
    assert checked >= 25


EXP_27 = (
    "GCP (x, y in m) by stride number: stride 0: (0.00, 0.00); stride 28: (27.00, 0.00); "
    "stride 30: (27.00, 1.80); stride 60: (0.00, 1.80); stride 62: (0.00, 0.00). distance_m = ..."
)


def test_corner_points_are_read_from_the_notes() -> None:
    points = corner_points(EXP_27)
    np.testing.assert_array_equal(points[:, 0], [0, 28, 30, 60, 62])
    np.testing.assert_allclose(points[1], [28, 27.0, 0.0])
    assert corner_points("no measured points here") is None
    assert corner_points("stride 0: (0.00, 0.00)") is None


@pytest.mark.parametrize(
    "notes",
    [
        # exp 30's last segments: 1.2 m in 15 strides is fine, 28.55 m in 3 strides is nobody's stride
        "stride 0: (0.00, 0.00); stride 67: (28.55, -1.20); stride 82: (28.55, 0.00); stride 85: (0.00, 0.00)",
        "stride 0: (0.00, 0.00); stride 10: (12.00, 0.00); stride 8: (12.00, 6.00)",
        "stride 0: (0.00, 0.00); stride 40: (2.00, 0.00)",
    ],
)
def test_corner_points_that_contradict_themselves_are_refused(notes: str) -> None:
    assert corner_points(notes) is None


def _recording(notes: str, distance_m: float) -> Recording:
    t = np.arange(0.0, 80.0, 0.01)
    z = np.zeros((len(t), 3))
    return Recording(
        t,
        z,
        z,
        100.0,
        notes=notes,
        ground_truth=GroundTruth(distance_m=distance_m, distance_source="polyline"),
    )


def test_corner_points_compare_the_polyline_through_our_own_footfalls() -> None:
    """A walker weaving between measured points walks further than the straight line; compared with the
    straight line is our line through our footfalls at the same stride numbers, not our walked distance."""
    rec = _recording(EXP_27, 57.6)
    x = np.r_[np.linspace(0, 27, 29), np.full(2, 27.0), np.linspace(27, 0, 31)[1:], [0.0, 0.0]]
    y = np.r_[np.zeros(29), [0.9, 1.8], np.full(30, 1.8), [0.9, 0.0]]
    y[1:28] += 0.6 * np.sin(np.arange(1, 28))  # weaving
    feet = np.column_stack([x, y])
    lengths = np.hypot(*np.diff(feet, axis=0).T)
    ev = compare_strides(rec, np.arange(1.0, 63.0), lengths, footfalls_xy_m=feet)
    assert ev.reference_kind == "corner points"
    assert ev.reference_distance_m == pytest.approx(57.6)
    assert ev.distance_m == pytest.approx(57.6)
    assert ev.walked_m == pytest.approx(lengths.sum())
    assert ev.sidecar_error_pct > 3.0


def test_corner_points_need_as_many_strides_as_they_number() -> None:
    """With a stride missed or added, stride numbers no longer name our footfalls: distance_m is used."""
    rec = _recording(EXP_27, 57.6)
    ev = compare_strides(rec, np.arange(1.0, 62.0), np.full(61, 0.95), footfalls_xy_m=np.zeros((62, 2)))
    assert ev.reference_kind == "distance_m"
    assert ev.distance_m == pytest.approx(61 * 0.95)


def test_paired_strides_carry_their_reference_lengths_and_speeds() -> None:
    """Each paired stride's reference length and speed sit beside its error, in the same order."""
    t = np.arange(0.0, 20.0, 0.01)
    z = np.zeros((len(t), 3))
    ref = np.array([[1.0, 2.0, 1.2], [2.0, 2.8, 1.6], [2.8, 3.4, 1.8], [3.4, 4.0, 2.1]])
    rec = Recording(t, z, z, 100.0, ground_truth=GroundTruth(strides=ref))
    # ours: the first three reference strides found (a little long), the fourth missed
    ev = compare_strides(rec, np.array([2.01, 2.79, 3.41]), np.array([1.25, 1.6, 1.7]))
    np.testing.assert_allclose(ev.stride_length_errors_m, [0.05, 0.0, -0.1], atol=1e-12)
    np.testing.assert_allclose(ev.reference_stride_lengths_m, [1.2, 1.6, 1.8])
    np.testing.assert_allclose(ev.reference_stride_speeds_mps, [1.2, 2.0, 3.0])
    assert ev.speed_mps == pytest.approx(np.median([1.2, 2.0, 3.0, 3.5]))  # every reference stride
    assert ev.clip_recovered_mps is None


def test_the_last_footfall_may_lie_anywhere_in_the_rest_that_ends_the_reference() -> None:
    """The reference puts its last footfall in the middle of the closing rest, ours may fall at its end: that
    stride is still part of the span, and a stride after it is not."""
    t = np.arange(0.0, 20.0, 0.01)
    z = np.zeros((len(t), 3))
    ref = np.array([[1.0, 2.0, 1.2], [2.0, 3.0, 1.3], [3.0, 5.5, 0.6]])
    rec = Recording(t, z, z, 100.0, ground_truth=GroundTruth(strides=ref))
    ev = compare_strides(rec, np.array([2.0, 3.0, 7.2, 8.3]), np.array([1.2, 1.3, 0.6, 1.1]))
    assert ev.distance_m == pytest.approx(3.1) and ev.distance_error_pct == pytest.approx(0.0)
    assert ev.strides == 3


def test_speed_comes_from_our_strides_without_stride_references() -> None:
    rec = _recording("", 50.0)
    ev = compare_strides(rec, np.arange(1.0, 41.0), np.full(40, 1.25), speed_mps=np.full(40, 3.1))
    assert ev.reference_kind == "distance_m" and ev.speed_mps == pytest.approx(3.1)
    assert len(ev.reference_stride_lengths_m) == 0


def test_clipping_recovered_is_read_from_the_engine_where_it_reports_it() -> None:
    from soleware.gait.evaluation import evaluate_recording
    from soleware.gait.pipeline import GaitAnalysis, Stride
    from soleware.gait.recording import sample_recording_path

    rec = load_recording(sample_recording_path())
    ga = GaitAnalysis().analyze(rec)
    ev = evaluate_recording(rec)
    for field in ("clip_recovered_mps", "clip_turn_recovered_rad"):
        if field in Stride.__dataclass_fields__:
            assert getattr(ev, field) is not None
            np.testing.assert_array_equal(getattr(ev, field), [vars(s)[field] for s in ga.strides_])
        else:
            assert getattr(ev, field) is None
