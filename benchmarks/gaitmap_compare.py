"""Our gait engine against gaitmap (the field's open-source reference) on the same recordings, in one run.

Every recording of ``../shared/datasets`` with ground truth (the selection of ``evaluate_folder``: per-stride
references, or a distance that is not approximate) is analysed by both engines from the same samples (as our loader
delivers them: gaps filled, long gaps split into segments). Both stride lists are scored with the rules of
``soleware.gait.evaluation.evaluate_recording`` (distance over the referenced span, strides paired by nearest end
time; ``compare_strides``), so the figures are comparable.

gaitmap runs its standard pipeline (gravity alignment, ``RtsKalman`` with its default ZUPT detector over each whole
segment, distance = horizontal footfall-to-footfall distances between ZUPT midpoints; see ``_peer_gaitmap.py``) in
``.venv-peers`` (``scripts/peers`` makes it), in a subprocess. Times are CPU seconds of the analysis alone (no file
reading), both on this machine in this run; gaitmap's one-off numba compilation is excluded and shown apart.

Then the speed of our engine: one hour of one foot at 200 Hz (a real running recording tiled, as
``gait_speed.py``), offline and streamed, with peak memory, each in a fresh process; gaitmap on the same hour.

Usage: .venv/bin/python benchmarks/gaitmap_compare.py [--hours 1] [--no-speed] [--datasets DIR]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from soleware.gait import GaitAnalysis, Recording, StreamingGaitAnalysis, load_recording
from soleware.gait.evaluation import Evaluation, compare_strides, footfalls_xy_m, recordings_with_truth

ROOT = Path(__file__).resolve().parents[1]
DATASETS = ROOT.parent / "shared" / "datasets"
PEER_PYTHON = ROOT / ".venv-peers" / "bin" / "python"
PEER_SCRIPT = Path(__file__).resolve().with_name("_peer_gaitmap.py")
SPEED_FILE = DATASETS / "pyshoe_vicon" / "2017-11-27-11-25-12.csv"
#: gaitmap 2.6.0's standard pipeline as reported in issue #3 (median / worst absolute distance error, %)
ISSUE_GAITMAP_PCT = {"walk": (2.4, None), "run": (31.0, 59.0)}
ACTIVITY_ORDER = ("walk", "run", "mixed", "stairs", "other")
FAST_ENOUGH = 10.0


def run_ours(recs: list[Recording]) -> tuple[list[Evaluation], list[float]]:
    """Our engine on each recording: its evaluation and CPU seconds."""
    GaitAnalysis().analyze(recs[0])  # warm caches, as gaitmap's compilation is excluded too
    scores, cpu = [], []
    for rec in recs:
        c0 = time.process_time()
        ga = GaitAnalysis().analyze(rec)
        cpu.append(time.process_time() - c0)
        scores.append(
            compare_strides(
                rec,
                np.array([s.t_end_s for s in ga.strides_]),
                np.array([s.length_m for s in ga.strides_]),
                footfalls_xy_m=footfalls_xy_m(ga),
            )
        )
    return scores, cpu


def _npz(rec: Recording, path: Path) -> str:
    np.savez(
        path,
        t_s=rec.t_s,
        acc_mps2=rec.acc_mps2,
        gyr_rps=rec.gyr_rps,
        sample_rate_hz=rec.sample_rate_hz,
        segments=np.array(rec.segments, dtype=np.int64).reshape(-1, 2),
    )
    return str(path)


def run_gaitmap(recs: list[Recording], tmp: Path) -> tuple[list[dict], float, float]:
    """gaitmap's pipeline on each recording in the peers venv: per-file results, warm-up CPU s, peak RSS MB."""
    paths = [_npz(rec, tmp / f"{i:03d}.npz") for i, rec in enumerate(recs)]
    proc = subprocess.run(
        [str(PEER_PYTHON), str(PEER_SCRIPT)],
        input=json.dumps(paths),
        capture_output=True,
        text=True,
        check=True,
    )
    lines = [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]
    head, results, tail = lines[0], lines[1:-1], lines[-1]
    return results, head["warm_up_cpu_s"], tail["peak_rss_mb"]


