"""Accuracy of the gait engine against the ground truth a recording carries."""

from __future__ import annotations

import dataclasses
import functools
import os
import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from soleware.gait.pipeline import GaitAnalysis
from soleware.gait.recording import MAX_INTERPOLATED_GAP_S, Recording, RecordingError, load_recording

__all__ = [
    "REFERENCE_KINDS",
    "Evaluation",
    "Skipped",
    "compare_strides",
    "corner_points",
    "evaluate_folder",
    "evaluate_recording",
    "footfalls_xy_m",
    "mocap_footfalls",
    "recordings_with_truth",
    "speed_band",
]

#: speed bands (upper bound m/s, name) of the accuracy report; issue 17 calls > 6 m/s a sprint
SPEED_BANDS = ((2.0, "walk"), (3.5, "jog"), (6.0, "run"), (float("inf"), "sprint"))


def speed_band(speed_mps: float) -> str:
    """The band of a speed: walk < 2 m/s ≤ jog < 3.5 m/s ≤ run < 6 m/s ≤ sprint."""
    return next(name for top, name in SPEED_BANDS if speed_mps < top)


#: What a reference distance is, by the ground truth it comes from (``Evaluation.reference_kind``).
REFERENCE_KINDS = {
    "strides": "sum of the per-stride references",
    "mocap footfalls": "footfall-to-footfall chords of the motion-capture trajectory",
    "corner points": "polyline through measured footfalls at known stride numbers",
    "distance_m": "the sidecar's distance_m",
}


@dataclasses.dataclass(frozen=True)
class Evaluation:
    """Errors of one recording; a field is None where the recording has no such ground truth.

    Distance is footfall to footfall (issue 3), so the reference is taken, in this order of preference, from:

    - ``strides``: per-stride references. Compared over the referenced span only: ours is the sum of our strides
      ending in it, the reference the sum of its strides. Our strides are paired with reference strides by
      nearest end time.
    - ``mocap footfalls``: a motion-capture trajectory of a marker on the sensor, without stride references. The
      reference is the sum of its footfall-to-footfall chords (:func:`mocap_footfalls`), ours the sum of all our
      strides. The trajectory's path length (a sidecar's ``distance_m``) includes swing arcs and turns.
    - ``corner points``: footfalls measured on the floor at known stride numbers, straight lines assumed between
      them (:func:`corner_points`). Where we find as many strides as the points' last number, ours is the
      polyline through our own footfalls at those stride numbers, compared with the polyline through the
      points; a walk that weaves between two points is longer than the straight line, for us as for the
      walker.
    - ``distance_m``: the sidecar's distance, against the sum of all our strides.

    ``walked_m`` is always the sum of all our strides; ``sidecar_error_pct`` compares it with ``distance_m``.
    """

    name: str
    activity: str
    distance_m: float
    reference_distance_m: float | None
    distance_error_pct: float | None
    strides: int
    reference_strides: int | None
    step_error_pct: float | None
    stride_length_rmse_m: float | None
    #: our length minus the reference's, per paired reference stride (m)
    stride_length_errors_m: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros(0))
    #: where the reference distance comes from: a key of ``REFERENCE_KINDS``, or None without one
    reference_kind: str | None = None
    walked_m: float = 0.0
    sidecar_error_pct: float | None = None
    #: the reference length of each paired stride, in the order of ``stride_length_errors_m`` (m)
    reference_stride_lengths_m: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros(0))
    #: the reference speed of each paired stride: its length over its duration (m/s)
    reference_stride_speeds_mps: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros(0))
    #: median speed: of the reference strides where there are some, else of ours (m/s); None without strides
    speed_mps: float | None = None
    #: velocity the engine gave back to clipped accelerometer samples, per stride of ours (m/s); None where the
    #: engine reports no such thing
    clip_recovered_mps: np.ndarray | None = None
    #: turn the engine gave back to clipped gyroscope samples, per stride of ours (rad); None where it reports none
    clip_turn_recovered_rad: np.ndarray | None = None


