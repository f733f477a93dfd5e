"""``soleware shoe log new|dump|check``."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from typer.testing import CliRunner

from soleware.cli import app
from soleware.gait import Gait
from soleware.gait import Stride as GaitStride
from soleware.shoe.runlog import FileFlash, PowerCut, RunLog

runner = CliRunner()


def stride(log: RunLog, i: int) -> bool:
    s = GaitStride(
        t_start_s=0.7 * i - 0.7, t_end_s=0.7 * i, length_m=2.0, speed_mps=3.0, cadence_spm=170,
        contact_time_s=0.2, flight_time_s=0.1, strike_angle_deg=0.0, strike_type=None, impact_mps2=0.0,
        gait=Gait.RUN,
    )  # fmt: skip
    return log.append_stride(s)


@pytest.fixture
def image(tmp_path: Path) -> Path:
    path = tmp_path / "shoe.img"
    res = runner.invoke(app, ["shoe", "log", "new", str(path), "--size", "64KiB"])
    assert res.exit_code == 0, res.output
    assert path.stat().st_size == 64 * 1024 and path.read_bytes() == b"\xff" * 65536
    with FileFlash(path) as flash:
        log = RunLog.open(flash)
        log.start_run(start_unix_ms=1_700_000_000_000, side="left", firmware="0.9")
        for i in range(5):
            stride(log, i)
        log.end_run(distance_m=10.0, moving_s=3.5, elapsed_s=4.0)
        log.ack(3)
    return path


def test_new_refuses_to_overwrite(image: Path) -> None:
    res = runner.invoke(app, ["shoe", "log", "new", str(image)])
    assert res.exit_code == 2 and "exists" in res.output


def test_dump_json_lines(image: Path) -> None:
    res = runner.invoke(app, ["shoe", "log", "dump", str(image), "--json"])
    assert res.exit_code == 0, res.output
    rows = [json.loads(line) for line in res.output.splitlines()]
    assert [r["type"] for r in rows] == ["run_start"] + ["stride"] * 5 + ["run_end"]
    assert [r["seq"] for r in rows] == list(range(1, 8))
    assert rows[0]["firmware"] == "0.9" and rows[-1]["distance_mm"] == 10_000
    res = runner.invoke(app, ["shoe", "log", "dump", str(image), "--json", "--from", "6"])
    assert [json.loads(line)["seq"] for line in res.output.splitlines()] == [6, 7]


def test_dump_table(image: Path) -> None:
    res = runner.invoke(app, ["shoe", "log", "dump", str(image), "--acks"])
    assert res.exit_code == 0, res.output
    assert "run_start" in res.output and "run_end" in res.output and "ack" in res.output


def test_dump_table_says_what_a_stride_s_zeros_and_marks_stand_for(tmp_path: Path) -> None:
    """A contact time of 0 ms is the log's "unknown" (a foot's first stride), and a stride estimated across a gap
    in the samples carries its mark; the table says both, and keeps the rows of measured strides short."""
    path = tmp_path / "shoe.img"
    assert runner.invoke(app, ["shoe", "log", "new", str(path), "--size", "64KiB"]).exit_code == 0
    nan = float("nan")
    with FileFlash(path) as flash:
        log = RunLog.open(flash)
        log.start_run(start_unix_ms=1_700_000_000_000, side="left", firmware="0.9")
        stride(log, 1)
        log.append_stride(
            GaitStride(
                t_start_s=0.7, t_end_s=1.4, length_m=2.0, speed_mps=3.0, cadence_spm=170, contact_time_s=nan,
                flight_time_s=nan, strike_angle_deg=nan, strike_type=None, impact_mps2=nan, gait=Gait.RUN,
                bridged=True,
            )
        )  # fmt: skip
    res = runner.invoke(app, ["shoe", "log", "dump", str(path)], env={"COLUMNS": "400"})
    assert res.exit_code == 0, res.output
    measured, estimated = (line for line in res.output.splitlines() if " stride " in line)
    assert "contact_ms=200 " in measured and "estimated" not in measured
    assert "contact_ms=0 (unknown)" in estimated and "estimated=True" in estimated


def test_check_clean_and_torn(image: Path) -> None:
    res = runner.invoke(app, ["shoe", "log", "check", str(image)])
    assert res.exit_code == 0, res.output
    assert "8 records (4 unsynced" in res.output and "1 runs (1 unsynced)" in res.output
    assert "0 torn" in res.output
    with FileFlash(image) as flash:
        log = RunLog.open(flash)
        log.start_run(start_unix_ms=1, side="left")
        flash.cut_power_after(9)
        with pytest.raises(PowerCut):
            stride(log, 0)
    before = image.read_bytes()
    res = runner.invoke(app, ["shoe", "log", "check", str(image)])
    assert res.exit_code == 0, res.output
    assert "1 torn records" in res.output and "2 runs" in res.output
    assert image.read_bytes() == before  # check never writes


def test_check_reports_corruption(image: Path) -> None:
    data = bytearray(image.read_bytes())
    data[60] ^= 0x04  # inside the second record of page 0
    image.write_bytes(bytes(data))
    res = runner.invoke(app, ["shoe", "log", "check", str(image)])
    assert res.exit_code == 1
    assert "problem:" in res.output and "unreadable" in res.output


def test_random_bytes_are_no_log_to_check_and_dump(tmp_path: Path) -> None:
    """An image of random bytes holds no run log page: 'clean, 0 records' would hide that it is no log; check
    fails, dump warns on stderr (its JSON lines stay clean)."""
    path = tmp_path / "noise.img"
    path.write_bytes(random.Random(3).randbytes(64 * 1024))
    res = runner.invoke(app, ["shoe", "log", "check", str(path)])
    assert res.exit_code == 1
    assert "problem: no run log: 16 of 16 pages hold data" in res.output
    res = runner.invoke(app, ["shoe", "log", "dump", "--json", str(path)])
    assert res.exit_code == 0 and res.stdout == ""
    assert "warning: no run log: 16 of 16 pages hold data" in res.stderr


def test_missing_image(tmp_path: Path) -> None:
    res = runner.invoke(app, ["shoe", "log", "check", str(tmp_path / "nope.img")])
    assert res.exit_code != 0
