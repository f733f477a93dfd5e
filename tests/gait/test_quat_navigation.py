"""Stages of the engine on constructed signals with known answers."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from soleware.gait import _quat as quat
from soleware.gait._signal import window_mean
from soleware.gait.navigation import (
    StrideIntegration,
    anchor_tilt_mismatch_rad,
    attitude_scan,
    blended_up,
    tilt_agrees_near,
    tilt_quaternion,
    yaw_of,
)
from soleware.gait.stance import AdaptiveStanceDetector


def test_cumulative_product_matches_sequential_composition() -> None:
    inc = Rotation.random(300, random_state=3).as_quat()
    scan = quat.cumulative_product(inc)
    ref = Rotation.from_quat(inc[0])
    for i in range(1, 300):
        ref = ref * Rotation.from_quat(inc[i])
    assert np.allclose(np.abs(np.sum(scan[-1] * ref.as_quat())), 1.0, atol=1e-9)


def test_cumulative_product_of_a_long_scan_matches_step_by_step_products() -> None:
    """Blocks of 32 with a partial last block, their totals scanned in blocks of 16 and those in a plain loop."""
    inc = quat.from_rotvec(np.random.default_rng(8).normal(size=(20_011, 3)) * 0.05)
    scan = quat.cumulative_product(inc)
    ref = np.empty_like(inc)
    ref[0] = inc[0]
    for i in range(1, len(inc)):
        ref[i] = quat.multiply(ref[i - 1], inc[i])
    assert np.allclose(scan, ref, atol=1e-9)


def test_rotvec_round_trip_and_rotate_agree_with_scipy() -> None:
    rv = np.random.default_rng(1).normal(size=(50, 3))
    rv = rv / np.linalg.norm(rv, axis=1, keepdims=True) * np.linspace(0, 3, 50)[:, None]
    q = quat.from_rotvec(rv)
    assert np.allclose(quat.to_rotvec(q), rv, atol=1e-9)
    v = np.random.default_rng(2).normal(size=(50, 3))
    assert np.allclose(quat.rotate(q, v), Rotation.from_rotvec(rv).apply(v))


def test_quaternion_algebra_agrees_with_scipy_and_broadcasts() -> None:
    """Products and rotations (by rows, by components, one quaternion against many) as scipy composes them."""
    rng = np.random.default_rng(4)
    p, q = Rotation.random(40, random_state=5), Rotation.random(40, random_state=6)
    v = rng.normal(size=(40, 3))
    assert np.allclose(
        np.abs(np.sum(quat.multiply(p.as_quat(), q.as_quat()) * (p * q).as_quat(), axis=1)), 1.0
    )
    assert np.allclose(
        quat.multiply(p.as_quat()[0], q.as_quat()), quat.multiply(p.as_quat()[[0] * 40], q.as_quat())
    )
    assert np.allclose(quat.rotate(p.as_quat(), v), p.apply(v))
    assert np.allclose(quat.rotate(p.as_quat()[3], v), p[3].apply(v))
    # the component forms are the same arithmetic, bit for bit
    parts = quat.product(quat.components(p.as_quat()), quat.components(q.as_quat()))
    assert np.array_equal(np.stack(parts, axis=-1), quat.multiply(p.as_quat(), q.as_quat()))
    turned = quat.rotated(quat.components(p.as_quat()), quat.components(v))
    assert np.array_equal(np.stack(turned, axis=-1), quat.rotate(p.as_quat(), v))
    assert np.allclose(quat.cross(v, v[::-1]), np.cross(v, v[::-1]))


def test_tilt_quaternion_takes_up_to_z_and_keeps_no_yaw() -> None:
    up = np.array([[0.3, -0.2, 0.9], [0.0, 0.0, -1.0], [1.0, 0.0, 0.0]])
    q = tilt_quaternion(up)
    assert np.allclose(quat.rotate(q, up / np.linalg.norm(up, axis=1, keepdims=True))[[0, 2]], [0, 0, 1])
    assert np.allclose(yaw_of(tilt_quaternion(np.array([[0.2, 0.1, 1.0]]))), 0.0, atol=1e-12)


def _synthetic_strides(n_strides: int = 4, period_s: float = 1.0, length_m: float = 1.2, fs: float = 200.0):
    """A foot mounted at an odd angle that pitches and moves forward length_m per stride, still at stride ends."""
    t = np.arange(0, n_strides * period_s + 1e-9, 1 / fs)
    tau = (t % period_s) / period_s
    ax = length_m / period_s * 2 * np.pi / period_s * np.sin(2 * np.pi * tau)
    az = 0.1 * (2 * np.pi / period_s) ** 2 * np.cos(4 * np.pi * tau) * 4 * (tau > -1)
    az -= az.mean()
    th = 0.5 * np.sin(np.pi * tau) ** 2
    thd = 0.5 * 2 * np.sin(np.pi * tau) * np.cos(np.pi * tau) * np.pi / period_s
    mount = Rotation.from_euler("xyz", [170, 20, 40], degrees=True)
    to_nav = Rotation.from_euler("y", th[:, None]) * mount
    f = to_nav.inv().apply(np.column_stack([ax, 0 * ax, 0 * ax]) + [0, 0, 9.80665])
    w = to_nav.inv().apply(np.column_stack([0 * thd, thd, 0 * thd]))
    ends = np.arange(0, len(t), int(period_s * fs))
    return t, f, w, ends


@pytest.mark.parametrize("spread", [False, True])
def test_stride_integration_recovers_known_stride_length(spread: bool) -> None:
    t, f, w, anchors = _synthetic_strides()
    nav = StrideIntegration(spread_tilt_error=spread).integrate(
        t, f, w, starts=anchors[:-1], ends=anchors[1:]
    )
    horizontal = np.linalg.norm(nav.displacement_m_[:, :2], axis=1)
    # The window-averaged gravity at the recording's two ends is one-sided; inner strides are exact.
    assert np.allclose(horizontal[1:-1], 1.2, rtol=2e-3)
    assert np.allclose(nav.velocity_mps_[np.isin(nav.sample_index_, anchors)], 0.0, atol=1e-9)


def test_anchor_tilt_error_is_corrected_where_the_foot_lands() -> None:
    """The accelerometer's 'up' off by 5° at the anchors (the foot still accelerates in a short stance) must
    not tilt the swing: corrected where the foot comes to rest the strides keep their length; spread over the
    swing by angle turned they do not."""
    t, f, w, anchors = _synthetic_strides(n_strides=6)
    sign = np.where(np.arange(len(anchors)) % 2 == 0, 1.0, -1.0)[:, None]
    up = Rotation.from_rotvec(sign * np.radians([4.0, 3.0, 0.0])).apply(window_mean(f, anchors, 4))
    moving = np.linalg.norm(w, axis=1) > 0.05
    lengths = {}
    for landing in (False, True):
        nav = StrideIntegration(tilt_error_at_landing=landing).integrate(
            t, f, w, starts=anchors[:-1], ends=anchors[1:], start_up=up[:-1], end_up=up[1:], moving=moving
        )
        lengths[landing] = np.linalg.norm(nav.displacement_m_[1:-1, :2], axis=1)
    assert np.allclose(lengths[True], 1.2, rtol=1e-3)
    assert np.max(np.abs(lengths[False] - 1.2)) > 0.01


def test_anchor_tilt_mismatch_finds_the_anchor_whose_up_is_wrong() -> None:
    t, f, w, anchors = _synthetic_strides(n_strides=5)
    up = window_mean(f, anchors, 4)
    assert np.degrees(anchor_tilt_mismatch_rad(attitude_scan(t, w), anchors, up)[1:-1]).max() < 0.1
    axis = np.cross(up[2], [1.0, 0.0, 0.0])  # any axis perpendicular to 'up' turns it by the full angle
    up[2] = Rotation.from_rotvec(np.radians(50.0) * axis / np.linalg.norm(axis)).apply(up[2])
    mismatch = np.degrees(anchor_tilt_mismatch_rad(attitude_scan(t, w), anchors, up))
    assert mismatch[1] == pytest.approx(50.0, abs=0.5) and mismatch[2] == pytest.approx(50.0, abs=0.5)
    assert mismatch[[0, 3]].max() < 5.0


@pytest.mark.parametrize(("tilted", "agrees"), [(0, True), (1, True), (2, False)])
def test_tilt_agrees_near_looks_past_one_tilted_sample(tilted: int, agrees: bool) -> None:
    """An anchor whose own force is tilted 40° (a one-sample stance at 100 Hz) still agrees with its neighbours at
    a sample next to it; tilted at every sample within reach it does not (a foot in the air)."""
    t, f, w, anchors = _synthetic_strides(n_strides=5, fs=100.0)
    scan = attitude_scan(t, w)
    axis = np.cross(f[anchors[2]], [1.0, 0.0, 0.0])
    tilt = Rotation.from_rotvec(np.radians(40.0) * axis / np.linalg.norm(axis))
    around = np.arange(anchors[2] - tilted, anchors[2] + tilted + 1)
    f[around] = tilt.apply(f[around])
    up = f[anchors].copy()
    assert np.degrees(anchor_tilt_mismatch_rad(scan, anchors, up)[1:3]).min() > 35.0
    which = np.array([1, 2, 3])
    found = tilt_agrees_near(scan, f, anchors, up, which, half=2, max_rad=np.radians(34.0))
    assert found.tolist() == [True, agrees, True]


def test_blended_up_keeps_what_the_gyroscope_and_the_accelerometer_agree_on() -> None:
    """Where every stance's measured 'up' is the one the gyroscope carries there (the foot turned any way between
    stances), blending changes nothing; a weight of 1 is the measurement itself."""
    turn = Rotation.random(50, random_state=6)
    scan = turn.as_quat()
    up = turn.inv().apply([0.0, 0.0, 9.8])
    anchors = np.arange(50)
    assert blended_up(scan, anchors, up, weight=1.0) is up
    assert np.allclose(blended_up(scan, anchors, up, weight=0.5), up, atol=1e-9)
    with pytest.raises(ValueError, match="weight"):
        blended_up(scan, anchors, up, weight=0.0)


def test_a_stance_without_an_up_spoils_no_other() -> None:
    """A zero or NaN 'up' (a dropout at a stance) comes back as it was; the anchors after it blend as if it were
    not there."""
    turn = Rotation.random(8, random_state=2)
    scan = turn.as_quat()
    up = turn.inv().apply([0.0, 0.0, 9.8])
    for bad in (np.zeros(3), np.full(3, np.nan)):
        for at in (0, 3):
            broken = up.copy()
            broken[at] = bad
            out = blended_up(scan, np.arange(8), broken, weight=0.5)
            others = np.arange(8) != at
            assert np.allclose(out[others], up[others], atol=1e-9)
            assert np.array_equal(out[at], bad, equal_nan=True)


def test_blended_up_averages_out_the_accelerometers_error_at_each_stance() -> None:
    """Each stance's measured 'up' tilted by a random 5° (a running foot is never still): blended half and half
    with the gyroscope's, the error left is about √(1/3) of it, and one stance's error fades stride by stride."""
    rng = np.random.default_rng(4)
    n = 400
    turn = Rotation.random(n, random_state=5)  # the foot's attitude at each stance, any turn between them
    scan = turn.as_quat()
    true_up = turn.inv().apply([0.0, 0.0, 9.81])  # gravity seen in each stance's sensor frame
    tilt = rng.normal(size=(n, 3))
    tilt -= np.sum(tilt * true_up, axis=1, keepdims=True) * true_up / 9.81**2
    tilt *= np.radians(5.0) * rng.normal(size=(n, 1)) / np.linalg.norm(tilt, axis=1, keepdims=True)
    measured = Rotation.from_rotvec(tilt).apply(true_up)
    anchors = np.arange(n)

    def error_deg(up: np.ndarray) -> np.ndarray:
        cos = np.sum(up * true_up, axis=1) / (np.linalg.norm(up, axis=1) * 9.81)
        return np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))

    before = np.sqrt(np.mean(error_deg(measured)[50:] ** 2))
    after = np.sqrt(np.mean(error_deg(blended_up(scan, anchors, measured, weight=0.5))[50:] ** 2))
    assert before == pytest.approx(5.0, rel=0.15)
    assert after == pytest.approx(before / np.sqrt(3.0), rel=0.15)
    one = true_up.copy()
    one[10] = measured[10]
    spread = error_deg(blended_up(scan, anchors, one, weight=0.5))
    assert spread[11] == pytest.approx(spread[10] / 2, rel=0.05) and spread[20] < spread[10] / 500


def test_stance_detector_finds_one_stance_per_constructed_stride() -> None:
    fs = 200.0
    t = np.arange(0, 10, 1 / fs)
    # Swings with two angular-rate peaks (like a walk) once per second, quiet stance between.
    phase = t % 1.0
    mag = 6 * np.exp(-(((phase - 0.45) / 0.1) ** 2)) + 8 * np.exp(-(((phase - 0.7) / 0.1) ** 2))
    gyr = np.column_stack([mag, 0 * mag, 0 * mag]) + np.random.default_rng(0).normal(0, 0.02, (len(t), 3))
    acc = np.tile([0, 0, 9.80665], (len(t), 1))
    det = AdaptiveStanceDetector().detect(acc, gyr, sample_rate_hz=fs)
    stance_phase = t[det.stance_index_] % 1.0
    assert len(det.stance_index_) == 11  # quiet from 0.85 to 0.3 of each second: 0, 1, …, 9 and the end
    assert np.all((stance_phase < 0.3) | (stance_phase > 0.9))


def test_rotvec_of_tiny_and_large_angles_is_the_series_or_the_sine_to_the_bit() -> None:
    """Below 1e-4 rad the Taylor series of sin(x/2)/x, above it the sine: in one array, each where it applies."""
    rng = np.random.default_rng(5)
    axis = rng.normal(size=(400, 3))
    axis /= np.linalg.norm(axis, axis=1, keepdims=True)
    angle = np.r_[0.0, 1e-9, 9.99e-5, 1e-4, 1.01e-4, rng.uniform(0, 3, 395)][:, None]
    rv = axis * angle
    a = np.sqrt(np.einsum("ij,ij->i", rv, rv))[:, None]
    scale = np.where(a < 1e-4, 0.5 - a**2 / 48.0, np.sin(0.5 * a) / np.where(a < 1e-4, 1.0, a))
    np.testing.assert_array_equal(quat.from_rotvec(rv), np.concatenate((rv * scale, np.cos(0.5 * a)), axis=1))
    assert np.allclose(quat.from_rotvec(rv), Rotation.from_rotvec(rv).as_quat(), atol=1e-15)


def test_a_stance_trusted_less_moves_the_blend_less() -> None:
    """Per-anchor weights: a stance whose measured 'up' is tilted 30° (a foot still rolling at its quietest
    sample) pulls the blend by about its weight's share; weighted a tenth as much, it pulls a tenth as far. One
    weight for all is the same as that weight at every anchor."""
    turn = Rotation.random(10, random_state=3)
    scan = turn.as_quat()
    up = turn.inv().apply([0.0, 0.0, 9.8])
    tilted = up.copy()
    axis = np.cross(up[5], [1.0, 0.0, 0.0])
    tilted[5] = Rotation.from_rotvec(np.radians(30.0) * axis / np.linalg.norm(axis)).apply(up[5])

    def off_deg(out: np.ndarray) -> float:
        return float(np.degrees(np.arccos(np.clip(out[5] @ up[5] / 9.8**2, -1.0, 1.0))))

    trusted = off_deg(blended_up(scan, np.arange(10), tilted, weight=0.5))
    weights = np.full(10, 0.5)
    weights[5] = 0.05
    doubted = off_deg(blended_up(scan, np.arange(10), tilted, weight=weights))
    assert 13.0 < trusted < 17.0 and 1.0 < doubted < 2.0
    assert np.array_equal(
        blended_up(scan, np.arange(10), tilted, weight=np.full(10, 0.5)),
        blended_up(scan, np.arange(10), tilted, weight=0.5),
    )
    with pytest.raises(ValueError, match="weight"):
        blended_up(scan, np.arange(10), tilted, weight=np.r_[np.full(9, 0.5), 1.5])