def evaluate_recording(recording: Recording, analysis: GaitAnalysis | None = None) -> Evaluation:
    """Analyse ``recording`` and compare with its ground truth."""
    ga = (analysis or GaitAnalysis()).analyze(recording)
    strides = ga.strides_
    recovered = [getattr(s, "clip_recovered_mps", None) for s in strides]
    turned = [getattr(s, "clip_turn_recovered_rad", None) for s in strides]
    return compare_strides(
        recording,
        np.array([s.t_end_s for s in strides]),
        np.array([s.length_m for s in strides]),
        footfalls_xy_m=footfalls_xy_m(ga),
        speed_mps=np.array([s.speed_mps for s in strides]),
        clip_recovered_mps=None if None in recovered else np.array(recovered, dtype=float),
        clip_turn_recovered_rad=None if None in turned else np.array(turned, dtype=float),
    )


def footfalls_xy_m(analysis: GaitAnalysis) -> np.ndarray | None:
    """Where an analysed recording's first stride starts and each stride ends: ``(n + 1, 2)`` x, y in m; None
    when it has no strides, or a gap split it (each piece's path starts afresh, in a frame of its own)."""
    strides = analysis.strides_
    tr = analysis.trajectory_m_
    if not strides or len(tr) < 2 or np.diff(tr[:, 0]).max() > MAX_INTERPOLATED_GAP_S:
        return None
    at = np.array([strides[0].t_start_s] + [s.t_end_s for s in strides])
    return tr[np.minimum(np.searchsorted(tr[:, 0], at), len(tr) - 1), 1:3]


def mocap_footfalls(
    trajectory: np.ndarray,
    *,
    still_mps: float = 0.3,
    cutoff_hz: float = 10.0,
    min_still_s: float = 0.03,
    merge_s: float = 0.15,
) -> np.ndarray:
    """Footfalls in a motion-capture trajectory of a marker on the foot: ``(m, 3)`` t_s, x_m, y_m.

    ``trajectory`` is ``(n, 4)`` t_s, x_m, y_m, z_m (z up). The foot stands where the marker, low-passed at
    ``cutoff_hz``, moves slower than ``still_mps`` (a swinging foot moves at 1-10 m/s; a running foot rolling
    through stance at 5-9 cm/s). Still spells less than ``merge_s`` apart are one stance, ones shorter than
    ``min_still_s`` none. A footfall is the last still instant of a stance, where the datasets' stride
    annotations put it (the position at the stillest instant differs on turns: the foot pivots in stance).
    """
    t = trajectory[:, 0]
    if len(t) < 16:
        return np.zeros((0, 3))
    fs_hz = 1.0 / float(np.median(np.diff(t)))
    pos = trajectory[:, 1:4]
    if cutoff_hz < 0.5 * fs_hz:
        from scipy.signal import butter, sosfiltfilt  # here, not at the top: analysing alone never needs it

        pos = sosfiltfilt(butter(2, cutoff_hz, fs=fs_hz, output="sos"), pos, axis=0)
    speed = np.linalg.norm(np.gradient(pos, t, axis=0), axis=1)
    edges = np.diff(np.r_[0, (speed < still_mps).astype(np.int8), 0])
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1) - 1
    keep = t[ends] - t[starts] >= min_still_s
    starts, ends = starts[keep], ends[keep]
    if not len(starts):
        return np.zeros((0, 3))
    separate = t[starts[1:]] - t[ends[:-1]] >= merge_s
    last = ends[np.r_[separate, True]]
    return np.column_stack([t[last], trajectory[last, 1], trajectory[last, 2]])


_CORNER = re.compile(r"stride (\d+): \((-?\d+(?:\.\d+)?), (-?\d+(?:\.\d+)?)\)")


def corner_points(notes: str | None, *, stride_m: tuple[float, float] = (0.1, 5.0)) -> np.ndarray | None:
    """Measured footfalls a recording's notes list as ``stride N: (x, y)``: ``(k, 3)`` stride number, x_m, y_m.

    None where there are fewer than two, or where the list contradicts itself: stride numbers not increasing,
    or a segment whose implied mean stride lies outside ``stride_m`` (no person's stride does, so its stride
    numbers are wrong).
    """
    points = np.array([[float(v) for v in m] for m in _CORNER.findall(notes or "")])
    if len(points) < 2:
        return None
    strides = np.diff(points[:, 0])
    if np.any(strides <= 0):
        return None
    mean_stride = np.hypot(*np.diff(points[:, 1:], axis=0).T) / strides
    if np.any(mean_stride < stride_m[0]) or np.any(mean_stride > stride_m[1]):
        return None
    return points


