"""How fast is the flash run log, and how much flash does a marathon take?

Logs a marathon-sized run (20,000 strides of one foot) into a 4 MiB image (in memory, and as a memory-mapped
file), then reads it back the way the phone syncs (windows of 32 records + ack), then reopens (mount/recovery).
Usage: .venv/bin/python benchmarks/runlog_speed.py [--strides 20000] [--window 32]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from soleware.gait import Gait, StrikeType
from soleware.gait import Stride as GaitStride
from soleware.shoe.runlog import FileFlash, Flash, MemoryFlash, RunEnd, RunLog, RunStart, Stride


def log_run(flash: Flash, strides: int) -> tuple[RunLog, float]:
    log = RunLog.open(flash)
    t0 = time.perf_counter()
    log.start_run(start_unix_ms=1_733_000_000_000, side="left", firmware="bench", calibration=1.01)
    for i in range(strides):
        stride = GaitStride(
            t_start_s=0.72 * i,
            t_end_s=0.72 * (i + 1),
            length_m=2.1 + 0.001 * (i % 50),
            speed_mps=2.95,
            cadence_spm=168.0,
            contact_time_s=0.235,
            flight_time_s=0.105,
            strike_angle_deg=6.5,
            strike_type=StrikeType.REARFOOT,
            impact_mps2=110.0,
            gait=Gait.RUN,
        )
        ok = log.append_stride(stride)
        assert ok, "log full"
    log.end_run(distance_m=42_195.0, moving_s=0.72 * strides, elapsed_s=0.75 * strides)
    return log, time.perf_counter() - t0


def sync(log: RunLog, window: int) -> tuple[int, float]:
    t0 = time.perf_counter()
    seq, n = 1, 0
    while batch := log.read_from(seq, window):
        n += len(batch)
        seq = batch[-1].seq + 1
    return n, time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--strides", type=int, default=20_000)
    ap.add_argument("--window", type=int, default=32)
    args = ap.parse_args()
    n = args.strides
    size = RunStart.frame_size() + n * Stride.frame_size() + RunEnd.frame_size()

    flash = MemoryFlash(4 << 20)
    log, dt = log_run(flash, n)
    st = log.stats
    print(
        f"record sizes       stride {Stride.frame_size()} B, run start {RunStart.frame_size()} B, run end {RunEnd.frame_size()} B"
    )
    print(
        f"marathon           {n:,} strides = {size:,} B of records, {st.used_bytes:,} B of flash incl. page headers"
    )
    print(f"                   {st.used_bytes / st.capacity_bytes:.1%} of {st.capacity_bytes / 2**20:.0f} MiB; "
          f"{st.capacity_bytes // st.used_bytes} such runs fit unsynced")  # fmt: skip
    print(f"append (memory)    {n / dt:,.0f} strides/s ({dt * 1e6 / n:.1f} us each)")

    got, dt = sync(log, args.window)
    print(
        f"read back          {got / dt:,.0f} records/s in windows of {args.window} ({dt:.2f} s for {got:,})"
    )
    t0 = time.perf_counter()
    log.ack(log.next_seq - 1)
    print(f"ack                {(time.perf_counter() - t0) * 1e3:.2f} ms")

    t0 = time.perf_counter()
    again = RunLog.open(flash)
    dt = time.perf_counter() - t0
    assert again.next_seq == log.next_seq
    print(f"mount (recovery)   {dt * 1e3:.0f} ms for a 4 MiB image holding {got:,} records")

    with tempfile.TemporaryDirectory() as d:
        with FileFlash.create(Path(d) / "shoe.img", 4 << 20) as ff:
            _, dt = log_run(ff, n)
        print(f"append (mmap file) {n / dt:,.0f} strides/s")


if __name__ == "__main__":
    main()
