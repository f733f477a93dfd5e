"""Accuracy outside the lab (issue 17): clipped chips, low rates, any mounting, one parameter set.

Two parts, each an error table by speed band (walk < 2.5 m/s, jog < 4, run < 6, sprint ≥ 6), by stride type and
by chip:

- **real**: every walk/run/mixed recording of ``../shared/datasets`` as recorded, then degraded the way a cheap
  sole chip would record it: accelerometer clipped at ±8 g, gyroscope clipped at ±500 °/s, resampled to 100 and
  50 Hz (each output sample the mean of the input over its period, as a chip's decimation filter does), and all
  of it together; and an accelerometer offset a cheap chip has (each axis N(0, 0.2 m/s²), 20 mg, drawn per
  recording), once as analysed and once with the offset the rests show left in (``acc_offset_deadband_mps2``
  infinite), which is what it cost before; and half a second of samples lost every 20 s (a radio dropping out).
  Distance error against the reference, and the change against the undegraded result (and the recording that
  changed most); where a gap leaves no path to measure between corner points, only the change of the distance
  walked.
- **sim**: the sole simulator (``soleware.shoe.sim``) over speeds, placements, chips, rates and mountings.
- **sweep** (not part of ``both``; a few minutes): the cheap sole chip alone, ±8 g and ±2000 °/s, over every
  running speed, rate from 100 Hz, placement and strike, each case its own mounting tilt (up to 15°) and seed:
  192 cases where the 40 of the matrix hold 10 of that chip; then gyroscopes that clip (±500, ±1000 °/s, and
  ±2000 °/s to compare) on a ±16 g accelerometer, running at 3-8 m/s at every rate, sole and instep: 120 cases;
  then modules that calibrate their output (``SensorModel(factory_calibrated=True)``: the raw reading clips, the
  calibration makes the plateau wobble), ±500 and ±1000 °/s, with and without a 3-sample output filter, from
  100 Hz: 128 cases.

Usage: PYTHONPATH=src .venv/bin/python benchmarks/robustness.py [--part real|sim|both|sweep]
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np

from soleware.gait import GRAVITY_MPS2, GaitAnalysis
from soleware.gait.evaluation import compare_strides, footfalls_xy_m, recordings_with_truth
from soleware.gait.recording import Recording

DATASETS = Path(__file__).resolve().parents[2] / "shared" / "datasets"
GAIT = ("walk", "run", "mixed")
#: speed bands by reference stride speed (m/s): upper bounds
BANDS = (("walk", 2.5), ("jog", 4.0), ("run", 6.0), ("sprint", np.inf))


def clipped(rec: Recording, *, acc_g: float | None = None, gyr_dps: float | None = None) -> Recording:
    """``rec`` as a chip with these full-scale ranges would have recorded it (every axis clipped)."""
    acc, gyr = rec.acc_mps2, rec.gyr_rps
    if acc_g is not None:
        acc = np.clip(acc, -acc_g * GRAVITY_MPS2, acc_g * GRAVITY_MPS2)
    if gyr_dps is not None:
        gyr = np.clip(gyr, -np.radians(gyr_dps), np.radians(gyr_dps))
    return dataclasses.replace(rec, acc_mps2=acc, gyr_rps=gyr, saturated=np.zeros(0, dtype=bool))


def resampled(rec: Recording, rate_hz: float) -> Recording:
    """``rec`` at ``rate_hz``: each new sample is the mean of the input over its period (the input taken as linear
    between its samples), stamped at the period's middle.

    That is a chip's decimation filter averaging its internal samples, at any ratio of the rates. Averaging
    whole input samples instead, by the period a sample's timestamp falls in, would add a sampling jitter of up
    to half an input period where the period's edges meet the samples: a PyShoe trial's timestamps, jittered by
    a tenth of a millisecond, flip samples between neighbouring periods at 100 Hz (its distance moved by up to
    0.9 %); a 204.8 Hz recording gets periods of two samples and some of three (1 % at 200 Hz).
    """
    t = rec.t_s
    period = 1.0 / rate_hz
    t_new = np.arange(t[0] + 0.5 * period, t[-1] - 0.5 * period, period)
    edges = np.r_[t_new - 0.5 * period, t_new[-1] + 0.5 * period]
    x = np.column_stack((rec.acc_mps2, rec.gyr_rps))
    integral = np.vstack((np.zeros((1, 6)), np.cumsum(0.5 * (x[1:] + x[:-1]) * np.diff(t)[:, None], axis=0)))
    at_edges = np.column_stack([np.interp(edges, t, integral[:, k]) for k in range(6)])
    mean = np.diff(at_edges, axis=0) / period
    segments = [
        (int(np.searchsorted(t_new, t[a])), int(np.searchsorted(t_new, t[b - 1], side="right")))
        for a, b in rec.segments
    ]
    return dataclasses.replace(
        rec,
        t_s=t_new,
        acc_mps2=mean[:, :3],
        gyr_rps=mean[:, 3:],
        sample_rate_hz=rate_hz,
        segments=[s for s in segments if s[1] > s[0]],
        saturated=np.zeros(0, dtype=bool),
    )


def offset(rec: Recording, sigma_mps2: float = 0.2) -> Recording:
    """``rec`` with a constant accelerometer offset (sensor frame), each axis N(0, ``sigma_mps2``): a chip's
    zero-g offset (20-60 mg for consumer parts). Drawn from the recording's name, so every run adds the same."""
    rng = np.random.default_rng(zlib.crc32(rec.name.encode()))
    return dataclasses.replace(rec, acc_mps2=rec.acc_mps2 + rng.normal(0.0, sigma_mps2, 3))


