"""Does the simulated sole look like a real foot-mounted IMU? Sim vs real recordings of similar speed.

For a walk, a jog and the fastest real running available, the same measures are taken on real recordings
(../shared/datasets) and on the simulator at the real recordings' median speed (measured from their stride
reference): stride duration, peak angular rate in swing, peak specific force at impact, still fraction (the foot
flat and quiet: |ω| < 1 rad/s and |f| within 1.5 m/s² of g), the engine's duty factor (contact / stride) and
how sharply the push-off turns (push_off_turn_rps2: the fall of |ω| over the 10 ms after its peak at toe-off,
the peak searched within 20 ms before the engine's terminal contact; a foot leaving the ground slows its
plantar flexion at once).
Medians over strides, then over recordings. The real data stop at ~2.1 m/s (a 3×3 m motion-capture room).
Usage: .venv/bin/python benchmarks/sim_realism.py
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from soleware.gait.pipeline import GaitAnalysis
from soleware.gait.recording import Recording, load_recording
from soleware.shoe.sim import Runner, SensorModel, ShoeSimulator

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "datasets"
GROUPS = {
    "walk": [
        "pyshoe_vicon/2017-11-22-11-25-20",
        "pyshoe_vicon/2017-11-22-11-30-14",
        "pyshoe_vicon/2017-11-22-11-35-59",
        "gaitdriven_footprints/SensorConnectData_33",
        "gaitdriven_footprints/SensorConnectData_37",
        "gaitmap_example/walk_2x20m_left",
    ],
    "jog": [
        "pyshoe_vicon/2017-11-27-11-25-12",
        "pyshoe_vicon/2017-11-27-11-23-18",
        "pyshoe_vicon/2017-12-15-18-01-51",
    ],
    "run": ["pyshoe_vicon/2017-11-27-11-13-41", "pyshoe_vicon/2017-11-27-11-11-24"],
}
MEASURES = ("stride_s", "swing_peak_rps", "impact_mps2", "still_frac", "duty_engine", "push_off_turn_rps2")


def measures(rec: Recording) -> dict[str, float]:
    """Median per-stride measures of one recording, strides from the gait engine."""
    ga = GaitAnalysis().analyze(rec)
    t = rec.t_s
    w = np.linalg.norm(rec.gyr_rps, axis=1)
    f = np.linalg.norm(rec.acc_mps2, axis=1)
    still = (w < 1.0) & (np.abs(f - 9.81) < 1.5)
    fs = rec.sample_rate_hz
    rows = []
    for s in ga.strides_:
        if s.duration_s > 2.0:
            continue
        a, b = np.searchsorted(t, [s.t_start_s, s.t_end_s])
        tc = int(np.searchsorted(t, s.t_initial_contact_s - s.swing_time_s))
        lo, d = tc - round(0.02 * fs), round(0.01 * fs)
        turn = np.nan
        if lo >= 0 and tc + 2 * d < len(w):
            j = lo + int(np.argmax(w[lo : tc + 1]))
            turn = (w[j] - w[j + d]) / (d / fs)
        rows.append(
            (
                s.duration_s,
                w[a:b].max(),
                f[a:b].max(),
                still[a:b].mean(),
                s.contact_time_s / s.duration_s,
                turn,
            )
        )
    arr = np.array(rows)
    # drop turns and starts: strides far from the recording's typical duration
    keep = np.abs(arr[:, 0] - np.median(arr[:, 0])) < 0.15 * np.median(arr[:, 0])
    return dict(zip(MEASURES, np.nanmedian(arr[keep], axis=0), strict=True))


def real_speed(rec: Recording) -> float:
    st = rec.ground_truth.strides
    return float(np.median(st[:, 2] / (st[:, 1] - st[:, 0])))


def main() -> None:
    print(f"{'':6s} {'source':8s} {'speed':>6s} " + " ".join(f"{m:>15s}" for m in MEASURES))
    for group, stems in GROUPS.items():
        reals = [load_recording(DATA / f"{stem}.csv") for stem in stems if (DATA / f"{stem}.csv").exists()]
        if not reals:
            continue
        speed = float(np.median([real_speed(r) for r in reals]))
        real = {m: float(np.median([measures(r)[m] for r in reals])) for m in MEASURES}
        mode = "walk" if group == "walk" else "run"
        plan = f"1min {mode}@{speed:.2f}m/s"
        sim = ShoeSimulator(runner=Runner(), sensor=SensorModel(), seed=3).simulate(plan, sides=("right",))
        simm = measures(sim.recordings_["right"])
        for name, vals in (("real", real), ("sim", simm)):
            print(f"{group:6s} {name:8s} {speed:6.2f} " + " ".join(f"{vals[m]:15.3f}" for m in MEASURES))
    for v in (3.0, 4.5, 6.5):
        sim = ShoeSimulator(seed=3).simulate(f"1min@{v}m/s", sides=("right",))
        simm = measures(sim.recordings_["right"])
        print(f"{'fast':6s} {'sim':8s} {v:6.2f} " + " ".join(f"{simm[m]:15.3f}" for m in MEASURES))


if __name__ == "__main__":
    main()
