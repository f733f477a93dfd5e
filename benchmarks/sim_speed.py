"""How fast is the virtual shoe? One hour of a runner's two soles at 200 Hz (target: at most 10 s).

Plan: 10 min warm-up, 5 × (6 min fast + 2 min walk), 9.5 min easy, a traffic-light stop.
Prints wall time per stage and peak resident memory.
Usage: .venv/bin/python benchmarks/sim_speed.py [--rate 200] [--oversample 3]
"""

from __future__ import annotations

import argparse
import resource
import time

from soleware.shoe.sim import ShoeSimulator, parse_plan

PLAN = "10min@6:00/km, 5x(6min@4:30/km + 2min walk), 570s@5:45/km, 30s stand"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rate", type=float, default=200.0)
    ap.add_argument("--oversample", type=int, default=2)
    args = ap.parse_args()
    plan = parse_plan(PLAN)
    t0 = time.perf_counter()
    sim = ShoeSimulator(sample_rate_hz=args.rate, oversample=args.oversample, rest_s=0.0).simulate(plan)
    wall = time.perf_counter() - t0
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    left, right = sim.recordings_["left"], sim.recordings_["right"]
    print(f"plan               {plan.duration_s / 3600:.3f} h: {PLAN}")
    print(
        f"samples            {len(left):,} + {len(right):,} at {args.rate:.0f} Hz (oversample {args.oversample})"
    )
    print(f"strides            {left.ground_truth.steps} + {right.ground_truth.steps}")
    print(f"distance (left)    {left.ground_truth.distance_m / 1000:.3f} km")
    print(f"wall time          {wall:.2f} s (target <= 10 s), real-time factor {plan.duration_s / wall:.0f}x")
    print(f"peak memory        {peak_mb:.0f} MB")


if __name__ == "__main__":
    main()
