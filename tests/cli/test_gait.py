"""``soleware analyze`` and ``soleware eval`` on small inputs that need nothing from ../shared."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from soleware.cli import app
from soleware.gait.evaluation import Skipped, evaluate_folder
from soleware.gait.recording import RecordingError, sample_recording_path

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


def test_analyze_shows_what_the_rests_said_of_the_chip(tmp_path: Path) -> None:
    """The rests give the chip's gyroscope bias and the accelerometer offset taken off: here one written into the
    bundled sample, 0.3 m/s² along 'up' (less the ±0.03 m/s² local gravity may explain), and the distance comes
    back to within 0.3 % of the sample's."""
    src = sample_recording_path()
    data = np.loadtxt(src, delimiter=",", skiprows=1)
    up = data[:200, 1:4].mean(axis=0)
    data[:, 1:4] += 0.3 * up / np.linalg.norm(up)
    out = tmp_path / "offset.csv"
    np.savetxt(out, data, delimiter=",", fmt="%.9g", header="t,ax,ay,az,gx,gy,gz", comments="")
    shutil.copy(src.with_suffix(".json"), out.with_suffix(".json"))
    plain, shifted = _analyze_json(str(src)), _analyze_json(str(out))
    assert len(plain["rests"]) == len(shifted["rests"]) >= 1
    for a, b in zip(plain["rests"], shifted["rests"], strict=True):
        assert np.linalg.norm(a["acc_offset_mps2"]) == 0.0
        assert np.linalg.norm(b["acc_offset_mps2"]) == pytest.approx(0.27, abs=0.015)
        assert b["gyr_bias_rps"] == pytest.approx(a["gyr_bias_rps"], abs=1e-6)
    assert shifted["distance_m"] == pytest.approx(plain["distance_m"], rel=0.003)
    table = runner.invoke(app, ["analyze", str(out)], env={"COLUMNS": "120"})
    assert table.exit_code == 0, table.output
    assert "Accelerometer offset taken off" in table.output
    assert f"{np.linalg.norm(shifted['rests'][0]['acc_offset_mps2']):.2f} m/s²" in table.output
    assert (
        "none (within ±0.03 m/s² of gravity)"
        in runner.invoke(app, ["analyze"], env={"COLUMNS": "120"}).output
    )


def test_analyze_shows_what_clipping_cost_and_what_was_given_back(tmp_path: Path) -> None:
    """A sprint on a ±1000 °/s gyroscope and a toe cap on a ±8 g accelerometer: the summary says how many strides
    got turn or velocity back and how much (the median over the strides the JSON shows getting at least the
    row's last digit); an unclipped walk has no such row."""
    cases = (
        ("sprint", "40s@2:10/km", ["--gyr-range", "1000", "--rate", "100", "--strike", "forefoot"], "turn"),
        ("toe", "40s@3:00/km", ["--placement", "toe", "--acc-range", "8"], "velocity"),
    )
    for name, plan, extra, what in cases:
        out = tmp_path / f"{name}.csv"
        sim = ["shoe", "simulate", "--plan", plan, "--side", "right", "--out", str(out), "--seed", "3"]
        assert runner.invoke(app, [*sim, *extra]).exit_code == 0
        strides = _analyze_json(str(out))["strides"]
        if what == "turn":
            values = [np.degrees(s["clip_turn_recovered_rad"]) for s in strides]
            given = [v for v in values if round(v, 1) > 0]
            shown = f"{what} in {len(given)} strides, median {np.median(given):.1f}°"
        else:
            given = [s["clip_recovered_mps"] for s in strides if round(s["clip_recovered_mps"], 2) > 0]
            shown = f"{what} in {len(given)} strides, median {np.median(given):.2f} m/s"
        assert len(given) > 0.5 * len(strides)
        table = runner.invoke(app, ["analyze", str(out)], env={"COLUMNS": "200"}).output
        assert "Clipping recovered" in table and shown in table, table
    walk = tmp_path / "walk.csv"
    sim = ["shoe", "simulate", "--plan", "40s walk", "--side", "right", "--out", str(walk), "--seed", "3"]
    assert runner.invoke(app, sim).exit_code == 0
    assert (
        "Clipping recovered" not in runner.invoke(app, ["analyze", str(walk)], env={"COLUMNS": "200"}).output
    )
    # the bundled sample's gyroscope clips softly near 510 °/s in its fastest swings (its module calibrates)
    assert "Clipping recovered" in runner.invoke(app, ["analyze"], env={"COLUMNS": "200"}).output


