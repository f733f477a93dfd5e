"""How fast and how safely a runner's calibration is learned (issue 17, item 4).

Simulated runners each have a personal bias of 3-6 % (either sign: the pod reads long or short) and every run adds
the engine's run-to-run error (1 % σ, as on held-out recordings once the bias is taken out). Each reference run
also carries the reference's own error (``KIND_SIGMA``: track 0.5 %, treadmill 1.5 %, course 0.8 %, GPS 1 %).
Questions:

1. After three reference runs, how far is the learned factor from the one that removes the runner's bias?
2. After three good references, how far does one wrong reference (+20 %, a mistyped treadmill reading; or +5 %,
   GPS in a city canyon) move the factor?
3. With only one or two references (nothing agreed yet), how far from 1.0 does the factor move?
4. How far does one more *good* reference move it (the yardstick for 2), and how soon does the factor follow when
   the runner's bias really changes (new insoles) after three references?

    PYTHONPATH=src .venv/bin/python benchmarks/calibration.py [--runners 1000] [--seed 17] [--run-noise 0.01]
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import time

import numpy as np

from soleware.runs.calibration import KIND_SIGMA, CalibrationEstimator, Reference, ReferenceKind

RUN_NOISE = 0.01
KINDS = (ReferenceKind.TRACK, ReferenceKind.TREADMILL, ReferenceKind.COURSE, ReferenceKind.GPS)
T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def simulate_runner(
    rng: np.random.Generator,
    n_refs: int,
    kinds: tuple[ReferenceKind, ...] = KINDS,
    *,
    noise: float = RUN_NOISE,
) -> tuple[float, list[Reference]]:
    """A runner's bias (raw / true) and ``n_refs`` good references of random ``kinds``, distances and speeds."""
    bias = 1.0 + rng.choice([-1.0, 1.0]) * rng.uniform(0.03, 0.06)
    refs = []
    for k in range(n_refs):
        kind = kinds[int(rng.integers(len(kinds)))]
        true_m = float(rng.uniform(2000.0, 15000.0))
        raw = true_m * bias * (1.0 + rng.normal(0.0, noise))
        told = true_m * (1.0 + rng.normal(0.0, KIND_SIGMA[kind]))
        refs.append(
            Reference(
                kind=kind,
                reference_m=told,
                raw_m=raw,
                speed_mps=float(rng.uniform(2.5, 4.5)),
                time=T0 + dt.timedelta(days=k),
            )
        )
    return bias, refs


def wrong(ref: Reference, error: float, kind: ReferenceKind) -> Reference:
    """A reference like ``ref`` whose told distance is ``error`` off (relative)."""
    return Reference(
        kind=kind,
        reference_m=ref.raw_m / 1.0 * (1.0 + error),
        raw_m=ref.raw_m,
        speed_mps=ref.speed_mps,
        time=ref.time + dt.timedelta(hours=1),
    )


def factor_errors(
    rng: np.random.Generator,
    runners: int,
    n_refs: int = 3,
    kinds: tuple[ReferenceKind, ...] = KINDS,
    *,
    noise: float = RUN_NOISE,
) -> np.ndarray:
    """Relative error of the calibrated distance (factor × bias − 1) per runner after ``n_refs`` references."""
    out = np.empty(runners)
    for i in range(runners):
        bias, refs = simulate_runner(rng, n_refs, kinds, noise=noise)
        out[i] = CalibrationEstimator().estimate(refs).factor_ * bias - 1.0
    return out


def best_possible(
    rng: np.random.Generator, runners: int, n_refs: int, *, noise: float = RUN_NOISE
) -> np.ndarray:
    """Calibrated error of the best any estimator can do: the inverse-variance mean of ``n_refs`` good references
    whose every σ (the reference's and the engine's) is known, nothing robust, no prior."""
    out = np.empty(runners)
    for i in range(runners):
        bias, refs = simulate_runner(rng, n_refs, noise=noise)
        x = np.array([r.log_ratio for r in refs])
        w = 1.0 / np.array([noise**2 + KIND_SIGMA[r.kind] ** 2 for r in refs])
        out[i] = np.exp(np.sum(w * x) / np.sum(w)) * bias - 1.0
    return out


def wrong_shift(
    rng: np.random.Generator, runners: int, error: float, kind: ReferenceKind, *, noise: float = RUN_NOISE
) -> np.ndarray:
    """How far (relative) one wrong reference moves the factor learned from three good ones (runners whose three
    agreed; NaN for the others, whose factor was still 1.0)."""
    out = np.empty(runners)
    for i in range(runners):
        bias, refs = simulate_runner(rng, 3, noise=noise)
        est = CalibrationEstimator().estimate(refs)
        before = est.factor_ if est.n_agreeing_ >= 3 else float("nan")
        # the wrong one: the true distance ``error`` off, against a raw distance with the runner's bias
        true_m = 5000.0
        bad = Reference(
            kind=kind,
            reference_m=true_m * (1.0 + error),
            raw_m=true_m * bias * (1.0 + rng.normal(0.0, noise)),
            speed_mps=3.0,
            time=T0 + dt.timedelta(days=30),
        )
        after = CalibrationEstimator().estimate([*refs, bad]).factor_
        out[i] = after / before - 1.0
    return out


