"""Each runner's calibration: the robust estimator, references, GPS stretches, applying a factor to a run."""

from __future__ import annotations

import dataclasses
import datetime as dt
import math

import numpy as np
import pytest

from soleware.runs.calibration import (
    TRACK_LAP_M,
    CalibrationEstimator,
    Reference,
    ReferenceKind,
    calibrate_run,
    gps_reference,
    gps_segments,
    marker_reference,
    reference_distance_m,
    shoe_key,
)
from soleware.runs.model import Lap, Run, RunDataError, Sensor, Streams
from soleware.runs.splits import splits

T0 = dt.datetime(2026, 3, 1, 7, tzinfo=dt.UTC)


def ref(
    ratio: float, *, kind: ReferenceKind = ReferenceKind.TRACK, speed: float = 3.0, k: int = 0
) -> Reference:
    """A reference whose told distance is ``ratio`` times what the shoes measured."""
    return Reference(kind, 5000.0 * ratio, 5000.0, speed, T0 + dt.timedelta(days=k))


def simulated(rng: np.random.Generator, bias: float, n: int) -> list[Reference]:
    """``n`` references of a runner whose shoes read ``bias`` × the truth, with 1 % run-to-run error."""
    return [
        Reference(ReferenceKind.TRACK, 4000.0, 4000.0 * bias * (1 + rng.normal(0, 0.01)), 3.0, T0)
        for _ in range(n)
    ]


def test_the_estimator_follows_its_conventions():
    est = CalibrationEstimator(min_agreeing=2)
    assert est.min_agreeing == 2
    assert est.estimate([ref(1.04), ref(1.05)]) is est
    for name in ("factor_", "band_factors_", "accepted_", "reasons_", "n_agreeing_", "spread_"):
        assert name in (CalibrationEstimator.__doc__ or "")


def test_no_factor_until_three_references_agree():
    assert CalibrationEstimator().estimate([]).factor_ == 1.0
    one = CalibrationEstimator().estimate([ref(1.05)])
    assert one.factor_ == 1.0 and one.accepted_ == [True] and one.n_agreeing_ == 1
    two = CalibrationEstimator().estimate([ref(1.05), ref(1.049)])
    assert two.factor_ == 1.0
    three = CalibrationEstimator().estimate([ref(1.05), ref(1.049), ref(1.051)])
    assert three.n_agreeing_ == 3 and three.factor_ == pytest.approx(1.05, abs=0.002)


def test_a_wrong_reference_is_rejected_and_does_not_move_the_factor():
    good = [ref(0.96, k=k) for k in range(3)] + [ref(0.955, k=3)]
    before = CalibrationEstimator().estimate(good).factor_
    for wrong, why in ((0.96 * 1.20, "implausible"), (0.96 * 1.09, "disagrees"), (0.96 * 0.8, "implausible")):
        est = CalibrationEstimator().estimate([*good, ref(wrong, kind=ReferenceKind.TREADMILL, k=9)])
        assert est.accepted_[-1] is False and est.reasons_[-1] == why
        assert est.factor_ == before


def test_a_later_reference_far_from_the_factor_waits_for_another_to_agree():
    """3 % off is within the engine's error of the others, but it alone would move the factor they learned by
    more than ``max_pull``: held, so one wrong reading cannot move it. A second reading that agrees confirms both;
    then they count."""
    good = [ref(0.96, k=k) for k in range(3)] + [ref(0.955, k=3)]
    before = CalibrationEstimator().estimate(good).factor_
    odd = ref(0.96 * 1.03, k=9)
    est = CalibrationEstimator().estimate([*good, odd])
    assert est.accepted_[-1] is False and est.reasons_[-1] == "unconfirmed"
    assert est.factor_ == before and est.n_agreeing_ == 4
    again = ref(0.96 * 1.028, k=10)
    est = CalibrationEstimator().estimate([*good, odd, again])
    assert est.accepted_[-2:] == [True, True] and est.n_agreeing_ == 6
    assert 0.0025 < est.factor_ / before - 1 < 0.03
    # a reference close to the factor counts at once
    est = CalibrationEstimator().estimate([*good, ref(0.962, kind=ReferenceKind.TREADMILL, k=9)])
    assert est.accepted_[-1] is True and est.n_agreeing_ == 5