@pytest.mark.parametrize(("unit", "factor", "epoch"), [("ms", 1e3, 0.0), ("us", 1e6, 1.7e15)])
def test_timestamps_in_ms_or_us(tmp_path: Path, unit: str, factor: float, epoch: float) -> None:
    """Timestamps in ms (or µs since the epoch) read with ``--time-unit`` are the same run; without it the error
    names the option, and nothing is guessed."""
    src = sample_recording_path()
    data = np.loadtxt(src, delimiter=",", skiprows=1)
    data[:, 0] = epoch + np.round(data[:, 0] * factor)
    out = tmp_path / f"in_{unit}.csv"
    np.savetxt(
        out, data, delimiter=",", fmt=["%.0f"] + ["%.9g"] * 6, header="t,ax,ay,az,gx,gy,gz", comments=""
    )
    shutil.copy(src.with_suffix(".json"), out.with_suffix(".json"))
    si = _analyze_json(str(src))
    converted = _analyze_json(str(out), "--time-unit", unit)
    assert converted["steps"] == si["steps"] > 10
    assert converted["distance_m"] == pytest.approx(si["distance_m"], rel=2e-3)
    res = runner.invoke(app, ["analyze", str(out)])
    assert res.exit_code == 2 and f"--time-unit {unit}" in " ".join(res.output.split())


@pytest.mark.parametrize(
    ("option", "value", "choices"),
    [
        ("--acc-unit", "mg", "auto, m/s^2, g"),
        ("--gyr-unit", "rpm", "auto, rad/s, deg/s"),
        ("--time-unit", "h", "s, ms, us, ns"),
    ],
)
def test_an_unknown_unit_is_a_usage_error(option: str, value: str, choices: str) -> None:
    """A unit the reader does not know names the option and the choices, without a traceback."""
    res = runner.invoke(app, ["analyze", option, value])
    assert res.exit_code == 2
    assert option in res.output and repr(value) in res.output and choices in res.output
    assert isinstance(res.exception, SystemExit)


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


def _folder_of_two(short_run: Path, tmp_path: Path) -> Path:
    folder = tmp_path / "recs"
    (folder / "b").mkdir(parents=True)
    for ext in (".csv", ".json"):
        shutil.copy(short_run.with_suffix(ext), folder / f"sim{ext}")
        shutil.copy(short_run.with_suffix(ext), folder / "b" / f"again{ext}")
    return folder


def test_eval_jobs_gives_the_results_of_one_process(short_run: Path, tmp_path: Path) -> None:
    folder = _folder_of_two(short_run, tmp_path)
    one = evaluate_folder(folder, jobs=1)
    two = evaluate_folder(folder, jobs=2)
    assert [e.name for e in two] == ["again", "sim"]  # path order, whatever process finished first
    for a, b in zip(one, two, strict=True):
        assert a.distance_error_pct == b.distance_error_pct and a.strides == b.strides
        np.testing.assert_array_equal(a.stride_length_errors_m, b.stride_length_errors_m)
    res = runner.invoke(app, ["eval", str(folder), "--jobs", "2"], env={"COLUMNS": "200"})
    assert res.exit_code == 0, res.output
    assert "again" in res.output and "sim" in res.output


