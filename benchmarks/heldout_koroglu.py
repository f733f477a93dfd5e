"""The engine on real recordings kept out of ``../shared/datasets``: the rest of M.T. Koroglu's public dataset.

``../shared/datasets`` holds part of the recordings of github.com/mtahakoroglu/gait-driven-inertial-navigation-dataset
(PyShoe VICON trials, Koroglu's footprint-measured walks and corridor loops); the others were kept aside for an
independent check. This script converts every recording of that repository with a ground truth the datasets do not
already hold, the way the datasets' READMEs describe, and scores them with ``soleware eval``'s rules:

- PyShoe VICON trials with Koroglu's stride annotation (``LLIO_training_data/*_strideIndex_timestamp_gcpX_gcpY.csv``):
  strides from the annotated stride indices, lengths between the VICON positions there;
- footprint walks (``data/own``, same annotation file, lengths between the measured footprints);
- corridor loops (``data/own_obsolete``) whose corner points are flagged correct (``GCP_exist_and_correct``).

Nothing here is tuned: the engine runs with its one parameter set. Usage, with a clone of the repository (any
commit that has these files, e.g. b3b804e)::

    .venv/bin/python benchmarks/heldout_koroglu.py PATH/TO/gait-driven-inertial-navigation-dataset [--out DIR]
"""

from __future__ import annotations

import argparse
import io
import json
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import scipy.io

from soleware.gait import GRAVITY_MPS2, GaitAnalysis, StreamingGaitAnalysis, load_recording
from soleware.gait.evaluation import evaluate_folder

DATASETS = Path(__file__).resolve().parents[2] / "shared" / "datasets"

GAIT = ("walk", "run", "mixed")


class Repo:
    """Files of a git checkout (or bare mirror) at HEAD."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.files = subprocess.run(
            ["git", "-C", str(path), "ls-tree", "-r", "--name-only", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()

    def read(self, name: str) -> bytes:
        return subprocess.run(
            ["git", "-C", str(self.path), "show", f"HEAD:{name}"], capture_output=True, check=True
        ).stdout


def _write(out: Path, stem: str, t, acc, gyr, meta: dict, trajectory=None) -> None:
    out.mkdir(parents=True, exist_ok=True)
    t = np.asarray(t, dtype=float) - t[0]
    table = np.column_stack([t, acc, gyr])
    np.savetxt(
        out / f"{stem}.csv", table, delimiter=",", header="t,ax,ay,az,gx,gy,gz", comments="", fmt="%.9g"
    )
    if trajectory is not None:
        np.savetxt(
            out / f"{stem}.gt.csv",
            np.column_stack([t, trajectory]),
            delimiter=",",
            header="t,x,y,z",
            comments="",
            fmt="%.9g",
        )
        meta["ground_truth"]["trajectory"] = f"{stem}.gt.csv"
    meta["sample_rate_hz"] = round((len(t) - 1) / t[-1], 3)
    (out / f"{stem}.json").write_text(json.dumps(meta, indent=1))


def _annotated_strides(repo: Repo, name: str, t0_s: float) -> list[dict]:
    rows = np.loadtxt(
        io.BytesIO(repo.read(f"data/LLIO_training_data/{name}_strideIndex_timestamp_gcpX_gcpY.csv")),
        delimiter=",",
        skiprows=1,
    )
    t, xy = rows[:, 1] - t0_s, rows[:, 2:4]
    length = np.hypot(*np.diff(xy, axis=0).T)
    return [
        {"t_start_s": float(t[i]), "t_end_s": float(t[i + 1]), "length_m": float(length[i])}
        for i in range(len(length))
    ]


def _activity(acc_mps2: np.ndarray, strides: list[dict]) -> str:
    """The datasets' heuristic: running is p99 |acc| >= 4 g and a median stride under 0.9 s."""
    p99_g = np.percentile(np.linalg.norm(acc_mps2, axis=1), 99) / GRAVITY_MPS2
    median_s = np.median([s["t_end_s"] - s["t_start_s"] for s in strides]) if strides else np.inf
    return "run" if p99_g >= 4 and median_s < 0.9 else "walk"


def _meta(activity: str, source: str, *, strides=None, distance_m=None, notes="", placement="instep") -> dict:
    return {
        "placement": placement,
        "side": "unknown",
        "activity": activity,
        "ground_truth": {
            "distance_m": distance_m if distance_m is not None else sum(s["length_m"] for s in strides),
            "distance_source": source,
            "steps": None,
            "strides": strides,
        },
        "notes": notes,
    }