def test_one_reference_alone_never_moves_a_learned_factor_further_than_max_pull():
    """Whatever its value and kind, right or wrong: a single later reference moves the factor by at most
    ``max_pull``, or is held."""
    good = [ref(0.96, k=0), ref(0.952, k=1), ref(0.965, k=2), ref(0.958, k=3)]
    est = CalibrationEstimator()
    before = est.estimate(good).factor_
    moves = []
    for kind in ReferenceKind:
        for r in np.linspace(0.86, 1.14, 57):
            after = est.estimate([*good, ref(0.96 * r, kind=kind, k=9)])
            moves.append(abs(after.factor_ / before - 1))
            assert moves[-1] <= est.max_pull + 1e-12
    assert max(moves) > 0.5 * est.max_pull  # near ones do count


def test_a_held_reference_counts_once_the_factor_stands_on_enough_others():
    """Held while it alone would move the factor too far; as references pile up, the same one no longer would."""
    rng = np.random.default_rng(4)
    odd = ref(0.96 * 1.02, k=3)
    few = [ref(0.96, k=0), ref(0.96, k=1), ref(0.96, k=2)]
    assert CalibrationEstimator().estimate([*few, odd]).reasons_[-1] == "unconfirmed"
    many = [*few, odd] + [ref(0.96 * (1 + rng.normal(0, 0.002)), k=4 + k) for k in range(12)]
    assert CalibrationEstimator().estimate(many).reasons_[3] is None


def test_references_are_taken_in_time_order_whatever_order_they_come_in():
    """The factor stands on the first references to agree; a later odd one is held, listed first or last."""
    refs = [
        ref(0.96, k=1),
        ref(0.958, k=2),
        ref(0.962, k=3),
        ref(0.96 * 1.03, k=9),
    ]
    a = CalibrationEstimator().estimate(refs)
    b = CalibrationEstimator().estimate(refs[::-1])
    assert a.factor_ == b.factor_ and a.reasons_ == b.reasons_[::-1] == [None, None, None, "unconfirmed"]
    # the same odd one among the first three: nothing stands yet to hold it against, all three are judged together
    early = [*refs[:2], dataclasses.replace(refs[3], time=T0)]
    assert CalibrationEstimator().estimate(early).accepted_ == [True, True, True]


def test_two_agreeing_against_one_wrong_is_not_enough():
    est = CalibrationEstimator().estimate([ref(1.04), ref(1.041), ref(1.13, kind=ReferenceKind.TREADMILL)])
    assert est.factor_ == 1.0 and est.n_agreeing_ == 2 and est.reasons_[2] == "disagrees"


def test_simulated_runners_reach_their_factor_and_shrug_off_a_wrong_one():
    rng = np.random.default_rng(17)
    errors, shifts = [], []
    for _ in range(200):
        bias = 1 + rng.choice([-1, 1]) * rng.uniform(0.03, 0.06)
        refs = simulated(rng, bias, 3)
        est = CalibrationEstimator().estimate(refs)
        errors.append(est.factor_ * bias - 1)
        if est.n_agreeing_ >= 3:
            bad = Reference(ReferenceKind.TREADMILL, 6000.0, 5000.0 * bias, 3.0, T0)
            shifts.append(CalibrationEstimator().estimate([*refs, bad]).factor_ / est.factor_ - 1)
    errors_a, shifts_a = np.abs(errors), np.abs(shifts)
    assert np.median(errors_a) < 0.005  # from 3-6 % to under 0.5 % (track references, 1 % run noise)
    assert np.mean(errors_a < 0.045) > 0.95
    assert len(shifts_a) > 190 and np.percentile(shifts_a, 95) < 0.003


def test_one_plausible_wrong_gps_reference_never_moves_a_learned_factor_by_0_3_percent():
    """GPS 5 % long (a city canyon), within 3.5 σ of the truth: the hardest wrong reference to tell from a good
    one. Once three references have agreed it is held, or counts only as far as it moves the factor by less
    than ``max_pull``."""
    rng = np.random.default_rng(5)
    shifts = []
    for _ in range(200):
        bias = 1 + rng.choice([-1, 1]) * rng.uniform(0.03, 0.06)
        refs = [
            Reference(
                ReferenceKind.GPS,
                4000.0 * (1 + rng.normal(0, 0.01)),
                4000.0 * bias * (1 + rng.normal(0, 0.01)),
                3.0,
                T0 + dt.timedelta(days=k),
            )
            for k in range(3)
        ]
        est = CalibrationEstimator().estimate(refs)
        if est.n_agreeing_ >= 3:
            bad = Reference(
                ReferenceKind.GPS,
                5250.0,
                5000.0 * bias * (1 + rng.normal(0, 0.01)),
                3.0,
                T0 + dt.timedelta(days=30),
            )
            shifts.append(CalibrationEstimator().estimate([*refs, bad]).factor_ / est.factor_ - 1)
    shifts_a = np.abs(shifts)
    assert len(shifts_a) > 190 and np.median(shifts_a) < 0.001 and np.max(shifts_a) < 0.003