def samples_lost(rec: Recording, *, gap_s: float = 0.5, every_s: float = 20.0) -> Recording:
    """``rec`` without the last ``gap_s`` of every ``every_s`` seconds (a radio dropping out), its first 2 s kept:
    longer than the gaps the loader fills, so each splits the recording."""
    t = rec.t_s - rec.t_s[0]
    return rec.kept(((t % every_s) < every_s - gap_s) | (t < 2.0))


#: what is analysed other than by default: the offset left in, as before the rests gave it
UNCORRECTED = "acc offset 20 mg, kept"
CONDITIONS: dict[str, Callable[[Recording], Recording]] = {
    "as recorded": lambda r: r,
    "acc offset 20 mg": offset,
    UNCORRECTED: offset,
    "acc ±8 g": lambda r: clipped(r, acc_g=8),
    "gyr ±500 °/s": lambda r: clipped(r, gyr_dps=500),
    "±8 g ±500 °/s": lambda r: clipped(r, acc_g=8, gyr_dps=500),
    "100 Hz": lambda r: resampled(r, 100.0),
    "50 Hz": lambda r: resampled(r, 50.0),
    "50 Hz ±8 g ±500 °/s": lambda r: clipped(resampled(r, 50.0), acc_g=8, gyr_dps=500),
    "0.5 s lost every 20 s": samples_lost,
}


def per_band(rec: Recording, t_end: np.ndarray, length: np.ndarray) -> dict[str, tuple[float, float]]:
    """Per speed band of the reference strides: (our length, reference length) summed over paired strides."""
    ref = rec.ground_truth.strides
    out: dict[str, tuple[float, float]] = {}
    if ref is None or len(ref) == 0 or len(t_end) == 0:
        return out
    j = np.clip(np.searchsorted(t_end, ref[:, 1]), 0, len(t_end) - 1)
    j0 = np.maximum(j - 1, 0)
    j = np.where(np.abs(t_end[j0] - ref[:, 1]) < np.abs(t_end[j] - ref[:, 1]), j0, j)
    ok = np.abs(t_end[j] - ref[:, 1]) < 0.5 * (ref[:, 1] - ref[:, 0])
    speed = ref[:, 2] / (ref[:, 1] - ref[:, 0])
    lo = 0.0
    for name, hi in BANDS:
        m = ok & (speed >= lo) & (speed < hi)
        if m.any():
            out[name] = (float(length[j[m]].sum()), float(ref[m, 2].sum()))
        lo = hi
    return out


