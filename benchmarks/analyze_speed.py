"""How long does ``soleware analyze`` of one hour of one foot at 200 Hz take as a whole process?

The recording is made by the simulator (``soleware shoe simulate``, an hour at 5:00/km, left foot; kept in
``--workdir`` for the next run). Each run is a fresh ``python -m soleware.cli analyze FILE``: interpreter start,
imports, reading the CSV and its sidecar, the analysis and printing the summary. Reported: CPU time (user + sys,
from the kernel's accounting of the finished child; what counts on a shared machine) and wall time, median and
range over ``--runs``, and its peak resident memory; then where the CPU time goes inside one process (imports,
reading, analysing). With gaitmap installed by ``scripts/peers``: gaitmap's compute alone on the same samples, and
how many times that is our whole process.

Usage: .venv/bin/python benchmarks/analyze_speed.py [--runs 5] [--hours 1] [--workdir DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

_PHASES = """
import sys, time
c0 = time.process_time()
from soleware.cli import load_commands
load_commands("analyze")
from soleware.gait.pipeline import GaitAnalysis
from soleware.gait.recording import load_recording
c1 = time.process_time()
rec = load_recording(sys.argv[1], with_trajectory=False)
c2 = time.process_time()
ga = GaitAnalysis().analyze(rec)
c3 = time.process_time()
print(c1 - c0, c2 - c1, c3 - c2, len(rec), len(ga.strides_))
"""


def make_recording(workdir: Path, hours: float) -> Path:
    out = workdir / f"analyze_{hours:g}h.csv"
    if not out.exists():
        plan = f"{round(hours * 60)}min@5:00/km"
        cmd = [sys.executable, "-m", "soleware.cli", "shoe", "simulate", "--plan", plan, "--side", "left"]
        subprocess.run([*cmd, "--out", str(out)], check=True, capture_output=True)
    return out


def timed(cmd: list[str]) -> tuple[float, float, float]:
    """CPU seconds (user + sys), wall seconds and peak resident MiB of one run of ``cmd``, its output discarded."""
    w0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - w0
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        raise SystemExit(f"{' '.join(cmd)} failed: {proc.stderr.read().decode() if proc.stderr else ''}")
    return usage.ru_utime + usage.ru_stime, wall, usage.ru_maxrss / 1024


def gaitmap_cpu_s(recording: Path) -> float | None:
    """gaitmap's compute alone (CPU s, numba compilation excluded) on the samples our loader delivers."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from gaitmap_compare import PEER_PYTHON, PEER_SCRIPT, _npz
    from soleware.gait.recording import load_recording

    if not PEER_PYTHON.exists():
        return None
    with tempfile.TemporaryDirectory() as tmp:
        path = _npz(load_recording(recording, with_trajectory=False), Path(tmp) / "rec.npz")
        proc = subprocess.run(
            [str(PEER_PYTHON), str(PEER_SCRIPT)], input=json.dumps([path]), capture_output=True, text=True
        )
    if proc.returncode:
        print(f"gaitmap failed: {proc.stderr.strip().splitlines()[-1:]}")
        return None
    return float(json.loads(proc.stdout.splitlines()[1])["cpu_s"])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--hours", type=float, default=1.0)
    ap.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "soleware-bench")
    args = ap.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    rec = make_recording(args.workdir, args.hours)
    cmd = [sys.executable, "-m", "soleware.cli", "analyze", str(rec)]
    timed(cmd)  # warm-up: the file in the page cache, bytecode compiled
    runs = [timed(cmd) for _ in range(args.runs)]
    cpu, wall, rss = ([r[i] for r in runs] for i in range(3))
    size_mb = rec.stat().st_size / 1e6
    print(
        f"soleware analyze, {args.hours:g} h at 200 Hz ({size_mb:.0f} MB CSV), whole process, {args.runs} runs:"
    )
    print(f"  CPU (user+sys) median {statistics.median(cpu):.2f} s  (min {min(cpu):.2f}, max {max(cpu):.2f})")
    print(
        f"  wall           median {statistics.median(wall):.2f} s  (min {min(wall):.2f}, max {max(wall):.2f})"
    )
    print(f"  peak memory    median {statistics.median(rss):.0f} MiB resident")
    phases = subprocess.run(
        [sys.executable, "-c", _PHASES, str(rec)], capture_output=True, text=True, check=True
    ).stdout.split()
    imp, read, analyse = (float(x) for x in phases[:3])
    print(
        f"  inside one process (CPU s): imports {imp:.2f}, reading {read:.2f}, analysing {analyse:.2f} "
        f"({int(phases[3]):,} samples, {int(phases[4]):,} strides)"
    )
    gm = gaitmap_cpu_s(rec)
    if gm is None:
        print("  gaitmap: not installed (bash scripts/peers), no comparison")
    else:
        print(
            f"  gaitmap's compute alone: {gm:.2f} s CPU = {gm / statistics.median(cpu):.1f}x our whole process, "
            f"{gm / analyse:.1f}x our analysis"
        )


if __name__ == "__main__":
    main()