def test_speed_bands_get_their_own_factor_only_with_enough_references():
    """Three accepted references in each of two bands. Run in turns, the fourth fast one confirms the third,
    which alone would have pulled the shoe's factor too far."""
    slow = [ref(1.06, speed=2.8, k=k) for k in range(3)]
    fast = [ref(1.03, speed=4.8, k=k) for k in range(4)]
    est = CalibrationEstimator().estimate(slow + fast)
    assert set(est.band_factors_) == {2.5, 4.5}
    assert est.factor_at(2.9) == pytest.approx(1.06, abs=0.003)
    assert est.factor_at(5.0) == pytest.approx(1.03, abs=0.003)
    assert est.factor_at(4.0) == est.factor_  # no references of its own
    few = CalibrationEstimator().estimate(slow + fast[:2])
    assert few.band_factors_ == {} and few.factor_at(2.9) == few.factor_


def test_reference_distances():
    assert reference_distance_m(ReferenceKind.TRACK, laps=12.5) == 12.5 * TRACK_LAP_M
    assert reference_distance_m(ReferenceKind.TREADMILL, distance_m=5000) == 5000
    for kind, kw in (
        (ReferenceKind.TREADMILL, {"laps": 5}),
        (ReferenceKind.TRACK, {}),
        (ReferenceKind.TRACK, {"laps": 5, "distance_m": 2000}),
        (ReferenceKind.COURSE, {"distance_m": math.nan}),
        (ReferenceKind.COURSE, {"distance_m": 10}),
        (ReferenceKind.TRACK, {"laps": -1}),
    ):
        with pytest.raises(RunDataError):
            reference_distance_m(kind, **kw)
    assert shoe_key(["R1", "L1", "L1"]) == "L1+R1"
    assert shoe_key([], Sensor("Stryd", serial="S-9")) == "pod:S-9"
    assert shoe_key([], Sensor("Polar S3")) == "pod:Polar S3"
    assert shoe_key(["L1"], Sensor("Polar S3")) == "L1"


def test_markers_pressed_give_the_stretch_to_the_last_one(make_run):
    """Laps pressed at each km marker of a race, the last lap ending at Finish past the last marker: the known
    stretch is the start to the last press, measured on the raw distance (a calibrated run's divided back), its
    moving time without the pause in it."""
    run = make_run(distance_m=5300.0, speed_mps=3.0)  # the shoes' 1000 m take 333.3 s
    marks = [334.0, 667.0, 1000.0, 1333.0, 1666.0]
    laps = [Lap(a, b) for a, b in zip([0.0, *marks], [*marks, run.elapsed_time_s], strict=True)]
    ref_m, raw_m, moving_s = marker_reference(laps, run.streams, [(100.0, 110.0)], marker_m=1000.0)
    assert ref_m == 5000.0 and raw_m == pytest.approx(3.0 * 1666.0, rel=2e-3) and moving_s == 1656.0
    cal = calibrate_run(dataclasses.replace(run, laps=laps), 0.95)
    _, raw_cal, _ = marker_reference(laps, cal.streams, [], marker_m=1000.0, calibration_factor=0.95)
    assert raw_cal == pytest.approx(raw_m, rel=1e-6)
    for bad, marker_m in (([Lap(0.0, 900.0)], 1000.0), (laps, math.nan), (laps[:2], 40.0)):
        with pytest.raises(RunDataError):
            marker_reference(bad, run.streams, [], marker_m=marker_m)