def real_part(folder: Path) -> None:
    recs = [r for r in recordings_with_truth(folder) if r.activity in GAIT]
    print(f"real recordings: {len(recs)} walk/run/mixed from {folder}")
    base: dict[str, tuple[float, int, str | None, float]] = {}
    header = (
        f"{'condition':22s} {'activity':8s} {'n':>3s} {'med err %':>9s} {'worst %':>8s} "
        f"{'med Δ %':>8s} {'worst Δ %':>9s} {'strides lost':>12s}  worst Δ in"
    )
    print(header)
    bands: dict[str, dict[str, list[float]]] = {}
    for cond, make in CONDITIONS.items():
        rows: dict[str, list[tuple[float, float, int]]] = {}
        names: dict[str, list[str]] = {}
        band_sum: dict[str, list[float]] = {}
        for rec in recs:
            r = make(rec)
            kept = {"acc_offset_deadband_mps2": math.inf} if cond == UNCORRECTED else {}
            ga = GaitAnalysis(**kept).analyze(r)
            t_end = np.array([s.t_end_s for s in ga.strides_])
            length = np.array([s.length_m for s in ga.strides_])
            ev = compare_strides(r, t_end, length, footfalls_xy_m=footfalls_xy_m(ga))
            if cond == "as recorded":
                base[rec.name] = (ev.distance_m, ev.strides, ev.reference_kind, ev.walked_m)
            d0, n0, kind, walked = base[rec.name]
            delta = 100.0 * (ev.distance_m - d0) / d0 if d0 else 0.0
            err = ev.distance_error_pct if ev.distance_error_pct is not None else np.nan
            if (
                ev.reference_kind != kind
            ):  # measured corner points, no path to place them on once a gap split it
                err, delta = np.nan, 100.0 * (ev.walked_m - walked) / walked
            rows.setdefault(rec.activity, []).append((err, delta, n0 - ev.strides))
            names.setdefault(rec.activity, []).append(rec.name)
            for b, (ours, ref) in per_band(r, t_end, length).items():
                s = band_sum.setdefault(b, [0.0, 0.0])
                s[0] += ours
                s[1] += ref
        for act in GAIT:
            if act not in rows:
                continue
            a = np.array(rows[act])
            e, d = np.abs(a[:, 0]), np.abs(a[:, 1])
            print(
                f"{cond:22s} {act:8s} {len(a):3d} {np.nanmedian(e):9.2f} {np.nanmax(e):8.2f} "
                f"{np.median(d):8.2f} {d.max():9.2f} {int(np.clip(a[:, 2], 0, None).sum()):12d}  "
                f"{names[act][int(np.argmax(d))] if d.max() > 0 else '–'}"
            )
        bands[cond] = {b: [100.0 * (s[0] / s[1] - 1.0), s[1]] for b, s in band_sum.items()}
    print("\nreal, by speed band of the reference strides (summed length error %, reference m):")
    names = [b for b, _ in BANDS]
    print(f"{'condition':22s} " + " ".join(f"{b:>16s}" for b in names))
    for cond, per in bands.items():
        cells = [f"{per[b][0]:+7.2f} ({per[b][1]:5.0f} m)" if b in per else f"{'–':>16s}" for b in names]
        print(f"{cond:22s} " + " ".join(cells))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--part", choices=("real", "sim", "both", "sweep"), default="both")
    p.add_argument("--datasets", type=Path, default=DATASETS)
    args = p.parse_args()
    if args.part in ("real", "both"):
        real_part(args.datasets)
    if args.part in ("sim", "both"):
        sim_part()
    if args.part == "sweep":
        sweep_part()


