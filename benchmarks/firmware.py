"""Firmware: per-sample cost, state size, speed against real time, and distance against the offline engine.

.venv/bin/python benchmarks/firmware.py [--files N]
"""

from __future__ import annotations

import argparse
import time
import tracemalloc
from pathlib import Path

import numpy as np

from soleware.gait.pipeline import GaitAnalysis
from soleware.gait.recording import load_recording
from soleware.gait.streaming import StreamingGaitAnalysis
from soleware.shoe.firmware import Firmware, StrideEvent
from soleware.shoe.runlog import MemoryFlash, RunLog

DATASETS = Path(__file__).resolve().parents[2] / "shared" / "datasets"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--files", type=int, default=0, help="limit the number of recordings (0 = all)")
    args = ap.parse_args()
    paths = sorted(p for p in DATASETS.glob("*/*.csv") if not p.name.endswith(".gt.csv"))
    if args.files:
        paths = paths[: args.files]
    rows, total_samples, total_s, total_cpu, peak_state = [], 0, 0.0, 0.0, 0
    step_cost = []
    for path in paths:
        rec = load_recording(path)
        offline = GaitAnalysis().analyze(rec).summary_.distance_m
        fw = Firmware(
            side="left", sample_rate_hz=rec.sample_rate_hz, run_log=RunLog.open(MemoryFlash()), auto_end_s=600
        )
        t0 = time.process_time()
        events = []
        state = 0
        for i in range(len(rec.t_s)):
            a = time.perf_counter_ns()
            events += fw.step(float(rec.t_s[i]), rec.acc_mps2[i], rec.gyr_rps[i])
            step_cost.append(time.perf_counter_ns() - a)
            if i % 500 == 0:
                state = max(state, fw.state_bytes())
        events += fw.finish()
        cpu = time.process_time() - t0
        d = sum(e.stride.length_m for e in events if isinstance(e, StrideEvent))
        err = (d / offline - 1) * 100 if offline > 0 else 0.0
        rows.append((path.parent.name, path.stem, rec.activity, offline, d, err))
        total_samples += len(rec.t_s)
        total_s += rec.duration_s
        total_cpu += cpu
        peak_state = max(peak_state, state)
    print(f"{'dataset':22} {'recording':34} {'activity':8} {'offline m':>9} {'firmware m':>10} {'diff':>7}")
    for ds, name, act, off, d, err in rows:
        print(f"{ds:22} {name[:34]:34} {act:8} {off:9.1f} {d:10.1f} {err:+6.2f}%")
    errs = np.abs([r[5] for r in rows])
    wr = np.abs([r[5] for r in rows if r[2] in ("walk", "run", "mixed")])
    cost = np.array(step_cost) / 1000.0
    print()
    print(
        f"recordings {len(rows)}: |firmware - offline| median {np.median(errs):.2f}%, within 1%: {np.mean(errs <= 1):.0%}"
    )
    print(
        f"walk/run/mixed {len(wr)}: median {np.median(wr):.2f}%, within 1%: {np.mean(wr <= 1):.0%}, max {wr.max():.2f}%"
    )
    print(
        f"speed: {total_s:.0f} s of recordings in {total_cpu:.1f} s CPU = {total_s / total_cpu:.0f}x real time (one core)"
    )
    print(
        f"per-sample cost: mean {cost.mean():.1f} us, median {np.median(cost):.1f} us, p99 {np.percentile(cost, 99):.0f} us, "
        f"max {cost.max() / 1000:.1f} ms (the engine's window analysis every "
        f"{StreamingGaitAnalysis(sample_rate_hz=200.0).step_s:g} s)"
    )
    print(f"state: peak {peak_state / 1024:.0f} KiB (FIFO + engine window + current stride)")
    tracemalloc.start()
    rec = load_recording(paths[0])
    fw = Firmware(side="left", sample_rate_hz=rec.sample_rate_hz)
    for _ in fw.feed(rec.t_s, rec.acc_mps2, rec.gyr_rps):
        pass
    print(
        f"python heap peak while replaying {paths[0].name}: {tracemalloc.get_traced_memory()[1] / 1e6:.1f} MB"
    )


if __name__ == "__main__":
    main()