def _sensorconnect(repo: Repo, name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A raw SensorConnect csv: time (s), accelerometer (g, or m/s² for the on-board compensated channels), gyro."""
    lines = repo.read(name).decode().splitlines()
    cols = {h.split(":", 1)[-1]: i for i, h in enumerate(lines[0].split(","))}
    data = np.genfromtxt(io.StringIO("\n".join(lines[1:])), delimiter=",")
    if "scaledAccelX" in cols:
        acc = data[:, [cols[f"scaledAccel{a}"] for a in "XYZ"]] * GRAVITY_MPS2
        gyr = data[:, [cols[f"scaledGyro{a}"] for a in "XYZ"]]
    else:
        acc = data[:, [cols[f"estCompensatedAccel{a}"] for a in "XYZ"]]
        gyr = data[:, [cols[f"estAngularRate{a}"] for a in "XYZ"]]
    t = data[:, cols["Time"]]
    ok = np.all(np.isfinite(np.column_stack([t, acc, gyr])), axis=1)
    return t[ok], acc[ok], gyr[ok]


def convert(repo: Repo, out: Path, have: set[str]) -> list[str]:
    """Write every held-out recording with a ground truth below ``out``; returns their stems."""
    done = []
    annotated = {
        f.split("/")[-1].removesuffix("_strideIndex_timestamp_gcpX_gcpY.csv")
        for f in repo.files
        if f.endswith("_strideIndex_timestamp_gcpX_gcpY.csv")
    }
    for f in repo.files:
        stem = f.split("/")[-1].removesuffix(".mat")
        if f.startswith("data/vicon/processed/") and stem in annotated and stem not in have:
            m = scipy.io.loadmat(io.BytesIO(repo.read(f)))
            ts, imu = m["ts"].ravel(), m["imu"]
            strides = _annotated_strides(repo, stem, ts[0])
            meta = _meta(
                _activity(imu[:, :3], strides), "VICON positions at annotated stride ends", strides=strides
            )
            _write(out / "pyshoe_vicon", stem, ts, imu[:, :3], imu[:, 3:6], meta, trajectory=m["gt"])
            done.append(stem)
        elif f.startswith("data/own/") and f.endswith(".csv") and stem.removesuffix(".csv") in annotated:
            stem = stem.removesuffix(".csv")
            if stem in have:
                continue
            t, acc, gyr = _sensorconnect(repo, f)
            strides = _annotated_strides(repo, stem, t[0])
            meta = _meta(_activity(acc, strides), "measured footprints", strides=strides)
            _write(out / "gaitdriven_footprints", stem, t, acc, gyr, meta)
            done.append(stem)
        elif f.startswith("data/own_obsolete/") and f.endswith(".mat") and stem not in have:
            gcp = scipy.io.loadmat(io.BytesIO(repo.read(f)))
            if not gcp["GCP_exist_and_correct"].item():
                continue
            try:
                t, acc, gyr = _sensorconnect(repo, f.removesuffix(".mat") + ".csv")
            except subprocess.CalledProcessError:  # the raw csv is absent (> 4 MiB): Koroglu's extract of it
                z = scipy.io.loadmat(
                    io.BytesIO(repo.read(f"data/LLIO_nontraining_data/{stem}_LLIO_nontraining_data.mat"))
                )
                t, acc, gyr = z["timestamps"].ravel(), z["imu_data"][:, :3], z["imu_data"][:, 3:6]
            numbers, xy = np.squeeze(gcp["GCP_stride_numbers"]), gcp["GCP_meters"]
            points = "; ".join(
                f"stride {int(k)}: ({x:.2f}, {y:.2f})" for k, (x, y) in zip(numbers, xy, strict=True)
            )
            meta = _meta(
                "walk",
                "polyline through measured corner footprints",
                distance_m=float(np.hypot(*np.diff(xy, axis=0).T).sum()),
                notes=f"GCP (x, y in m) by stride number: {points}.",
            )
            _write(out / "gaitdriven_loops", stem, t, acc, gyr, meta)
            done.append(stem)
    return done


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("repo", type=Path, help="clone of mtahakoroglu/gait-driven-inertial-navigation-dataset")
    ap.add_argument(
        "--out", type=Path, help="where to write the converted recordings (default: a temp folder)"
    )
    args = ap.parse_args()
    have = {p.stem for p in DATASETS.glob("*/*.json")}
    with tempfile.TemporaryDirectory() as tmp:
        out = args.out or Path(tmp)
        stems = convert(Repo(args.repo), out, have)
        print(f"{len(stems)} recordings not in {DATASETS}, converted to {out}")
        results = evaluate_folder(out)
        print(
            f"{'recording':24s} {'activity':8s} {'reference':15s} {'dist err %':>10s} {'step err %':>10s} {'RMSE cm':>8s}"
        )
        for r in results:
            rmse = "–" if r.stride_length_rmse_m is None else f"{100 * r.stride_length_rmse_m:.1f}"
            step = "–" if r.step_error_pct is None else f"{r.step_error_pct:+.1f}"
            print(
                f"{r.name:24s} {r.activity:8s} {r.reference_kind or '–':15s} {r.distance_error_pct:>+10.1f} "
                f"{step:>10s} {rmse:>8s}"
            )
        for act in GAIT:
            errs = [abs(r.distance_error_pct) for r in results if r.activity == act]
            rmse = [r.stride_length_rmse_m for r in results if r.activity == act and r.stride_length_rmse_m]
            if errs:
                print(
                    f"{act}: {len(errs)} recordings, median {np.median(errs):.1f} %, worst {max(errs):.1f} %, "
                    f"median stride RMSE {100 * np.median(rmse):.1f} cm"
                )
        agree = [
            streaming_difference(p) for p in sorted(out.glob("*/*.csv")) if not p.name.endswith(".gt.csv")
        ]
        print(
            f"streaming against offline (chunks of 1, 37, 400 samples): worst {100 * max(agree):.3f} %, "
            f"within 0.5 %: {sum(d <= 0.005 for d in agree)} of {len(agree)}"
        )


def streaming_difference(path: Path) -> float:
    """Largest relative distance difference between streaming (several chunk sizes) and offline analysis."""
    rec = load_recording(path)
    offline = GaitAnalysis().analyze(rec).summary_.distance_m
    worst = 0.0
    for chunk in (1, 37, 400):
        stream = StreamingGaitAnalysis(sample_rate_hz=rec.sample_rate_hz)
        stream.feed(rec.t_s, rec.acc_mps2, rec.gyr_rps, chunk=chunk)
        worst = max(worst, abs(sum(s.length_m for s in stream.strides_) / offline - 1))
    return worst


if __name__ == "__main__":
    main()
