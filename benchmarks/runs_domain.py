"""How long do records, achievements and progress take for a runner with 10,000 runs, and adding one run?

Usage: .venv/bin/python benchmarks/runs_domain.py [--runs 10000]

Builds 10,000 synthetic run summaries of one runner (about one run a day for 27 years, 3-42 km, best efforts from
a noisy pace, two shoe serials per pair, a new pair every 700 km), then times:
- from scratch: personal records, achievements (+ progress on locked ones), weekly/monthly/yearly totals,
  training load, form trends, race prediction and shoe mileage;
- adding one run incrementally to records and achievements, including loading and saving their state as JSON
  (what the storage layer keeps per runner) — the issue's budget is 200 ms end to end;
- building one 1-hour run from the strides of both feet and summarising it (streams, best efforts, form fits).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import time
from collections.abc import Callable

import numpy as np

from soleware.runs.achievements import Achievements
from soleware.runs.efforts import BEST_EFFORT_DISTANCES, Effort
from soleware.runs.model import SPEED_BIN_COUNT, SPEED_BIN_MPS, FormFit, Run, RunSummary, Stride, StrikeType
from soleware.runs.progress import TrainingLoad, form_trends, period_totals, predict_race, shoe_mileage
from soleware.runs.records import PersonalRecords


def synthetic_runs(n: int, seed: int = 7) -> list[RunSummary]:
    rng = np.random.default_rng(seed)
    t = dt.datetime(2000, 1, 1, 6, tzinfo=dt.UTC)
    runs, shoe, shoe_m = [], 0, 0.0
    for k in range(n):
        t += dt.timedelta(hours=float(rng.uniform(10, 40)))
        km = float(
            rng.choice([5, 8, 10, 12, 16, 21.1, 30, 42.2], p=[0.25, 0.2, 0.2, 0.12, 0.1, 0.07, 0.04, 0.02])
        )
        km *= float(rng.uniform(0.9, 1.1))
        speed = float(rng.normal(3.2, 0.25))
        efforts = []
        for d in BEST_EFFORT_DISTANCES:
            if d.distance_m > km * 1000:
                break
            v = speed * (1.15 - 0.05 * np.log10(d.distance_m / 400)) * float(rng.uniform(0.97, 1.03))
            efforts.append(Effort(d.distance_m, d.distance_m / v, 60.0, 60.0 + d.distance_m / v))
        moving = km * 1000 / speed
        hist = np.zeros(SPEED_BIN_COUNT)
        hist[int(speed / SPEED_BIN_MPS)] = moving
        if shoe_m > 700_000:
            shoe, shoe_m = shoe + 1, 0.0
        shoe_m += km * 1000
        runs.append(
            RunSummary(
                run_id=f"run-{k:05d}",
                start_time=t,
                time_zone="Asia/Shanghai",
                distance_m=km * 1000,
                elapsed_time_s=moving * 1.03,
                moving_time_s=moving,
                shoe_serials=(f"SW{shoe:04d}L", f"SW{shoe:04d}R"),
                avg_cadence_spm=float(rng.normal(168, 5)),
                fore_mid_strike_fraction=float(rng.uniform(0.4, 0.95)),
                efforts=tuple(efforts),
                speed_time_s=tuple(float(x) for x in hist),
                form={
                    "cadence_spm": FormFit(
                        140.0 + float(rng.normal(0, 2)), 9.0, 3000, speed - 0.3, speed + 0.3
                    )
                },
            )
        )
    return runs


def one_hour_strides() -> list[Stride]:
    rng = np.random.default_rng(3)
    out = []
    for side, offset in (("left", 0.0), ("right", 0.36)):
        t = offset
        while t < 3600:
            period = float(rng.normal(0.72, 0.01))
            out.append(
                Stride(
                    side=side,
                    t_start_s=t,
                    t_end_s=t + period,
                    length_m=float(rng.normal(2.4, 0.08)),
                    contact_time_s=0.24,
                    strike_type=StrikeType.MIDFOOT,
                )
            )
            t += period
    return out


def timed(fn: Callable[[], object], repeat: int = 5) -> float:
    """Median wall time of fn in milliseconds."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(1000 * (time.perf_counter() - t0))
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10_000)
    args = parser.parse_args()
    runs = synthetic_runs(args.runs + 1)
    history, new = runs[:-1], runs[-1]
    as_of = new.start_time
    print(f"{len(history)} runs of one runner, {sum(r.distance_m for r in history) / 1000:.0f} km")

    print("from scratch (median of 5):")
    full = {
        "personal records": lambda: PersonalRecords().compute(history),
        "achievements + progress": lambda: Achievements().compute(history).progress(as_of=as_of),
        "weekly+monthly+yearly totals": lambda: [
            period_totals(history, period=p) for p in ("week", "month", "year")
        ],
        "training load (acute/chronic)": lambda: TrainingLoad().compute(history, as_of=as_of),
        "form trends (monthly)": lambda: form_trends(history),
        "race prediction": lambda: predict_race(history, 42195.0, as_of=as_of),
        "shoe mileage": lambda: shoe_mileage(history),
    }
    total = 0.0
    for name, fn in full.items():
        ms = timed(fn)
        total += ms
        print(f"  {name:32s} {ms:8.1f} ms")
    print(f"  {'all of the above':32s} {total:8.1f} ms")

    records_state = json.dumps(PersonalRecords().compute(history).to_dict())
    ach_state = json.dumps(Achievements().compute(history).to_dict())
    print(
        f"state kept per runner: records {len(records_state) / 1024:.0f} KiB, achievements {len(ach_state) / 1024:.0f} KiB (JSON)"
    )

    def add_records() -> str:
        return json.dumps(PersonalRecords.from_dict(json.loads(records_state)).add(new).to_dict())

    def add_achievements() -> str:
        return json.dumps(Achievements.from_dict(json.loads(ach_state)).add(new).to_dict())

    def add_in_memory() -> None:
        rec.add(new)
        ach.add(new)

    print("adding one run (median of 20):")
    r_ms = timed(add_records, 20)
    a_ms = timed(add_achievements, 20)
    print(f"  {'records: load state, add, save':38s} {r_ms:7.2f} ms")
    print(f"  {'achievements: load state, add, save':38s} {a_ms:7.2f} ms")
    mem = []
    for _ in range(20):
        rec = PersonalRecords().compute(history)
        ach = Achievements().compute(history)
        mem.append(timed(add_in_memory, 1))
    print(f"  {'both, state already in memory':38s} {statistics.median(mem):7.3f} ms")
    print(
        f"  {'an old run imported late (recompute)':38s} {timed(lambda: Achievements().compute(runs), 3):7.1f} ms"
    )

    strides = one_hour_strides()
    start = dt.datetime(2026, 11, 24, 6, tzinfo=dt.UTC)
    build = timed(lambda: Run.from_strides(strides, start_time=start, time_zone="Asia/Shanghai", id="x"), 5)
    run = Run.from_strides(strides, start_time=start, time_zone="Asia/Shanghai", id="x")
    summ = timed(run.summary, 5)
    blob = run.streams.to_bytes()
    print(
        f"one 1-hour run ({len(strides)} strides, {len(run.streams)} stream samples, {run.distance_m / 1000:.2f} km):"
    )
    print(f"  {'Run.from_strides':38s} {build:7.1f} ms")
    print(f"  {'Run.summary (efforts, form fits)':38s} {summ:7.1f} ms")
    print(f"  {'streams blob':38s} {len(blob) / 1024:7.1f} KiB")


if __name__ == "__main__":
    main()