def test_eval_scores_the_rest_of_a_folder_and_names_what_it_could_not(
    short_run: Path, tmp_path: Path
) -> None:
    """In a folder of someone else's recordings, one that cannot be read and one without ground truth cost no
    other score: both are named, the unreadable one with its reason as an error (exit 1), here and in the report."""
    folder = _folder_of_two(short_run, tmp_path)
    data = np.loadtxt(short_run, delimiter=",", skiprows=1)
    data[:, 0] *= 1000.0  # timestamps in ms
    np.savetxt(folder / "in_ms.csv", data, delimiter=",", header="t,ax,ay,az,gx,gy,gz", comments="")
    shutil.copy(short_run.with_suffix(".json"), folder / "in_ms.json")
    shutil.copy(short_run, folder / "raw.csv")  # no sidecar: no ground truth
    out = tmp_path / "report.html"
    res = runner.invoke(app, ["eval", str(folder), "--report", str(out)], env={"COLUMNS": "200"})
    assert res.exit_code == 1
    said = " ".join(res.output.split())
    assert "in_ms.csv: the timestamps advance by 5 per sample" in said and "look like milliseconds" in said
    assert "not scored, no exact ground truth: raw.csv" in said
    assert "again" in said and "sim" in said and "Aggregate" in said
    page = out.read_text(encoding="utf-8")
    assert "<h2>Not scored</h2>" in page and "in_ms.csv" in page and "raw.csv" in page
    with pytest.raises(RecordingError, match="in_ms.csv"):
        evaluate_folder(folder)  # without a list to name them in, a file that cannot be read raises
    skipped: list[Skipped] = []
    assert [e.name for e in evaluate_folder(folder, jobs=2, skipped=skipped)] == ["again", "sim"]
    assert [(k.path.name, k.unreadable) for k in skipped] == [("in_ms.csv", True), ("raw.csv", False)]


def test_eval_of_a_folder_without_ground_truth_says_so(tmp_path: Path) -> None:
    """An empty table would read as "no errors": a folder with nothing to score is an error that says why."""
    shutil.copy(sample_recording_path(), tmp_path / "no_sidecar.csv")
    res = runner.invoke(app, ["eval", str(tmp_path)])
    assert res.exit_code == 1
    said = " ".join(res.output.split())  # the console wraps long lines
    assert "no recording with a ground truth" in said and "Aggregate" not in said


def test_eval_refuses_zero_jobs(short_run: Path, tmp_path: Path) -> None:
    res = runner.invoke(app, ["eval", str(_folder_of_two(short_run, tmp_path)), "--jobs", "0"])
    assert res.exit_code == 2 and "--jobs must be at least 1" in res.output


def test_eval_report_is_a_self_contained_page(short_run: Path, tmp_path: Path) -> None:
    folder = _folder_of_two(short_run, tmp_path)
    out = tmp_path / "report.html"
    res = runner.invoke(app, ["eval", str(folder), "--report", str(out)], env={"COLUMNS": "200"})
    assert res.exit_code == 0, res.output
    page = out.read_text(encoding="utf-8")
    (ev, _) = evaluate_folder(folder, jobs=1)
    assert page.startswith("<!DOCTYPE html>") and page.count("<svg") == 2  # distance errors, Bland–Altman
    assert (
        "<script" not in page and "src=" not in page and "href=" not in page
    )  # nothing loaded from elsewhere
    assert f"<td>{ev.distance_error_pct:+.1f}</td>" in page
    assert f"{len(ev.stride_length_errors_m) * 2} strides)" in page  # both recordings' paired strides plotted
    assert "gaitmap" in page


def test_eval_report_to_an_unwritable_place(short_run: Path, tmp_path: Path) -> None:
    folder = _folder_of_two(short_run, tmp_path)
    res = runner.invoke(app, ["eval", str(folder), "--report", str(tmp_path / "no" / "such" / "dir.html")])
    assert res.exit_code == 2 and "cannot write the report" in res.output
