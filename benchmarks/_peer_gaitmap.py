"""gaitmap's standard trajectory pipeline on recordings handed over by ``gaitmap_compare.py``.

Runs in ``.venv-peers`` (made by ``scripts/peers``), never in our venv: it imports only gaitmap, numpy, pandas.
Input: a JSON list of ``.npz`` files (``t_s``, ``acc_mps2``, ``gyr_rps``, ``sample_rate_hz``, ``segments``: the
samples exactly as our loader delivers them to our engine). Output on stdout: one JSON object per file with the
footfall-to-footfall strides (times and horizontal lengths), the footfall positions and the CPU time of the
analysis; a first line with the CPU time of compiling gaitmap's numba kernels, a last line with the process's peak
memory.

The pipeline, per gaitmap's documentation and examples:

1. gyroscope in deg/s (gaitmap's unit), accelerometer in m/s²;
2. ``align_dataset_to_gravity`` (static windows, default parameters) so the sensor z axis points up at rest;
3. per continuous segment (an "integration region", as ``RegionLevelTrajectory`` runs it): the initial orientation
   from gravity over the first samples (``align_window_width`` = 8, as ``RegionLevelTrajectory``), then
   ``RtsKalman()`` with its defaults, including its default ``NormZuptDetector``;
4. footfalls at the midpoints of the detected ZUPT regions; a stride is footfall to footfall, its length the
   horizontal distance between the two positions.

``RtsKalman`` is used directly instead of through ``RegionLevelTrajectory`` only because the wrapper does not
expose the detected ZUPTs; the computation is the same.
"""

from __future__ import annotations

import json
import resource
import sys
import time
import warnings

import numpy as np
import pandas as pd
from gaitmap.preprocessing import align_dataset_to_gravity
from gaitmap.trajectory_reconstruction import RtsKalman
from gaitmap.utils.consts import SF_ACC, SF_COLS
from gaitmap.utils.rotations import get_gravity_rotation

ALIGN_WINDOW_WIDTH = 8  # RegionLevelTrajectory's default


def sensor_frame(acc_mps2: np.ndarray, gyr_rps: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame(np.column_stack([acc_mps2, np.rad2deg(gyr_rps)]), columns=SF_COLS)


def segment_strides(
    data: pd.DataFrame, t_s: np.ndarray, fs: float
) -> tuple[list[list[float]], int, list[list[float]]]:
    """Strides (t_start_s, t_end_s, length_m) of one continuous segment, the number of ZUPT regions, and the
    footfall positions (x, y in m)."""
    half = ALIGN_WINDOW_WIDTH // 2
    init = get_gravity_rotation(data[SF_ACC].iloc[0 : half + 1].median().to_numpy())
    kf = RtsKalman(initial_orientation=init).estimate(data, sampling_rate_hz=fs)
    zupts = kf.zupts_[["start", "end"]].to_numpy(dtype=np.int64)
    if len(zupts) < 2:
        return [], len(zupts), []
    mid = np.clip((zupts[:, 0] + zupts[:, 1]) // 2, 0, len(data) - 1)
    # position_ holds len(data) + 1 rows: the initial state, then the state after each sample
    pos = kf.position_[["pos_x", "pos_y"]].to_numpy()[mid + 1]
    length = np.hypot(*np.diff(pos, axis=0).T)
    strides = [
        [float(t_s[a]), float(t_s[b]), float(d)] for a, b, d in zip(mid[:-1], mid[1:], length, strict=True)
    ]
    return strides, len(zupts), pos.tolist()


def analyse(path: str) -> dict:
    z = np.load(path)
    t_s, fs = z["t_s"], float(z["sample_rate_hz"])
    out: dict = {"path": path}
    cpu0 = time.process_time()
    try:
        data = sensor_frame(z["acc_mps2"], z["gyr_rps"])
        try:
            data = align_dataset_to_gravity(data, sampling_rate_hz=fs)
            out["aligned"] = True
        except ValueError as exc:  # no static window at the default threshold
            out["aligned"] = False
            out["align_error"] = str(exc)[:120]
        strides: list[list[float]] = []
        footfalls: list[list[list[float]]] = []
        n_zupts = 0
        for lo, hi in z["segments"]:
            if hi - lo < ALIGN_WINDOW_WIDTH + 2:
                continue
            s, n, f = segment_strides(data.iloc[lo:hi].reset_index(drop=True), t_s[lo:hi], fs)
            strides += s
            n_zupts += n
            if s:
                footfalls.append(f)
        # footfall positions are in one frame only within a segment
        out.update(
            strides=strides,
            zupts=n_zupts,
            footfalls_xy=footfalls[0] if len(footfalls) == 1 else None,
            ok=True,
        )
    except Exception as exc:  # reported, never hidden: the caller counts failed files
        out.update(strides=[], ok=False, error=f"{type(exc).__name__}: {str(exc)[:200]}")
    out["cpu_s"] = time.process_time() - cpu0
    out["samples"] = len(t_s)
    return out


def warm_up() -> float:
    """Compile gaitmap's numba kernels once (on synthetic data) so no file pays for it; returns the CPU time."""
    cpu0 = time.process_time()
    fs = 200.0
    n = 2000
    rng = np.random.default_rng(0)
    acc = np.tile([0.0, 0.0, 9.81], (n, 1)) + 0.05 * rng.standard_normal((n, 3))
    gyr = 0.01 * rng.standard_normal((n, 3))
    gyr[800:1000, 1] += 5.0
    data = align_dataset_to_gravity(sensor_frame(acc, gyr), sampling_rate_hz=fs)
    segment_strides(data, np.arange(n) / fs, fs)
    return time.process_time() - cpu0


def main() -> None:
    paths = json.loads(sys.stdin.read())
    warnings.simplefilter("ignore")
    print(json.dumps({"warm_up_cpu_s": warm_up()}), flush=True)
    for path in paths:
        print(json.dumps(analyse(path)), flush=True)
    print(json.dumps({"peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}), flush=True)


if __name__ == "__main__":
    main()