#: (stride type, plan, travel deg, turn deg/m); speeds cover walk, jog, run and sprint
MOTIONS = (
    ("forward", "40s walk@1.0m/s", 0.0, 0.0),
    ("forward", "40s walk@1.5m/s", 0.0, 0.0),
    ("forward", "40s run@3.0m/s", 0.0, 0.0),
    ("forward", "40s run@5.0m/s", 0.0, 0.0),
    ("forward", "40s run@6.5m/s", 0.0, 0.0),
    ("forward", "40s run@8.0m/s", 0.0, 0.0),
    ("backward", "40s walk@1.0m/s", 180.0, 0.0),
    ("sideways", "40s walk@0.8m/s", 90.0, 0.0),
    ("turning", "40s walk@1.4m/s", 0.0, 6.0),
    ("turning", "40s run@4.0m/s", 0.0, 2.0),
)
#: chips: accelerometer full scale (g), gyroscope full scale (deg/s), whether values beyond it clip; the last one
#: never clips (what the same motion, mounting and sensor errors cost without any clipping: its 16-bit words span
#: ±16 g and ±2000 °/s like a real chip's, and values beyond them are kept)
CHIPS = ((4, 500, True), (8, 1000, True), (16, 2000, True), (16, 2000, False))
PLACES = ("sole", "heel", "instep", "toe")
RATES = (50.0, 100.0, 200.0, 400.0, 1000.0)
STRIKES = ("rearfoot", "midfoot", "forefoot")
#: the gyroscope sweeps' runs
GYRO_PLANS = ("30s run@3.0m/s", "30s run@5.0m/s", "30s run@6.5m/s", "30s run@8.0m/s")