def good_shift(rng: np.random.Generator, runners: int, *, noise: float = RUN_NOISE) -> np.ndarray:
    """How far one more *good* reference moves the factor learned from three: the yardstick for a wrong one."""
    out = np.empty(runners)
    for i in range(runners):
        bias, refs = simulate_runner(rng, 4, noise=noise)
        est = CalibrationEstimator().estimate(refs[:3])
        before = est.factor_ if est.n_agreeing_ >= 3 else float("nan")
        out[i] = CalibrationEstimator().estimate(refs).factor_ / before - 1.0
    return out


def changed_bias(
    rng: np.random.Generator, runners: int, change: float, more: int, *, noise: float = RUN_NOISE
) -> np.ndarray:
    """Calibrated error when the runner's bias changes by ``change`` (new insoles, another running style) after
    three references, ``more`` references later."""
    out = np.empty(runners)
    for i in range(runners):
        bias, refs = simulate_runner(rng, 3 + more, noise=noise)
        new_bias = bias * (1.0 + change)
        later = [
            dataclasses.replace(r, raw_m=r.raw_m / bias * new_bias, time=T0 + dt.timedelta(days=30 + k))
            for k, r in enumerate(refs[3:])
        ]
        out[i] = CalibrationEstimator().estimate([*refs[:3], *later]).factor_ * new_bias - 1.0
    return out


def lone_moves(
    rng: np.random.Generator, runners: int, n_refs: int, error: float, *, noise: float = RUN_NOISE
) -> np.ndarray:
    """The factor's distance from 1.0 with fewer references than must agree (one of them possibly wrong)."""
    out = np.empty(runners)
    for i in range(runners):
        bias, refs = simulate_runner(rng, n_refs, noise=noise)
        refs[-1] = wrong(refs[-1], error, ReferenceKind.TREADMILL) if error else refs[-1]
        out[i] = CalibrationEstimator().estimate(refs).factor_ - 1.0
    return out


def _pct(a: np.ndarray) -> str:
    x = np.abs(a[np.isfinite(a)]) * 100
    return f"median {np.median(x):.2f} %, p90 {np.percentile(x, 90):.2f} %, worst {np.max(x):.2f} %"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runners", type=int, default=1000)
    p.add_argument("--seed", type=int, default=17)
    p.add_argument(
        "--run-noise",
        type=float,
        default=RUN_NOISE,
        help="the engine's run-to-run error (relative, 1 σ) once the runner's bias is taken out",
    )
    a = p.parse_args()
    noise = a.run_noise

    def rng(*question: int) -> np.random.Generator:
        """Each question its own draws, so one figure does not change with the questions before it."""
        return np.random.default_rng([a.seed, *question])

    t0 = time.perf_counter()
    print(f"{a.runners} simulated runners, bias ±3-6 %, run-to-run error {noise:.1%} σ, seed {a.seed}")
    draws = rng(0)
    raw = np.array([1.0 - simulate_runner(draws, 0, noise=noise)[0] for _ in range(a.runners)])
    print(f"  uncalibrated distance error:          {_pct(raw)}")
    for n in (3, 5, 10):
        err = factor_errors(rng(1, n), a.runners, n, noise=noise)
        within = np.mean(np.abs(err) <= 0.005) * 100
        print(
            f"  calibrated after {n:2d} references:      {_pct(err)}; within 0.5 %: {within:.0f} % of runners"
        )
        print(
            f"    best possible, same runners:       {_pct(best_possible(rng(1, n), a.runners, n, noise=noise))}"
        )
    err = factor_errors(rng(2), a.runners, 3, (ReferenceKind.TRACK,), noise=noise)
    within = np.mean(np.abs(err) <= 0.005) * 100
    print(f"  after 3 track references only:      {_pct(err)}; within 0.5 %: {within:.0f} % of runners")
    wrongs = ((0.20, ReferenceKind.TREADMILL), (-0.20, ReferenceKind.TREADMILL), (0.05, ReferenceKind.GPS))
    for q, (e, kind) in enumerate(wrongs):
        shift = wrong_shift(rng(3, q), a.runners, e, kind, noise=noise)
        small = np.mean(np.abs(shift[np.isfinite(shift)]) < 0.003) * 100
        print(
            f"  one wrong {kind:9s} {e:+.0%} after 3 good: factor moved {_pct(shift)}; < 0.3 %: {small:.1f} % "
            f"of runners ({np.isnan(shift).sum()} not yet calibrated left out)"
        )
    shift = good_shift(rng(4), a.runners, noise=noise)
    small = np.mean(np.abs(shift[np.isfinite(shift)]) < 0.003) * 100
    print(
        f"  one more good reference after 3 good:  factor moved {_pct(shift)}; < 0.3 %: {small:.1f} % of runners"
    )
    for more in (1, 2, 3, 5):
        err = changed_bias(rng(5, more), a.runners, 0.03, more, noise=noise)
        print(f"  bias changed by 3 % after 3 refs, then {more} more: {_pct(err)}")
    for n in (1, 2):
        moves = _pct(lone_moves(rng(6, n), a.runners, n, 0.2, noise=noise))
        print(f"  {n} reference(s), last +20 % wrong:     factor moved from 1.0 {moves}")
    print(f"  ({time.perf_counter() - t0:.1f} s)")


if __name__ == "__main__":
    main()
