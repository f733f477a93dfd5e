"""The sole IMU's imperfections: noise, quantisation, clipping, dropped samples; and the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from soleware.cli import app
from soleware.gait.recording import load_recording
from soleware.shoe.sim import SensorModel, ShoeSimulator


def test_noise_at_rest_follows_the_noise_density() -> None:
    sensor = SensorModel.perfect().with_(acc_noise_density=2e-3, gyr_noise_density=1e-4)
    rec = ShoeSimulator(sensor=sensor, seed=1).simulate("60s stand").recordings_["left"]
    fs = rec.sample_rate_hz
    assert np.std(rec.acc_mps2, axis=0) == pytest.approx(2e-3 * np.sqrt(fs / 2), rel=0.05)
    assert np.std(rec.gyr_rps, axis=0) == pytest.approx(1e-4 * np.sqrt(fs / 2), rel=0.05)


def test_bias_shifts_the_rest_reading() -> None:
    sensor = SensorModel.perfect().with_(gyr_bias_rps=0.02)
    rec = (
        ShoeSimulator(sensor=sensor, seed=1, mounting_deg=(0, 0, 0)).simulate("10s stand").recordings_["left"]
    )
    bias = rec.gyr_rps.mean(axis=0)
    assert np.abs(bias).max() > 1e-3
    assert np.ptp(rec.gyr_rps, axis=0).max() < 1e-12  # constant without a walk


def test_values_are_16_bit_words_of_the_range() -> None:
    sensor = SensorModel()
    rec = ShoeSimulator(sensor=sensor, seed=2).simulate("20s@4:00/km").recordings_["left"]
    for x, lsb in ((rec.acc_mps2, sensor.acc_lsb_mps2), (rec.gyr_rps, sensor.gyr_lsb_rps)):
        words = x / lsb
        assert np.abs(words - np.round(words)).max() < 1e-6
        assert words.min() >= -(2**15) and words.max() <= 2**15 - 1
    assert sensor.acc_lsb_mps2 == pytest.approx(32 * 9.80665 / 65536)


def test_small_range_clips_the_sprint() -> None:
    sensor = SensorModel.perfect().with_(
        acc_range_mps2=8 * 9.80665, gyr_range_rps=np.radians(500.0), clip=True
    )
    rec = ShoeSimulator(sensor=sensor, seed=3).simulate("20s@6.5m/s").recordings_["right"]
    top = 8 * 9.80665 - sensor.acc_lsb_mps2
    assert rec.acc_mps2.max() == pytest.approx(top) and rec.acc_mps2.min() >= -8 * 9.80665
    assert np.abs(rec.gyr_rps).max() <= np.radians(500.0)
    assert (rec.acc_mps2 == rec.acc_mps2.max()).sum() > 10
    free = ShoeSimulator(sensor=SensorModel.perfect(), seed=3).simulate("20s@6.5m/s").recordings_["right"]
    assert free.acc_mps2.max() > 1.3 * top


def test_a_module_that_calibrates_its_output_clips_softly() -> None:
    """Where nothing clips, a calibrating module reports what the plain chip does (its calibration takes out the
    raw axes' mixing exactly); where the raw reading clipped, the plateau moves with the other axes and never
    repeats the range's value, and the sample is flagged all the same."""
    plain = SensorModel().with_(gyr_range_rps=float(np.radians(500.0)), drop_probability=0.0, quantize=False)
    module = plain.with_(factory_calibrated=True)
    free = [m.with_(gyr_range_rps=float(np.radians(4000.0))) for m in (plain, module)]
    outs = [
        ShoeSimulator(sensor=m, seed=5).simulate("3s stand, 10s run@5m/s").recordings_["right"]
        for m in (*free, plain, module)
    ]
    assert np.allclose(outs[0].gyr_rps, outs[1].gyr_rps, atol=1e-9)
    hard, soft = outs[2].gyr_rps, outs[3].gyr_rps
    level = np.radians(500.0)
    at_range = np.abs(hard) >= level * (1 - 1e-9)
    assert at_range.sum() > 100
    assert np.unique(soft[at_range]).size > 0.9 * at_range.sum()  # every clipped sample its own value
    assert np.abs(np.abs(soft[at_range]) / level - 1).max() < 0.1  # near the range, not at it
    assert np.abs(np.abs(soft[at_range]) / level - 1).max() > 0.005


def test_a_module_s_output_filter_rounds_the_plateau_s_edges() -> None:
    module = SensorModel().with_(
        gyr_range_rps=float(np.radians(500.0)), drop_probability=0.0, factory_calibrated=True
    )
    sharp, smooth = (
        ShoeSimulator(sensor=module.with_(output_filter_samples=k), seed=6)
        .simulate("3s stand, 10s run@5m/s")
        .recordings_["right"]
        .gyr_rps
        for k in (1, 3)
    )
    # a centred mean: the same reading at rest, with less of its noise; a smaller step into each plateau
    assert np.allclose(smooth[:300].mean(axis=0), sharp[:300].mean(axis=0), atol=1e-4)
    assert np.all(smooth[:300].std(axis=0) < 0.8 * sharp[:300].std(axis=0))
    level = np.radians(500.0)
    entries = np.flatnonzero(np.diff((np.abs(sharp) > 0.97 * level).astype(int), axis=0) == 1)  # flattened
    row, axis = np.divmod(entries, 3)
    # the sharpest bend of the last few samples into each plateau
    bends = [
        np.array(
            [np.abs(np.diff(x[max(i - 3, 0) : i + 4, j], 2)).max() for i, j in zip(row, axis, strict=True)]
        )
        for x in (sharp, smooth)
    ]
    assert len(entries) > 5 and np.mean(bends[1]) < 0.75 * np.mean(bends[0])


def test_dropped_samples_leave_gaps_and_jitter_moves_timestamps() -> None:
    sensor = SensorModel.perfect().with_(drop_probability=0.01, drop_burst_max=3, time_jitter_s=50e-6)
    rec = ShoeSimulator(sensor=sensor, seed=4).simulate("30s@5:00/km").recordings_["left"]
    dt = np.diff(rec.t_s)
    nominal = 1 / rec.sample_rate_hz
    gaps = dt > 1.5 * nominal
    assert 30 < gaps.sum() < 150
    assert np.median(dt[gaps]) < 4.6 * nominal  # bursts of 1-3 lost samples (two may touch)
    normal = dt[~gaps]
    assert 20e-6 < np.std(normal) < 150e-6
    assert len(rec.ground_truth.trajectory) == len(rec)
    np.testing.assert_array_equal(rec.ground_truth.trajectory[:, 0], rec.t_s)


def test_perfect_sensor_keeps_the_nominal_grid() -> None:
    rec = ShoeSimulator(sensor=SensorModel.perfect(), seed=4).simulate("10s walk").recordings_["left"]
    np.testing.assert_allclose(np.diff(rec.t_s), 1 / 200.0, atol=1e-12)


def test_cli_simulate_both_sides(tmp_path: Path) -> None:
    res = CliRunner().invoke(
        app,
        [
            "shoe",
            "simulate",
            "--plan",
            "30s@5:00/km, 10s stand, 20s walk",
            "--seed",
            "3",
            "--out",
            str(tmp_path / "run.csv"),
        ],
    )
    assert res.exit_code == 0, res.output
    assert "strides" in res.output and "km" in res.output
    left = load_recording(tmp_path / "run_left.csv")
    right = load_recording(tmp_path / "run_right.csv")
    assert left.side == "left" and right.side == "right" and left.placement == "sole"
    gt = left.ground_truth
    assert gt.trajectory is not None and gt.strides is not None and gt.stride_details is not None
    assert gt.distance_m == pytest.approx(gt.strides[:, 2].sum())
    assert {"contact_time_s", "flight_time_s", "strike_angle_deg", "strike_type"} <= set(gt.stride_details[0])
    meta = json.loads((tmp_path / "run_left.json").read_text())
    assert meta["source"]["seed"] == 3
    assert abs(left.duration_s - 66.0) < 0.1


def test_cli_simulate_one_side_and_rate(tmp_path: Path) -> None:
    out = tmp_path / "one.csv"
    res = CliRunner().invoke(
        app, ["shoe", "simulate", "--plan", "20s walk", "--side", "right", "--rate", "100", "--out", str(out)]
    )
    assert res.exit_code == 0, res.output
    rec = load_recording(out)
    assert rec.side == "right" and rec.sample_rate_hz == 100.0


def test_cli_simulate_reports_plan_errors(tmp_path: Path) -> None:
    res = CliRunner().invoke(
        app, ["shoe", "simulate", "--plan", "10min@6:00/km 5min walk", "--out", str(tmp_path / "x.csv")]
    )
    assert res.exit_code == 2
    assert "position 15" in res.output and "^" in res.output
    assert not list(tmp_path.iterdir())