def _tiled(rec: Recording, hours: float) -> Recording:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from gait_speed import tiled

    return tiled(rec, hours)


def our_speed(hours: float) -> dict:
    """Our engine on ``hours`` of tiled running, offline then streamed (run in a fresh process for peak memory)."""
    rec = _tiled(load_recording(SPEED_FILE), hours)
    c0, w0 = time.process_time(), time.perf_counter()
    ga = GaitAnalysis().analyze(rec)
    cpu, wall = time.process_time() - c0, time.perf_counter() - w0
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    stream = StreamingGaitAnalysis(sample_rate_hz=rec.sample_rate_hz)
    c0, w0 = time.process_time(), time.perf_counter()
    stream.feed(rec.t_s, rec.acc_mps2, rec.gyr_rps, chunk=20)
    s_cpu, s_wall = time.process_time() - c0, time.perf_counter() - w0
    return {
        "samples": len(rec),
        "duration_s": rec.duration_s,
        "rate_hz": rec.sample_rate_hz,
        "strides": len(ga.strides_),
        "cpu_s": cpu,
        "wall_s": wall,
        "peak_rss_mb": peak_mb,
        "stream_cpu_s": s_cpu,
        "stream_wall_s": s_wall,
    }


def gaitmap_speed(hours: float, tmp: Path) -> dict:
    rec = _tiled(load_recording(SPEED_FILE), hours)
    path = _npz(rec, tmp / "tiled.npz")
    proc = subprocess.run(
        [str(PEER_PYTHON), str(PEER_SCRIPT)],
        input=json.dumps([path]),
        capture_output=True,
        text=True,
        check=True,
    )
    lines = [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]
    return {**lines[1], "peak_rss_mb": lines[-1]["peak_rss_mb"], "duration_s": rec.duration_s}


# ----------------------------------------------------------------------------------------------------------------
# report


def _fmt(x: float | None, spec: str = ".1f") -> str:
    return "-" if x is None or not np.isfinite(x) else format(x, spec)


def _abs_errors(scores: list[Evaluation]) -> np.ndarray:
    return np.array([abs(s.distance_error_pct) for s in scores if s.distance_error_pct is not None])


def _pooled_rmse(scores: list[Evaluation]) -> float | None:
    e = np.concatenate([s.stride_length_errors_m for s in scores]) if scores else np.zeros(0)
    return float(np.sqrt(np.mean(e**2))) if len(e) else None


def _stat(a: np.ndarray, f) -> float | None:
    return float(f(a)) if len(a) else None