def sim_cases() -> list[dict]:
    """The matrix: every motion on every chip, placements, rates, strikes and tilts (up to 20°) rotating."""
    rng = np.random.default_rng(17)
    cases = []
    for m, (kind, plan, travel, turn) in enumerate(MOTIONS):
        for c, chip in enumerate(CHIPS):
            k = m * len(CHIPS) + c
            cases.append(
                {
                    "kind": kind,
                    "plan": plan,
                    "travel_deg": travel,
                    "turn_deg_per_m": turn,
                    "chip": chip,
                    "placement": PLACES[(m + c) % len(PLACES)],
                    "rate_hz": RATES[(k // 2) % len(RATES)],
                    "strike": STRIKES[k % len(STRIKES)],
                    "tilt_deg": tuple(float(a) for a in rng.uniform(-20.0, 20.0, 3)),
                    "seed": k,
                }
            )
    return cases


def run_sim_case(case: dict) -> dict:
    """Simulate one case (one foot, the sensor's default noise, bias, scale and axis errors), score the engine."""
    from soleware.shoe.sim import Runner, SensorModel, ShoeSimulator

    acc_g, gyr_dps, clips = case["chip"]
    sensor = SensorModel(
        acc_range_mps2=acc_g * GRAVITY_MPS2,
        gyr_range_rps=float(np.radians(gyr_dps)),
        clip=clips,
        factory_calibrated=case.get("calibrated", False),
        output_filter_samples=case.get("filter", 1),
    )
    sim = ShoeSimulator(
        runner=Runner(strike=case["strike"], run_impact_s=0.01),
        sensor=sensor,
        sample_rate_hz=case["rate_hz"],
        mounting_deg=case["tilt_deg"],
        placement=case["placement"],
        travel_deg=case["travel_deg"],
        turn_deg_per_m=case["turn_deg_per_m"],
        seed=case["seed"],
    ).simulate(case["plan"], sides=("right",))
    rec = sim.recordings_["right"]
    ga = GaitAnalysis().analyze(rec)
    t_end = np.array([s.t_end_s for s in ga.strides_])
    length = np.array([s.length_m for s in ga.strides_])
    ev = compare_strides(rec, t_end, length, footfalls_xy_m=footfalls_xy_m(ga))
    ref = rec.ground_truth.strides
    speed = float(np.median(ref[:, 2] / (ref[:, 1] - ref[:, 0])))
    band = next(name for name, hi in BANDS if speed < hi)
    return {
        **case,
        "band": band,
        "err": float(ev.distance_error_pct or np.nan),
        "missed": int((ev.reference_strides or 0) - ev.strides),
        "clip_mps": float(np.mean([s.clip_recovered_mps for s in ga.strides_])) if ga.strides_ else 0.0,
        "clip_deg": float(np.degrees(np.mean([s.clip_turn_recovered_rad for s in ga.strides_])))
        if ga.strides_
        else 0.0,
        "clipped_pct": 100.0 * float(np.mean(np.abs(rec.acc_mps2) >= 0.999 * acc_g * GRAVITY_MPS2)),
    }


def _table(rows: list[dict], key: str, label: str) -> None:
    print(
        f"\nsim by {label}: {'n':>3s} {'median |err| %':>14s} {'worst |err| %':>13s} {'strides missed':>14s}"
    )
    groups: dict[str, list[dict]] = {}
    for r in rows:
        groups.setdefault(str(r[key]), []).append(r)
    for g, rs in groups.items():
        e = np.abs([r["err"] for r in rs])
        print(
            f"  {g:22s} {len(rs):3d} {np.median(e):14.2f} {np.max(e):13.2f} "
            f"{sum(max(0, r['missed']) for r in rs):14d}"
        )


def sim_part() -> None:
    rows = []
    print(
        f"{'type':9s} {'plan':16s} {'chip':>10s} {'place':7s} {'Hz':>5s} {'strike':9s} {'err %':>7s} "
        f"{'missed':>6s} {'clip rec m/s':>12s} {'turn rec °':>10s}"
    )
    for case in sim_cases():
        r = run_sim_case(case)
        rows.append(r)
        chip = f"±{r['chip'][0]}g/{r['chip'][1]}" if r["chip"][2] else "no clip"
        print(
            f"{r['kind']:9s} {r['plan']:16s} {chip:>10s} {r['placement']:7s} {r['rate_hz']:5.0f} "
            f"{r['strike']:9s} {r['err']:+7.2f} {r['missed']:6d} {r['clip_mps']:12.2f} {r['clip_deg']:10.1f}"
        )
    for r in rows:
        r["chip_name"] = f"±{r['chip'][0]} g, ±{r['chip'][1]} °/s" if r["chip"][2] else "never clips"
    _table(rows, "band", "speed band")
    _table(rows, "kind", "stride type")
    _table(rows, "chip_name", "chip")
    _table(rows, "placement", "placement")
    _table(rows, "rate_hz", "rate")
    for label, sel in (
        ("all chips", rows),
        ("±8 and ±16 g chips", [r for r in rows if r["chip"][0] in (8, 16) and r["chip"][2]]),
    ):
        e = np.abs([r["err"] for r in sel])
        print(
            f"\nsim matrix, {label}: {len(sel)} cases, median |err| {np.median(e):.2f} %, worst {np.max(e):.2f} %"
        )
    sprint = run_sim_case(
        {
            "kind": "forward",
            "plan": "60s run@8.0m/s",
            "travel_deg": 0.0,
            "turn_deg_per_m": 0.0,
            "chip": (16, 2000, True),
            "placement": "sole",
            "rate_hz": 200.0,
            "strike": "forefoot",
            "tilt_deg": (5.0, 10.0, 0.0),
            "seed": 8,
        }
    )
    print(f"sprint 8 m/s, sole, ±16 g: error {sprint['err']:+.2f} %, {sprint['missed']} strides missed")


def sweep_part() -> None:
    """The ±8 g chip over every running speed, rate from 100 Hz, placement and strike."""
    rows = []
    k = 0
    for plan in ("20s run@3.0m/s", "20s run@5.0m/s", "20s run@6.5m/s", "20s run@8.0m/s"):
        for rate in RATES[1:]:
            for place in PLACES:
                for strike in STRIKES:
                    k += 1
                    tilt = tuple(float(a) for a in np.random.default_rng(k).uniform(-15.0, 15.0, 3))
                    case = {
                        "kind": "forward",
                        "plan": plan,
                        "travel_deg": 0.0,
                        "turn_deg_per_m": 0.0,
                        "chip": (8, 2000, True),
                        "placement": place,
                        "rate_hz": rate,
                        "strike": strike,
                        "tilt_deg": tilt,
                        "seed": 100 + k,
                    }
                    rows.append(run_sim_case(case))
    e = np.abs([r["err"] for r in rows])
    print(
        f"sweep, ±8 g ±2000 °/s: {len(rows)} cases, median |err| {np.median(e):.2f} %, 90th percentile "
        f"{np.percentile(e, 90):.2f} %, worst {e.max():.2f} %, over 1.5 %: {int((e > 1.5).sum())}"
    )
    _table(rows, "placement", "placement")
    _table(rows, "plan", "speed")
    _table(rows, "rate_hz", "rate")
    rows = [
        {**_gyro_case(plan, rate, gyr_dps, place, seed), "gyr_range": f"±{gyr_dps} °/s"}
        for plan in GYRO_PLANS
        for rate in RATES
        for gyr_dps in (500, 1000, 2000)
        for place, seed in (("sole", 1), ("instep", 2))
    ]
    e = np.abs([r["err"] for r in rows])
    print(
        f"\nsweep, gyroscopes that clip (±16 g): {len(rows)} cases, median |err| {np.median(e):.2f} %, "
        f"mean {e.mean():.2f} %, worst {e.max():.2f} %"
    )
    _table(rows, "gyr_range", "gyroscope range")
    for gyr in ("±500 °/s", "±1000 °/s"):
        _table([r for r in rows if r["gyr_range"] == gyr], "plan", f"speed, {gyr}")
    rows = [
        {
            **_gyro_case(plan, rate, gyr_dps, place, seed, calibrated=True, filter=filt),
            "module": f"±{gyr_dps} °/s, filter {filt}",
        }
        for plan in GYRO_PLANS
        for rate in RATES[1:]
        for gyr_dps in (500, 1000)
        for filt in (1, 3)
        for place, seed in (("sole", 1), ("instep", 2))
    ]
    e = np.abs([r["err"] for r in rows])
    print(
        f"\nsweep, modules that calibrate their output (soft clipping; ±16 g): {len(rows)} cases, median |err| "
        f"{np.median(e):.2f} %, mean {e.mean():.2f} %, worst {e.max():.2f} %"
    )
    _table(rows, "module", "module")
    for gyr in ("±500 °/s", "±1000 °/s"):
        _table([r for r in rows if r["module"].startswith(gyr)], "plan", f"speed, {gyr}")


def _gyro_case(plan: str, rate: float, gyr_dps: int, place: str, seed: int, **sensor: object) -> dict:
    """One running case of the gyroscope sweeps, scored: a ±16 g chip, its gyroscope ±``gyr_dps``, midfoot, a
    fixed tilt; ``sensor`` adds the case's other sensor keys (``calibrated``, ``filter``)."""
    case = {
        "kind": "forward",
        "plan": plan,
        "travel_deg": 0.0,
        "turn_deg_per_m": 0.0,
        "chip": (16, gyr_dps, True),
        "placement": place,
        "rate_hz": rate,
        "strike": "midfoot",
        "tilt_deg": (5.0, -8.0, 3.0),
        "seed": seed,
        **sensor,
    }
    return run_sim_case(case)


if __name__ == "__main__":
    main()