def test_calibrating_a_run_scales_distance_speeds_and_splits_and_keeps_raw(make_run):
    run = make_run(distance_m=5000.0, speed_mps=3.0)
    cal = calibrate_run(run, 0.95)
    assert cal.distance_m == pytest.approx(run.distance_m * 0.95)
    assert cal.raw_distance_m == pytest.approx(run.distance_m)
    assert cal.calibration_factor == 0.95
    assert cal.elapsed_time_s == run.elapsed_time_s and cal.moving_time_s == run.moving_time_s
    assert np.nanmax(cal.streams.speed_mps) == pytest.approx(
        np.nanmax(run.streams.speed_mps) * 0.95, rel=1e-3
    )
    km_raw, km_cal = splits(run, unit_m=1000.0)[0], splits(cal, unit_m=1000.0)[0]
    assert km_cal.moving_time_s == pytest.approx(km_raw.moving_time_s / 0.95, rel=2e-3)  # a slower pace
    with pytest.raises(RunDataError):
        calibrate_run(run, 3.0)
    assert calibrate_run(run, 1.0) is run
    titled = dataclasses.replace(run, title="Tempo", laps=[Lap(10.0, 100.0)], id="r1")
    again = calibrate_run(titled, 0.95)
    assert (again.title, again.laps, again.id, again.shoe_serials) == (
        "Tempo",
        titled.laps,
        "r1",
        run.shoe_serials,
    )


def test_calibrating_a_run_without_strides_scales_its_streams():
    t = np.arange(0.0, 601.0, 1.0)
    run = Run.from_streams(
        Streams(t, 3.0 * t, speed_mps=np.full(len(t), 3.0)),
        start_time=T0,
        time_zone="UTC",
        source="shoe",
    )
    cal = calibrate_run(run, 1.04)
    assert cal.distance_m == pytest.approx(1800.0 * 1.04)
    assert cal.raw_distance_m == pytest.approx(1800.0)
    assert np.allclose(cal.streams.speed_mps, 3.0 * 1.04)
    assert cal.pauses == run.pauses and cal.moving_time_s == run.moving_time_s


def _track(rng, *, legs, accuracy=4.0, speed=3.3, bias=1.05, hz=1.0):
    """A phone track along ``legs`` (heading °, length m) at ``speed``, the shoes' raw distance reading ``bias``
    × the truth; fixes with ``accuracy`` m noise."""
    t, x, y = [0.0], [0.0], [0.0]
    for heading, length in legs:
        n = int(length / speed * hz)
        for _ in range(n):
            t.append(t[-1] + 1 / hz)
            x.append(x[-1] + speed / hz * math.sin(math.radians(heading)))
            y.append(y[-1] + speed / hz * math.cos(math.radians(heading)))
    t_a, x_a, y_a = np.array(t), np.array(x), np.array(y)
    true_d = np.concatenate(([0.0], np.cumsum(np.hypot(np.diff(x_a), np.diff(y_a)))))
    lat0, lon0 = 31.2, 121.5
    nx = x_a + rng.normal(0, accuracy / 2, len(x_a))
    ny = y_a + rng.normal(0, accuracy / 2, len(y_a))
    lat = lat0 + np.degrees(ny / 6_371_008.8)
    lon = lon0 + np.degrees(nx / (6_371_008.8 * math.cos(math.radians(lat0))))
    return t_a, lat, lon, np.full(len(t_a), accuracy), t_a, true_d * bias


def test_gps_finds_straight_stretches_and_measures_the_shoes_against_them():
    rng = np.random.default_rng(3)
    t, lat, lon, acc, rt, rd = _track(rng, legs=[(0, 600), (90, 400), (200, 120), (200 + 90, 500)])
    segs = gps_segments(t, lat, lon, acc, rt, rd)
    assert len(segs) == 3  # the 120 m leg is too short
    for s in segs:
        assert s.raw_m / s.reference_m == pytest.approx(1.05, abs=0.01)
    r = gps_reference(segs, time=T0, shoe="L+R")
    assert r is not None and r.kind is ReferenceKind.GPS
    assert math.exp(-r.log_ratio) == pytest.approx(1.05, abs=0.006)


def test_gps_ignores_a_poor_fix_and_winding_paths():
    rng = np.random.default_rng(4)
    t, lat, lon, acc, rt, rd = _track(rng, legs=[(0, 600)], accuracy=25.0)
    assert gps_segments(t, lat, lon, acc, rt, rd) == []
    legs = [(k * 25 % 360, 40) for k in range(30)]  # turning every 40 m
    t, lat, lon, acc, rt, rd = _track(rng, legs=legs)
    assert gps_segments(t, lat, lon, acc, rt, rd) == []
    assert gps_reference([], time=T0) is None
    with pytest.raises(RunDataError):
        gps_segments(t, lat[:-1], lon, acc, rt, rd)
