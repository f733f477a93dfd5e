"""``soleware shoe simulate``: the runner's foot strike and an ideal sensor reach the recording."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from soleware.cli import app
from soleware.gait.recording import load_recording

runner = CliRunner()


def test_strike_perfect_and_rate(tmp_path: Path) -> None:
    """``--strike forefoot --perfect --rate 100``: forefoot running strides in the ground truth, a sensor with no
    noise and no dropped samples, 100 Hz."""
    out = tmp_path / "ff.csv"
    args = ["shoe", "simulate", "--plan", "20s@4:30/km", "--side", "right", "--out", str(out)]
    res = runner.invoke(app, [*args, "--strike", "forefoot", "--perfect", "--rate", "100"])
    assert res.exit_code == 0, res.output
    rec = load_recording(out)
    meta = json.loads(out.with_suffix(".json").read_text())
    assert rec.sample_rate_hz == 100.0 and meta["source"]["runner"]["strike"] == "forefoot"
    running = [s for s in meta["ground_truth"]["strides"] if s["gait"] == "run"]
    assert running and {s["strike_type"] for s in running} == {"forefoot"}
    assert (
        meta["source"]["sensor"]["acc_noise_density"] == 0
        and meta["source"]["sensor"]["drop_probability"] == 0
    )
    assert np.allclose(np.diff(rec.t_s), 0.01)

    noisy = tmp_path / "noisy.csv"
    args = ["shoe", "simulate", "--plan", "20s@4:30/km", "--side", "right", "--out", str(noisy)]
    res = runner.invoke(app, [*args, "--no-perfect", "--strike", "midfoot"])
    assert res.exit_code == 0, res.output
    meta = json.loads(noisy.with_suffix(".json").read_text())
    assert (
        meta["source"]["runner"]["strike"] == "midfoot" and meta["source"]["sensor"]["acc_noise_density"] > 0
    )


def test_bad_strike_is_refused(tmp_path: Path) -> None:
    res = runner.invoke(
        app, ["shoe", "simulate", "--plan", "20s walk", "--strike", "toes", "--out", str(tmp_path / "x.csv")]
    )
    assert res.exit_code == 2 and "--strike" in res.output
    assert not list(tmp_path.iterdir())


def test_placement_and_chip_ranges_reach_the_recording(tmp_path: Path) -> None:
    """``--placement toe --acc-range 8 --gyr-range 1000``: a toe-cap chip whose readings clip at its ranges, and
    the recording states them (so the analysis knows where the chip clips)."""
    out = tmp_path / "toe.csv"
    args = ["shoe", "simulate", "--plan", "20s@3:20/km", "--side", "left", "--out", str(out), "--seed", "4"]
    res = runner.invoke(app, [*args, "--placement", "toe", "--acc-range", "8", "--gyr-range", "1000"])
    assert res.exit_code == 0, res.output
    rec = load_recording(out)
    assert rec.acc_range_mps2 == pytest.approx(8 * 9.80665)
    assert rec.gyr_range_rps == pytest.approx(np.radians(1000.0))
    top = np.abs(rec.acc_mps2).max()
    assert 0.99 * rec.acc_range_mps2 < top <= rec.acc_range_mps2
    assert rec.placement == "toe"


def test_a_calibrated_module_clips_softly_and_the_analysis_rebuilds_its_tops(tmp_path: Path) -> None:
    """``--calibrated --gyr-range 500``: a module whose gyroscope clips softly (its plateaus lie near the range,
    above or under it, where a plain chip's sit at it); ``soleware analyze`` gives its strides turn back and says
    so."""
    sim = ["shoe", "simulate", "--plan", "30s@4:10/km", "--side", "left", "--seed", "4", "--gyr-range", "500"]
    chip, module = tmp_path / "chip.csv", tmp_path / "module.csv"
    assert runner.invoke(app, [*sim, "--out", str(chip)]).exit_code == 0
    res = runner.invoke(app, [*sim, "--out", str(module), "--calibrated"])
    assert res.exit_code == 0, res.output
    level = np.radians(500.0)
    for path, clips_hard in ((chip, True), (module, False)):
        gyr = np.abs(load_recording(path).gyr_rps)
        at_range = np.sum(np.abs(gyr - level) <= 2**-15 * level)  # the range, or one step under it
        assert (gyr > 0.97 * level).sum() > 100 and (at_range > 100) == clips_hard
    table = runner.invoke(app, ["analyze", str(module)], env={"COLUMNS": "200"}).output
    assert "Clipping recovered" in table and "turn in" in table, table


def test_bad_placement_and_ranges_are_refused(tmp_path: Path) -> None:
    base = ["shoe", "simulate", "--plan", "20s walk", "--out", str(tmp_path / "x.csv")]
    for extra, word in (
        (["--placement", "knee"], "--placement"),
        (["--acc-range", "0"], "--acc-range"),
        (["--gyr-range", "-5"], "--gyr-range"),
        (["--perfect", "--acc-range", "8"], "--perfect"),
        (["--perfect", "--calibrated"], "--perfect"),
    ):
        res = runner.invoke(app, [*base, *extra])
        assert res.exit_code == 2 and word in res.output, (extra, res.output)
    assert not list(tmp_path.iterdir())
