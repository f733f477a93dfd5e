"""``soleware shoe simulate``: the runner's foot strike and an ideal sensor reach the recording."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
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
