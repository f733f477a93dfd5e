"""The foot model and the true signals obey physics: rest reads gravity, stance is still, signals integrate back."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from soleware.gait import GRAVITY_MPS2
from soleware.shoe.sim import (
    Runner,
    SensorModel,
    ShoeSimulator,
    SpeedProfile,
    foot_motion,
    footfalls,
    parse_plan,
)


def _perfect(plan: str, *, rate: float = 200.0, strike: str = "rearfoot", **kw: object) -> ShoeSimulator:
    return ShoeSimulator(
        runner=Runner(strike=strike), sensor=SensorModel.perfect(), sample_rate_hz=rate, seed=5, **kw
    ).simulate(plan)


def test_same_seed_same_recording_other_seed_other() -> None:
    a = ShoeSimulator(seed=11).simulate("30s@5:00/km").recordings_["left"]
    b = ShoeSimulator(seed=11).simulate("30s@5:00/km").recordings_["left"]
    c = ShoeSimulator(seed=12).simulate("30s@5:00/km").recordings_["left"]
    np.testing.assert_array_equal(a.acc_mps2, b.acc_mps2)
    np.testing.assert_array_equal(a.t_s, b.t_s)
    assert a.ground_truth.distance_m == b.ground_truth.distance_m
    assert len(a) != len(c) or not np.array_equal(a.acc_mps2, c.acc_mps2)
    assert a.ground_truth.distance_m != c.ground_truth.distance_m


def test_at_rest_the_sensor_reads_gravity_and_no_rotation() -> None:
    rec = _perfect("20s stand, 10s walk").recordings_["right"]
    rest = rec.t_s < 15.0
    assert np.linalg.norm(rec.acc_mps2[rest], axis=1) == pytest.approx(GRAVITY_MPS2, abs=1e-9)
    assert np.abs(rec.gyr_rps[rest]).max() < 1e-12
    # a tilted mounting shows up as gravity off the z axis, by the mounting angle
    tilted = _perfect("20s stand", mounting_deg=(0.0, 5.0, 0.0)).recordings_["right"]
    g = tilted.acc_mps2[0]
    assert np.degrees(np.arccos(g[2] / np.linalg.norm(g))) == pytest.approx(5.0, abs=1e-6)


@pytest.mark.parametrize(("plan", "strike"), [("40s walk", "rearfoot"), ("40s@6.5m/s", "forefoot")])
def test_foot_is_flat_and_still_in_mid_stance(plan: str, strike: str) -> None:
    runner = Runner(strike=strike)
    prof = SpeedProfile.from_plan(parse_plan(plan), lead_s=3.0, tail_s=3.0)
    st = footfalls(prof, runner, np.random.default_rng(1))["left"]
    moving = (st.t_ff > 5.0) & (st.t_ho < prof.duration_s - 5.0)
    t_mid = 0.5 * (st.t_ff + st.t_ho)[moving]
    m = foot_motion(st, runner, np.concatenate([t_mid, st.t_ff[moving] + 1e-4, st.t_ho[moving] - 1e-4]))
    assert np.abs(m.velocity_mps).max() < 1e-3
    assert np.abs(m.omega_rps).max() < 1e-2
    assert np.abs(np.degrees(m.angles_rad[:, :2])).max() < 0.1  # flat: no pitch, no roll
    # and it moves in between: touchdown at the strike angle, toe-off plantarflexed
    at_td = foot_motion(st, runner, st.t_td[moving])
    assert np.degrees(at_td.angles_rad[:, 0]) == pytest.approx(np.degrees(st.strike[moving]), abs=1e-6)
    assert np.all(np.degrees(foot_motion(st, runner, st.t_to[moving]).angles_rad[:, 0]) < -20.0)


def test_analytic_derivatives_match_finite_differences() -> None:
    runner = Runner()
    prof = SpeedProfile.from_plan(parse_plan("20s@4.5m/s"), lead_s=2.0, tail_s=2.0)
    st = footfalls(prof, runner, np.random.default_rng(2))["right"]
    fs = 10_000.0
    t = np.arange(4.0, 10.0, 1 / fs)
    m = foot_motion(st, runner, t)
    v_num = np.gradient(m.position_m, 1 / fs, axis=0)[1:-1]
    a_num = np.gradient(m.velocity_mps, 1 / fs, axis=0)[1:-1]
    assert np.abs(v_num - m.velocity_mps[1:-1]).max() < 1e-3
    assert np.percentile(np.abs(a_num - m.accel_mps2[1:-1]), 99.9) < 0.05
    assert np.all(m.position_m[:, 2] > 0.0)  # never below the ground


@pytest.mark.parametrize(("plan", "strike"), [("40s walk", "rearfoot"), ("40s@2.5m/s", "forefoot")])
def test_push_off_pitch_rate_turns_at_toe_off_like_a_real_foot(plan: str, strike: str) -> None:
    """Fastest plantar flexion at toe-off, then at once slower: a V, as on real shoes, not a plateau.

    On pyshoe_vicon walks and jogs (sensor on top of the shoe) the pitch rate recovers from its push-off minimum
    (~-7 rad/s) at 20-55 rad/s² over the next 10 ms; a swing's pitch rate rises from toe-off to its peak.
    """
    runner = Runner(strike=strike)
    prof = SpeedProfile.from_plan(parse_plan(plan), lead_s=3.0, tail_s=3.0)
    st = footfalls(prof, runner, np.random.default_rng(3))["left"]
    moving = np.flatnonzero((st.t_ff > 5.0) & (st.t_ho < prof.duration_s - 5.0))
    dt = 1e-3
    for j in moving:
        t = np.arange(st.t_to[j] - 0.05, 0.5 * (st.t_to[j] + st.t_td[j + 1]), dt)
        rate = np.gradient(foot_motion(st, runner, t).angles_rad[:, 0], dt)
        k = int(np.argmin(rate))
        assert abs(t[k] - st.t_to[j]) <= 2 * dt
        assert 15.0 < (rate[k + 10] - rate[k]) / (10 * dt) < 60.0
        assert np.all(np.diff(rate[k : int(np.argmax(rate)) + 1]) >= 0.0)


@pytest.mark.parametrize(("speed", "strike"), [(1.4, "rearfoot"), (6.5, "rearfoot"), (4.0, "forefoot")])
def test_strapdown_integration_reproduces_the_true_trajectory(speed: float, strike: str) -> None:
    """Integrating the true sensor signals stride by stride from the true start lands on the true end."""
    mode = "walk" if speed < 2 else "run"
    sim = _perfect(
        f"15s {mode}@{speed}m/s", rate=1000.0, strike=strike, oversample=1, mounting_deg=(2.0, -3.0, 4.0)
    )
    rec, st = sim.recordings_["left"], sim.stances_["left"]
    traj = rec.ground_truth.trajectory
    dt = 1e-3
    g = np.array([0.0, 0.0, GRAVITY_MPS2])
    strides = [d for d in rec.ground_truth.stride_details if not (d["standing_start"] or d["standing_end"])]
    assert len(strides) >= 5
    for d in strides:
        a, b = np.searchsorted(rec.t_s, [d["t_start_s"], d["t_end_s"]])
        k = np.searchsorted(st.t_td, d["t_start_s"]) - 1
        q = Rotation.from_euler("z", st.yaw[k]) * Rotation.from_matrix(sim.mounting_["left"])
        w = 0.5 * (rec.gyr_rps[a + 1 : b + 1] + rec.gyr_rps[a:b])
        steps = Rotation.from_rotvec(w * dt)
        quats = [q]
        for s in steps:
            quats.append(quats[-1] * s)
        acc_nav = Rotation.concatenate(quats).apply(rec.acc_mps2[a : b + 1]) - g
        vel = np.vstack([np.zeros(3), np.cumsum(0.5 * (acc_nav[1:] + acc_nav[:-1]) * dt, axis=0)])
        pos = traj[a, 1:] + np.concatenate(
            [np.zeros((1, 3)), np.cumsum(0.5 * (vel[1:] + vel[:-1]) * dt, axis=0)]
        )
        assert np.linalg.norm(vel[-1]) < 0.01
        assert np.linalg.norm(pos[-1] - traj[b, 1:]) < 0.002
        assert np.hypot(*(pos[-1, :2] - pos[0, :2])) == pytest.approx(d["length_m"], abs=0.003)


def test_right_foot_lands_half_a_stride_after_the_left() -> None:
    sim = _perfect("60s@3.5m/s")
    left, right = sim.stances_["left"], sim.stances_["right"]
    lt = left.t_td[(left.t_td > 10) & (left.t_td < 55)]
    rt = right.t_td[(right.t_td > 9) & (right.t_td < 57)]
    for t0, t1 in zip(lt[:-1], lt[1:], strict=True):
        between = rt[(rt > t0) & (rt < t1)]
        assert len(between) == 1
        assert (between[0] - t0) / (t1 - t0) == pytest.approx(0.5, abs=0.05)
    # mirrored mounting: same pitch, opposite roll and yaw
    ml, mr = sim.mounting_["left"], sim.mounting_["right"]
    mirror = np.diag([1.0, -1.0, 1.0])
    np.testing.assert_allclose(ml, mirror @ mr @ mirror)
    assert not np.allclose(ml, mr)


def test_running_has_flight_and_walking_double_support() -> None:
    run = _perfect("40s@4.0m/s").recordings_["left"].ground_truth.stride_details
    walk = _perfect("40s walk").recordings_["left"].ground_truth.stride_details
    steady_run = [d for d in run if not (d["standing_start"] or d["standing_end"]) and d["speed_mps"] > 3.8]
    steady_walk = [d for d in walk if not (d["standing_start"] or d["standing_end"])]
    assert all(d["gait"] == "run" and d["flight_time_s"] > 0.03 for d in steady_run)
    duty = [d["contact_time_s"] / (d["t_end_s"] - d["t_start_s"]) for d in steady_run]
    assert 0.25 < np.median(duty) < 0.4
    duty_walk = [d["contact_time_s"] / (d["t_end_s"] - d["t_start_s"]) for d in steady_walk[1:-1]]
    assert 0.55 < np.median(duty_walk) < 0.65
    assert all(d["flight_time_s"] == 0.0 for d in steady_walk)
    cadence = 120.0 / np.median([d["t_end_s"] - d["t_start_s"] for d in steady_run])
    assert 160 < cadence < 190