def _polyline_m(xy: np.ndarray) -> float:
    return float(np.hypot(*np.diff(xy, axis=0).T).sum())


def compare_strides(
    recording: Recording,
    t_end_s: np.ndarray,
    length_m: np.ndarray,
    *,
    footfalls_xy_m: np.ndarray | None = None,
    speed_mps: np.ndarray | None = None,
    clip_recovered_mps: np.ndarray | None = None,
    clip_turn_recovered_rad: np.ndarray | None = None,
) -> Evaluation:
    """Errors of any engine's strides against ``recording``'s truth.

    ``t_end_s`` (sorted) and ``length_m`` are the strides' end times and horizontal lengths; ``footfalls_xy_m``,
    where the engine gives positions, is ``(n + 1, 2)``: where the first stride starts and each one ends, in one
    horizontal frame (m). ``speed_mps`` (the engine's speed per stride) gives the recording a speed where the
    reference has no strides; ``clip_recovered_mps`` and ``clip_turn_recovered_rad`` are passed through to the
    result.
    """
    gt = recording.ground_truth
    t_end = np.asarray(t_end_s, dtype=float)
    length = np.asarray(length_m, dtype=float)
    walked = float(length.sum())
    ref_d = gt.distance_m
    kind = "distance_m" if ref_d else None
    dist = walked
    n_ref = gt.steps
    n_ours = len(t_end)
    rmse = None
    errors = ref_lengths = ref_speeds = np.zeros(0)
    speed = float(np.median(speed_mps)) if speed_mps is not None and len(speed_mps) else None
    corners = corner_points(recording.notes)
    if gt.strides is not None and len(gt.strides) and len(t_end):
        kind = "strides"
        r0, r1 = gt.strides[0, 0], gt.strides[-1, 1]
        # A stride belongs to the referenced span when it ends within it (both count footfall to footfall): after
        # the first reference stride's middle, and at the latest on our footfall nearest the reference's last.
        # Where the recording ends standing, that footfall may lie anywhere in the rest, seconds from the
        # reference's; any instant of a rest is as good a footfall as another.
        half_first = 0.5 * (gt.strides[0, 1] - gt.strides[0, 0])
        last = int(np.argmin(np.abs(t_end - r1)))
        inside = (t_end > r0 + half_first) & (np.arange(len(t_end)) <= last)
        dist = float(length[inside].sum())
        ref_d = float(gt.strides[:, 2].sum())
        n_ref = len(gt.strides)
        n_ours = int(inside.sum())
        speed = float(np.median(gt.strides[:, 2] / np.maximum(gt.strides[:, 1] - gt.strides[:, 0], 1e-9)))
        # Pair each reference stride with our stride whose end is nearest its end (within half a stride).
        if len(t_end) > 1:
            ref_end = gt.strides[:, 1]
            j = np.clip(np.searchsorted(t_end, ref_end), 1, len(t_end) - 1)
            j = np.where(np.abs(t_end[j - 1] - ref_end) < np.abs(t_end[j] - ref_end), j - 1, j)
            ok = np.abs(t_end[j] - ref_end) < 0.5 * (gt.strides[:, 1] - gt.strides[:, 0])
            errors = length[j[ok]] - gt.strides[ok, 2]
            ref_lengths = gt.strides[ok, 2]
            ref_speeds = ref_lengths / np.maximum(gt.strides[ok, 1] - gt.strides[ok, 0], 1e-9)
            if len(errors):
                rmse = float(np.sqrt(np.mean(errors**2)))
    elif gt.trajectory is not None and len(mocap := mocap_footfalls(gt.trajectory)) > 1:
        kind = "mocap footfalls"
        ref_d = _polyline_m(mocap[:, 1:])
    elif corners is not None and footfalls_xy_m is not None and n_ours == int(corners[-1, 0]):
        kind = "corner points"
        ref_d = _polyline_m(corners[:, 1:])
        dist = _polyline_m(np.asarray(footfalls_xy_m)[corners[:, 0].astype(int)])
    return Evaluation(
        name=recording.name,
        activity=recording.activity,
        distance_m=dist,
        reference_distance_m=ref_d,
        distance_error_pct=100.0 * (dist - ref_d) / ref_d if ref_d else None,
        strides=n_ours,
        reference_strides=n_ref,
        step_error_pct=100.0 * (n_ours - n_ref) / n_ref if n_ref else None,
        stride_length_rmse_m=rmse,
        stride_length_errors_m=errors,
        reference_kind=kind,
        walked_m=walked,
        sidecar_error_pct=100.0 * (walked - gt.distance_m) / gt.distance_m if gt.distance_m else None,
        reference_stride_lengths_m=ref_lengths,
        reference_stride_speeds_mps=ref_speeds,
        speed_mps=speed,
        clip_recovered_mps=clip_recovered_mps,
        clip_turn_recovered_rad=clip_turn_recovered_rad,
    )


