"""How fast is the offline gait engine, and how much memory does it take?

One hour of one foot at 200 Hz, made by repeating a real running recording (PyShoe VICON trial) end to end,
analysed on one core. Prints wall time, real-time factor and peak resident memory.
Usage: .venv/bin/python benchmarks/gait_speed.py [--hours 1]
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from soleware.gait import GaitAnalysis, Recording, StreamingGaitAnalysis, load_recording

DATA = (
    Path(__file__).resolve().parents[1].parent
    / "shared"
    / "datasets"
    / "pyshoe_vicon"
    / "2017-11-27-11-25-12.csv"
)


def tiled(rec: Recording, hours: float) -> Recording:
    reps = int(np.ceil(hours * 3600 / rec.duration_s))
    dt = float(np.median(np.diff(rec.t_s)))
    t = np.concatenate([rec.t_s + i * (rec.duration_s + dt) for i in range(reps)])
    return Recording(
        t_s=t,
        acc_mps2=np.tile(rec.acc_mps2, (reps, 1)),
        gyr_rps=np.tile(rec.gyr_rps, (reps, 1)),
        sample_rate_hz=rec.sample_rate_hz,
        name="tiled",
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--hours", type=float, default=1.0)
    ap.add_argument("--marathon-hours", type=float, default=4.0, help="length of the memory run (0: skip)")
    ap.add_argument("--offline-only", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    rec = tiled(load_recording(DATA), args.hours)
    t0 = time.perf_counter()
    ga = GaitAnalysis().analyze(rec)
    wall = time.perf_counter() - t0
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"samples            {len(rec):,} ({rec.duration_s / 3600:.2f} h at {rec.sample_rate_hz:.0f} Hz)")
    print(f"strides            {len(ga.strides_):,}")
    print(f"offline analysis   {wall:.2f} s wall  ({rec.duration_s / wall:,.0f}x real time)")
    print(f"peak memory (RSS)  {peak_mb:.0f} MB (the recording itself included)")
    if args.offline_only:
        return
    stream = StreamingGaitAnalysis(sample_rate_hz=rec.sample_rate_hz)
    t0 = time.perf_counter()
    stream.feed(rec.t_s, rec.acc_mps2, rec.gyr_rps, chunk=20)
    wall = time.perf_counter() - t0
    d_off = ga.summary_.distance_m
    d_str = sum(s.length_m for s in stream.strides_)
    print(f"streaming (0.1 s chunks) {wall:.2f} s wall  ({rec.duration_s / wall:,.0f}x real time)")
    print(f"streaming vs offline distance {100 * (d_str - d_off) / d_off:+.2f} %")
    if args.marathon_hours > 0:
        out = subprocess.run(
            [sys.executable, __file__, "--hours", str(args.marathon_hours), "--offline-only"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        print(f"\nmarathon-length run ({args.marathon_hours:g} h, fresh process):")
        print("\n".join("  " + line for line in out.splitlines()))


if __name__ == "__main__":
    main()
