"""``soleware analyze`` and ``soleware eval`` on small inputs that need nothing from ../shared."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from soleware.cli import app
from soleware.gait.evaluation import evaluate_folder
from soleware.gait.recording import sample_recording_path

runner = CliRunner()
G = 9.80665


def _analyze_json(*args: str) -> dict:
    res = runner.invoke(app, ["analyze", *args, "--json"])
    assert res.exit_code == 0, res.output
    return json.loads(res.stdout, parse_constant=lambda name: pytest.fail(f"{name} in the JSON"))


def test_units_of_a_file_in_g_and_deg_per_s(tmp_path: Path) -> None:
    """The bundled sample written in g and deg/s, read with ``--acc-unit g --gyr-unit deg/s``, is the same run."""
    src = sample_recording_path()
    data = np.loadtxt(src, delimiter=",", skiprows=1)
    data[:, 1:4] /= G
    data[:, 4:7] = np.degrees(data[:, 4:7])
    out = tmp_path / "in_g.csv"
    np.savetxt(out, data, delimiter=",", fmt="%.9g", header="t,ax,ay,az,gx,gy,gz", comments="")
    shutil.copy(src.with_suffix(".json"), out.with_suffix(".json"))
    si = _analyze_json(str(src))
    converted = _analyze_json(str(out), "--acc-unit", "g", "--gyr-unit", "deg/s")
    assert converted["steps"] == si["steps"] > 10
    assert converted["distance_m"] == pytest.approx(si["distance_m"], rel=1e-3)
    assert converted["warnings"] == si["warnings"]
    # declared as SI, the same file is another run: the options are what converts
    wrong = _analyze_json(str(out), "--acc-unit", "m/s^2", "--gyr-unit", "rad/s")
    assert wrong["steps"] != si["steps"] or wrong["distance_m"] != pytest.approx(si["distance_m"], rel=0.05)


def test_eval_a_folder_of_simulated_runs(short_run: Path, tmp_path: Path) -> None:
    """``eval`` scores each recording of a folder against its ground truth, with the evaluation's own figures."""
    folder = tmp_path / "recs"
    folder.mkdir()
    for ext in (".csv", ".json"):
        shutil.copy(short_run.with_suffix(ext), folder / f"sim{ext}")
    res = runner.invoke(app, ["eval", str(folder)], env={"COLUMNS": "200"})
    assert res.exit_code == 0, res.output
    (ev,) = evaluate_folder(folder)
    row = next(line for line in res.output.splitlines() if line.strip("│ ").startswith("sim"))
    assert f"{ev.distance_error_pct:+.1f}" in row and str(ev.strides) in row
    assert "Aggregate" in res.output


def test_eval_refuses_a_file(short_run: Path) -> None:
    res = runner.invoke(app, ["eval", str(short_run)])
    assert res.exit_code == 2 and "not a folder" in res.output