def recordings_with_truth(folder: str | Path) -> Iterator[Recording]:
    """Every recording below ``folder`` with a stride reference or a ground-truth distance not marked approximate."""
    for csv in _candidates(folder):
        if not csv.with_suffix(".json").exists():
            continue
        rec = load_recording(csv)
        if _has_truth(rec):
            yield rec


def _candidates(folder: str | Path) -> list[Path]:
    return [csv for csv in sorted(Path(folder).rglob("*.csv")) if not csv.name.endswith(".gt.csv")]


def _has_truth(rec: Recording) -> bool:
    gt = rec.ground_truth
    approximate = "approx" in (gt.distance_source or "").lower()
    return gt.strides is not None or (gt.distance_m is not None and not approximate)


@dataclasses.dataclass(frozen=True)
class Skipped:
    """A CSV below an evaluated folder that was not scored: ``reason`` says why. ``unreadable``: the file could
    not be read as a recording (else it has no exact ground truth)."""

    path: Path
    reason: str
    unreadable: bool = False


#: why a recording that was read is not scored
_NO_TRUTH = "no sidecar JSON with ground_truth.strides or an exact (not approximate) ground_truth.distance_m"


def _evaluate_path(csv: Path, strict: bool = True) -> Evaluation | Skipped:
    """``csv``'s evaluation, or why it has none; ``strict``: a file that cannot be read raises."""
    if not csv.with_suffix(".json").exists():
        return Skipped(csv, _NO_TRUTH)
    try:
        rec = load_recording(csv)
    except RecordingError as exc:
        if strict:
            raise
        return Skipped(csv, str(exc).removeprefix(f"{csv}: "), unreadable=True)
    return evaluate_recording(rec) if _has_truth(rec) else Skipped(csv, _NO_TRUTH)


def evaluate_folder(
    folder: str | Path, *, jobs: int | None = None, skipped: list[Skipped] | None = None
) -> list[Evaluation]:
    """Every recording with a ground-truth distance or stride reference below ``folder``, in path order.

    The recordings are evaluated by ``jobs`` processes at once (default: one per core; 1: in this process). The
    other CSVs are left out; with a ``skipped`` list, each is appended to it with the reason, and a file that
    cannot be read is one of them (without, its :class:`RecordingError` is raised): one bad file in a folder of
    someone else's recordings costs the scores of none of the others.
    """
    if jobs is not None and jobs < 1:
        raise ValueError(f"jobs must be at least 1, not {jobs}")
    paths = _candidates(folder)
    jobs = min(jobs or os.cpu_count() or 1, len(paths))
    score = functools.partial(_evaluate_path, strict=skipped is None)
    if jobs <= 1:
        results = [score(p) for p in paths]
    else:
        import concurrent.futures  # here: every command that imports the gait engine would pay for it

        with concurrent.futures.ProcessPoolExecutor(max_workers=jobs) as pool:
            results = list(pool.map(score, paths, chunksize=1))
    if skipped is not None:
        skipped += [r for r in results if isinstance(r, Skipped)]
    return [r for r in results if isinstance(r, Evaluation)]
