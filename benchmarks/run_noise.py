"""The engine's run-to-run error on real recordings: what the calibration benchmark's noise model rests on.

A runner's calibration removes what is the same from run to run (one device, one mounting, one activity); what is
left is the spread of the signed distance error between recordings of one group once its mean is taken out. Part of
that spread is each stride's own random error, which averages out over a reference run of kilometres: its share in a
recording is sd(stride length error) × √strides / distance. The rest is the per-run part a reference run keeps.

    PYTHONPATH=src .venv/bin/python benchmarks/run_noise.py [FOLDER ...]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from soleware.gait import GaitAnalysis
from soleware.gait.evaluation import compare_strides, footfalls_xy_m, recordings_with_truth

DATASETS = Path(__file__).resolve().parents[2] / "shared" / "datasets"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("folders", nargs="*", type=Path, default=[DATASETS])
    a = p.parse_args()
    groups: dict[tuple[str, str], list[tuple[float, float]]] = {}
    for folder in a.folders:
        for rec in recordings_with_truth(folder):
            if rec.activity not in ("walk", "run"):
                continue
            ga = GaitAnalysis().analyze(rec)
            t_end = np.array([s.t_end_s for s in ga.strides_])
            length = np.array([s.length_m for s in ga.strides_])
            ev = compare_strides(rec, t_end, length, footfalls_xy_m=footfalls_xy_m(ga))
            e = ev.stride_length_errors_m[np.isfinite(ev.stride_length_errors_m)]
            if ev.distance_error_pct is None or not ev.reference_distance_m or e.size < 3:
                continue
            random_pct = 100.0 * float(np.std(e)) * np.sqrt(e.size) / ev.reference_distance_m
            key = (str(rec.source.get("dataset", folder.name))[:28], rec.activity)
            groups.setdefault(key, []).append((ev.distance_error_pct, random_pct))
    print(
        f"{'dataset':28s} {'activity':8s} {'n':>3s} {'mean %':>7s} {'sd %':>6s} {'strides %':>9s} {'per run %':>9s}"
    )
    for (name, act), rows in sorted(groups.items()):
        x = np.array(rows)
        if len(x) < 3:
            continue
        sd = float(np.std(x[:, 0], ddof=1))
        stride_part = float(np.sqrt(np.mean(x[:, 1] ** 2)))
        per_run = float(np.sqrt(max(sd**2 - stride_part**2, 0.0)))
        print(
            f"{name:28s} {act:8s} {len(x):3d} {x[:, 0].mean():+7.2f} {sd:6.2f} {stride_part:9.2f} {per_run:9.2f}"
        )


if __name__ == "__main__":
    main()