def report(recs: list[Recording], ours: list[Evaluation], ours_cpu: list[float], gm: list[dict]) -> dict:
    gm_ok = [r["ok"] for r in gm]
    gm_scores = [
        compare_strides(
            rec,
            np.array([s[1] for s in r["strides"]]),
            np.array([s[2] for s in r["strides"]]),
            footfalls_xy_m=np.array(r["footfalls_xy"]) if r.get("footfalls_xy") else None,
        )
        for rec, r in zip(recs, gm, strict=True)
    ]
    acts = sorted({r.activity for r in recs}, key=lambda a: (ACTIVITY_ORDER + (a,)).index(a))
    print(
        "distance error = |ours - reference| / reference over the referenced span; stride RMSE pooled over all "
        "reference strides paired (nearest end, < half a stride) with a detected stride"
    )
    head = (
        f"{'activity':<9}{'files':>6}{'gm fail':>8}  {'median |err| %':>15}  {'worst |err| %':>15}  "
        f"{'stride RMSE m':>15}  {'paired strides':>15}  {'CPU s':>13}"
    )
    print(head)
    print(
        f"{'':<9}{'':>6}{'':>8}  {'ours / gaitmap':>15}  {'ours / gaitmap':>15}  {'ours / gaitmap':>15}  "
        f"{'ours / gaitmap':>15}  {'ours / gaitmap':>13}"
    )
    print("-" * len(head))
    summary = {}
    for act in [*acts, "all"]:
        idx = [i for i, r in enumerate(recs) if act in ("all", r.activity)]
        good = [i for i in idx if gm_ok[i]]
        o = [ours[i] for i in good]
        g = [gm_scores[i] for i in good]
        eo, eg = _abs_errors(o), _abs_errors(g)
        row = {
            "files": len(idx),
            "gm_failed": len(idx) - len(good),
            "ours_med": _stat(eo, np.median),
            "gm_med": _stat(eg, np.median),
            "ours_max": _stat(eo, np.max),
            "gm_max": _stat(eg, np.max),
            "ours_rmse": _pooled_rmse(o),
            "gm_rmse": _pooled_rmse(g),
            "ours_cpu": sum(ours_cpu[i] for i in good),
            "gm_cpu": sum(gm[i]["cpu_s"] for i in good),
        }
        summary[act] = row
        n_o = sum(len(s.stride_length_errors_m) for s in o)
        n_g = sum(len(s.stride_length_errors_m) for s in g)
        print(
            f"{act:<9}{row['files']:>6}{row['gm_failed']:>8}  "
            f"{_fmt(row['ours_med']):>6} / {_fmt(row['gm_med']):<6}  "
            f"{_fmt(row['ours_max']):>6} / {_fmt(row['gm_max']):<6}  "
            f"{_fmt(row['ours_rmse'], '.3f'):>6} / {_fmt(row['gm_rmse'], '.3f'):<6}  "
            f"{n_o:>6} / {n_g:<6}  {row['ours_cpu']:>5.2f} / {row['gm_cpu']:<5.2f}".rstrip()
        )
    for act in acts:
        worst = []
        for name, sc in (("ours", ours), ("gaitmap", gm_scores)):
            errs = [
                (abs(sc[i].distance_error_pct), recs[i].name)
                for i, r in enumerate(recs)
                if r.activity == act and gm_ok[i] and sc[i].distance_error_pct is not None
            ]
            if errs:
                e, n = max(errs)
                worst.append(f"{name} {n} ({e:.1f} %)")
        if worst:
            print(f"worst {act}: " + ", ".join(worst))
    failed = [(rec.name, r["error"]) for rec, r in zip(recs, gm, strict=True) if not r["ok"]]
    unaligned = [rec.name for rec, r in zip(recs, gm, strict=True) if r["ok"] and not r.get("aligned")]
    print(f"gaitmap failures: {len(failed)}" + "".join(f"\n  {n}: {e}" for n, e in failed))
    if unaligned:
        print(
            f"gaitmap gravity alignment found no static window (default threshold) in {len(unaligned)} file(s); "
            f"those ran unaligned (the Kalman filter still starts from gravity): {', '.join(unaligned)}"
        )
    for act, (med, worst) in ISSUE_GAITMAP_PCT.items():
        print(
            f"issue #3 figures for gaitmap 2.6.0, {act}: median {med:g} %"
            + (f", worst {worst:g} %" if worst is not None else "")
        )
    return summary


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument(
        "--hours", type=float, default=1.0, help="length of the tiled recording for the speed part"
    )
    ap.add_argument("--no-speed", action="store_true", help="skip the one-hour speed part")
    ap.add_argument(
        "--datasets",
        type=Path,
        default=DATASETS,
        help="recordings to compare on (default: ../shared/datasets)",
    )
    ap.add_argument("--our-speed-json", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.our_speed_json:
        print(json.dumps(our_speed(args.hours)))
        return
    if not PEER_PYTHON.exists():
        sys.exit(f"{PEER_PYTHON} missing: run scripts/peers first")

    t_start = time.perf_counter()
    recs = list(recordings_with_truth(args.datasets))
    print(
        f"{len(recs)} recordings with ground truth, {sum(len(r) for r in recs):,} samples, "
        f"{sum(r.duration_s for r in recs) / 60:.1f} min"
    )
    ours, ours_cpu = run_ours(recs)
    with tempfile.TemporaryDirectory() as tmp:
        gm, warm_cpu, _ = run_gaitmap(recs, Path(tmp))
        peer = subprocess.run(
            [str(PEER_PYTHON), "-c", "import importlib.metadata as m; print(m.version('gaitmap'))"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        print(f"gaitmap {peer} (numba compilation before the first file: {warm_cpu:.1f} s CPU, excluded)\n")
        summary = report(recs, ours, ours_cpu, gm)

        verdicts = []
        run = summary.get("run")
        if run and run["ours_med"] is not None and run["gm_med"] is not None:
            beat = run["ours_med"] < run["gm_med"] and run["ours_max"] < run["gm_max"]
            verdicts.append(
                f"running accuracy, we beat gaitmap: {'YES' if beat else 'NO'} (median {run['ours_med']:.1f} % vs "
                f"{run['gm_med']:.1f} %, worst {run['ours_max']:.1f} % vs {run['gm_max']:.1f} %, stride RMSE "
                f"{_fmt(run['ours_rmse'], '.3f')} m vs {_fmt(run['gm_rmse'], '.3f')} m)"
            )
        tot = summary["all"]
        ratios = {f"the {tot['files'] - tot['gm_failed']} recordings": tot["gm_cpu"] / tot["ours_cpu"]}

        if not args.no_speed:
            out = subprocess.run(
                [sys.executable, __file__, "--our-speed-json", "--hours", str(args.hours)],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
            sp = json.loads(out.splitlines()[-1])
            gs = gaitmap_speed(args.hours, Path(tmp))
            hours = sp["duration_s"] / 3600
            print(
                f"\none foot, {hours:.2f} h at {sp['rate_hz']:.0f} Hz ({sp['samples']:,} samples, tiled "
                f"{SPEED_FILE.name}, running), each engine in a fresh process:"
            )
            print(
                f"  ours offline     {sp['cpu_s']:7.2f} s CPU  {sp['wall_s']:7.2f} s wall  "
                f"{sp['duration_s'] / sp['cpu_s']:7,.0f}x real time (CPU)  peak RSS {sp['peak_rss_mb']:5.0f} MB  "
                f"{sp['strides']:,} strides"
            )
            print(
                f"  ours streaming   {sp['stream_cpu_s']:7.2f} s CPU  {sp['stream_wall_s']:7.2f} s wall  "
                f"{sp['duration_s'] / sp['stream_cpu_s']:7,.0f}x real time (CPU)  (0.1 s chunks)"
            )
            if gs["ok"]:
                print(
                    f"  gaitmap offline  {gs['cpu_s']:7.2f} s CPU  {'':>14}  "
                    f"{gs['duration_s'] / gs['cpu_s']:7,.0f}x real time (CPU)  peak RSS {gs['peak_rss_mb']:5.0f} MB  "
                    f"{len(gs['strides']):,} strides"
                )
                ratios[f"one continuous {hours:.1f} h"] = gs["cpu_s"] / sp["cpu_s"]
            else:
                print(f"  gaitmap offline  failed: {gs['error']}")

        fast = all(r >= FAST_ENOUGH for r in ratios.values())
        verdicts.append(
            f">= {FAST_ENOUGH:g}x faster than gaitmap (CPU, same machine, same run): {'YES' if fast else 'NO'} ("
            + ", ".join(f"{r:.1f}x on {what}" for what, r in ratios.items())
            + ")"
        )
        print("\nverdict")
        for v in verdicts:
            print(f"  {v}")
    print(f"\nbenchmark took {time.perf_counter() - t_start:.0f} s wall")


if __name__ == "__main__":
    main()
