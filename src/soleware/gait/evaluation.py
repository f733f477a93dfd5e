"""Accuracy of the gait engine against the ground truth a recording carries."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from soleware.gait.pipeline import GaitAnalysis
from soleware.gait.recording import Recording, load_recording

__all__ = ["Evaluation", "compare_strides", "evaluate_folder", "evaluate_recording", "recordings_with_truth"]


@dataclasses.dataclass(frozen=True)
class Evaluation:
    """Errors of one recording; a field is None where the recording has no such ground truth.

    Where per-stride references exist, distance is compared over the referenced span only: ours is the sum of
    our strides ending in it, the reference the sum of its strides (both footfall to footfall, as issue 3
    defines distance; a sidecar's ``distance_m`` may be a marker's path length instead, turns included). Our
    strides are paired with reference strides by nearest end time.
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


def evaluate_recording(recording: Recording, analysis: GaitAnalysis | None = None) -> Evaluation:
    """Analyse ``recording`` and compare with its ground truth."""
    strides = (analysis or GaitAnalysis()).analyze(recording).strides_
    return compare_strides(
        recording, np.array([s.t_end_s for s in strides]), np.array([s.length_m for s in strides])
    )


def compare_strides(recording: Recording, t_end_s: np.ndarray, length_m: np.ndarray) -> Evaluation:
    """Errors of any engine's strides (end times in s, sorted, and lengths in m) against ``recording``'s truth."""
    gt = recording.ground_truth
    t_end = np.asarray(t_end_s, dtype=float)
    length = np.asarray(length_m, dtype=float)
    ref_d = gt.distance_m
    dist = float(length.sum())
    n_ref = gt.steps
    n_ours = len(t_end)
    rmse = None
    errors = np.zeros(0)
    if gt.strides is not None and len(gt.strides) and len(t_end):
        r0, r1 = gt.strides[0, 0], gt.strides[-1, 1]
        # A stride belongs to the referenced span when it ends within it (both count footfall to footfall).
        half_first = 0.5 * (gt.strides[0, 1] - gt.strides[0, 0])
        half_last = 0.5 * (gt.strides[-1, 1] - gt.strides[-1, 0])
        inside = (t_end > r0 + half_first) & (t_end < r1 + half_last)
        dist = float(length[inside].sum())
        ref_d = float(gt.strides[:, 2].sum())
        n_ref = len(gt.strides)
        n_ours = int(inside.sum())
        # Pair each reference stride with our stride whose end is nearest its end (within half a stride).
        if len(t_end) > 1:
            ref_end = gt.strides[:, 1]
            j = np.clip(np.searchsorted(t_end, ref_end), 1, len(t_end) - 1)
            j = np.where(np.abs(t_end[j - 1] - ref_end) < np.abs(t_end[j] - ref_end), j - 1, j)
            ok = np.abs(t_end[j] - ref_end) < 0.5 * (gt.strides[:, 1] - gt.strides[:, 0])
            errors = length[j[ok]] - gt.strides[ok, 2]
            if len(errors):
                rmse = float(np.sqrt(np.mean(errors**2)))
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
    )


def recordings_with_truth(folder: str | Path) -> Iterator[Recording]:
    """Every recording below ``folder`` with a stride reference or a ground-truth distance not marked approximate."""
    for csv in sorted(Path(folder).rglob("*.csv")):
        if csv.name.endswith(".gt.csv") or not csv.with_suffix(".json").exists():
            continue
        rec = load_recording(csv)
        gt = rec.ground_truth
        approximate = "approx" in (gt.distance_source or "").lower()
        if gt.strides is None and (gt.distance_m is None or approximate):
            continue
        yield rec


def evaluate_folder(folder: str | Path) -> list[Evaluation]:
    """Every recording with a ground-truth distance or stride reference below ``folder``."""
    return [evaluate_recording(rec) for rec in recordings_with_truth(folder)]
