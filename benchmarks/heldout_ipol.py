"""The engine on a wireless module that drops packets: C. Voisard's IPOL walks with an Xsens MTw Awinda on each foot.

github.com/CyrilVoisard/ipol_dataset_1 (``GaitData``): 110 trials of healthy adults standing, walking 10 m, turning
round and walking back, at 100 Hz, each step's start and end annotated per foot. The modules lose packets for
40-170 ms at a time, many times in a trial. No distance was measured, so this scores what can be: per foot, our
strides against the annotated steps (``strides - steps``: 0 or +1 where every step is found; the U-turn's shuffles
may add one or two), and the distance of the 2 x 10 m walk with its turn (about 20-23 m where nothing is lost).
Trials the loader refuses are listed with its reason. Usage, with a clone or mirror of the repository::

    .venv/bin/python benchmarks/heldout_ipol.py PATH/TO/REPO
"""

from __future__ import annotations

import argparse
import io
import json
import subprocess
import tempfile
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

from soleware.gait import GaitAnalysis, RecordingError, load_recording

RATE_HZ = 100.0


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, check=True).stdout


def convert(repo: Path, out: Path) -> list[tuple[Path, int]]:
    """Each foot of each trial as ``<trial>_<lf|rf>.csv`` (time from the packet counter); with its steps."""
    names = _git(repo, "ls-tree", "-r", "--name-only", "HEAD", "GaitData").split()
    done = []
    for meta_name in sorted(n for n in names if n.endswith(".json")):
        meta = json.loads(_git(repo, "show", f"HEAD:{meta_name}"))
        for foot, events in (("lf", "LeftFootEvents"), ("rf", "RightFootEvents")):
            rows = np.loadtxt(
                io.StringIO(_git(repo, "show", f"HEAD:{meta_name[:-5]}_{foot}.txt")), skiprows=2
            )
            t = (rows[:, 0] - rows[0, 0]) / RATE_HZ
            path = out / f"{Path(meta_name).stem}_{foot}.csv"
            np.savetxt(
                path,
                np.column_stack([t, rows[:, 1:7]]),
                delimiter=",",
                header="t,ax,ay,az,gx,gy,gz",
                comments="",
                fmt="%.9g",
            )
            done.append((path, len(meta[events])))
    return done


def score(item: tuple[Path, int]) -> tuple[str, int, int, float, str]:
    path, steps = item
    try:
        ga = GaitAnalysis().analyze(load_recording(path))
    except RecordingError as exc:
        return path.stem, -1, steps, 0.0, str(exc)
    return path.stem, len(ga.strides_), steps, ga.summary_.distance_m, ""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("repo", type=Path, help="clone or mirror of CyrilVoisard/ipol_dataset_1")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        items = convert(args.repo, Path(tmp))
        with ProcessPoolExecutor() as pool:
            results = list(pool.map(score, items))
    refused = [r for r in results if r[1] < 0]
    scored = [r for r in results if r[1] >= 0]
    extra = Counter(found - steps for _, found, steps, _, _ in scored)
    dist = np.array([d for *_, d, _ in scored])
    print(f"{len(results)} feet ({len(results) // 2} trials), {len(refused)} refused by the loader:")
    for name, *_, why in refused:
        print(f"  {name}: {why}")
    print("strides - annotated steps: " + ", ".join(f"{k:+d}: {extra[k]}" for k in sorted(extra)))
    print(
        f"distance of the walk: median {np.median(dist):.1f} m, 5th-95th percentile {np.percentile(dist, 5):.1f}-"
        f"{np.percentile(dist, 95):.1f} m, least {dist.min():.1f} m ({min(scored, key=lambda r: r[3])[0]})"
    )


if __name__ == "__main__":
    main()
