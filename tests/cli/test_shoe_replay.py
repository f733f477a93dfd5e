"""``soleware shoe replay``: the firmware over a recording, as a table, a summary, JSON lines or into a run log."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from soleware.cli import app
from soleware.gait.recording import load_recording
from soleware.shoe.firmware import Firmware, StrideEvent

runner = CliRunner()


def _strict(line: str) -> dict:
    """One JSON line, refusing NaN and Infinity (which ``json.dumps`` writes by default, and JSON does not have)."""

    def refuse(name: str) -> None:
        raise ValueError(f"{name} is not JSON")

    return json.loads(line, parse_constant=refuse)


def _replay_json(*args: str) -> list[dict]:
    res = runner.invoke(app, ["shoe", "replay", *args, "--json"])
    assert res.exit_code == 0, res.output
    return [_strict(line) for line in res.stdout.splitlines()]


@pytest.fixture(scope="module")
def rows(short_run: Path) -> list[dict]:
    """``shoe replay --json`` of the short run."""
    return _replay_json(str(short_run))


def test_json_lines_carry_every_stride_and_event(short_run: Path, rows: list[dict]) -> None:
    """``--json`` used to crash on the slots dataclass RscValues; now each stride and firmware event is one strict
    JSON object, the same strides the firmware reports when fed the recording directly."""
    rec = load_recording(short_run)
    fw = Firmware(side="left", sample_rate_hz=rec.sample_rate_hz)
    events = list(fw.feed(rec.t_s, rec.acc_mps2, rec.gyr_rps)) + fw.finish()
    strides = [e for e in events if isinstance(e, StrideEvent)]
    got = [r for r in rows if r["type"] == "stride"]
    assert [r["seq"] for r in got] == [e.seq for e in strides]
    assert [r["length_m"] for r in got] == pytest.approx([e.stride.length_m for e in strides])
    assert [r["rsc"]["total_distance_m"] for r in got] == pytest.approx(
        [e.rsc.total_distance_m for e in strides]
    )
    assert [r["type"] for r in rows if r["type"] != "stride"] == [
        e.kind for e in events if not isinstance(e, StrideEvent)
    ]
    assert rows[0]["type"] == "run_started" and rows[-1]["type"] == "run_ended"
    assert {"gait", "strike_type", "contact_time_s", "moving_s"} <= set(got[0])
    assert {"speed_mps", "cadence_spm", "stride_length_m", "is_running"} <= set(got[0]["rsc"])


def test_side_and_calibration(short_run: Path, rows: list[dict]) -> None:
    """``--calibration`` scales every stride's length; ``--side`` overrides the sidecar's foot (same strides)."""
    plain = [r for r in rows if r["type"] == "stride"]
    scaled = [
        r
        for r in _replay_json(str(short_run), "--side", "right", "--calibration", "1.1")
        if r["type"] == "stride"
    ]
    assert len(scaled) == len(plain) > 20
    assert [r["length_m"] for r in scaled] == pytest.approx([1.1 * r["length_m"] for r in plain])


def test_auto_end_splits_a_run_at_a_long_stand(tmp_path: Path) -> None:
    """A 12 s stand is a pause under the default ``--auto-end-s`` 60 and the end of a run under 5."""
    out = tmp_path / "stand.csv"
    plan = "15s@5:00/km, 12s stand, 15s@5:00/km"
    res = runner.invoke(app, ["shoe", "simulate", "--plan", plan, "--side", "left", "--out", str(out)])
    assert res.exit_code == 0, res.output
    default = [r["type"] for r in _replay_json(str(out)) if r["type"] != "stride"]
    short = [r["type"] for r in _replay_json(str(out), "--auto-end-s", "5") if r["type"] != "stride"]
    assert default.count("run_started") == 1
    assert short.count("run_started") == 2 and short.count("run_ended") == 2


def test_strides_table_and_summary(short_run: Path, rows: list[dict]) -> None:
    """``--strides`` prints one row per stride before the summary; ``--summary`` (the default) only the summary."""
    n = sum(r["type"] == "stride" for r in rows)
    table = runner.invoke(app, ["shoe", "replay", str(short_run), "--strides"], env={"COLUMNS": "200"})
    summary = runner.invoke(app, ["shoe", "replay", str(short_run), "--summary"], env={"COLUMNS": "200"})
    assert table.exit_code == 0 and summary.exit_code == 0, table.output + summary.output
    assert f"{n} strides" in summary.output and "strides (left shoe)" not in summary.output
    assert "strides (left shoe)" in table.output
    assert "run started" in summary.output and "run ended" in summary.output
    lines = [line for line in table.output.splitlines() if line.strip().startswith("│")]
    assert len(lines) == n


def test_log_then_dump(short_run: Path, rows: list[dict], tmp_path: Path) -> None:
    """``--log`` writes the run into a flash image that ``shoe log dump`` reads back, stride for stride."""
    image = tmp_path / "shoe.img"
    res = runner.invoke(app, ["shoe", "replay", str(short_run), "--log", str(image)])
    assert res.exit_code == 0, res.output
    assert f"logged to {image}: 1 run(s)" in res.output.replace("\n", "")
    n = sum(r["type"] == "stride" for r in rows)
    dump = runner.invoke(app, ["shoe", "log", "dump", str(image), "--json"])
    assert dump.exit_code == 0, dump.output
    kinds = [_strict(line)["type"] for line in dump.stdout.splitlines()]
    assert kinds == ["run_start"] + ["stride"] * n + ["run_end"]


def test_unreadable_recording(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("not,a,recording\n")
    res = runner.invoke(app, ["shoe", "replay", str(bad)])
    assert res.exit_code == 2 and "error:" in res.output
