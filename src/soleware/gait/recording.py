"""Recordings of a foot-mounted IMU: the CSV + JSON sidecar format of ``../shared/datasets``.

A recording is ``<stem>.csv`` (header ``t,ax,ay,az,gx,gy,gz``; seconds, m/s² with gravity, rad/s, all in the
sensor's own frame) and ``<stem>.json`` (sample rate, placement, side, activity, ground truth, source).
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["GroundTruth", "Recording", "RecordingError", "load_recording", "save_recording"]

CSV_COLUMNS = ("t", "ax", "ay", "az", "gx", "gy", "gz")


class RecordingError(ValueError):
    """A recording cannot be used; the message names the file and the problem."""


@dataclasses.dataclass
class GroundTruth:
    """What a recording's sidecar says really happened (any field may be unknown)."""

    distance_m: float | None = None
    distance_source: str | None = None
    steps: int | None = None
    #: per-stride reference as an (n, 3) array of t_start_s, t_end_s, length_m
    strides: np.ndarray | None = None
    #: reference trajectory as an (n, 4) array of t_s, x_m, y_m, z_m
    trajectory: np.ndarray | None = None
    #: anything else the sidecar carries under ground_truth (kept for round trips)
    extra: dict[str, Any] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass
class Recording:
    """IMU samples of one foot.

    ``acc_mps2`` is specific force (gravity included) and ``gyr_rps`` angular rate, both (n, 3) in the sensor
    frame; ``t_s`` is (n,) seconds since the first sample.
    """

    t_s: np.ndarray
    acc_mps2: np.ndarray
    gyr_rps: np.ndarray
    sample_rate_hz: float
    placement: str = "unknown"
    side: str = "unknown"
    activity: str = "unknown"
    ground_truth: GroundTruth = dataclasses.field(default_factory=GroundTruth)
    source: dict[str, Any] = dataclasses.field(default_factory=dict)
    notes: str = ""
    name: str = ""
    #: what loading found and repaired (gaps interpolated, ...), in words
    warnings: list[str] = dataclasses.field(default_factory=list)

    @property
    def duration_s(self) -> float:
        return float(self.t_s[-1] - self.t_s[0]) if len(self.t_s) else 0.0

    def __len__(self) -> int:
        return len(self.t_s)


def _sidecar_path(csv_path: Path) -> Path:
    return csv_path.with_suffix(".json")


def load_recording(path: str | Path) -> Recording:
    """Read ``<stem>.csv`` and its ``<stem>.json`` sidecar."""
    csv_path = Path(path)
    if csv_path.suffix != ".csv":
        csv_path = csv_path.with_suffix(".csv")
    if not csv_path.exists():
        raise RecordingError(f"{csv_path}: no such file")
    meta: dict[str, Any] = {}
    side_path = _sidecar_path(csv_path)
    if side_path.exists():
        try:
            meta = json.loads(side_path.read_text())
        except json.JSONDecodeError as exc:
            raise RecordingError(f"{side_path}: not valid JSON ({exc})") from None
    with csv_path.open() as fh:
        header = fh.readline().strip().split(",")
    if tuple(header) != CSV_COLUMNS:
        raise RecordingError(f"{csv_path}: expected header {','.join(CSV_COLUMNS)}, found {','.join(header)}")
    data = np.loadtxt(csv_path, delimiter=",", skiprows=1, ndmin=2)
    if data.shape[0] < 2:
        raise RecordingError(f"{csv_path}: too short ({data.shape[0]} samples)")
    t = data[:, 0] - data[0, 0]
    rate = meta.get("sample_rate_hz") or float(1.0 / np.median(np.diff(t)))
    gt = meta.get("ground_truth") or {}
    strides = gt.get("strides")
    traj = None
    if gt.get("trajectory"):
        traj_path = csv_path.parent / gt["trajectory"]
        if traj_path.exists():
            traj = np.loadtxt(traj_path, delimiter=",", skiprows=1, ndmin=2)
    known = {"distance_m", "distance_source", "steps", "strides", "trajectory"}
    truth = GroundTruth(
        distance_m=gt.get("distance_m"),
        distance_source=gt.get("distance_source"),
        steps=gt.get("steps"),
        strides=(
            np.array([[s["t_start_s"], s["t_end_s"], s["length_m"]] for s in strides], dtype=float)
            if strides
            else None
        ),
        trajectory=traj,
        extra={k: v for k, v in gt.items() if k not in known},
    )
    return Recording(
        t_s=t,
        acc_mps2=np.ascontiguousarray(data[:, 1:4]),
        gyr_rps=np.ascontiguousarray(data[:, 4:7]),
        sample_rate_hz=float(rate),
        placement=meta.get("placement", "unknown"),
        side=meta.get("side", "unknown"),
        activity=meta.get("activity", "unknown"),
        ground_truth=truth,
        source=meta.get("source") or {},
        notes=meta.get("notes", ""),
        name=csv_path.stem,
    )


def save_recording(recording: Recording, path: str | Path) -> Path:
    """Write ``<stem>.csv`` and ``<stem>.json`` (and ``<stem>.gt.csv`` when a trajectory is known)."""
    csv_path = Path(path).with_suffix(".csv")
    csv_path.parent.mkdir(parents=True, exist_ok=True)
    table = np.column_stack([recording.t_s, recording.acc_mps2, recording.gyr_rps])
    np.savetxt(csv_path, table, delimiter=",", header=",".join(CSV_COLUMNS), comments="", fmt="%.6f")
    gt = recording.ground_truth
    traj_name = None
    if gt.trajectory is not None:
        traj_name = csv_path.stem + ".gt.csv"
        np.savetxt(csv_path.parent / traj_name, gt.trajectory, delimiter=",", header="t,x,y,z", comments="", fmt="%.6f")
    meta = {
        "sample_rate_hz": recording.sample_rate_hz,
        "placement": recording.placement,
        "side": recording.side,
        "activity": recording.activity,
        "ground_truth": {
            "distance_m": gt.distance_m,
            "distance_source": gt.distance_source,
            "steps": gt.steps,
            "strides": (
                [{"t_start_s": float(a), "t_end_s": float(b), "length_m": float(c)} for a, b, c in gt.strides]
                if gt.strides is not None
                else None
            ),
            "trajectory": traj_name,
            **gt.extra,
        },
        "source": recording.source,
        "notes": recording.notes,
    }
    _sidecar_path(csv_path).write_text(json.dumps(meta, indent=1))
    return csv_path
